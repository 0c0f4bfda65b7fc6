"""A WTForms form generated from a plugin's marshmallow settings schema.

The form renders the inputs and carries the CSRF token; the schema stays the one judge of what is
valid (``workdesk.registry.save_plugin_settings``), and its messages are shown under the fields.
"""
from __future__ import annotations

import json
from typing import Any, Callable

import marshmallow
from marshmallow import fields as mm
from marshmallow import validate as mv
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.widgets import EmailInput, NumberInput, URLInput

from workdesk.secret_settings import SECRET_MASK, is_secret
from workdesk.validation_messages import translate_message

from .base import AdminForm

NUMBER_FIELDS = (mm.Integer, mm.Float, mm.Decimal, mm.Number)
STRUCTURED_FIELDS = (mm.Dict, mm.Nested, mm.Raw)


def _label(name: str, field: mm.Field) -> str:
    return field.metadata.get("title") or name.replace("_", " ").capitalize()


def _one_of(field: mm.Field) -> mv.OneOf | None:
    return next((v for v in field.validators if isinstance(v, mv.OneOf)), None)


def clear_input_name(name: str) -> str:
    """The checkbox beside a secret's input that clears the stored value."""
    return f"{name}__clear"


def _input_for(name: str, field: mm.Field):
    label = _label(name, field)
    description = field.metadata.get("description", "")
    choices = _one_of(field)
    if is_secret(field):
        # A password input never carries the stored value; left empty, the stored value is kept.
        return PasswordField(label, description=description, render_kw={"autocomplete": "new-password"})
    if isinstance(field, mm.Boolean):
        return BooleanField(label, description=description)
    if choices is not None:
        labels = list(choices.labels) if choices.labels else [str(c) for c in choices.choices]
        options = [(str(c), str(lbl)) for c, lbl in zip(choices.choices, labels)]
        if not field.required:
            options = [("", "—")] + options
        return SelectField(label, choices=options, description=description, validate_choice=False)
    if isinstance(field, mm.List):
        return TextAreaField(label, description=description or "One value per line.", render_kw={"rows": 4})
    if isinstance(field, STRUCTURED_FIELDS):
        return TextAreaField(label, description=description or "JSON.", render_kw={"rows": 4})
    if isinstance(field, NUMBER_FIELDS):
        step = "1" if isinstance(field, mm.Integer) else "any"
        return StringField(label, description=description, widget=NumberInput(step=step))
    if isinstance(field, mm.Email):
        return StringField(label, description=description, widget=EmailInput())
    if isinstance(field, mm.Url):
        return StringField(label, description=description, widget=URLInput())
    if isinstance(field, mm.String) and field.metadata.get("multiline"):
        return TextAreaField(label, description=description, render_kw={"rows": 4})
    return StringField(label, description=description)


def settings_fields(schema_class: type[marshmallow.Schema]) -> dict[str, mm.Field]:
    """The schema's fields an admin can set (dump-only fields are computed, not entered)."""
    return {name: field for name, field in schema_class().fields.items() if not field.dump_only}


def settings_form_class(schema_class: type[marshmallow.Schema]) -> type[AdminForm]:
    attrs: dict[str, Any] = {}
    groups: dict[str, Any] = {}  # input name -> the heading of its section (``metadata={"group": ...}``)
    for name, field in settings_fields(schema_class).items():
        attrs[name] = _input_for(name, field)
        if field.metadata.get("group"):
            groups[name] = field.metadata["group"]
        if is_secret(field):
            attrs[clear_input_name(name)] = BooleanField(_l("Clear the stored %(setting)s", setting=_label(name, field)))
            if name in groups:
                groups[clear_input_name(name)] = groups[name]
    attrs["setting_groups"] = groups
    return type(f"{schema_class.__name__}Form", (AdminForm,), attrs)


def mark_stored_secrets(form: AdminForm, schema_class: type[marshmallow.Schema], shown: dict[str, Any]) -> None:
    """Say in each empty secret input whether a value is stored (the value itself is never sent)."""
    for name, field in settings_fields(schema_class).items():
        if is_secret(field):
            stored = shown.get(name) == SECRET_MASK
            getattr(form, name).render_kw = {
                "autocomplete": "new-password",
                "placeholder": _l("Stored; leave empty to keep it") if stored else _l("Not set")}


def form_values(schema_class: type[marshmallow.Schema], settings: dict[str, Any]) -> dict[str, Any]:
    """Current settings as the inputs show them; the schema's defaults where nothing is stored."""
    values: dict[str, Any] = {}
    for name, field in settings_fields(schema_class).items():
        value = settings.get(name, field.load_default)
        if callable(value):
            value = value()
        if value is marshmallow.missing:
            value = None
        if value is None:
            values[name] = False if isinstance(field, mm.Boolean) else ""
        elif isinstance(field, mm.Boolean):
            values[name] = bool(value)
        elif isinstance(field, mm.List):
            values[name] = "\n".join(str(v) for v in value)
        elif isinstance(field, STRUCTURED_FIELDS):
            values[name] = json.dumps(value, indent=2, ensure_ascii=False, default=str)
        elif hasattr(value, "isoformat"):
            values[name] = value.isoformat()
        else:
            values[name] = str(value)
    return values


def submitted_settings(schema_class: type[marshmallow.Schema], form: AdminForm) -> tuple[dict, dict[str, list]]:
    """The form's input as raw data for the schema, plus errors found before the schema is asked
    (text that is not JSON). Empty inputs are left out so that the schema's defaults apply, and an
    empty secret keeps its stored value."""
    data: dict[str, Any] = {}
    errors: dict[str, list] = {}
    for name, field in settings_fields(schema_class).items():
        raw = getattr(form, name).data
        if is_secret(field):
            if getattr(form, clear_input_name(name)).data:
                data[name] = None  # cleared
            elif raw:
                data[name] = raw  # a password is taken as typed, spaces included
            continue  # empty: the stored value is kept
        if isinstance(field, mm.Boolean):
            data[name] = bool(raw)
            continue
        text = (raw or "").strip() if isinstance(raw, str) else raw
        if text in ("", None):
            if field.allow_none and not field.required:
                data[name] = None
            continue  # a required field then gets the schema's own "Missing data" message
        if isinstance(field, mm.List):
            data[name] = [line.strip() for line in text.splitlines() if line.strip()]
        elif isinstance(field, STRUCTURED_FIELDS):
            try:
                data[name] = json.loads(text)
            except ValueError as exc:
                errors[name] = [f"Not valid JSON: {exc.msg} (line {exc.lineno})."]
        else:
            data[name] = text
    return data, errors


def flatten_messages(messages: Any) -> list[str]:
    """marshmallow's nested messages (lists, per-index dicts) as plain sentences."""
    if isinstance(messages, str):
        return [translate_message(messages)]
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            out.extend(f"{'item ' + str(key + 1) if isinstance(key, int) else key}: {m}"
                       for m in flatten_messages(value))
        return out
    out = []
    for item in messages or []:
        out.extend(flatten_messages(item))
    return out


def save_settings_form(form: AdminForm, schema_class: type[marshmallow.Schema],
                       save: Callable[[dict[str, Any]], None]) -> bool:
    """Validate a posted settings form against its schema and hand the values to ``save``. True when
    saved; otherwise every refusal (the form's, the schema's, ``save``'s ValidationError) is put beside
    its field, or above the form when it names none, and False is returned."""
    if not form.validate():
        return False
    data, errors = submitted_settings(schema_class, form)
    if not errors:
        try:
            save(data)
            return True
        except marshmallow.ValidationError as exc:
            errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    for name, messages in errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*list(field.errors or []), *flatten_messages(messages)]
        else:
            form.form_errors.extend(flatten_messages(messages))
    return False
