"""Rotation arithmetic: pure functions over aware datetimes, no database.

A rotation's hand-offs are computed as wall-clock times in its IANA zone and only then turned into
instants: the k-th hand-off is ``first hand-off + k × shift length`` on the local calendar and clock.
So a hand-off at 09:00 local stays at 09:00 local across daylight-saving changes, and the shift that
spans a change is an hour shorter (spring) or longer (autumn): never moved, never gapped. A hand-off
wall time that does not exist (inside the hour skipped in spring) is read with the offset in force
before the change (PEP 495, fold=0), so it happens as much later as the gap is long (03:30 becomes
04:30); one that happens twice (autumn) happens at its first instant.

Time restrictions clip a shift to its windows; they never move a hand-off. How a restricted rotation
advances is the rotation's ``advance``:

- ``windows`` (the default): only a hand-off that opens time inside the windows passes the turn. The
  calendar slots (hand-off to hand-off, wall-clock as above) without any restricted time belong to the
  shift before them, so a daily rotation restricted to weekdays goes Monday to Friday through its
  members and the Friday person hands over to the next member at Monday's hand-off: nobody's turn is
  lost over the weekend and the Friday person never shows on Monday.
- ``calendar``: every hand-off passes the turn, also those of slots outside every window (whose members
  simply have no time then).

Without restrictions both are the same.

Layering: every rotation yields pieces (who covers what, when); at any instant the highest layer
with a piece wins; pieces of one layer add up (two people on duty at once). A piece with nobody
(a deliberate "nobody" slot or override) covers its time with nobody: it is not a gap. An instant
no piece covers is a gap.
"""
from __future__ import annotations

import datetime as dt
import threading
from bisect import bisect_right
from dataclasses import dataclass, replace
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc
UNITS = ("hours", "days", "weeks")
# How a restricted rotation passes the turn (see above).
ADVANCES = ("windows", "calendar")
# What covers a piece of time: a rotation's member, an override's person, deliberately nobody, or a
# person who is away (their time is uncovered until someone takes it).
KINDS = ("shift", "override", "nobody", "absent")


def to_instant(local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of a naive wall time in ``zone`` (fold=0 for skipped and repeated times)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def to_local(instant: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The naive wall time of an aware instant in ``zone``."""
    return instant.astimezone(zone).replace(tzinfo=None)


@dataclass(frozen=True)
class Window:
    """A time restriction: on the given ISO weekdays (1 = Monday) from ``start`` to ``end`` local time;
    an ``end`` at or before ``start`` runs past midnight into the next day (22:00–06:00)."""
    weekdays: frozenset[int]
    start: dt.time
    end: dt.time

    def spans(self, day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime] | None:
        """The window's instants when it opens on ``day``, or None if it does not open that day."""
        if day.isoweekday() not in self.weekdays:
            return None
        end_day = day if self.end > self.start else day + dt.timedelta(days=1)
        return (to_instant(dt.datetime.combine(day, self.start), zone),
                to_instant(dt.datetime.combine(end_day, self.end), zone))


@dataclass(frozen=True)
class Shift:
    """The ``index``-th shift of a rotation: ``member`` (a user id, or None for a deliberate nobody)
    from ``start`` to ``end`` (aware UTC, the hand-offs), before restrictions."""
    index: int
    start: dt.datetime
    end: dt.datetime
    member: int | None


@dataclass(frozen=True)
class Piece:
    """Who covers ``[start, end)``: ``user_id`` (None: nobody) by ``kind``, from ``rotation_id`` on
    ``layer``, as part of the shift ``[shift_start, shift_end)``."""
    start: dt.datetime
    end: dt.datetime
    user_id: int | None
    kind: str
    rotation_id: int
    layer: int
    shift_start: dt.datetime
    shift_end: dt.datetime

    @property
    def covered(self) -> bool:
        """Someone is on duty in this piece (not nobody, not an absent person)."""
        return self.kind in ("shift", "override") and self.user_id is not None

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


@dataclass(frozen=True)
class Rotation:
    """A rotation's schedule: ``members`` in order (None: a deliberate nobody slot), each on duty for
    ``length`` ``unit`` from the first hand-off, which is at ``handoff`` local time on ``start_date``
    (or the first ``weekday`` on or after it, ISO 1 = Monday). With ``restrictions``, ``advance`` says
    which hand-offs pass the turn: ``windows`` those opening restricted time, ``calendar`` all."""
    id: int
    members: tuple[int | None, ...]
    length: int
    unit: str
    handoff: dt.time
    zone: ZoneInfo
    start_date: dt.date
    weekday: int | None = None
    layer: int = 0
    restrictions: tuple[Window, ...] = ()
    advance: str = "windows"

    @property
    def step(self) -> dt.timedelta:
        """One shift on the local calendar and clock (wall-time arithmetic, never elapsed time)."""
        return {"hours": dt.timedelta(hours=self.length), "days": dt.timedelta(days=self.length),
                "weeks": dt.timedelta(weeks=self.length)}[self.unit]

    @property
    def first_local(self) -> dt.datetime:
        day = self.start_date
        if self.weekday is not None:
            day += dt.timedelta(days=(self.weekday - day.isoweekday()) % 7)
        return dt.datetime.combine(day, self.handoff)

    def slot_at(self, slot: int) -> dt.datetime:
        """The instant of the ``slot``-th calendar hand-off (0: the rotation's start)."""
        return to_instant(self.first_local + slot * self.step, self.zone)

    def slot_index_at(self, instant: dt.datetime) -> int | None:
        """The calendar slot running at ``instant``, or None before the rotation starts."""
        slot = (to_local(instant, self.zone) - self.first_local) // self.step
        # The wall-clock estimate can be one off next to a daylight-saving change: settle on instants.
        while slot >= 0 and self.slot_at(slot) > instant:
            slot -= 1
        if slot < 0:
            slot = 0
            if self.slot_at(0) > instant:
                return None
        while self.slot_at(slot + 1) <= instant:
            slot += 1
        return slot

    @property
    def _by_calendar(self) -> bool:
        return self.advance == "calendar" or not self.restrictions

    def handoff_at(self, index: int) -> dt.datetime:
        """The instant of the ``index``-th hand-off that passes the turn (0: the first shift's start)."""
        if self._by_calendar:
            return self.slot_at(index)
        return self.slot_at(_turns(self).slot_of(index))

    def index_at(self, instant: dt.datetime) -> int | None:
        """The index of the shift running at ``instant``, or None before the first one starts."""
        slot = self.slot_index_at(instant)
        if slot is None or self._by_calendar:
            return slot
        index = _turns(self).turns_through(slot) - 1
        return index if index >= 0 else None

    def opens_window(self, slot: int) -> bool:
        """Whether the ``slot``-th calendar slot has time inside the restrictions."""
        start, end = self.first_local + slot * self.step, self.first_local + (slot + 1) * self.step
        before, after = start - dt.timedelta(days=1), end + dt.timedelta(days=1)
        if self.step > dt.timedelta(days=1) or self.zone.utcoffset(before) != self.zone.utcoffset(after):
            # A daylight-saving change nearby (or room for two in a long slot): compare instants, where a
            # skipped hour has no time.
            return bool(self.covered_spans(Shift(slot, self.slot_at(slot), self.slot_at(slot + 1), None)))
        # One offset throughout (the common case, and much quicker): compare wall times.
        day = start.date() - dt.timedelta(days=1)
        while day <= end.date():
            for window in self.restrictions:
                if day.isoweekday() in window.weekdays:
                    opens = dt.datetime.combine(day, window.start)
                    closes = dt.datetime.combine(day if window.end > window.start else day + dt.timedelta(days=1),
                                                 window.end)
                    if max(start, opens) < min(end, closes):
                        return True
            day += dt.timedelta(days=1)
        return False

    def shift(self, index: int) -> Shift:
        member = self.members[index % len(self.members)] if self.members else None
        return Shift(index, self.handoff_at(index), self.handoff_at(index + 1), member)

    def shifts(self, start: dt.datetime, end: dt.datetime) -> list[Shift]:
        """Every shift overlapping ``[start, end)``, in order (shifts of no length left out)."""
        if end <= start:
            return []
        index = self.index_at(start)
        if index is None:
            if self.handoff_at(0) >= end:
                return []
            index = 0
        found = []
        while True:
            shift = self.shift(index)
            if shift.start >= end:
                return found
            if shift.end > shift.start:
                found.append(shift)
            index += 1

    def covered_spans(self, shift: Shift) -> list[tuple[dt.datetime, dt.datetime]]:
        """The parts of ``shift`` inside the rotation's restrictions (the whole shift without any)."""
        if not self.restrictions:
            return [(shift.start, shift.end)]
        first_day = to_local(shift.start, self.zone).date() - dt.timedelta(days=1)
        last_day = to_local(shift.end, self.zone).date()
        spans = []
        day = first_day
        while day <= last_day:
            for window in self.restrictions:
                opened = window.spans(day, self.zone)
                if opened is not None:
                    start, end = max(opened[0], shift.start), min(opened[1], shift.end)
                    if start < end:
                        spans.append((start, end))
            day += dt.timedelta(days=1)
        return _union(spans)

    def pieces(self, start: dt.datetime, end: dt.datetime) -> list[Piece]:
        """Who this rotation puts on duty in ``[start, end)``, restrictions applied."""
        pieces = []
        for shift in self.shifts(start, end):
            for span_start, span_end in self.covered_spans(shift):
                span_start, span_end = max(span_start, start), min(span_end, end)
                if span_start < span_end:
                    pieces.append(Piece(span_start, span_end, shift.member,
                                        "shift" if shift.member is not None else "nobody",
                                        self.id, self.layer, shift.start, shift.end))
        return pieces


class _Turns:
    """The calendar slots of a ``windows`` rotation that pass the turn, found by walking the slots from
    the start once and remembered (a slot's time inside the windows is computed on instants, so the
    skipped hour of a spring change counts as what it is: no time)."""

    def __init__(self, rotation: Rotation):
        self.rotation = rotation
        self.slots: list[int] = []  # ascending calendar indices of the slots that open window time
        self.walked = 0  # slots 0 .. walked - 1 have been looked at
        self.lock = threading.Lock()  # requests of several threads share the walk

    def _walk(self) -> None:
        if self.rotation.opens_window(self.walked):
            self.slots.append(self.walked)
        self.walked += 1

    def slot_of(self, index: int) -> int:
        """The calendar slot where the ``index``-th turn begins. Every week holds a window, and every
        window of a week but one at most (in a spring change's skipped hour) has time, so this ends."""
        with self.lock:
            while len(self.slots) <= index:
                self._walk()
            return self.slots[index]

    def turns_through(self, slot: int) -> int:
        """How many turns begin at or before the calendar slot ``slot``."""
        with self.lock:
            while self.walked <= slot:
                self._walk()
            return bisect_right(self.slots, slot)


_TURNS: dict[tuple, _Turns] = {}
_TURNS_KEPT = 256


def _turns(rotation: Rotation) -> _Turns:
    """The remembered walk of ``rotation``'s slots (shared by equal schedules, whatever their members)."""
    key = (rotation.first_local, rotation.step, rotation.zone.key, rotation.restrictions)
    turns = _TURNS.get(key)
    if turns is None:
        if len(_TURNS) >= _TURNS_KEPT:
            _TURNS.pop(next(iter(_TURNS)))
        turns = _TURNS[key] = _Turns(replace(rotation, members=(), id=0, layer=0))
    return turns


@dataclass(frozen=True)
class Override:
    """``user_id`` (None: deliberately nobody) covers ``rotation_id``'s time in ``[start, end)``."""
    rotation_id: int
    user_id: int | None
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Away:
    """``user_id`` is away in ``[start, end)`` (the core's absences)."""
    user_id: int
    start: dt.datetime
    end: dt.datetime


def _union(spans: Iterable[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _split(piece: Piece, start: dt.datetime, end: dt.datetime, **changes) -> list[Piece]:
    """``piece`` with ``[start, end)`` changed by ``changes`` (up to three pieces)."""
    if end <= piece.start or start >= piece.end:
        return [piece]
    parts = []
    if piece.start < start:
        parts.append(replace(piece, end=start))
    parts.append(replace(piece, start=max(piece.start, start), end=min(piece.end, end), **changes))
    if end < piece.end:
        parts.append(replace(piece, start=end))
    return parts


def apply_overrides(pieces: list[Piece], overrides: Sequence[Override]) -> list[Piece]:
    """Replace the person of each piece where an override of its rotation runs (later overrides win)."""
    for override in overrides:
        kind = "override" if override.user_id is not None else "nobody"
        pieces = [part for piece in pieces for part in (
            _split(piece, override.start, override.end, user_id=override.user_id, kind=kind)
            if piece.rotation_id == override.rotation_id else [piece])]
    return pieces


def apply_absences(pieces: list[Piece], absences: Sequence[Away]) -> list[Piece]:
    """Mark the time of people who are away as uncovered (``kind`` "absent", the person kept)."""
    for away in absences:
        pieces = [part for piece in pieces for part in (
            _split(piece, away.start, away.end, kind="absent")
            if piece.user_id == away.user_id and piece.kind in ("shift", "override") else [piece])]
    return pieces


Span = tuple[dt.datetime, dt.datetime]


def layered(pieces: Sequence[Piece], start: dt.datetime, end: dt.datetime) -> tuple[list[Piece], list[Span]]:
    """The roster of ``[start, end)``: the pieces that win (the highest layer at each instant; pieces
    of the same layer together), in time order, and the gaps no piece covers."""
    bounds = sorted({start, end} | {t for p in pieces for t in (p.start, p.end) if start < t < end})
    winners: list[Piece] = []
    gaps: list[tuple[dt.datetime, dt.datetime]] = []
    for left, right in zip(bounds, bounds[1:]):
        present = [p for p in pieces if p.start <= left and p.end >= right]
        if not present:
            if gaps and gaps[-1][1] == left:
                gaps[-1] = (gaps[-1][0], right)
            else:
                gaps.append((left, right))
            continue
        top = max(p.layer for p in present)
        for piece in sorted((p for p in present if p.layer == top), key=lambda p: (p.rotation_id, p.shift_start)):
            clipped = replace(piece, start=left, end=right)
            earlier = next((w for w in reversed(winners) if w.end == left and _same(w, clipped)), None)
            if earlier is not None:
                winners[winners.index(earlier)] = replace(earlier, end=right)
            else:
                winners.append(clipped)
    winners.sort(key=lambda p: (p.start, -p.layer, p.rotation_id))
    return winners, gaps


def _same(a: Piece, b: Piece) -> bool:
    return (a.rotation_id, a.shift_start, a.user_id, a.kind) == (b.rotation_id, b.shift_start, b.user_id, b.kind)


def roster(rotations: Sequence[Rotation], overrides: Sequence[Override], absences: Sequence[Away],
           start: dt.datetime, end: dt.datetime) -> tuple[list[Piece], list[tuple[dt.datetime, dt.datetime]]]:
    """Who is on duty in ``[start, end)`` across a department's rotations: overrides replace people,
    absences uncover them, then the highest layer wins. Returns the pieces and the gaps."""
    pieces = [piece for rotation in rotations for piece in rotation.pieces(start, end)]
    pieces = apply_absences(apply_overrides(pieces, overrides), absences)
    return layered(pieces, start, end)


def on_duty(rotations: Sequence[Rotation], overrides: Sequence[Override], absences: Sequence[Away],
            at: dt.datetime) -> list[Piece]:
    """The winning pieces at the instant ``at`` (covered or not)."""
    pieces, _gaps = roster(rotations, overrides, absences, at, at + dt.timedelta(microseconds=1))
    return pieces
