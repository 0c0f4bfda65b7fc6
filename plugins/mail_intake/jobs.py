"""The periodic job: each minute (and on ``workdesk tick --at``) take in what arrived in every mailbox."""
from __future__ import annotations

import datetime as dt

from workdesk import PeriodicJob

from .services import take_in_all


def fetch(now: dt.datetime, since: dt.datetime | None) -> dict[str, int]:
    """Read every enabled mailbox as of ``now``. ``since`` is not needed: each mailbox keeps its own
    cursor (UIDVALIDITY and last UID), so nothing is missed after downtime."""
    return take_in_all(now)


JOBS = [PeriodicJob("fetch", fetch, every=dt.timedelta(minutes=1),
                    description="Turn new mail in the configured mailboxes into tasks and comments")]
