"""The one check of a redirect target taken from a request (``?next=``, Flask-Admin's ``?url=``).

A target is read the way a browser would read it, then accepted only as a path on this site: a
browser strips leading and trailing C0 controls and spaces, drops tabs and line breaks anywhere and
reads a backslash as a slash, so ``/%09/evil.example`` and ``/\\evil.example`` both mean
``//evil.example`` — another site. Checking the raw value would let them through.
"""
from __future__ import annotations

from urllib.parse import quote, urlsplit

# Longer targets are not links anyone follows; refusing them keeps headers small.
MAX_TARGET_LENGTH = 2048
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))
_TAB_AND_NEWLINES = str.maketrans("", "", "\t\n\r")
# Characters a path and query keep as they are; anything else (non-ASCII, spaces, quotes) is percent-encoded.
_KEEP = "/?#&=+;:@!$'()*,~-._%[]"


def safe_redirect_target(value: str | None, fallback: str) -> str:
    """``value`` as a same-site path (``/...``, normalised like a browser does), or ``fallback``.

    Refused: anything that is not a path starting with a single ``/`` after normalisation
    (``//host``, ``/\\host``, ``https://host``, ``javascript:``, relative paths), control characters,
    and targets longer than ``MAX_TARGET_LENGTH``.
    """
    if not value or len(value) > MAX_TARGET_LENGTH:
        return fallback
    target = value.strip(_C0_AND_SPACE).translate(_TAB_AND_NEWLINES).replace("\\", "/")
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return fallback
    try:
        parts = urlsplit(target)
    except ValueError:
        return fallback
    if parts.scheme or parts.netloc:
        return fallback
    return quote(target, safe=_KEEP)
