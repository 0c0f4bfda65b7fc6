"""The periodic job: each minute (and on ``workdesk tick --at``) create the tasks that are due."""
from __future__ import annotations

import datetime as dt

from workdesk import PeriodicJob

from .services import materialise_due


def materialise(now: dt.datetime, since: dt.datetime | None) -> dict[str, int]:
    """Settle every rule whose next occurrence is due at ``now``.

    ``since`` is not needed: each rule keeps its own cursor, so missed occurrences are found after any
    downtime and handled by the rule's catch-up policy.
    """
    return materialise_due(now)


JOBS = [PeriodicJob("materialise", materialise, every=dt.timedelta(minutes=1),
                    description="Create the tasks of recurring rules that are due")]
