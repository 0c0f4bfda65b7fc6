"""Rotations, overrides and who is on duty: every change and every answer goes through here, whether it
comes from the API, the admin panel, a page or a job (the arithmetic itself is in schedule.py)."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workdesk import (Department, LocalInstant, Membership, MessageLines, NotFound, Role, User, ValidationFailed,
                      absences, department_ids, notify, parse_id, require, utcnow, write_transaction)

from . import schedule
from .models import DepartmentSettings, Override, Rotation

PERMISSION = "duty.manage"
# The longest period one answer (shifts, gaps, quality) computes: a quarter.
MAX_PERIOD = dt.timedelta(days=92)
MAX_LENGTH = {"hours": 744, "days": 366, "weeks": 52}
ROTATION_FIELDS = ("department_id", "name", "layer", "member_ids", "shift_length", "shift_unit", "handoff_time",
                   "handoff_weekday", "timezone", "start_date", "restrictions", "advance")
DEFAULTS: dict[str, Any] = {"layer": 0, "shift_length": 1, "shift_unit": "weeks", "handoff_time": "09:00",
                            "handoff_weekday": None, "timezone": "UTC", "restrictions": [],
                            "advance": "windows"}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _fail(field: str, message: str) -> None:
    raise ValidationFailed(_("Invalid value."), {field: [message]})


def as_utc(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(dt.timezone.utc)


# -- who sees what ----------------------------------------------------------------------------------

def can_see_department(user: User, department_id: int) -> bool:
    """Managers of rosters see every department's; members see their own departments' rosters."""
    return user.has_permission(PERMISSION) or department_id in department_ids(user)


def visible_department(user: User, department_id: Any) -> Department:
    """The department, or NotFound when it is missing or its roster is not the user's to see."""
    number = parse_id(department_id)  # digits only and in range: "9" * 30 must not reach PostgreSQL
    department = Department.get_or_none(Department.id == number) if number is not None else None
    if department is None or not can_see_department(user, department.id):
        raise NotFound(_("No such department."))
    return department


def get_rotation(actor: User | None, rotation_id: Any) -> Rotation:
    """A rotation its department's members may read (others get NotFound)."""
    try:
        rotation = Rotation.get_or_none(Rotation.id == int(rotation_id))
    except (TypeError, ValueError):
        rotation = None
    if rotation is None or (actor is not None and not can_see_department(actor, rotation.department_id)):
        raise NotFound(_("No such rotation."))
    return rotation


def list_rotations(actor: User, department_id: int | None = None) -> list[Rotation]:
    query = Rotation.select().order_by(Rotation.department, Rotation.layer, Rotation.id)
    if department_id is not None:
        query = query.where(Rotation.department == visible_department(actor, department_id).id)
    elif not actor.has_permission(PERMISSION):
        query = query.where(Rotation.department.in_(department_ids(actor) or [0]))
    return list(query)


# -- validation -------------------------------------------------------------------------------------

def parse_clock(value: Any, field: str) -> dt.time:
    match = _CLOCK.match(str(value or ""))
    if match is None:
        _fail(field, _("Use a local time like 09:00 (24-hour HH:MM)."))
    return dt.time(int(match.group(1)), int(match.group(2)))


def zone_of(name: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        _fail("timezone", _("Not an IANA time zone (e.g. Europe/Sofia)."))


def _check_weekday(value: Any, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 7:
        _fail(field, _("Use an ISO weekday from 1 (Monday) to 7 (Sunday)."))


def _check_restrictions(restrictions: Any) -> list[dict[str, Any]]:
    if not isinstance(restrictions, list) or len(restrictions) > 20:
        _fail("restrictions", _("A list of at most 20 windows."))
    cleaned = []
    for window in restrictions:
        if not isinstance(window, dict) or set(window) - {"weekdays", "start", "end"}:
            _fail("restrictions", _("Each window has weekdays, start and end only."))
        weekdays = window.get("weekdays")
        if not isinstance(weekdays, list) or not weekdays:
            _fail("restrictions", _("Each window needs at least one weekday."))
        for weekday in weekdays:
            _check_weekday(weekday, "restrictions")
        start, end = parse_clock(window.get("start"), "restrictions"), parse_clock(window.get("end"), "restrictions")
        cleaned.append({"weekdays": sorted(set(weekdays)), "start": start.strftime("%H:%M"),
                        "end": end.strftime("%H:%M")})
    return cleaned


def _check_members(member_ids: Any, department_id: int) -> list[int | None]:
    if not isinstance(member_ids, list) or not member_ids or len(member_ids) > 200:
        _fail("member_ids", _("List between 1 and 200 members in order (null for a deliberate nobody slot)."))
    ids = [m for m in member_ids if m is not None]
    if any(isinstance(m, bool) or not isinstance(m, int) for m in ids):
        _fail("member_ids", _("Must be a list of user ids (or null)."))
    members = {u.id: u for u in User.select().where(User.id.in_(ids))} if ids else {}
    in_department = {m.user_id for m in Membership.select(Membership.user).where(
        (Membership.department == department_id) & (Membership.user.in_(ids or [0])))}
    for user_id in ids:
        if user_id not in members:
            _fail("member_ids", _("No user with id %(id)s.", id=user_id))
        if not members[user_id].is_active:
            _fail("member_ids", _("User %(id)s is deactivated.", id=user_id))
        if user_id not in in_department:
            _fail("member_ids", _("User %(id)s is not a member of the department.", id=user_id))
    return list(member_ids)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """The rotation's values checked and normalised; ValidationFailed names the first wrong field."""
    name = (values.get("name") or "").strip()
    if not name or len(name) > 100:
        _fail("name", _("Between 1 and 100 characters."))
    department_id = values.get("department_id")
    if department_id is None or Department.get_or_none(Department.id == department_id) is None:
        _fail("department_id", _("No department with id %(id)s.", id=department_id))
    layer = values.get("layer")
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer <= 100:
        _fail("layer", _("A whole number from 0 to 100 (higher layers override lower ones)."))
    unit = values.get("shift_unit")
    if unit not in schedule.UNITS:
        _fail("shift_unit", _("Must be one of: %(choices)s.", choices=", ".join(schedule.UNITS)))
    length = values.get("shift_length")
    if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= MAX_LENGTH[unit]:
        _fail("shift_length", {"hours": _("From 1 to %(max)s hours.", max=MAX_LENGTH["hours"]),
                               "days": _("From 1 to %(max)s days.", max=MAX_LENGTH["days"]),
                               "weeks": _("From 1 to %(max)s weeks.", max=MAX_LENGTH["weeks"])}[unit])
    handoff = parse_clock(values.get("handoff_time"), "handoff_time")
    if values.get("handoff_weekday") is not None:
        _check_weekday(values["handoff_weekday"], "handoff_weekday")
    zone_of(values.get("timezone"))
    if values.get("advance") not in schedule.ADVANCES:
        _fail("advance", _("Must be one of: %(choices)s.", choices=", ".join(schedule.ADVANCES)))
    start_date = values.get("start_date")
    if isinstance(start_date, str):
        try:
            start_date = dt.date.fromisoformat(start_date)
        except ValueError:
            start_date = None
    if not isinstance(start_date, dt.date) or isinstance(start_date, dt.datetime):
        _fail("start_date", _("Use a date like 2026-01-05."))
    return {**values, "name": name, "handoff_time": handoff.strftime("%H:%M"), "start_date": start_date,
            "member_ids": _check_members(values.get("member_ids"), department_id),
            "restrictions": _check_restrictions(values.get("restrictions"))}


# -- rotations --------------------------------------------------------------------------------------

def create_rotation(actor: User | None, values: dict[str, Any]) -> Rotation:
    if actor is not None:
        require(actor, PERMISSION)
    cleaned = _clean({**DEFAULTS, **{k: v for k, v in values.items() if k in ROTATION_FIELDS}})
    with write_transaction():
        return Rotation.create(**cleaned, created_by=actor)


def update_rotation(actor: User | None, rotation_id: Any, changes: dict[str, Any]) -> Rotation:
    if actor is not None:
        require(actor, PERMISSION)
    with write_transaction():
        rotation = get_rotation(actor, rotation_id)
        current = {field: getattr(rotation, field) for field in ROTATION_FIELDS}
        cleaned = _clean({**current, **{k: v for k, v in changes.items() if k in ROTATION_FIELDS}})
        for field, value in cleaned.items():
            setattr(rotation, field, value)
        rotation.updated_at = utcnow()
        rotation.save()
        return rotation


def delete_rotation(actor: User | None, rotation_id: Any) -> None:
    if actor is not None:
        require(actor, PERMISSION)
    with write_transaction():
        get_rotation(actor, rotation_id).delete_instance(recursive=True)


def spec_of(rotation: Rotation) -> schedule.Rotation:
    """The rotation as the pure arithmetic sees it."""
    windows = tuple(schedule.Window(frozenset(w["weekdays"]), parse_clock(w["start"], "restrictions"),
                                    parse_clock(w["end"], "restrictions")) for w in rotation.restrictions or [])
    start_date = rotation.start_date
    if isinstance(start_date, str):  # SQLite hands dates back as text
        start_date = dt.date.fromisoformat(start_date)
    return schedule.Rotation(id=rotation.id, members=tuple(rotation.member_ids), length=rotation.shift_length,
                             unit=rotation.shift_unit, handoff=parse_clock(rotation.handoff_time, "handoff_time"),
                             zone=zone_of(rotation.timezone), start_date=start_date,
                             weekday=rotation.handoff_weekday, layer=rotation.layer, restrictions=windows,
                             advance=rotation.advance)


def rotation_to_dict(rotation: Rotation) -> dict[str, Any]:
    start_date = rotation.start_date
    return {"id": rotation.id, "department_id": rotation.department_id, "name": rotation.name,
            "layer": rotation.layer, "member_ids": list(rotation.member_ids), "shift_length": rotation.shift_length,
            "shift_unit": rotation.shift_unit, "handoff_time": rotation.handoff_time,
            "handoff_weekday": rotation.handoff_weekday, "timezone": rotation.timezone,
            "start_date": start_date if isinstance(start_date, str) else start_date.isoformat(),
            "restrictions": list(rotation.restrictions), "advance": rotation.advance,
            "created_at": as_utc(rotation.created_at).isoformat(),
            "updated_at": as_utc(rotation.updated_at).isoformat()}


# -- overrides --------------------------------------------------------------------------------------

def create_override(actor: User | None, values: dict[str, Any]) -> Override:
    """Someone covers a rotation from ``starts_at`` to ``ends_at``; ``user_id`` None: deliberately nobody."""
    if actor is not None:
        require(actor, PERMISSION)
    rotation = get_rotation(actor, values.get("rotation_id"))
    starts_at, ends_at = values.get("starts_at"), values.get("ends_at")
    if not isinstance(starts_at, dt.datetime) or starts_at.tzinfo is None:
        _fail("starts_at", _("An instant with its UTC offset, e.g. 2026-03-02T09:00+02:00."))
    if not isinstance(ends_at, dt.datetime) or ends_at.tzinfo is None or ends_at <= starts_at:
        _fail("ends_at", _("Must be after starts_at."))
    if ends_at - starts_at > dt.timedelta(days=366):
        _fail("ends_at", _("An override lasts at most a year."))
    user_id = values.get("user_id")
    if user_id is not None:
        user = User.get_or_none(User.id == user_id)
        if user is None or not user.is_active:
            _fail("user_id", _("No active user with id %(id)s.", id=user_id))
        if not Membership.select().where((Membership.user == user_id)
                                         & (Membership.department == rotation.department_id)).exists():
            _fail("user_id", _("User %(id)s is not a member of the department.", id=user_id))
    with write_transaction():
        return Override.create(rotation=rotation, user=user_id, starts_at=as_utc(starts_at), ends_at=as_utc(ends_at),
                               note=(values.get("note") or "").strip(), created_by=actor)


def list_overrides(actor: User, rotation_id: Any) -> list[Override]:
    rotation = get_rotation(actor, rotation_id)
    return list(Override.select().where(Override.rotation == rotation).order_by(Override.starts_at, Override.id))


def delete_override(actor: User | None, override_id: Any) -> None:
    if actor is not None:
        require(actor, PERMISSION)
    try:
        override = Override.get_or_none(Override.id == int(override_id))
    except (TypeError, ValueError):
        override = None
    if override is None:
        raise NotFound(_("No such override."))
    with write_transaction():
        override.delete_instance()


def override_to_dict(override: Override) -> dict[str, Any]:
    return {"id": override.id, "rotation_id": override.rotation_id, "user_id": override.user_id,
            "starts_at": as_utc(override.starts_at).isoformat(), "ends_at": as_utc(override.ends_at).isoformat(),
            "note": override.note}


# -- department switches ----------------------------------------------------------------------------

def department_settings(department_id: int) -> dict[str, Any]:
    row = DepartmentSettings.get_or_none(DepartmentSettings.department == department_id)
    return {"department_id": department_id, "auto_assign": bool(row and row.auto_assign)}


def update_department_settings(actor: User | None, department_id: Any, changes: dict[str, Any]) -> dict[str, Any]:
    if actor is not None:
        require(actor, PERMISSION)
    department = visible_department(actor, department_id) if actor is not None else Department.get_by_id(department_id)
    with write_transaction():
        row, _created = DepartmentSettings.get_or_create(department=department)
        if "auto_assign" in changes:
            row.auto_assign = bool(changes["auto_assign"])
        row.save()
    return department_settings(department.id)


# -- who is on duty ---------------------------------------------------------------------------------

def _department_rotations(department_id: int) -> list[Rotation]:
    return list(Rotation.select().where(Rotation.department == department_id).order_by(Rotation.layer, Rotation.id))


def keeps_roster(department_id: int) -> bool:
    return Rotation.select().where(Rotation.department == department_id).exists()


def department_roster(department_id: int, start: dt.datetime, end: dt.datetime,
                      rotations: list[Rotation] | None = None) -> tuple[list[schedule.Piece], list[tuple]]:
    """The department's winning pieces and its gaps in ``[start, end)``, with overrides and absences."""
    rotations = _department_rotations(department_id) if rotations is None else rotations
    if not rotations:
        return [], [(start, end)]
    overrides = [schedule.Override(o.rotation_id, o.user_id, as_utc(o.starts_at), as_utc(o.ends_at))
                 for o in Override.select().where((Override.rotation.in_([r.id for r in rotations]))
                                                  & (Override.starts_at < end) & (Override.ends_at > start))
                 .order_by(Override.created_at, Override.id)]
    people = {m for r in rotations for m in r.member_ids if m is not None} | {o.user_id for o in overrides if o.user_id}
    away = [schedule.Away(a.user_id, as_utc(a.starts_at), as_utc(a.ends_at))
            for a in absences.absences_between(start, end, user_ids=people)] if people else []
    return schedule.roster([spec_of(r) for r in rotations], overrides, away, as_utc(start), as_utc(end))


def on_duty_pieces(department_id: int, at: dt.datetime) -> list[schedule.Piece]:
    pieces, _gaps = department_roster(department_id, at, at + dt.timedelta(microseconds=1))
    return pieces


def people_on_duty(department_id: int, at: dt.datetime) -> list[User] | None:
    """The people covering the department at ``at`` (highest layer first), [] for deliberately nobody
    or uncovered time, None when the department keeps no roster."""
    if not keeps_roster(department_id):
        return None
    ids = []
    for piece in sorted(on_duty_pieces(department_id, at), key=lambda p: (-p.layer, p.rotation_id)):
        if piece.covered and piece.user_id not in ids:
            ids.append(piece.user_id)
    found = {u.id: u for u in User.select().where(User.id.in_(ids))} if ids else {}
    return [found[i] for i in ids if i in found and found[i].is_active]


def propose_on_duty(task, candidates: Iterable[User]) -> User | None:
    """Whoever is on duty in the task's department, when the department switched it on."""
    if not department_settings(task.department_id)["auto_assign"]:
        return None
    allowed = {c.id for c in candidates}
    return next((p for p in people_on_duty(task.department_id, utcnow()) or [] if p.id in allowed), None)


def check_period(start: dt.datetime, end: dt.datetime) -> None:
    if end <= start:
        _fail("to", _("Must be after from."))
    if end - start > MAX_PERIOD:
        _fail("to", _("At most %(days)s days after from.", days=MAX_PERIOD.days))


def pieces_to_dicts(pieces: Iterable[schedule.Piece]) -> list[dict[str, Any]]:
    pieces = list(pieces)
    names = {u.id: u.name for u in User.select(User.id, User.name).where(
        User.id.in_({p.user_id for p in pieces if p.user_id} or {0}))}
    rotations = {r.id: r for r in Rotation.select().where(Rotation.id.in_({p.rotation_id for p in pieces} or {0}))}
    return [{"user_id": p.user_id, "user_name": names.get(p.user_id), "kind": p.kind, "covered": p.covered,
             "rotation_id": p.rotation_id, "rotation_name": rotations[p.rotation_id].name if p.rotation_id in rotations
             else None, "department_id": rotations[p.rotation_id].department_id if p.rotation_id in rotations else None,
             "layer": p.layer, "start": p.start.isoformat(), "end": p.end.isoformat(),
             "shift_start": p.shift_start.isoformat(), "shift_end": p.shift_end.isoformat()} for p in pieces]


def now_answer(actor: User, department_id: Any, at: dt.datetime | None = None) -> dict[str, Any]:
    """Who is on duty in a department at ``at`` (default now): the people covering it with their shift's
    start and end, and every winning slot (deliberate nobody, absent people) across layers."""
    department = visible_department(actor, department_id)
    at = as_utc(at or utcnow())
    pieces = sorted(on_duty_pieces(department.id, at), key=lambda p: (-p.layer, p.rotation_id))
    slots = pieces_to_dicts(pieces)
    for slot in slots:  # the piece of an instant is meaningless; its shift is the answer
        slot.pop("start"), slot.pop("end")
    return {"department_id": department.id, "at": at.isoformat(), "keeps_roster": keeps_roster(department.id),
            "people": [s for s in slots if s["covered"]], "slots": slots}


def shifts_answer(actor: User, start: dt.datetime, end: dt.datetime, department_id: Any = None,
                  user_id: int | None = None) -> list[dict[str, Any]]:
    """The roster's pieces between two instants: of one department, or of every department the actor
    may see; narrowed to one person with ``user_id``."""
    check_period(start, end)
    if department_id is not None:
        departments = [visible_department(actor, department_id).id]
    elif actor.has_permission(PERMISSION):
        departments = [d for (d,) in Rotation.select(Rotation.department).distinct().tuples()]
    else:
        departments = department_ids(actor)
    found = []
    for department in sorted(departments):
        pieces, _gaps = department_roster(department, as_utc(start), as_utc(end))
        found.extend(p for p in pieces if user_id is None or p.user_id == user_id)
    found.sort(key=lambda p: (p.start, -p.layer, p.rotation_id))
    return pieces_to_dicts(found)


def my_shifts(actor: User, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """The actor's own shifts in their departments (absent ones included, marked)."""
    check_period(start, end)
    found = []
    for department in sorted(department_ids(actor)):
        pieces, _gaps = department_roster(department, as_utc(start), as_utc(end))
        found.extend(p for p in pieces if p.user_id == actor.id)
    found.sort(key=lambda p: p.start)
    return pieces_to_dicts(found)


# -- coverage and schedule quality ------------------------------------------------------------------

def _uncovered(pieces: Iterable[schedule.Piece], gaps: Iterable[tuple]) -> list[dict[str, Any]]:
    """Gaps (nobody scheduled) and absent people's slots, in time order."""
    found = [{"kind": "gap", "start": start, "end": end, "user_id": None, "rotation_id": None} for start, end in gaps]
    found += [{"kind": "absent", "start": p.start, "end": p.end, "user_id": p.user_id, "rotation_id": p.rotation_id}
              for p in pieces if p.kind == "absent"]
    return sorted(found, key=lambda item: (item["start"], item["kind"]))


def _time_split(pieces: list[schedule.Piece], gaps: list[tuple]) -> tuple[float, float, float]:
    """Hours with someone on duty, hours that should be but are not (gaps, only absent people), and
    hours deliberately unstaffed; two people on duty at once count once."""
    covered = uncovered = nobody = 0.0
    bounds = sorted({t for p in pieces for t in (p.start, p.end)})
    for left, right in zip(bounds, bounds[1:]):
        here = [p for p in pieces if p.start <= left and p.end >= right]
        hours = (right - left).total_seconds() / 3600
        if any(p.covered for p in here):
            covered += hours
        elif any(p.kind == "absent" for p in here):
            uncovered += hours
        elif here:
            nobody += hours
    uncovered += sum((end - start).total_seconds() / 3600 for start, end in gaps)
    return covered, uncovered, nobody


def quality(department_id: int, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """How well the roster covers ``[start, end)``: covered, uncovered (gaps and absent people) and
    deliberately unstaffed hours; each person's load against the average; and a score from 0 to 100:
    the covered share of the hours that should be covered, times fairness (1 minus the mean
    deviation of the loads from their average, relative to it)."""
    rotations = _department_rotations(department_id)
    pieces, gaps = department_roster(department_id, start, end, rotations)
    covered, uncovered_hours, nobody = _time_split(pieces, gaps)
    uncovered = _uncovered(pieces, gaps)
    people = [m for r in rotations for m in r.member_ids if m is not None]
    people += [p.user_id for p in pieces if p.kind == "override" and p.user_id is not None]
    loads = {person: 0.0 for person in dict.fromkeys(people)}
    for piece in pieces:
        if piece.covered:
            loads[piece.user_id] = loads.get(piece.user_id, 0.0) + piece.hours
    average = sum(loads.values()) / len(loads) if loads else 0.0
    fairness = 1.0
    if average > 0:
        fairness = max(0.0, 1 - sum(abs(load - average) for load in loads.values()) / len(loads) / average)
    should_be_covered = covered + uncovered_hours
    coverage = covered / should_be_covered if should_be_covered else 1.0
    names = {u.id: u.name for u in User.select(User.id, User.name).where(User.id.in_(list(loads) or [0]))}
    return {"department_id": department_id, "from": start.isoformat(), "to": end.isoformat(),
            "covered_hours": round(covered, 2), "uncovered_hours": round(uncovered_hours, 2),
            "nobody_hours": round(nobody, 2), "average_load_hours": round(average, 2),
            "score": round(100 * coverage * fairness),
            "load": [{"user_id": person, "user_name": names.get(person), "hours": round(load, 2),
                      "ratio": round(load / average, 2) if average else None} for person, load in loads.items()],
            "uncovered": [{**u, "start": u["start"].isoformat(), "end": u["end"].isoformat()} for u in uncovered]}


def quality_answer(actor: User, department_id: Any, start: dt.datetime | None, end: dt.datetime | None,
                   now: dt.datetime | None = None) -> dict[str, Any]:
    """The schedule quality of a department from ``start`` (default now) to ``end`` (default four weeks on)."""
    department = visible_department(actor, department_id)
    start = as_utc(start or now or utcnow())
    end = as_utc(end) if end is not None else start + dt.timedelta(weeks=4)
    check_period(start, end)
    return quality(department.id, start, end)


def heads_to_tell(department: Department) -> list[User]:
    """The department's head, or else the people who manage rosters."""
    if department.head_id is not None and department.head.is_active:
        return [department.head]
    return [u for u in User.select().join(Role).where(User.is_active == True)  # noqa: E712
            if u.has_permission(PERMISSION)]


def report_coverage(now: dt.datetime, horizon_days: int) -> int:
    """Tell each department's head about every gap and every absent person's slot in the coming
    ``horizon_days``, once each. Returns how many notifications were sent (or found already sent)."""
    # Computed from a week back, so an uncovered stretch that has begun keeps the start it was first
    # told with (its notification's key) instead of starting anew at each run's ``now``.
    start, end = now - dt.timedelta(days=7), now + dt.timedelta(days=horizon_days)
    departments = [d for (d,) in Rotation.select(Rotation.department).distinct().tuples()]
    told = 0
    for department_id in departments:
        department = Department.get_or_none(Department.id == department_id)
        if department is None:
            continue
        rotations = _department_rotations(department_id)
        pieces, gaps = department_roster(department_id, start, end, rotations)
        names = {}
        for item in _uncovered(pieces, gaps):
            if item["end"] <= now:
                continue
            # in each reader's zone and language, when read
            when = MessageLines([LocalInstant(item["start"]), LocalInstant(item["end"])], separator=" – ")
            if item["kind"] == "gap":
                subject = _l("Nobody is on duty in %(department)s from %(when)s", department=department.name, when=when)
                body = _l("No rotation covers this time. Add a rotation or an override, or make it a deliberate "
                         "nobody slot.")
            else:
                if item["user_id"] not in names:
                    names[item["user_id"]] = getattr(User.get_or_none(User.id == item["user_id"]), "name", "?")
                subject = _l("%(person)s is away during their duty in %(department)s from %(when)s",
                            person=names[item["user_id"]], department=department.name, when=when)
                body = _l("Their shift is uncovered until someone takes it with an override.")
            # A stretch already uncovered at the window's start is known by its end instead.
            since_key = item["start"].isoformat() if item["start"] > start else f"open-{item['end'].isoformat()}"
            key = f"duty_roster.uncovered:{department_id}:{item['kind']}:{item['user_id']}:{since_key}"
            for head in heads_to_tell(department):
                notify(head, "duty_roster.uncovered", subject, body, dedupe_key=key)
                told += 1
    return told
