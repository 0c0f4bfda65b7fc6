"""Signed, expiring tokens for links sent to people (a rating link in a notification), with the
instance's ``secret_key``: the same in the web app and on workers, which have no Flask app.

A token proves that this instance made it and when; that it works once is up to the caller (keep
what was done with it, keyed by something inside it).
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_secret: str | None = None


class LinkExpired(Exception):
    """The token is genuine but older than ``max_age``."""


class LinkInvalid(Exception):
    """The token was not made by this instance (or with this purpose), or was altered."""


def configure(settings: dict) -> None:
    """Called by ``init_runtime`` with the settings, so workers sign with the web app's key."""
    global _secret
    _secret = settings["secret_key"]


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if _secret is None:
        raise RuntimeError("workdesk.signing is not configured: init_runtime() sets the secret key")
    return URLSafeTimedSerializer(_secret, salt=f"workdesk.{purpose}")


def sign(purpose: str, payload: Any) -> str:
    """A URL-safe token carrying ``payload`` (JSON-serialisable) for ``purpose`` (e.g. ``reports.rating``)."""
    return _serializer(purpose).dumps(payload)


def unsign(purpose: str, token: str, max_age_seconds: int) -> Any:
    """The payload of a token made by :func:`sign` for ``purpose`` at most ``max_age_seconds`` ago.

    :raises LinkExpired: genuine but too old.
    :raises LinkInvalid: anything else (altered, another purpose, another instance's key, not a token).
    """
    try:
        return _serializer(purpose).loads(token, max_age=max_age_seconds)
    except SignatureExpired:
        raise LinkExpired() from None
    except (BadSignature, UnicodeError, ValueError):
        raise LinkInvalid() from None


def digest(purpose: str, text: str) -> str:
    """The hex HMAC-SHA256 of ``text`` for ``purpose`` with the instance's key: for short codes that must
    survive where a token of :func:`sign` would not (e-mail addresses, whose case a mail server may
    fold). Compare with ``hmac.compare_digest``."""
    if _secret is None:
        raise RuntimeError("workdesk.signing is not configured: init_runtime() sets the secret key")
    return hmac.new(_secret.encode(), f"workdesk.{purpose}\0{text}".encode(), hashlib.sha256).hexdigest()


__all__ = ["sign", "unsign", "digest", "LinkExpired", "LinkInvalid", "configure"]
