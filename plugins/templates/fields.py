"""Typed custom fields: the one check of a value against its definition, used by every path that
changes a task (the API, the pages, the admin panel, recurring rules) through ``validate_task_change``."""
from __future__ import annotations

import datetime as dt
import math
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _

from workdesk import User

from .models import FieldDefinition

MAX_TEXT = 500
MAX_LONG_TEXT = 20000
# Keys of a task's ``fields`` the plugin itself uses: never a custom field's key.
RESERVED_KEYS = ("template_id", "urgency", "priority_override")


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def problem(definition: FieldDefinition, value: Any) -> str | None:
    """What is wrong with ``value`` for this field (a message naming the rule), or None. Empty values are
    the caller's business (required or not)."""
    kind = definition.type
    if kind in ("text", "long_text"):
        limit = MAX_TEXT if kind == "text" else MAX_LONG_TEXT
        if not isinstance(value, str) or len(value) > limit or "\x00" in value:
            return _("Must be text of at most %(max)s characters.", max=limit)
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or abs(value) > 1e15:
            return _("Must be a number.")
    elif kind == "date":
        try:
            dt.date.fromisoformat(value if isinstance(value, str) and len(value) == 10 else "")
        except ValueError:
            return _("Must be a date written YYYY-MM-DD.")
    elif kind == "choice":
        options = list(definition.options or [])
        if definition.multiple:
            if not isinstance(value, list) or not all(isinstance(v, str) and v in options for v in value) \
                    or len(set(value)) != len(value):
                return _("Must be a list of different values from: %(choices)s.", choices=", ".join(options))
        elif not isinstance(value, str) or value not in options:
            return _("Must be one of: %(choices)s.", choices=", ".join(options))
    elif kind == "person":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2 ** 31 \
                or not User.select().where((User.id == value) & (User.is_active == True)).exists():  # noqa: E712
            return _("Must be the id of an active person.")
    elif kind == "url":
        parts = urlsplit(value) if isinstance(value, str) and len(value) <= 2000 else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
            return _("Must be an http or https address.")
    return None


def field_errors(values: dict[str, Any], definitions: list[FieldDefinition],
                 required_keys: set[str]) -> dict[str, list[str]]:
    """``{"fields.<key>": [message]}`` for every value that breaks its definition and every required field left empty."""
    errors: dict[str, list[str]] = {}
    for definition in definitions:
        value = values.get(definition.key)
        if is_empty(value):
            if definition.key in required_keys:
                errors[f"fields.{definition.key}"] = [_("This field is required.")]
            continue
        message = problem(definition, value)
        if message:
            errors[f"fields.{definition.key}"] = [message]
    return errors


def from_form(definition: FieldDefinition, raw: Any) -> Any:
    """A value typed into a page's form, as the task stores it (text the check then judges)."""
    if definition.type == "choice" and definition.multiple:
        return [v for v in (raw or []) if v]
    raw = (raw or "").strip() if isinstance(raw, str) else raw
    if raw in ("", None):
        return None
    if definition.type == "number":
        try:
            number = float(raw.replace(",", "."))
        except (ValueError, AttributeError):
            return raw  # refused by the check, with its message
        return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number
    if definition.type == "person":
        try:
            return int(raw)
        except ValueError:
            return raw
    return raw


def display(definition: FieldDefinition, value: Any, people: dict[int, str]) -> str:
    """A stored value as the task page shows it."""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if definition.type == "person" and isinstance(value, int):
        return people.get(value, "?")
    return "" if value is None else str(value)
