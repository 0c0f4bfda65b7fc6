"""Periodic work of the duty roster; each job takes ``now`` (``workdesk tick --at`` drives it in tests)."""
from __future__ import annotations

import datetime as dt

from workdesk import PeriodicJob, plugin_settings

from . import handover, services, swaps


def report_coverage(now: dt.datetime, since: dt.datetime | None) -> int:
    """Tell department heads about gaps and absent people's shifts in the coming days (once each).

    ``since`` is not needed: the notifications carry keys, so a missed run is simply caught up.
    """
    return services.report_coverage(now, plugin_settings("duty_roster")["coverage_horizon_days"])


def handovers(now: dt.datetime, since: dt.datetime | None) -> dict[str, int]:
    """Open the hand-over records of shifts that ended, and flag those late (missing or unacknowledged).

    Shifts that ended up to a day before ``now`` are looked at each run, so a missed run is caught up.
    """
    settings = plugin_settings("duty_roster")
    return {"opened": handover.open_handovers(now, settings["handover_due_minutes"]),
            "flagged": handover.flag_late_handovers(now, settings["handover_ack_minutes"])}


def reminders(now: dt.datetime, since: dt.datetime | None) -> int:
    """Remind people whose duty begins within ``reminder_minutes`` (once per shift, by notification key)."""
    return handover.send_reminders(now, plugin_settings("duty_roster")["reminder_minutes"])


def expire_swaps(now: dt.datetime, since: dt.datetime | None) -> int:
    """Mark swap requests past their expiry as expired (whenever the job runs, all of them)."""
    return swaps.expire_swaps(now)


JOBS = [PeriodicJob("coverage", report_coverage, every=dt.timedelta(hours=1),
                    description="Tell department heads about uncovered duty in the coming days"),
        PeriodicJob("handovers", handovers, every=dt.timedelta(minutes=5),
                    description="Open hand-overs of ended shifts and flag late ones"),
        PeriodicJob("reminders", reminders, every=dt.timedelta(minutes=5),
                    description="Remind people before their duty begins"),
        PeriodicJob("swaps", expire_swaps, every=dt.timedelta(minutes=5),
                    description="Expire unanswered swap requests")]
