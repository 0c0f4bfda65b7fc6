"""The OpenAPI 3 document of every JSON endpoint under /api/v1, core and plugins, built with apispec."""
from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema

from ..registry import __version__, get_registry
from ..schemas import ErrorSchema
from .framework import API_PREFIX, MAX_PATH_ID, ApiOperation, operation_of

OPENAPI_VERSION = "3.0.3"
_ARGUMENT = re.compile(r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\((?P<args>.*?)\))?:)?"
                       r"(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")
_INTEGER_CONVERTERS = {"int", "id"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _path_and_parameters(rule: str) -> tuple[str, list[dict[str, Any]]]:
    parameters = []

    def replace(match: re.Match) -> str:
        name, converter = match.group("name"), match.group("converter") or "string"
        if converter in _INTEGER_CONVERTERS:
            schema: dict[str, Any] = {"type": "integer", "minimum": 1 if converter == "id" else 0}
            if converter == "id":
                schema["maximum"] = MAX_PATH_ID
        else:
            schema = {"type": "string"}
        parameters.append({"in": "path", "name": name, "required": True, "schema": schema})
        return "{" + name + "}"
    return _ARGUMENT.sub(replace, rule), parameters


def _error_response(code: int) -> dict[str, Any]:
    response = {"description": HTTPStatus(code).phrase, "content": {"application/json": {"schema": ErrorSchema}}}
    if code == 429:
        response["headers"] = {"Retry-After": {"description": "Seconds to wait before trying again",
                                               "schema": {"type": "integer"}}}
    return response


def _operation(endpoint: str, method: str, operation: ApiOperation, path_parameters: list,
               plugin: str | None) -> dict[str, Any]:
    success: dict[str, Any] = {"description": HTTPStatus(operation.status).phrase}
    if operation.response is not None:
        success["content"] = {"application/json": {"schema": operation.response}}
    elif operation.response_media:
        success["content"] = {operation.response_media: {"schema": {"type": "string", "format": "binary"}}}
    if operation.headers:
        success["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                              for name, text in operation.headers.items()}
    errors = {400, 404, 422, *operation.errors}
    if not operation.public:
        errors |= {401, 403}
    if operation.request is not None or operation.files:
        errors.add(413)
    doc: dict[str, Any] = {
        "operationId": f"{endpoint}.{method.lower()}",
        "summary": operation.summary,
        "tags": list(operation.tags) or ([plugin] if plugin else []),
        "parameters": list(path_parameters),
        "responses": {str(operation.status): success, **{str(code): _error_response(code) for code in sorted(errors)}},
        "security": [] if operation.public else [{"bearerAuth": []}, {"sessionCookie": []}],
    }
    if operation.description:
        doc["description"] = operation.description
    if operation.query is not None:
        query = operation.query
        if not isinstance(query, Schema) and not (isinstance(query, type) and issubclass(query, Schema)):
            query = query()  # built when the document is: the task list's parameters follow the plugins
        doc["parameters"].append({"in": "query", "schema": query})
    if operation.request is not None:
        body = operation.request
        if not isinstance(body, Schema) and not (isinstance(body, type) and issubclass(body, Schema)):
            body = body()  # built when the document is: the task-filing body follows the plugins' inputs
        doc["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    elif operation.files:
        doc["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": [operation.files],
            "properties": {operation.files: {"type": "array", "items": {"type": "string", "format": "binary"}},
                           **operation.form_fields}}}}}
    if plugin:
        doc["x-workdesk-plugin"] = plugin
    return doc


def api_rules(app: Flask):
    """``(rule, view, plugin name or None)`` for every route under /api/v1, in path order."""
    owners = app.extensions.get("workdesk_blueprint_owner", {})
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.rule == API_PREFIX or rule.rule.startswith(API_PREFIX + "/"):
            blueprint = rule.endpoint.rpartition(".")[0]
            yield rule, app.view_functions[rule.endpoint], owners.get(blueprint)


def build_openapi(app: Flask) -> dict[str, Any]:
    """The document as a dict. Endpoints of a disabled plugin are left out (they answer 404 until enabled)."""
    spec = APISpec(
        title="Workdesk API", version=__version__, openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin()],
        info={"description": "JSON in and out; times are ISO 8601 with offset, stored in UTC. Every error is "
                             "{\"error\": {\"code\", \"message\", \"fields\"}}. Lists are {items, next_cursor}, "
                             "newest first; pass next_cursor as ?cursor= for the next page."},
        servers=[{"url": "/"}],
    )
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                   "description": "A token from POST /api/v1/auth/token."})
    spec.components.security_scheme("sessionCookie", {
        "type": "apiKey", "in": "cookie", "name": app.config.get("SESSION_COOKIE_NAME", "session"),
        "description": "The web session; unsafe methods also need the X-CSRFToken header."})
    registry = get_registry()
    paths: dict[str, dict[str, Any]] = {}
    for rule, view, plugin in api_rules(app):
        operation = operation_of(view)
        if operation is None or (plugin and not registry.is_enabled(plugin)):
            continue
        path, parameters = _path_and_parameters(rule.rule)
        for method in sorted(rule.methods - IGNORED_METHODS):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.endpoint, method, operation, parameters,
                                                                    plugin)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
