"""The periodic job: each minute (and on ``workdesk tick --at``) recompute what a change asked for, then
scan for due steps and send the messages."""
from __future__ import annotations

import datetime as dt

from workdesk import PeriodicJob

from .recompute import notice_calendar_changes, work
from .scan import scan as scan_clocks


def scan(now: dt.datetime, since: dt.datetime | None) -> dict[str, int]:
    """``since`` is not needed: a step is due from its instant until it fired (the cycle's ``next_step``),
    so a scan after downtime finds everything it missed, and a replayed instant repeats nothing."""
    notice_calendar_changes()
    recomputed = 0
    while True:  # a recompute goes first: the scan must see the clocks as the new rules have them
        worked = work()
        recomputed += worked
        if not worked:
            break
    return {**scan_clocks(now), "recomputed": recomputed}


JOBS = [PeriodicJob("scan", scan, every=dt.timedelta(minutes=1),
                    description="Fire SLA warnings, breaches and escalation levels that are due; due-date reminders")]
