"""One throttle for every place a password is presented: the login page, ``POST /api/v1/auth/token``,
the password change, and any plugin that checks a password (through ``workdesk.authenticate`` or
``workdesk.check_current_password``, which call it).

Failures are rows, not process memory, so the count holds across processes and restarts. After
``MAX_FAILURES`` wrong passwords within ``WINDOW`` for one email or from one client address, the next
attempt is refused, the right password included, until the oldest of those failures leaves the
window; the refusal says how many seconds that is (``Retry-After``).
"""
from __future__ import annotations

import datetime as dt
import math

from flask import has_request_context, request
from flask_babel import ngettext

from .db import utcnow, write_transaction
from .errors import TooManyRequests
from .models import LoginFailure

MAX_FAILURES = 10
WINDOW = dt.timedelta(minutes=1)
# Rows older than this are pruned as new failures arrive, so the table stays small.
KEEP = dt.timedelta(hours=1)


class PasswordThrottled(TooManyRequests):
    """Too many wrong passwords: 429 with ``Retry-After: <retry_after>`` seconds."""


def client_address() -> str:
    """The address failures are counted under: the request's client, or ``local`` outside a request."""
    return (request.remote_addr if has_request_context() else None) or "local"


def retry_after(email: str, address: str | None = None, now: dt.datetime | None = None) -> int:
    """Seconds until a password may be tried again for ``email`` (normalised) from ``address``; 0 = now."""
    now = now or utcnow()
    address = (address or client_address())[:64]
    wait = 0
    for who in (LoginFailure.email == email[:254], LoginFailure.address == address):
        # The MAX_FAILURES-th most recent failure in the window: while it is in, the limit is reached.
        limiting = (LoginFailure.select(LoginFailure.at).where(who & (LoginFailure.at > now - WINDOW))
                    .order_by(LoginFailure.at.desc()).offset(MAX_FAILURES - 1).limit(1).first())
        if limiting is not None:
            wait = max(wait, math.ceil((limiting.at + WINDOW - now).total_seconds()), 1)
    return wait


def check(email: str, address: str | None = None, now: dt.datetime | None = None) -> None:
    """Raise :class:`PasswordThrottled` when no password may be tried now for ``email`` from ``address``."""
    wait = retry_after(email, address, now)
    if wait:
        raise PasswordThrottled(ngettext("Too many wrong passwords. Try again in %(num)d second.",
                                         "Too many wrong passwords. Try again in %(num)d seconds.", wait),
                                retry_after=wait)


def record_failure(email: str, address: str | None = None, now: dt.datetime | None = None) -> None:
    """Count one wrong password for ``email`` (normalised) from ``address``."""
    now = now or utcnow()
    with write_transaction():
        LoginFailure.delete().where(LoginFailure.at < now - KEEP).execute()
        LoginFailure.create(email=email[:254], address=(address or client_address())[:64], at=now)
