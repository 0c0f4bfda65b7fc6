"""Login rate limiting that holds across processes: failures are rows, not process memory."""
from __future__ import annotations

import datetime as dt

from ..db import utcnow, write_transaction
from .models import LoginFailure

MAX_FAILURES = 10
WINDOW = dt.timedelta(minutes=1)
# Rows older than this are pruned as new failures arrive, so the table stays small.
KEEP = dt.timedelta(hours=1)


def is_locked_out(email: str, address: str, now: dt.datetime | None = None) -> bool:
    """More than MAX_FAILURES failures in the last minute would follow the next one for this email or address."""
    since = (now or utcnow()) - WINDOW
    recent = LoginFailure.select().where(LoginFailure.at > since)
    by_email = recent.where(LoginFailure.email == email).limit(MAX_FAILURES).count()
    if by_email >= MAX_FAILURES:
        return True
    return recent.where(LoginFailure.address == address).limit(MAX_FAILURES).count() >= MAX_FAILURES


def record_failure(email: str, address: str, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    with write_transaction():
        LoginFailure.delete().where(LoginFailure.at < now - KEEP).execute()
        LoginFailure.create(email=email[:254], address=address[:64], at=now)
