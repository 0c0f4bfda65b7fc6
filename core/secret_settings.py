"""Write-only plugin settings: a settings-schema field declared ``metadata={"secret": True}`` (an SMTP
password, a webhook's signing key) is never shown in clear and is kept when a form is saved without
a new value.

Reading (the API, the admin form) shows a stored secret as :data:`SECRET_MASK` and an unset one as
it is (``""`` or ``null``). Writing takes, for each secret: the mask, ``""`` or no key at all as
"keep the stored value"; ``null`` as "clear it" (back to the field's default); anything else as the
new value. Secrets may sit inside nested settings (a list of endpoints, each with its own key): the
items of a list are matched to the stored ones by the nested field declared ``metadata={"key": True}``
(an endpoint's ``name``), or by position when the item schema declares none.
"""
from __future__ import annotations

from typing import Any

import marshmallow
from marshmallow import fields as mm

SECRET_MASK = "********"


def is_secret(field: mm.Field) -> bool:
    return bool(field.metadata.get("secret"))


def _nested(field: mm.Field) -> tuple[marshmallow.Schema, bool] | None:
    """The item schema of a nested field and whether it holds a list, or None for a plain field."""
    if isinstance(field, mm.List) and isinstance(field.inner, mm.Nested):
        return field.inner.schema, True
    if isinstance(field, mm.Nested) and isinstance(field.schema, marshmallow.Schema):
        return field.schema, bool(field.many)
    return None


def _is_set(value: Any) -> bool:
    return value not in (None, "", [], {})


def mask_secrets(schema: marshmallow.Schema, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` (settings as stored or loaded) with every secret that is set replaced by the mask."""
    masked = dict(values)
    for name, field in schema.fields.items():
        if name not in masked:
            continue
        value = masked[name]
        if is_secret(field):
            masked[name] = SECRET_MASK if _is_set(value) else value
            continue
        nested = _nested(field)
        if nested is not None and value:
            item_schema, many = nested
            if many and isinstance(value, list):
                masked[name] = [mask_secrets(item_schema, item) if isinstance(item, dict) else item for item in value]
            elif not many and isinstance(value, dict):
                masked[name] = mask_secrets(item_schema, value)
    return masked


def _key_field(schema: marshmallow.Schema) -> str | None:
    return next((name for name, field in schema.fields.items() if field.metadata.get("key")), None)


def _stored_item(schema: marshmallow.Schema, item: dict, index: int, stored: list) -> dict:
    key = _key_field(schema)
    if key is None:
        found = stored[index] if index < len(stored) else None
    else:
        found = next((old for old in stored if isinstance(old, dict) and old.get(key) == item.get(key)), None)
    return found if isinstance(found, dict) else {}


def keep_secrets(schema: marshmallow.Schema, incoming: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """The settings to validate and store: ``incoming`` with every secret left empty, masked or out
    taken from ``stored``, and every secret sent as ``null`` cleared (its default applies)."""
    if not isinstance(incoming, dict):
        return incoming
    merged = dict(incoming)
    for name, field in schema.fields.items():
        if is_secret(field):
            value = merged.get(name, SECRET_MASK)
            if value is None and not field.allow_none:
                merged.pop(name)  # cleared: the default applies, or "required" says it must be given
            elif value in (SECRET_MASK, ""):
                if _is_set(stored.get(name)):
                    merged[name] = stored[name]
                else:
                    merged.pop(name, None)  # nothing stored to keep
            continue
        nested = _nested(field)
        if nested is None or name not in merged:
            continue
        item_schema, many = nested
        value, old = merged[name], stored.get(name)
        if many and isinstance(value, list):
            old_items = old if isinstance(old, list) else []
            merged[name] = [keep_secrets(item_schema, item, _stored_item(item_schema, item, index, old_items))
                            if isinstance(item, dict) else item for index, item in enumerate(value)]
        elif not many and isinstance(value, dict):
            merged[name] = keep_secrets(item_schema, value, old if isinstance(old, dict) else {})
    return merged
