"""The building blocks every JSON endpoint uses, the core's and the plugins' alike.

- :func:`api_blueprint` makes a Blueprint whose views need an authenticated user (bearer token, or
  the web session plus a CSRF header on unsafe methods) and that knows the ``<id:...>`` converter.
- :func:`api_operation` describes a view for the OpenAPI document.
- :func:`load_json` / :func:`load_query` parse and validate input into 400/422 errors.
- :func:`keyset_page` pages a query by its id, at the same cost at any depth.
"""
from __future__ import annotations

import base64
import binascii
import json
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

import marshmallow
import peewee
from flask import Blueprint, current_app, g, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.routing import BaseConverter
from wtforms.validators import ValidationError as CSRFValidationError

from ..access import newest_visible_ids, visibility_conditions
from ..extensions import csrf
from ..auth import current_user
from ..errors import BadRequest, Unauthorized, ValidationFailed
from ..keyset import SortKey, decode_value, encode_value, keyed_ids, merge, rows_in_order
from ..models import User
from ..schemas import MAX_ID
from ..validation_messages import translate_message

MAX_PATH_ID = 9_999_999_999

API_PREFIX = "/api/v1"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SchemaLike = type[marshmallow.Schema] | marshmallow.Schema


class IdConverter(BaseConverter):
    """``<id:name>`` (and ``<int:name>``, which the app maps to it) in a route: a positive whole number of
    at most ten digits; anything else is a 404.

    The bound lives in the pattern rather than in ``to_python``: Werkzeug reports a converter's
    refusal as 405 when another method's rule matched the same path, and any ten-digit number is
    safe to look up on either database (an id beyond the table simply is not found).
    """
    regex = r"[1-9][0-9]{0,9}"
    weight = 50
    part_isolating = True

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(int(value))


# -- describing operations -------------------------------------------------------------------------

@dataclass(frozen=True)
class ApiOperation:
    """What the OpenAPI generator knows about one view (see :func:`api_operation`)."""
    summary: str
    tags: tuple[str, ...] = ()
    request: SchemaLike | None = None
    response: SchemaLike | None = None
    status: int = 200
    query: SchemaLike | Callable[[], SchemaLike] | None = None
    errors: tuple[int, ...] = ()
    public: bool = False
    description: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    files: str | None = None
    form_fields: dict[str, dict] = field(default_factory=dict)
    response_media: str | None = None


def api_operation(summary: str, *, tags: tuple[str, ...] | list[str] = (), request: SchemaLike | None = None,
                  response: SchemaLike | None = None, status: int = 200,
                  query: SchemaLike | Callable[[], SchemaLike] | None = None,
                  errors: tuple[int, ...] | list[int] = (), public: bool = False,
                  headers: dict[str, str] | None = None, files: str | None = None,
                  form_fields: dict[str, dict] | None = None,
                  response_media: str | None = None) -> Callable[[Callable], Callable]:
    """Describe a JSON view for ``GET /api/v1/openapi.json``.

    :param summary: one line shown in the document and on the docs page; the view's docstring
        becomes the longer description.
    :param request: the marshmallow schema of the JSON body (validate it with :func:`load_json`).
    :param response: the schema of the success body; None for an empty body (e.g. 204).
    :param status: the success status code.
    :param query: the schema of the query string (validate it with :func:`load_query`), or a function
        returning it when the parameters change at run time (the task list's plugin filters).
    :param errors: error statuses beyond those every operation documents (400, 401, 403, 404, 422;
        413 with a body) such as 409 or 429.
    :param public: True for the few views that need no authentication (token issue, the document).
    :param headers: response headers of the success answer, ``{name: description}``.
    :param files: the form field of a ``multipart/form-data`` body carrying one or more files (an upload)
        instead of a JSON body.
    :param form_fields: other parts of that multipart body, ``{name: OpenAPI schema}`` (optional ones).
    :param response_media: the media type of a success body that is a file rather than JSON
        (``application/octet-stream``).
    """
    def decorate(view: Callable) -> Callable:
        view.__workdesk_api__ = ApiOperation(
            summary=summary, tags=tuple(tags), request=request, response=response, status=status, query=query,
            errors=tuple(errors), public=public, description=(view.__doc__ or "").strip(),
            headers=dict(headers or {}), files=files, form_fields=dict(form_fields or {}),
            response_media=response_media)
        return view
    return decorate


def operation_of(view: Callable | None) -> ApiOperation | None:
    return getattr(view, "__workdesk_api__", None)


# -- authentication --------------------------------------------------------------------------------

def require_api_user() -> User:
    """The user of this API request, or 401.

    A bearer token wins over the web session. A request authenticated by the session cookie that
    changes something must carry the session's CSRF token in ``X-CSRFToken`` (a cookie alone
    would let any other site make the browser act); bearer requests are immune to that and exempt.
    """
    user = current_user()
    if user is None:
        raise Unauthorized(_("Authentication required: send 'Authorization: Bearer <token>' "
                             "(POST /api/v1/auth/token) or use a logged-in web session."))
    if g.get("auth_method") == "session" and request.method in UNSAFE_METHODS and not g.get("api_csrf_checked"):
        headers = current_app.config.get("WTF_CSRF_HEADERS", ["X-CSRFToken", "X-CSRF-Token"])
        token = next((request.headers[h] for h in headers if request.headers.get(h)), None)
        try:
            validate_csrf(token)
        except CSRFValidationError as exc:
            raise CSRFError(str(exc)) from None
        g.api_csrf_checked = True
    return user


def _authenticate_request() -> None:
    # ``g`` belongs to the app context, which a test (or a worker) may keep open across requests:
    # who is calling is decided afresh for each request.
    for key in ("user", "auth_method", "api_csrf_checked"):
        g.pop(key, None)
    if request.endpoint is None:
        return  # no route matched: the 404/405 answers without asking who is calling
    operation = operation_of(current_app.view_functions.get(request.endpoint))
    if operation is not None and operation.public:
        return
    require_api_user()


def _secure_headers(response):
    # Answers carry tokens and private data: no shared or browser cache keeps them, and browsers
    # never second-guess the JSON content type.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def _install_converters(state) -> None:
    state.app.url_map.converters.setdefault("id", IdConverter)


def api_blueprint(name: str, import_name: str, url_prefix: str | None = None, **kwargs: Any) -> Blueprint:
    """A Blueprint for JSON endpoints, ready for the API's authentication.

    Every view answers 401 unless the caller authenticates (views marked ``public`` by
    :func:`api_operation` excepted); the global form CSRF check is replaced by the API's own
    (session requests need ``X-CSRFToken``, bearer requests are exempt). Routes may use
    ``<id:task_id>`` for row ids. Plugins mount theirs at ``/api/v1/<plugin>``; the OpenAPI document
    lists them while the plugin is enabled.
    """
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix, **kwargs)
    blueprint.record_once(_install_converters)  # before any route is added, so ``<id:...>`` resolves
    csrf.exempt(blueprint)
    blueprint.before_request(_authenticate_request)
    blueprint.after_request(_secure_headers)
    return blueprint


# -- input ----------------------------------------------------------------------------------------

def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def flatten_messages(messages: Any) -> dict[str, list[str]]:
    """marshmallow's nested error messages as ``{"field": [...], "field.0": [...]}``, marshmallow's own
    sentences in the reader's language."""
    out: dict[str, list[str]] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, str(key)))
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item, path)
        else:
            out.setdefault(".".join(path) or "_schema", []).append(translate_message(str(node)))
    walk(messages, ())
    return out


# One instance per schema class, reused by every request: building one deep-copies its declared fields
# (a quarter of a create's cost). Loading keeps no state on the instance. Weak keys let the classes
# built per request (the task-list query) go.
_SCHEMA_INSTANCES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _schema_instance(schema: type[marshmallow.Schema]) -> marshmallow.Schema:
    instance = _SCHEMA_INSTANCES.get(schema)
    if instance is None:
        instance = _SCHEMA_INSTANCES[schema] = schema()
    return instance


def load_data(schema: SchemaLike, data: Any, partial: bool = False, prefix: str = "") -> dict[str, Any]:
    """Validate already-parsed ``data`` with ``schema``; 422 with per-field messages on failure."""
    instance = _schema_instance(schema) if isinstance(schema, type) else schema
    try:
        return instance.load(data, partial=partial)
    except marshmallow.ValidationError as exc:
        messages = {prefix: exc.messages} if prefix else exc.messages
        raise ValidationFailed(_("Some fields are not valid."), flatten_messages(messages)) from None


def load_json(schema: SchemaLike, partial: bool = False) -> dict[str, Any]:
    """The request's JSON object body validated by ``schema``.

    Raises ``BadRequest`` (400) for an empty, malformed or non-object body and ``ValidationFailed``
    (422, per-field messages, unknown fields named) when the schema refuses it. A body beyond the
    size limit is a 413 before anything is parsed.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadRequest(_("The request needs a JSON object as its body."))
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadRequest(_("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise BadRequest(_("The request body must be a JSON object."))
    return load_data(schema, data, partial=partial)


def load_query(schema: SchemaLike) -> dict[str, Any]:
    """The query string validated by ``schema`` (unknown parameters are a 422 too)."""
    return load_data(schema, request.args.to_dict(flat=True))


# -- paging ---------------------------------------------------------------------------------------

def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _sep, value = text.partition(":")
        last_id = int(value)
        if kind != "id" or not 0 < last_id <= MAX_ID + 1:
            raise ValueError(text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(_("Some fields are not valid."),
                               {"cursor": [_("Not a cursor this API handed out.")]}) from None
    return last_id


def keyset_page(query: peewee.ModelSelect, key: peewee.Field, limit: int, cursor: str | None,
                newest_first: bool = True) -> tuple[list, str | None]:
    """One page of ``query`` ordered by the unique ``key`` (an id), after ``cursor``.

    The page starts with ``WHERE key < last`` instead of an OFFSET, so page 1000 costs what page 1
    costs. Returns the rows and the cursor of the next page (None on the last page).
    """
    if cursor:
        last_id = decode_cursor(cursor)
        query = query.where(key < last_id if newest_first else key > last_id)
    rows = list(query.order_by(key.desc() if newest_first else key.asc()).limit(limit + 1))
    next_cursor = encode_cursor(getattr(rows[limit - 1], key.name)) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _encode_sorted_cursor(order_name: str, values: tuple) -> str:
    payload = json.dumps([order_name, *map(encode_value, values)], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode_sorted_cursor(cursor: str, order_name: str, keys: tuple[SortKey, ...]) -> tuple:
    try:
        if len(cursor) > 600:
            raise ValueError("too long")
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not (isinstance(payload, list) and len(payload) == len(keys) + 1 and payload[0] == order_name):
            raise ValueError("not a cursor of this order")
        return tuple(decode_value(raw, key) for raw, key in zip(payload[1:], keys))
    except (ValueError, TypeError, OverflowError, binascii.Error, RecursionError):
        raise ValidationFailed(_("Some fields are not valid."), {"cursor": [
            _("Not a cursor this API handed out for this sort order.")]}) from None


def visible_task_page(user: User, query: peewee.ModelSelect | None, limit: int, cursor: str | None,
                      order: tuple[SortKey, ...] | None = None, order_name: str = "") -> tuple[list, str | None]:
    """A page of the tasks of ``query`` (None: every task) that ``user`` may see, after ``cursor``: newest
    first, or in ``order`` (sort keys ending with the task id, see :mod:`workdesk.keyset`; ``order_name`` is
    written into the cursor so that a cursor of another order is refused).

    One ``WHERE a OR b OR c`` over the visibility rules makes the database gather and sort every
    visible task for each page. Instead each rule (reported, assigned, watched, each department) is
    paged on its own along an index, and the pages merged: a page costs the same with 1k or 100k
    tasks stored. Every task newest first, the list's most asked page, is one statement written once
    (:func:`workdesk.access.newest_visible_ids`).
    """
    from ..models import Task
    if order is None:
        keys: tuple[SortKey, ...] = (SortKey(Task.id, descending=True),)
        position = (decode_cursor(cursor),) if cursor else None
    else:
        keys = order
        position = _decode_sorted_cursor(cursor, order_name, keys) if cursor else None
    if query is None and order is None:
        keyed = [(task_id, (task_id,)) for task_id in newest_visible_ids(user, limit + 1, position and position[0])]
    else:
        query = Task.select() if query is None else query
        conditions = visibility_conditions(user, per_department=True)
        branches = [query] if conditions is None else [query.where(condition) for condition in conditions]
        keyed = merge(keys, *(keyed_ids(branch, keys, limit + 1, position) for branch in branches))[:limit + 1]
    rows = rows_in_order(None, [task_id for task_id, _values in keyed[:limit]])
    if len(keyed) <= limit:
        return rows, None
    last = keyed[limit - 1][1]
    return rows, (encode_cursor(last[0]) if order is None else _encode_sorted_cursor(order_name, last))
