"""The webhooks plugin's periodic work: POST the deliveries whose retry is due."""
from __future__ import annotations

import datetime as dt

from workdesk import PeriodicJob

from .services import deliver_due

JOBS = [PeriodicJob("retry_deliveries", deliver_due, dt.timedelta(minutes=1),
                    "POST the webhook deliveries whose retry after a failure is due")]
