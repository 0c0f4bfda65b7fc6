"""The periodic job: each minute (and on ``workdesk tick --at``) apply the timeout actions that are due."""
from __future__ import annotations

import datetime as dt

from workdesk import PeriodicJob

from .services import process_timeouts


def timeouts(now: dt.datetime, since: dt.datetime | None) -> dict[str, int]:
    """Every active stage whose deadline passed by ``now`` gets its timeout action, once per round.

    ``since`` is not needed: a stage's action is due from its deadline until it ran, so a tick after
    downtime finds every deadline it missed.
    """
    return process_timeouts(now)


JOBS = [PeriodicJob("timeouts", timeouts, every=dt.timedelta(minutes=1),
                    description="Apply the timeout actions of review stages whose deadline passed")]
