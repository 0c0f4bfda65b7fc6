"""Marshmallow schemas of the JSON API: what requests may carry and what responses look like.

Request schemas reject unknown fields (marshmallow's default ``RAISE``) and every value the database
could not store (NUL characters, lone surrogates, over-long strings, ids beyond the integer
columns), so bad input is a 422 that names the field, never a 500. Response schemas document the
representations built in :mod:`workdesk.api.representation`; the OpenAPI document is generated from
both.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any
from zoneinfo import available_timezones

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

from .models import PRIORITIES, STATUSES

MAX_ID = 2**31 - 1  # the integer primary keys of PostgreSQL (int4) and the URL converter agree on this
MAX_JSON_DEPTH = 20


_ASCII_ID = re.compile(r"[0-9]{1,10}")


def parse_id(raw: Any) -> int | None:
    """A row id from a query string, a form or a URL (ASCII digits only, so "²" or "١" never reach ``int()``),
    or None when ``raw`` is not one: empty, signed, not a whole number, 0, or beyond :data:`MAX_ID`."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and _ASCII_ID.fullmatch(raw):
        value = int(raw)
    else:
        return None
    return value if 1 <= value <= MAX_ID else None


def text_problem(value: str) -> str | None:
    """Why the database could not store ``value`` (a NUL character, an unpaired surrogate), or None."""
    if "\x00" in value:
        return "Must not contain NUL characters."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text."
    return None


def _check_storable_text(value: str) -> None:
    problem = text_problem(value)
    if problem:
        raise ValidationError(problem)


# zoneinfo also accepts names nothing else can render: "Factory" and "localtime" (Babel, and so every
# page, cannot name them), and the posix/ and right/ copies of the database (right/ zones count leap
# seconds, which no clock here does).
_UNRENDERABLE_ZONES = frozenset({"Factory", "localtime"})


@functools.cache
def renderable_zones() -> frozenset[str]:
    """The IANA time zones people can choose: zoneinfo's list without the ones pages cannot show."""
    return frozenset(zone for zone in available_timezones()
                     if zone not in _UNRENDERABLE_ZONES and not zone.startswith(("posix/", "right/")))


def is_renderable_zone(name: Any) -> bool:
    return isinstance(name, str) and name in renderable_zones()


def utc_instant(value: dt.datetime) -> dt.datetime | None:
    """``value`` (aware) in UTC, or None when UTC cannot hold it (``9999-12-31T23:59-14:00``)."""
    try:
        return value.astimezone(dt.timezone.utc)
    except OverflowError:
        return None


class Text(fields.String):
    """A string the database can store; ``max_length`` bounds it."""

    def __init__(self, *, max_length: int | None = None, min_length: int | None = None, **kwargs: Any):
        validators = list(kwargs.pop("validate", None) or [])
        if max_length is not None or min_length is not None:
            validators.append(validate.Length(min=min_length, max=max_length))
        super().__init__(validate=validators, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        _check_storable_text(text)
        return text


class Zone(Text):
    """An IANA time zone name that pages can render (see :func:`renderable_zones`)."""

    def __init__(self, **kwargs: Any):
        super().__init__(max_length=64, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        name = super()._deserialize(value, attr, data, **kwargs)
        if not is_renderable_zone(name):
            raise ValidationError("Not an IANA time zone (e.g. Europe/Sofia).")
        return name


class Id(fields.Integer):
    """A row id: a whole number from 1 to 2**31-1 (JSON numbers only in bodies)."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("strict", True)
        super().__init__(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON ``true``/``false`` only (no "yes", 1 or "on" in bodies)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def _check_json_value(value: Any, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise ValidationError(f"Nested deeper than {MAX_JSON_DEPTH} levels.")
    if isinstance(value, str):
        _check_storable_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable_text(key)
            _check_json_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json_value(item, depth + 1)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63 - 1:
        raise ValidationError("Numbers must fit in 64 bits.")


class JsonObject(fields.Dict):
    """A free-form JSON object (a task's custom ``fields``, plugin settings)."""

    def _deserialize(self, value, attr, data, **kwargs):
        loaded = super()._deserialize(value, attr, data, **kwargs)
        _check_json_value(loaded)
        return loaded


class Instant(fields.AwareDateTime):
    """An ISO 8601 instant (a time without an offset is taken as UTC) that is storable: still within the
    years 1 to 9999 once converted to UTC (``9999-12-31T23:00-05:00`` is not)."""

    def _deserialize(self, value, attr, data, **kwargs):
        instant = super()._deserialize(value, attr, data, **kwargs)
        if utc_instant(instant) is None:
            raise ValidationError("Lies beyond the years 1 to 9999 in UTC.")
        return instant


def _aware(**kwargs: Any) -> Instant:
    return Instant(default_timezone=dt.timezone.utc, **kwargs)


# -- errors ---------------------------------------------------------------------------------------

class ErrorBodySchema(Schema):
    class Meta:
        unknown = INCLUDE  # some errors add details: current_version, plugin, reason, allowed, permission

    code = fields.String(required=True, metadata={"description": "Stable machine-readable code."})
    message = fields.String(required=True, metadata={"description": "Human-readable, translated."})
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True,
                         metadata={"description": "Per-field messages (422)."})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


# -- auth -----------------------------------------------------------------------------------------

class TokenRequestSchema(Schema):
    email = Text(required=True, max_length=254)
    password = Text(required=True, max_length=1024, load_only=True)


class AbsenceBriefSchema(Schema):
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True, metadata={"description": "Away until this instant."})
    delegate_id = fields.Integer(required=True, allow_none=True, metadata={"description": "Who stands in."})


class UserSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    department_ids = fields.List(fields.Integer(), required=True)
    skills = fields.List(fields.String(), required=True)
    timezone = fields.String(required=True)
    is_active = fields.Boolean(required=True)
    absence = fields.Nested(AbsenceBriefSchema, required=True, allow_none=True,
                            metadata={"description": "The absence the user is in now, or null."})


class MeSchema(UserSchema):
    permissions = fields.List(fields.String(), required=True,
                              metadata={"description": "Permission strings of the user's role ('*' is all)."})


class TokenResponseSchema(Schema):
    token = fields.String(required=True, metadata={"description": "Shown once; send as 'Authorization: Bearer'."})
    user = fields.Nested(UserSchema, required=True)


# -- paging ---------------------------------------------------------------------------------------

class PageQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = Text(max_length=200, metadata={"description": "next_cursor of the previous page."})


def page_schema(name: str, item_schema: type[Schema]) -> type[Schema]:
    """A ``{items, next_cursor}`` page of ``item_schema`` (plugins use it for their own lists too)."""
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next_cursor": fields.String(required=True, allow_none=True,
                                     metadata={"description": "Pass as ?cursor= for the next page; null on the last."}),
    }, name=name)


# -- users ----------------------------------------------------------------------------------------

class UserCreateSchema(Schema):
    email = Text(required=True, max_length=254)
    name = Text(required=True, max_length=200)
    password = Text(required=True, max_length=1024, load_only=True)
    role = Text(max_length=64)
    department_ids = fields.List(Id())
    skills = fields.List(Text(max_length=100))
    timezone = Zone()


class UserUpdateSchema(UserCreateSchema):
    email = Text(max_length=254)
    name = Text(max_length=200)
    password = Text(max_length=1024, load_only=True)
    is_active = StrictBoolean()


UserPageSchema = page_schema("UserPage", UserSchema)


# -- departments ----------------------------------------------------------------------------------

class DepartmentSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    parent_id = fields.Integer(required=True, allow_none=True)
    head_id = fields.Integer(required=True, allow_none=True)
    calendar_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The working calendar; null: its parent's (the nearest ancestor's that has one)"})


class DepartmentCreateSchema(Schema):
    name = Text(required=True, max_length=200)
    parent_id = Id(allow_none=True)
    head_id = Id(allow_none=True)
    calendar_id = Id(allow_none=True)


class DepartmentUpdateSchema(DepartmentCreateSchema):
    name = Text(max_length=200)


DepartmentPageSchema = page_schema("DepartmentPage", DepartmentSchema)


# -- tasks ----------------------------------------------------------------------------------------

class TaskSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))
    type = fields.String(required=True)
    impact = fields.String(required=True)
    department_id = fields.Integer(required=True)
    reporter_id = fields.Integer(required=True)
    assignee_id = fields.Integer(required=True, allow_none=True)
    watcher_ids = fields.List(fields.Integer(), required=True)
    parent_id = fields.Integer(required=True, allow_none=True)
    due_at = fields.DateTime(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    resolved_at = fields.DateTime(required=True, allow_none=True)
    closed_at = fields.DateTime(required=True, allow_none=True)
    version = fields.Integer(required=True,
                             metadata={"description": "Send back (body or If-Match) to detect lost updates."})
    plugins = fields.Dict(required=True,
                          metadata={"description": "What enabled plugins add, under each plugin's name."})
    # Last: from here on ``fields`` in this class body names the attribute, not marshmallow.fields.
    fields = fields.Dict(required=True, metadata={"description": "Custom fields (free-form JSON object)."})


class TaskCreateSchema(Schema):
    title = Text(required=True, min_length=1, max_length=200)
    description = Text()
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    department_id = Id(required=True)
    assignee_id = Id(allow_none=True)
    due_at = _aware(allow_none=True)
    type = Text(max_length=64)
    impact = Text(max_length=64)
    watcher_ids = fields.List(Id())
    parent_id = Id(allow_none=True)
    fields = JsonObject(keys=fields.String())  # last, see TaskSchema


class TaskUpdateSchema(TaskCreateSchema):
    title = Text(min_length=1, max_length=200)
    department_id = Id()
    status = fields.String(validate=validate.OneOf(STATUSES))
    version = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID),
                             metadata={"description": "The version you read; a newer stored version is a 409."})


TaskPageSchema = page_schema("TaskPage", TaskSchema)


class CommentSchema(Schema):
    id = fields.Integer(required=True)
    task_id = fields.Integer(required=True)
    author_id = fields.Integer(required=True)
    body = fields.String(required=True, metadata={"description": "Markdown"})
    internal = fields.Boolean(required=True, metadata={
        "description": "An internal note: listed only to people who work tasks, never to requesters."})
    created_at = fields.DateTime(required=True)
    edited_at = fields.DateTime(required=True, allow_none=True)
    attachment_ids = fields.List(fields.Integer(), required=True)


class CommentCreateSchema(Schema):
    body = Text(required=True, min_length=1, max_length=20000, metadata={"description": "Markdown"})
    internal = StrictBoolean(load_default=False, metadata={
        "description": "An internal note (only people who work tasks may write and read one)."})


class CommentUpdateSchema(Schema):
    body = Text(required=True, min_length=1, max_length=20000, metadata={"description": "Markdown"})


class CommentRevisionSchema(Schema):
    body = fields.String(required=True)
    written_at = fields.DateTime(required=True)
    replaced_at = fields.DateTime(required=True)
    editor_id = fields.Integer(required=True, allow_none=True)


class CommentRevisionListSchema(Schema):
    items = fields.List(fields.Nested(CommentRevisionSchema), required=True)


class AttachmentSchema(Schema):
    id = fields.Integer(required=True)
    task_id = fields.Integer(required=True)
    comment_id = fields.Integer(required=True, allow_none=True)
    uploader_id = fields.Integer(required=True, allow_none=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True, metadata={"description": "Sniffed from the bytes on upload"})
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    has_thumbnail = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    content_url = fields.String(required=True)


class AttachmentListSchema(Schema):
    items = fields.List(fields.Nested(AttachmentSchema), required=True)


CommentPageSchema = page_schema("CommentPage", CommentSchema)


class ConfirmResolutionSchema(Schema):
    version = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID),
                             metadata={"description": "The version you read; a newer stored version is a 409."})


class ReopenSchema(ConfirmResolutionSchema):
    reason = Text(required=True, min_length=1, max_length=2000,
                  metadata={"description": "Why the task is not done; kept in the audit trail."})


class TaskEventSchema(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    actor_id = fields.Integer(required=True, allow_none=True)
    kind = fields.String(required=True)
    changes = fields.Dict(keys=fields.String(), values=fields.List(fields.Raw(allow_none=True)), required=True,
                          metadata={"description": "{field: [old, new]}"})


TaskEventPageSchema = page_schema("TaskEventPage", TaskEventSchema)


# -- absences -------------------------------------------------------------------------------------

class AbsenceSchema(Schema):
    id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True, metadata={"description": "The first instant the person is back."})
    delegate_id = fields.Integer(required=True, allow_none=True)
    note = fields.String(required=True)
    created_by_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class AbsenceCreateSchema(Schema):
    user_id = Id(metadata={"description": "Who is away; default: you."})
    starts_at = _aware(required=True)
    ends_at = _aware(required=True, metadata={"description": "After starts_at."})
    delegate_id = Id(allow_none=True, metadata={"description": "An active user, not the person who is away."})
    note = Text(max_length=500)


class AbsenceUpdateSchema(Schema):
    starts_at = _aware()
    ends_at = _aware()
    delegate_id = Id(allow_none=True)
    note = Text(max_length=500)


class AbsenceQuerySchema(PageQuerySchema):
    user_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID),
                             metadata={"description": "Whose absences; default: yours."})
    include_past = fields.Boolean(load_default=False, metadata={"description": "Also those already over."})


AbsencePageSchema = page_schema("AbsencePage", AbsenceSchema)


# -- saved views ----------------------------------------------------------------------------------

class ViewParams(fields.Dict):
    """A saved view's filters and sort: ``{parameter: text}`` as ``GET /tasks`` takes them."""

    def __init__(self, **kwargs: Any):
        super().__init__(keys=Text(max_length=40), values=fields.Raw(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        loaded = super()._deserialize(value, attr, data, **kwargs)
        _check_json_value(loaded)
        return loaded


class SavedViewSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    params = fields.Dict(keys=fields.String(), values=fields.String(), required=True, metadata={
        "description": "Filters and sort, as GET /api/v1/tasks takes them."})
    department_id = fields.Integer(required=True, allow_none=True,
                                   metadata={"description": "Shared with this department's members; null: personal."})
    owner_id = fields.Integer(required=True)
    count = fields.Integer(required=True, metadata={"description": "How many tasks you may see the view holds."})
    left_out = fields.List(fields.String(), required=True, metadata={
        "description": "Stored filters not applied now (their plugin is disabled or gone)."})
    can_change = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class SavedViewCreateSchema(Schema):
    name = Text(required=True, min_length=1, max_length=100)
    params = ViewParams(load_default=dict)
    department_id = Id(allow_none=True, metadata={"description": "Share with this department (null: personal)."})


class SavedViewUpdateSchema(SavedViewCreateSchema):
    name = Text(min_length=1, max_length=100)
    params = ViewParams()


SavedViewPageSchema = page_schema("SavedViewPage", SavedViewSchema)


# -- plugins --------------------------------------------------------------------------------------

class PluginSchema(Schema):
    name = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    version = fields.String(required=True, allow_none=True)
    enabled = fields.Boolean(required=True)
    usable = fields.Boolean(required=True, metadata={"description": "Loaded and compatible with this Workdesk."})
    error = fields.String(required=True, allow_none=True)
    settings = fields.Dict(required=True, metadata={
        "description": 'Secret settings (passwords, signing keys) read as "********" when set, "" or null when not.'})


class PluginListSchema(Schema):
    items = fields.List(fields.Nested(PluginSchema), required=True)


class PluginUpdateSchema(Schema):
    enabled = StrictBoolean()
    settings = JsonObject(keys=fields.String(), metadata={
        "description": 'All settings at once. A secret left out, empty or "********" keeps its stored value; '
                       'null clears it; any other value replaces it.'})
