"""The clock model: a task's SLA cycles derived from its audit trail, a pure function of the trail, the
policy and the calendar.

Each target of a policy counts time in *segments*: counting starts when the cycle starts or resumes and
stops when it pauses (the task enters a pausing status) or stops (the target is met, the task is done). The
time a segment counts is working time on the calendar (weekly hours in an IANA zone, holidays) or plain
elapsed time. Because everything follows from the recorded trail, a clock recomputed later (a policy
changed, the plugin was off for a week) comes out exactly as if it had been followed live.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Protocol

from workdesk import DONE_STATUSES, WorkingTime

UTC = dt.timezone.utc


class Measure(Protocol):
    def elapsed(self, start: dt.datetime, end: dt.datetime) -> float: ...
    def advance(self, start: dt.datetime, seconds: float) -> dt.datetime: ...
    def next_counting_instant(self, at: dt.datetime) -> dt.datetime: ...


class CalendarTime:
    """Every second counts (daylight saving changes nothing: durations are real elapsed time). The calendar,
    if any, still says when working hours begin, for chain levels that act only within them."""

    def __init__(self, calendar: WorkingTime | None = None):
        self.calendar = calendar

    def elapsed(self, start: dt.datetime, end: dt.datetime) -> float:
        return max((end - start).total_seconds(), 0.0)

    def advance(self, start: dt.datetime, seconds: float) -> dt.datetime:
        return start + dt.timedelta(seconds=seconds)

    def next_counting_instant(self, at: dt.datetime) -> dt.datetime:
        return self.calendar.add_working_hours(at, 0) if self.calendar is not None else at


class WorkingHours:
    """Only the calendar's working hours count (local wall-clock hours, so 09:00 stays 09:00 across DST)."""

    def __init__(self, calendar: WorkingTime):
        self.calendar = calendar

    def elapsed(self, start: dt.datetime, end: dt.datetime) -> float:
        return self.calendar.working_hours_between(start, end) * 3600

    def advance(self, start: dt.datetime, seconds: float) -> dt.datetime:
        return self.calendar.add_working_hours(start, seconds / 3600)

    def next_counting_instant(self, at: dt.datetime) -> dt.datetime:
        return self.calendar.add_working_hours(at, 0)


@dataclass
class Happening:
    """One entry of the trail that matters to clocks."""
    at: dt.datetime
    actor_id: int | None
    status: str | None = None        # the new status, for status changes and creation
    old_status: str | None = None
    commented: bool = False


@dataclass
class TargetSpec:
    """What a clock counts towards (a policy's target, copied so derivation needs no database)."""
    kind: str
    seconds: float
    status: str = ""
    on_reopen: str = "continue"
    target_id: int | None = None


@dataclass
class DerivedCycle:
    kind: str
    status: str
    number: int
    budget: float
    started_at: dt.datetime
    segment_start: dt.datetime | None
    consumed: float = 0.0
    stopped_at: dt.datetime | None = None
    pauses: list[list] = field(default_factory=list)
    warn_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    target_id: int | None = None

    @property
    def state(self) -> str:
        if self.stopped_at is not None:
            return "breached" if self.breached_at is not None else "met"
        return "paused" if self.segment_start is None else "running"


class _Follower:
    """Follows one target through the trail, keeping its cycles."""

    def __init__(self, spec: TargetSpec, measure: Measure, warn_share: float):
        self.spec, self.measure, self.warn_share = spec, measure, warn_share
        self.cycles: list[DerivedCycle] = []

    @property
    def current(self) -> DerivedCycle | None:
        return self.cycles[-1] if self.cycles else None

    def start(self, at: dt.datetime, paused: bool) -> None:
        cycle = DerivedCycle(self.spec.kind, self.spec.status, len(self.cycles) + 1, self.spec.seconds, at,
                             None if paused else at, target_id=self.spec.target_id)
        if paused:
            cycle.pauses.append([at, None])
        self.cycles.append(cycle)

    def _close_segment(self, cycle: DerivedCycle, at: dt.datetime) -> None:
        if cycle.segment_start is None:
            return
        before = cycle.consumed
        after = before + self.measure.elapsed(cycle.segment_start, at)
        for threshold, name in ((cycle.budget * self.warn_share, "warn_at"), (cycle.budget, "breached_at")):
            if before < threshold <= after and getattr(cycle, name) is None:
                setattr(cycle, name, self.measure.advance(cycle.segment_start, threshold - before))
        cycle.consumed, cycle.segment_start = after, None

    def pause(self, at: dt.datetime) -> None:
        cycle = self.current
        if cycle is not None and cycle.stopped_at is None and cycle.segment_start is not None:
            self._close_segment(cycle, at)
            cycle.pauses.append([at, None])

    def resume(self, at: dt.datetime) -> None:
        cycle = self.current
        if cycle is not None and cycle.stopped_at is None and cycle.segment_start is None:
            if cycle.pauses and cycle.pauses[-1][1] is None:
                cycle.pauses[-1][1] = at
            cycle.segment_start = at

    def stop(self, at: dt.datetime) -> None:
        cycle = self.current
        if cycle is None or cycle.stopped_at is not None:
            return
        self._close_segment(cycle, at)
        if cycle.pauses and cycle.pauses[-1][1] is None:
            cycle.pauses[-1][1] = at
        cycle.stopped_at = at

    def restart(self, at: dt.datetime, paused: bool) -> None:
        """Reopened (or the status entered again): continue the last cycle or start a new one."""
        cycle = self.current
        if self.spec.on_reopen == "continue" and cycle is not None and cycle.stopped_at is not None:
            cycle.pauses.append([cycle.stopped_at, None if paused else at])
            cycle.stopped_at = None
            if not paused:
                cycle.segment_start = at
            return
        if cycle is None or cycle.stopped_at is not None:
            self.start(at, paused)

    def finish(self) -> None:
        """Project the running segment: when the warning and the breach fall (they may lie in the past)."""
        for cycle in self.cycles:
            if cycle.stopped_at is None and cycle.segment_start is not None:
                for threshold, name in ((cycle.budget * self.warn_share, "warn_at"), (cycle.budget, "due_at")):
                    if cycle.consumed < threshold:
                        setattr(cycle, name, self.measure.advance(cycle.segment_start, threshold - cycle.consumed))
                if cycle.due_at is None:
                    cycle.due_at = cycle.breached_at
            elif cycle.stopped_at is None:
                cycle.due_at = cycle.breached_at  # paused: no deadline while the clock stands still
            else:
                cycle.due_at = cycle.breached_at or (
                    cycle.stopped_at if cycle.consumed >= cycle.budget else None)


def derive(trail: Iterable[Happening], reporter_id: int | None, targets: list[TargetSpec], measure: Measure,
           pausing: Iterable[str], warn_share: float) -> list[DerivedCycle]:
    """Every cycle of every target, from the task's trail (oldest first, starting with its creation)."""
    pausing = frozenset(pausing)
    followers = [_Follower(spec, measure, warn_share) for spec in targets]
    status: str | None = None
    for happening in trail:
        responded = happening.actor_id is not None and happening.actor_id != reporter_id and (
            happening.commented or happening.status is not None)
        at = happening.at
        if happening.status is not None and status is None:  # creation
            status = happening.status
            done = status in DONE_STATUSES
            for follower in followers:
                if follower.spec.kind == "status_time":
                    if status == follower.spec.status:
                        follower.start(at, paused=False)
                elif not done:
                    follower.start(at, paused=status in pausing)
            continue
        new = happening.status if happening.status is not None else status
        for follower in followers:
            kind = follower.spec.kind
            if kind == "status_time":
                if status == follower.spec.status and new != status:
                    follower.stop(at)
                elif new == follower.spec.status and new != status:
                    follower.restart(at, paused=False)
                continue
            if responded and kind == "first_response":
                follower.stop(at)
                continue
            if responded and kind == "update" and new not in DONE_STATUSES:
                follower.stop(at)
                follower.start(at, paused=new in pausing)
                continue
            if new != status:
                if new in DONE_STATUSES and status not in DONE_STATUSES:
                    follower.stop(at)
                elif status in DONE_STATUSES and new not in DONE_STATUSES:
                    if kind != "first_response" or follower.current is None:
                        follower.restart(at, paused=new in pausing)
                elif new in pausing and status not in pausing:
                    follower.pause(at)
                elif status in pausing and new not in pausing:
                    follower.resume(at)
        status = new
    result: list[DerivedCycle] = []
    for follower in followers:
        follower.finish()
        result.extend(follower.cycles)
    return result


def counted_until(cycle_consumed: float, segment_start: dt.datetime | None, now: dt.datetime,
                  measure: Measure) -> float:
    """Seconds counted by ``now`` (what remains is the budget minus this)."""
    if segment_start is None or now <= segment_start:
        return cycle_consumed
    return cycle_consumed + measure.elapsed(segment_start, now)
