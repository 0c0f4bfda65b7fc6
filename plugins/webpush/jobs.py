"""The webpush plugin's periodic work: send the pushes whose retry is due."""
from __future__ import annotations

import datetime as dt

from workdesk import PeriodicJob

from .services import deliver_due

JOBS = [PeriodicJob("retry_deliveries", deliver_due, dt.timedelta(minutes=1),
                    "Send the Web Push messages whose retry after a failure is due")]
