"""Absences: the periods people are away (out of office), with an optional delegate.

Plugins read them through ``workdesk.absences`` (this module): :func:`is_absent`,
:func:`absent_user_ids` (set-based, one query), :func:`delegate_for`, :func:`current_absence`,
:func:`current_absences`, :func:`absences_between`, and in handlers of the events below
:func:`announced_absence`. An absence covers ``starts_at`` up to, not
including, ``ends_at`` (UTC instants; pages take them in the person's time zone).

People record their own on their account page; a head of one of their departments, or someone with
``user.manage``, records them for them (admin panel and API). Periods of one person never overlap.

Events, through the outbox (at least once, after commit, see ``docs/hooks.md``):
``on_absence_changed`` when an absence is recorded, changed or deleted; ``on_absence_started`` once a
period has begun and ``on_absence_ended`` once it is over, each once per period. A job of the core
(``core.absence_events``, every minute, also run by ``workdesk tick --at``) announces them as their
instants pass; recording one that has already begun announces it at once. A period moved back into
the future is announced again when it begins; one recorded wholly in the past is announced never.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from flask import has_app_context
from ..dates import format_instant
from flask_babel import gettext as _
from peewee import JOIN

from .. import outbox
from ..access import department_ids
from ..db import hot_query, utcnow, write_transaction
from ..errors import Forbidden, NotFound, ValidationFailed
from ..jobs import PeriodicJob, register_core_job
from ..models import Absence, Department, Membership, User, as_utc
from ..schemas import MAX_ID

MANAGE_PERMISSION = "user.manage"
NOTE_LENGTH = 500


# -- reading (the public API plugins use) -----------------------------------------------------------

def _now(at: dt.datetime | None) -> dt.datetime:
    return as_utc(at) if at is not None else utcnow()


def _ongoing(at: dt.datetime):
    return (Absence.starts_at <= at) & (Absence.ends_at > at)


def current_absence(user: User | int, at: dt.datetime | None = None) -> Absence | None:
    """The absence ``user`` is in at ``at`` (default: now), or None."""
    user_id = user if isinstance(user, int) else user.id
    at = Absence.starts_at.db_value(_now(at))  # raw parameters skip the field's conversion
    # Precompiled: every notification asks whether its recipient is away.
    return next(iter(hot_query(Absence, "current_absence", lambda: Absence.select().where(
        (Absence.user == 0) & _ongoing(dt.datetime(2000, 1, 1))).limit(1), user_id, at, at, 1)), None)


def is_absent(user: User | int, at: dt.datetime | None = None) -> bool:
    """Whether ``user`` is away at ``at`` (default: now)."""
    return current_absence(user, at) is not None


def absent_user_ids(at: dt.datetime | None = None, user_ids: Iterable[int] | None = None) -> set[int]:
    """The ids of the people away at ``at`` (default: now), among ``user_ids`` when given: one query,
    whatever the number of people (what a dispatcher filters its candidates with)."""
    query = Absence.select(Absence.user).where(_ongoing(_now(at)))
    if user_ids is not None:
        ids = list(user_ids)
        if not ids:
            return set()
        query = query.where(Absence.user.in_(ids))
    return {row.user_id for row in query}


def current_absences(user_ids: Iterable[int] | None = None, at: dt.datetime | None = None) -> dict[int, Absence]:
    """``{user id: absence}`` of the people away at ``at`` (default: now), in one query; the delegates are
    loaded with it."""
    delegate = User.alias("delegate")
    query = (Absence.select(Absence, delegate).join_from(Absence, delegate, JOIN.LEFT_OUTER,
                                                          on=(Absence.delegate == delegate.id), attr="delegate")
             .where(_ongoing(_now(at))))
    if user_ids is not None:
        ids = list(user_ids)
        if not ids:
            return {}
        query = query.where(Absence.user.in_(ids))
    return {absence.user_id: absence for absence in query}


def delegate_for(user: User | int, at: dt.datetime | None = None) -> User | None:
    """Who stands in for ``user`` at ``at`` (default: now): the active delegate of their current absence,
    or None (present, no delegate, or the delegate is deactivated). One hop only: a delegate who is away
    too is still the answer; what to do then is the caller's choice."""
    absence = current_absence(user, at)
    if absence is None or absence.delegate_id is None:
        return None
    delegate = User.get_or_none(User.id == absence.delegate_id)
    return delegate if delegate is not None and delegate.is_active else None


def announced_absence(user: User | int) -> Absence | None:
    """The absence of ``user`` whose beginning has been announced (``on_absence_started``) and whose end
    has not yet been: the period a handler of the absence events reconciles against. Unlike
    :func:`current_absence` it needs no clock, so handlers give the same answer whatever order, and
    however often, the events arrive."""
    user_id = user if isinstance(user, int) else user.id
    return (Absence.select().where((Absence.user == user_id) & Absence.started_event_at.is_null(False)
                                   & Absence.ended_event_at.is_null()).order_by(Absence.starts_at.desc()).first())


def absences_between(start: dt.datetime, end: dt.datetime, user_ids: Iterable[int] | None = None) -> list[Absence]:
    """Absences overlapping ``[start, end)``, by person and start (a roster's week, a rule's horizon)."""
    query = (Absence.select().where((Absence.starts_at < as_utc(end)) & (Absence.ends_at > as_utc(start)))
             .order_by(Absence.user, Absence.starts_at))
    if user_ids is not None:
        query = query.where(Absence.user.in_(list(user_ids)))
    return list(query)


def absences_of(user: User | int, include_past: bool = False, at: dt.datetime | None = None):
    """A person's absences, soonest first: current and upcoming ones (every one with ``include_past``)."""
    user_id = user if isinstance(user, int) else user.id
    query = Absence.select().where(Absence.user == user_id).order_by(Absence.starts_at, Absence.id)
    return query if include_past else query.where(Absence.ends_at > _now(at))


# -- who may record them ----------------------------------------------------------------------------

def heads_of(user: User) -> list[User]:
    """The heads of the departments ``user`` belongs to (who may record their absences)."""
    return list(User.select().join(Department, on=(Department.head == User.id))
                .join(Membership, on=(Membership.department == Department.id))
                .where((Membership.user == user) & (User.id != user.id)).distinct())


def can_manage(actor: User, user: User) -> bool:
    """The person themself, a head of one of their departments, or someone with ``user.manage``."""
    if not actor.is_active:
        return False
    if actor.id == user.id or actor.has_permission(MANAGE_PERMISSION):
        return True
    return (Department.select().where((Department.head == actor) & Department.id.in_(department_ids(user)))
            .exists())


def _person(actor: User, user_id: Any) -> User:
    user = User.get_or_none(User.id == user_id) if isinstance(user_id, int) and 0 < user_id <= MAX_ID else None
    if user is None:
        raise ValidationFailed(_("Invalid reference."), {"user_id": [_("No user with id %(id)s.", id=user_id)]})
    if not can_manage(actor, user):
        raise Forbidden(_("Only the person, a head of one of their departments or an administrator can record "
                          "their absences."), permission=MANAGE_PERMISSION)
    return user


def get_manageable_absence(actor: User, absence_id: int) -> Absence:
    """The absence, or NotFound when it is missing or ``actor`` may not manage it (its existence stays hidden)."""
    try:
        absence_id = int(absence_id)
    except (TypeError, ValueError):
        raise NotFound(_("No such absence.")) from None
    absence = Absence.get_or_none(Absence.id == absence_id) if 0 < absence_id <= MAX_ID else None
    if absence is None or not can_manage(actor, absence.user):
        raise NotFound(_("No such absence."))
    return absence


# -- recording them --------------------------------------------------------------------------------

def _when(value: dt.datetime) -> str:
    # In the reader's language and zone; a worker without an app says it in UTC.
    return format_instant(value) if has_app_context() else f"{value:%Y-%m-%d %H:%M} UTC"


def _validate(user: User, starts_at: Any, ends_at: Any, delegate_id: Any, note: Any,
              exclude: int | None = None) -> tuple[dt.datetime, dt.datetime, User | None, str]:
    errors: dict[str, list[str]] = {}
    if not isinstance(starts_at, dt.datetime):
        errors["starts_at"] = [_("A start date and time is required.")]
    if not isinstance(ends_at, dt.datetime):
        errors["ends_at"] = [_("An end date and time is required.")]
    delegate = None
    if delegate_id is not None:
        delegate = User.get_or_none(User.id == delegate_id) \
            if isinstance(delegate_id, int) and 0 < delegate_id <= MAX_ID else None
        if delegate is None:
            errors["delegate_id"] = [_("No user with id %(id)s.", id=delegate_id)]
        elif delegate.id == user.id:
            errors["delegate_id"] = [_("Someone else must stand in for the person who is away.")]
        elif not delegate.is_active:
            errors["delegate_id"] = [_("%(name)s is deactivated.", name=delegate.name)]
    note = note if isinstance(note, str) else ""
    if len(note) > NOTE_LENGTH:
        errors["note"] = [_("At most %(n)s characters.", n=NOTE_LENGTH)]
    elif "\x00" in note:
        errors["note"] = [_("Must not contain NUL characters.")]
    if "starts_at" not in errors and "ends_at" not in errors:
        starts_at, ends_at = as_utc(starts_at), as_utc(ends_at)
        if ends_at <= starts_at:
            errors["ends_at"] = [_("The end must come after the start.")]
    if not errors:
        clash = Absence.select().where((Absence.user == user) & (Absence.starts_at < ends_at)
                                       & (Absence.ends_at > starts_at))
        if exclude is not None:
            clash = clash.where(Absence.id != exclude)
        clash = clash.order_by(Absence.starts_at).first()
        if clash is not None:
            errors["starts_at"] = [_("Overlaps the absence from %(start)s to %(end)s; change that one instead.",
                                     start=_when(clash.starts_at), end=_when(clash.ends_at))]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors)
    return starts_at, ends_at, delegate, note.strip()


def snapshot(absence: Absence) -> dict[str, Any]:
    return {"id": absence.id, "user_id": absence.user_id, "starts_at": absence.starts_at.isoformat(),
            "ends_at": absence.ends_at.isoformat(), "delegate_id": absence.delegate_id, "note": absence.note}


def _changed(absence: Absence, actor: User | None, change: str) -> None:
    outbox.emit("absence.changed", {"absence_id": absence.id, "user_id": absence.user_id, "change": change,
                                    "actor_id": actor.id if actor is not None else None,
                                    "snapshot": snapshot(absence)})


def announce(absence_id: int, now: dt.datetime) -> str | None:
    """Emit ``absence.started`` or ``absence.ended`` if ``now`` has crossed the period's edge since the last
    announcement; returns which. Call inside a write transaction. Each flag moves by compare-and-set, so
    two callers at once announce once."""
    absence = Absence.get_or_none(Absence.id == absence_id)
    if absence is None:
        return None
    this = Absence.id == absence.id
    if absence.starts_at > now:  # not begun (again): announced when it begins
        interrupted = Absence.update(started_event_at=None, ended_event_at=None).where(
            this & Absence.started_event_at.is_null(False) & Absence.ended_event_at.is_null()).execute()
        Absence.update(started_event_at=None, ended_event_at=None).where(this).execute()
        if interrupted:  # it was in progress and now lies ahead: the person is back for now
            outbox.emit("absence.ended", {"absence_id": absence.id, "user_id": absence.user_id,
                                          "snapshot": snapshot(absence)})
            return "ended"
        return None
    if absence.ends_at > now:
        began = (Absence.update(started_event_at=now, ended_event_at=None)
                 .where(this & (Absence.started_event_at.is_null() | Absence.ended_event_at.is_null(False)))
                 .execute())
        if began:
            outbox.emit("absence.started", {"absence_id": absence.id, "user_id": absence.user_id,
                                            "snapshot": snapshot(absence)})
            return "started"
        return None
    # Over. One that was never announced as begun (recorded for the past) is not announced at all.
    if Absence.update(started_event_at=now, ended_event_at=now).where(
            this & Absence.started_event_at.is_null()).execute():
        return None
    if Absence.update(ended_event_at=now).where(this & Absence.ended_event_at.is_null()).execute():
        outbox.emit("absence.ended", {"absence_id": absence.id, "user_id": absence.user_id,
                                      "snapshot": snapshot(absence)})
        return "ended"
    return None


def create_absence(actor: User, *, user_id: int | None = None, starts_at: dt.datetime, ends_at: dt.datetime,
                   delegate_id: int | None = None, note: str = "") -> Absence:
    """Record an absence of ``user_id`` (default: the actor)."""
    user = _person(actor, actor.id if user_id is None else user_id)
    with write_transaction():
        starts_at, ends_at, delegate, note = _validate(user, starts_at, ends_at, delegate_id, note)
        now = utcnow()
        absence = Absence.create(user=user, starts_at=starts_at, ends_at=ends_at, delegate=delegate, note=note,
                                 created_by=actor, created_at=now, updated_at=now)
        _changed(absence, actor, "created")
        announce(absence.id, now)
    return absence


def update_absence(actor: User, absence_id: int, changes: dict[str, Any]) -> Absence:
    """Change an absence's start, end, delegate or note (validated as on creation)."""
    unknown = sorted(set(changes) - {"starts_at", "ends_at", "delegate_id", "note"})
    if unknown:
        raise ValidationFailed(_("Unknown fields."), {k: [_("Unknown field.")] for k in unknown})
    with write_transaction():
        absence = get_manageable_absence(actor, absence_id)
        starts_at, ends_at, delegate, note = _validate(
            absence.user, changes.get("starts_at", absence.starts_at), changes.get("ends_at", absence.ends_at),
            changes.get("delegate_id", absence.delegate_id), changes.get("note", absence.note), exclude=absence.id)
        absence.starts_at, absence.ends_at, absence.delegate, absence.note = starts_at, ends_at, delegate, note
        absence.updated_at = utcnow()
        absence.save()
        _changed(absence, actor, "updated")
        announce(absence.id, utcnow())
    return absence


def delete_absence(actor: User, absence_id: int) -> None:
    """Delete an absence; one in progress ends now (``absence.ended`` follows)."""
    with write_transaction():
        absence = get_manageable_absence(actor, absence_id)
        _changed(absence, actor, "deleted")
        if absence.started_event_at is not None and absence.ended_event_at is None:  # in progress: back now
            outbox.emit("absence.ended", {"absence_id": absence.id, "user_id": absence.user_id,
                                          "snapshot": snapshot(absence)})
        absence.delete_instance()


def announce_due(now: dt.datetime, since: dt.datetime | None = None) -> int:
    """The periodic job: announce every period whose start or end has passed unannounced, on the
    ``starts_at`` and ``ends_at`` indexes (an idle run costs two index lookups). Returns how many."""
    begun = Absence.select(Absence.id).where(Absence.started_event_at.is_null() & (Absence.starts_at <= now))
    over = Absence.select(Absence.id).where(Absence.ended_event_at.is_null() & Absence.started_event_at.is_null(False)
                                            & (Absence.ends_at <= now))
    ids = sorted({row.id for row in begun} | {row.id for row in over})
    announced = 0
    for absence_id in ids:
        with write_transaction():
            announced += announce(absence_id, now) is not None
    return announced


register_core_job("core", PeriodicJob("absence_events", announce_due, dt.timedelta(minutes=1),
                                      "Announce absences as they begin and end"))


# -- the events' hook arguments ----------------------------------------------------------------------

def _absence_of(event) -> Absence:
    found = Absence.get_or_none(Absence.id == event.payload["absence_id"])
    if found is not None:
        return found
    data = event.payload["snapshot"]  # deleted since: the period as it was
    return Absence(id=data["id"], user=data["user_id"], starts_at=dt.datetime.fromisoformat(data["starts_at"]),
                   ends_at=dt.datetime.fromisoformat(data["ends_at"]), delegate=data["delegate_id"], note=data["note"])


def _edge_kwargs(event) -> dict[str, Any] | None:
    user = User.get_or_none(User.id == event.payload["user_id"])
    return {"absence": _absence_of(event), "user": user} if user is not None else None


def _changed_kwargs(event) -> dict[str, Any] | None:
    kwargs = _edge_kwargs(event)
    if kwargs is not None:
        actor_id = event.payload.get("actor_id")
        kwargs["actor"] = User.get_or_none(User.id == actor_id) if actor_id else None
        kwargs["change"] = event.payload["change"]
    return kwargs


outbox.register_event_kind("absence.started", "on_absence_started", _edge_kwargs)
outbox.register_event_kind("absence.ended", "on_absence_ended", _edge_kwargs)
outbox.register_event_kind("absence.changed", "on_absence_changed", _changed_kwargs)


__all__ = ["current_absence", "is_absent", "absent_user_ids", "current_absences", "delegate_for", "announced_absence",
           "absences_between", "absences_of", "heads_of", "can_manage", "get_manageable_absence", "create_absence",
           "update_absence", "delete_absence", "announce", "announce_due", "snapshot", "Absence"]
