"""Swap requests: a member asks another member of the rotation's department to take their duty for a
period (optionally taking the other's in return). The other person accepts or declines before the
request expires; accepting creates the overrides, so the roster, the feeds and the hand-overs follow.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workdesk import (Conflict, Forbidden, Membership, NotFound, User, ValidationFailed, notify, utcnow,
                      write_transaction)

from . import services
from .models import Override, Swap


def _fail(field: str, message: str) -> None:
    raise ValidationFailed(_("Invalid value."), {field: [message]})


def _holds(rotation_id: int, department_id: int, user_id: int, start: dt.datetime, end: dt.datetime) -> bool:
    pieces, _gaps = services.department_roster(department_id, start, end)
    return any(p.rotation_id == rotation_id and p.user_id == user_id and p.kind in ("shift", "override", "absent")
               for p in pieces)


def request_swap(actor: User, values: dict[str, Any], now: dt.datetime | None = None) -> Swap:
    """Ask ``user_id`` to take the actor's duty on ``rotation_id`` from ``starts_at`` to ``ends_at``."""
    now = now or utcnow()
    rotation = services.get_rotation(actor, values.get("rotation_id"))
    starts_at, ends_at = values["starts_at"], values["ends_at"]
    if ends_at <= starts_at or ends_at - starts_at > dt.timedelta(days=92):
        _fail("ends_at", _("Must be after starts_at, and at most 92 days later."))
    if starts_at <= now:
        _fail("starts_at", _("A swap is for duty that has not begun yet."))
    if not _holds(rotation.id, rotation.department_id, actor.id, starts_at, ends_at):
        _fail("starts_at", _("You are not on duty in this rotation then."))
    target = User.get_or_none(User.id == values.get("user_id"))
    if target is None or not target.is_active or target.id == actor.id or not Membership.select().where(
            (Membership.user == target) & (Membership.department == rotation.department_id)).exists():
        _fail("user_id", _("Choose another active member of the department."))
    return_starts_at, return_ends_at = values.get("return_starts_at"), values.get("return_ends_at")
    if (return_starts_at is None) != (return_ends_at is None):
        _fail("return_ends_at", _("Give both ends of the duty taken in return, or neither."))
    if return_starts_at is not None:
        if return_ends_at <= return_starts_at or return_starts_at <= now:
            _fail("return_ends_at", _("The duty taken in return must be in the future, its end after its start."))
        if not _holds(rotation.id, rotation.department_id, target.id, return_starts_at, return_ends_at):
            _fail("return_starts_at", _("%(person)s is not on duty in this rotation then.", person=target.name))
    expires_at = values.get("expires_at") or starts_at
    if expires_at <= now or expires_at > starts_at:
        _fail("expires_at", _("Between now and the start of the duty."))
    with write_transaction():
        swap = Swap.create(rotation=rotation, requester=actor, target=target, starts_at=starts_at, ends_at=ends_at,
                           return_starts_at=return_starts_at, return_ends_at=return_ends_at,
                           note=(values.get("note") or "").strip(), expires_at=expires_at)
        notify(target, "duty_roster.swap", _l("%(person)s asks you to take their duty", person=actor.name),
               swap.note, dedupe_key=f"duty_roster.swap:{swap.id}:requested")
    return swap


def _mine(actor: User, swap_id: Any) -> Swap:
    swap = Swap.get_or_none(Swap.id == swap_id)
    if swap is None or actor.id not in (swap.requester_id, swap.target_id):
        raise NotFound(_("No such swap request."))
    return swap


def _pending(swap: Swap, now: dt.datetime) -> None:
    if swap.status == "pending" and services.as_utc(swap.expires_at) <= now:
        raise Conflict(_("This swap request expired."))
    if swap.status != "pending":
        raise Conflict(_("This swap request was already answered."))


def answer_swap(actor: User, swap_id: Any, accept: bool, now: dt.datetime | None = None) -> Swap:
    """The target accepts (the overrides are created) or declines, before the request expires."""
    now = now or utcnow()
    with write_transaction():
        swap = _mine(actor, swap_id)
        if actor.id != swap.target_id:
            raise Forbidden(_("Only the person asked answers a swap request."))
        _pending(swap, now)
        if accept:
            Override.create(rotation=swap.rotation_id, user=swap.target_id, starts_at=swap.starts_at,
                            ends_at=swap.ends_at, note=_("Swap #%(id)s", id=swap.id), created_by=actor)
            if swap.return_starts_at is not None:
                Override.create(rotation=swap.rotation_id, user=swap.requester_id, starts_at=swap.return_starts_at,
                                ends_at=swap.return_ends_at, note=_("Swap #%(id)s", id=swap.id), created_by=actor)
        swap.status, swap.decided_at = ("accepted" if accept else "declined"), now
        swap.save()
        subject = (_l("%(person)s accepted your swap request", person=actor.name) if accept
                   else _l("%(person)s declined your swap request", person=actor.name))
        notify(swap.requester, "duty_roster.swap", subject, dedupe_key=f"duty_roster.swap:{swap.id}:{swap.status}")
    return swap


def cancel_swap(actor: User, swap_id: Any, now: dt.datetime | None = None) -> Swap:
    now = now or utcnow()
    with write_transaction():
        swap = _mine(actor, swap_id)
        if actor.id != swap.requester_id:
            raise Forbidden(_("Only the person who asked cancels a swap request."))
        _pending(swap, now)
        swap.status, swap.decided_at = "cancelled", now
        swap.save()
    return swap


def list_swaps(actor: User) -> list[Swap]:
    return list(Swap.select().where((Swap.requester == actor) | (Swap.target == actor))
                .order_by(Swap.created_at.desc(), Swap.id.desc()).limit(200))


def expire_swaps(now: dt.datetime) -> int:
    """Mark pending requests past their expiry as expired and tell who asked (once each)."""
    expired = list(Swap.select().where((Swap.status == "pending") & (Swap.expires_at <= now)))
    for swap in expired:
        with write_transaction():
            if Swap.update(status="expired", decided_at=now).where(
                    (Swap.id == swap.id) & (Swap.status == "pending")).execute():
                notify(swap.requester, "duty_roster.swap",
                       _l("Your swap request to %(person)s expired unanswered", person=swap.target.name),
                       dedupe_key=f"duty_roster.swap:{swap.id}:expired")
    return len(expired)


def swap_to_dict(swap: Swap) -> dict[str, Any]:
    iso = lambda value: services.as_utc(value).isoformat() if value is not None else None  # noqa: E731
    return {"id": swap.id, "rotation_id": swap.rotation_id, "requester_id": swap.requester_id,
            "user_id": swap.target_id, "starts_at": iso(swap.starts_at), "ends_at": iso(swap.ends_at),
            "return_starts_at": iso(swap.return_starts_at), "return_ends_at": iso(swap.return_ends_at),
            "note": swap.note, "status": swap.status, "expires_at": iso(swap.expires_at),
            "decided_at": iso(swap.decided_at)}
