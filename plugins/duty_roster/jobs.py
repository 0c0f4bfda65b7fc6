"""Periodic work of the duty roster; each job takes ``now`` (``workdesk tick --at`` drives it in tests)."""
from __future__ import annotations

import datetime as dt

from workdesk import PeriodicJob, plugin_settings

from . import services


def report_coverage(now: dt.datetime, since: dt.datetime | None) -> int:
    """Tell department heads about gaps and absent people's shifts in the coming days (once each).

    ``since`` is not needed: the notifications carry keys, so a missed run is simply caught up.
    """
    return services.report_coverage(now, plugin_settings("duty_roster")["coverage_horizon_days"])


JOBS = [PeriodicJob("coverage", report_coverage, every=dt.timedelta(hours=1),
                    description="Tell department heads about uncovered duty in the coming days")]
