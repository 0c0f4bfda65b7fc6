"""A notification's words, kept as the message and its values so they are rendered when read.

A caller passes lazy strings to ``notify()`` (``lazy_gettext("%(who)s commented on %(task)s", ...)``,
labels such as ``STATUS_LABELS[key]`` as values, :class:`LocalInstant` for a moment in time). They are
*frozen* here into JSON (the message id, which gettext function, the values, each frozen in turn) and
stored next to the text as it read when stored. Each time the notification is shown or sent it is
*thawed* in its reader's current language and time zone, so a reader who switches from German to
Chinese reads the older notes in Chinese too.

Text that is already a plain string (a task title, a comment, or a sentence a plugin rendered itself)
is kept as it is; a row stored before this existed has no frozen message and shows its stored text.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterable

from babel.dates import format_datetime
from flask_babel import get_locale, gettext, ngettext, npgettext, pgettext
from flask_babel.speaklater import LazyString

# The gettext functions a frozen message may name: only these are ever called when thawing.
_FUNCTIONS = {"gettext": gettext, "ngettext": ngettext, "pgettext": pgettext, "npgettext": npgettext}
_MAX_DEPTH = 8  # a message nested in a message nested in ... (the delegate's "For Ana, who is away: ...")


class LocalInstant:
    """A moment shown in its reader's language and time zone (``format`` is a Babel datetime format
    name: short, medium, long). Pass it as a value of a lazy message given to ``notify()``. "short" is
    the pages' one format (``workdesk.dates.instant_pattern``: the short date with a four-digit year)."""

    def __init__(self, value: dt.datetime, format: str = "short") -> None:
        self.value = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        self.format = format if format in ("short", "medium", "long", "full") else "short"

    def render(self, zone: dt.tzinfo | None) -> str:
        locale = get_locale() or "en"
        pattern = self.format
        if pattern == "short":
            from ..dates import instant_pattern
            pattern = instant_pattern(str(locale))
        return format_datetime(self.value, pattern, tzinfo=zone or dt.timezone.utc, locale=locale)

    def __str__(self) -> str:  # when rendered outside a notification (in the caller's own context)
        from flask_babel import get_timezone
        try:
            zone = get_timezone()
        except RuntimeError:  # no app context
            zone = None
        return self.render(zone)


class MessageLines:
    """Several messages shown one per line (a notice listing several tasks), each rendered when read, in its
    reader's language and zone. Pass it as a notification's ``body``; its items are lazy strings, plain
    text or :class:`LocalInstant` values."""

    def __init__(self, lines: Iterable[Any], separator: str = "\n") -> None:
        self.lines, self.separator = list(lines), separator

    def __str__(self) -> str:  # when rendered outside a notification (in the caller's own context)
        return self.separator.join(str(line) for line in self.lines)


class Unfreezable(Exception):
    """The value holds something that cannot be rendered again later (stored as text instead)."""


def freeze(value: Any, depth: int = 0) -> Any:
    """A JSON-able form of ``value`` that :func:`thaw` renders again in any language."""
    if depth > _MAX_DEPTH:
        raise Unfreezable("nested too deep")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, LocalInstant):
        return {"$instant": value.value.isoformat(), "format": value.format}
    if isinstance(value, MessageLines):
        return {"$lines": [freeze(line, depth + 1) for line in value.lines], "separator": value.separator}
    if isinstance(value, LazyString):
        name = getattr(value._func, "__name__", "")
        if _FUNCTIONS.get(name) is not value._func and not _default_domain_method(value._func, name):
            raise Unfreezable(f"lazy string of {value._func!r}")
        return {"$call": name, "args": [freeze(a, depth + 1) for a in value._args],
                "kwargs": {str(k): freeze(v, depth + 1) for k, v in value._kwargs.items()}}
    if isinstance(value, str):
        return str(value)  # a Markup becomes plain text: the inbox escapes it when shown
    if isinstance(value, dt.datetime):
        return freeze(LocalInstant(value), depth)
    return str(value)  # a date, a Decimal, ...: as it reads now


def _default_domain_method(func: Any, name: str) -> bool:
    """``Domain().lazy_gettext`` of the default ``messages`` domain: the catalogs every reader shares."""
    from flask_babel import Domain
    owner = getattr(func, "__self__", None)
    return name in _FUNCTIONS and isinstance(owner, Domain) and list(owner.domain) == ["messages"]


def thaw(frozen: Any, zone: dt.tzinfo | None, depth: int = 0) -> Any:
    """Render a frozen value in the current locale; ``zone`` is the reader's time zone."""
    if isinstance(frozen, dict) and depth <= _MAX_DEPTH:
        if "$instant" in frozen:
            return LocalInstant(dt.datetime.fromisoformat(frozen["$instant"]), frozen.get("format", "short")).render(zone)
        if "$lines" in frozen:
            return str(frozen.get("separator", "\n")).join(str(thaw(line, zone, depth + 1)) for line in frozen["$lines"])
        function = _FUNCTIONS.get(frozen.get("$call"))
        if function is not None:
            args = [thaw(a, zone, depth + 1) for a in frozen.get("args", [])]
            kwargs = {k: thaw(v, zone, depth + 1) for k, v in frozen.get("kwargs", {}).items()}
            return function(*args, **kwargs)
    if isinstance(frozen, (str, int, float, bool)) or frozen is None:
        return frozen
    raise ValueError(f"not a frozen message: {frozen!r}")


def freeze_parts(**parts: Any) -> str | None:
    """JSON holding each of ``parts`` frozen; None when nothing in them would read differently later
    (plain strings only) or when one cannot be frozen: the stored text is then all there is."""
    frozen = {}
    for name, value in parts.items():
        try:
            frozen[name] = freeze(value)
        except Unfreezable:
            continue
    if all(isinstance(v, (str, type(None))) for v in frozen.values()):
        return None
    return json.dumps(frozen, ensure_ascii=False, separators=(",", ":"))


def thaw_part(message: str | None, name: str, zone: dt.tzinfo | None) -> str | None:
    """The part ``name`` of a stored message rendered now; None when it was not frozen (or is unreadable)."""
    if not message:
        return None
    try:
        frozen = json.loads(message)
        if not isinstance(frozen, dict) or name not in frozen:
            return None
        text = thaw(frozen[name], zone)
    except (ValueError, TypeError, KeyError, IndexError):  # a catalog's placeholders that no longer fit
        return None
    return None if text is None else str(text)


__all__ = ["LocalInstant", "MessageLines", "freeze", "thaw", "freeze_parts", "thaw_part"]
