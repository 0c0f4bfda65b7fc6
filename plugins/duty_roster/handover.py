"""Hand-overs, the duty log and reminders before a shift.

When a rotation's shift ends, the job opens a hand-over record from the outgoing person (who held the
shift's last slot, overrides included) to the incoming one, listing the shift's open tasks: the
department's open tasks assigned to the outgoing person and those filed unassigned during the shift.
The outgoing person adds notes and incidents and submits it (the task list is refreshed then); the
incoming person acknowledges it. A hand-over not submitted by ``handover_due_minutes`` after the shift,
or not acknowledged ``handover_ack_minutes`` after it was submitted, is flagged and the department head
is told, once.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workdesk import (OPEN_STATUSES, Conflict, Department, Forbidden, LocalInstant, NotFound, Task, User,
                      ValidationFailed, can_see, notify, utcnow, write_transaction)

from . import services
from .models import Handover, LogEntry, Rotation

# Shifts that ended longer ago than this get no hand-over record when the job first sees them.
LOOKBACK = dt.timedelta(days=1)
LOOKAHEAD = dt.timedelta(days=31)  # how far a hand-over looks for the next person on duty


# -- hand-overs -------------------------------------------------------------------------------------

def shift_tasks(department_id: int, outgoing_id: int, start: dt.datetime, end: dt.datetime) -> list[int]:
    """The open tasks of a shift: the department's open tasks assigned to the outgoing person, and those
    filed unassigned during the shift."""
    query = Task.select(Task.id).where(
        (Task.department == department_id) & Task.status.in_(OPEN_STATUSES)
        & ((Task.assignee == outgoing_id)
           | (Task.assignee.is_null() & (Task.created_at >= start) & (Task.created_at < end)))).order_by(Task.id)
    return [task.id for task in query]


def _people_at_handoff(rotation: Rotation, spec, index: int) -> tuple[int | None, int | None]:
    """Who held the rotation's last slot of the ``index``-th shift, and who holds its first slot after it.
    A next shift nobody holds (outside every window with the calendar advance, or a deliberate nobody) is
    passed over to the person after it: up to as many shifts as the rotation has members, within 31 days."""
    shift = spec.shift(index)
    limit = shift.end + LOOKAHEAD
    ahead = index + 1
    while True:
        until = min(spec.shift(ahead).end, limit)
        pieces, _gaps = services.department_roster(rotation.department_id, shift.start, until)
        mine = [p for p in pieces if p.rotation_id == rotation.id and p.user_id is not None]
        outgoing = next((p.user_id for p in reversed(mine) if p.start < shift.end), None)
        incoming = next((p.user_id for p in mine if p.start >= shift.end), None)
        if incoming is not None or until >= limit or ahead > index + len(spec.members):
            return outgoing, incoming
        ahead += 1


def open_handovers(now: dt.datetime, due_minutes: int) -> int:
    """Open a hand-over record for every shift that ended since the last day (once each)."""
    opened = 0
    for rotation in list(Rotation.select()):
        spec = services.spec_of(rotation)
        index = spec.index_at(now)
        oldest = now - LOOKBACK
        while index is not None and index >= 1:
            index -= 1
            shift = spec.shift(index)
            if shift.end <= oldest:
                break
            if Handover.select().where((Handover.rotation == rotation)
                                       & (Handover.shift_start == shift.start)).exists():
                continue
            outgoing, incoming = _people_at_handoff(rotation, spec, index)
            if outgoing is None or outgoing == incoming:
                continue  # nobody to hand over, or the same person goes on
            with write_transaction():
                Handover.insert(department=rotation.department_id, rotation=rotation, shift_start=shift.start,
                                shift_end=shift.end, outgoing=outgoing, incoming=incoming,
                                task_ids=shift_tasks(rotation.department_id, outgoing, shift.start, shift.end),
                                due_at=shift.end + dt.timedelta(minutes=due_minutes)).on_conflict_ignore().execute()
            opened += 1
    return opened


def flag_late_handovers(now: dt.datetime, ack_minutes: int) -> int:
    """Flag hand-overs not submitted by their due time, or not acknowledged in time, and tell the
    department head once each."""
    flagged = 0
    missing = list(Handover.select().where((Handover.status == "open") & (Handover.due_at <= now)
                                           & Handover.missing_flagged_at.is_null()))
    late_ack = list(Handover.select().where(
        (Handover.status == "submitted") & Handover.unacknowledged_flagged_at.is_null()
        & (Handover.submitted_at <= now - dt.timedelta(minutes=ack_minutes))))
    for handover, field in [(h, "missing_flagged_at") for h in missing] + [(h, "unacknowledged_flagged_at")
                                                                          for h in late_ack]:
        department = Department.get_by_id(handover.department_id)
        when = LocalInstant(handover.shift_end)  # in each reader's zone and language, when read
        if field == "missing_flagged_at":
            subject = _l("%(person)s has not handed over the shift that ended %(when)s in %(department)s",
                        person=handover.outgoing.name, when=when, department=department.name)
        else:
            subject = _l("The hand-over of the shift that ended %(when)s in %(department)s is not acknowledged",
                        when=when, department=department.name)
        with write_transaction():
            Handover.update({getattr(Handover, field): now}).where(Handover.id == handover.id).execute()
            for head in services.heads_to_tell(department):
                notify(head, "duty_roster.handover_late", subject,
                       dedupe_key=f"duty_roster.handover:{handover.id}:{field}")
        flagged += 1
    return flagged


def visible_handover(actor: User, handover_id: Any) -> Handover:
    handover = Handover.get_or_none(Handover.id == handover_id)
    if handover is None or not services.can_see_department(actor, handover.department_id):
        raise NotFound(_("No such hand-over."))
    return handover


def list_handovers(actor: User, department_id: Any, status: str | None = None) -> list[Handover]:
    department = services.visible_department(actor, department_id)
    query = Handover.select().where(Handover.department == department).order_by(Handover.shift_end.desc(),
                                                                                Handover.id.desc())
    return list(query.where(Handover.status == status) if status else query.limit(200))


def _check_outgoing(actor: User, handover: Handover) -> None:
    if actor.id != handover.outgoing_id and not actor.has_permission(services.PERMISSION):
        raise Forbidden(_("Only the outgoing person completes this hand-over."))


def _check_incidents(incidents: Any) -> list[str]:
    if not isinstance(incidents, list) or len(incidents) > 100 or not all(
            isinstance(i, str) and 0 < len(i.strip()) <= 2000 for i in incidents):
        raise ValidationFailed(_("Invalid value."), {"incidents": [
            _("A list of at most 100 incidents, each 1 to 2000 characters.")]})
    return [i.strip() for i in incidents]


def update_handover(actor: User, handover_id: Any, changes: dict[str, Any]) -> Handover:
    """The outgoing person's notes and incidents, until the hand-over is submitted."""
    with write_transaction():
        handover = visible_handover(actor, handover_id)
        _check_outgoing(actor, handover)
        if handover.status != "open":
            raise Conflict(_("This hand-over was already submitted."))
        if "notes" in changes:
            handover.notes = changes["notes"] or ""
        if "incidents" in changes:
            handover.incidents = _check_incidents(changes["incidents"])
        handover.save()
        return handover


def submit_handover(actor: User, handover_id: Any, changes: dict[str, Any] | None = None,
                    now: dt.datetime | None = None) -> Handover:
    """Complete the hand-over (with any last notes and incidents); its task list is refreshed and the
    incoming person is told."""
    now = now or utcnow()
    handover = update_handover(actor, handover_id, changes or {})
    with write_transaction():
        handover.task_ids = shift_tasks(handover.department_id, handover.outgoing_id, handover.shift_start,
                                        handover.shift_end)
        handover.status, handover.submitted_at = "submitted", now
        handover.save()
        if handover.incoming is not None:
            notify(handover.incoming, "duty_roster.handover",
                   _l("%(person)s handed the shift over to you", person=handover.outgoing.name),
                   handover.notes, dedupe_key=f"duty_roster.handover:{handover.id}:submitted")
    return handover


def acknowledge_handover(actor: User, handover_id: Any, now: dt.datetime | None = None) -> Handover:
    with write_transaction():
        handover = visible_handover(actor, handover_id)
        if actor.id != handover.incoming_id and not actor.has_permission(services.PERMISSION):
            raise Forbidden(_("Only the incoming person acknowledges this hand-over."))
        if handover.status != "submitted":
            raise Conflict(_("Only a submitted hand-over can be acknowledged."))
        handover.status, handover.acknowledged_at = "acknowledged", now or utcnow()
        handover.save()
        return handover


def _iso(value: dt.datetime | None) -> str | None:
    return services.as_utc(value).isoformat() if value is not None else None


def handover_to_dict(handover: Handover) -> dict[str, Any]:
    tasks = {t.id: t for t in Task.select().where(Task.id.in_(handover.task_ids or [0]))}
    return {"id": handover.id, "department_id": handover.department_id, "rotation_id": handover.rotation_id,
            "shift_start": _iso(handover.shift_start), "shift_end": _iso(handover.shift_end),
            "outgoing_id": handover.outgoing_id, "incoming_id": handover.incoming_id, "status": handover.status,
            "tasks": [{"id": t.id, "number": t.number, "title": t.title, "status": t.status}
                      for t in (tasks.get(i) for i in handover.task_ids) if t is not None],
            "notes": handover.notes, "incidents": list(handover.incidents), "due_at": _iso(handover.due_at),
            "submitted_at": _iso(handover.submitted_at), "acknowledged_at": _iso(handover.acknowledged_at),
            "missing": handover.missing_flagged_at is not None,
            "unacknowledged": handover.unacknowledged_flagged_at is not None}


# -- the duty log -----------------------------------------------------------------------------------

def add_log_entry(actor: User, values: dict[str, Any], now: dt.datetime | None = None) -> LogEntry:
    """A timestamped entry in a department's duty log by one of its members (at ``at``, default now; never
    in the future), optionally about a task they can see."""
    now = now or utcnow()
    department = services.visible_department(actor, values.get("department_id"))
    if department.id not in services.department_ids(actor):
        raise Forbidden(_("Only members of the department keep its duty log."))
    at = services.as_utc(values.get("at") or now)
    if at > now:
        raise ValidationFailed(_("Invalid value."), {"at": [_("Log what happened: not a time in the future.")]})
    task_id = values.get("task_id")
    if task_id is not None:
        task = Task.get_or_none(Task.id == task_id)
        if task is None or not can_see(actor, task):
            raise ValidationFailed(_("Invalid value."), {"task_id": [_("No such task.")]})
    text = (values.get("text") or "").strip()
    if not text:
        raise ValidationFailed(_("Invalid value."), {"text": [_("Say what happened.")]})
    on_duty = actor in (services.people_on_duty(department.id, at) or [])
    with write_transaction():
        return LogEntry.create(department=department, user=actor, at=at, text=text, task_id=task_id, on_duty=on_duty)


def log_entries(actor: User, department_id: Any, start: dt.datetime, end: dt.datetime) -> list[LogEntry]:
    department = services.visible_department(actor, department_id)
    services.check_period(start, end)
    return list(LogEntry.select().where((LogEntry.department == department) & (LogEntry.at >= start)
                                        & (LogEntry.at < end)).order_by(LogEntry.at, LogEntry.id))


def log_entry_to_dict(entry: LogEntry) -> dict[str, Any]:
    return {"id": entry.id, "department_id": entry.department_id, "user_id": entry.user_id,
            "user_name": entry.user.name, "at": _iso(entry.at), "text": entry.text, "task_id": entry.task_id,
            "on_duty": entry.on_duty}


# -- reminders --------------------------------------------------------------------------------------

def send_reminders(now: dt.datetime, lead_minutes: int) -> int:
    """Remind each person whose duty begins in the next ``lead_minutes``, once per shift."""
    end = now + dt.timedelta(minutes=lead_minutes)
    sent = 0
    for (department_id,) in list(Rotation.select(Rotation.department).distinct().tuples()):
        pieces, _gaps = services.department_roster(department_id, now, end)
        rotations = {r.id: r for r in Rotation.select().where(Rotation.department == department_id)}
        for piece in pieces:
            if not piece.covered or piece.start <= now:
                continue
            person = User.get_or_none(User.id == piece.user_id)
            rotation = rotations[piece.rotation_id]
            notify(person, "duty_roster.reminder",
                   _l("Your duty (%(rotation)s) begins at %(when)s", rotation=rotation.name,
                     when=LocalInstant(piece.start)),
                   dedupe_key=f"duty_roster.reminder:{rotation.id}:{piece.user_id}:{piece.start.isoformat()}")
            sent += 1
    return sent
