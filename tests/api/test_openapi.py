"""The OpenAPI document and the reference page."""
from __future__ import annotations

import re

from workdesk.api.framework import operation_of
from workdesk.api.openapi import api_rules

CONTRACT = {
    "/api/v1/auth/token": {"post", "delete"},
    "/api/v1/me": {"get"},
    "/api/v1/users": {"get", "post"},
    "/api/v1/users/{user_id}": {"get", "patch"},
    "/api/v1/departments": {"get", "post"},
    "/api/v1/departments/{department_id}": {"get", "patch"},
    "/api/v1/tasks": {"get", "post"},
    "/api/v1/tasks/{task_id}": {"get", "patch", "delete"},
    "/api/v1/tasks/{task_id}/comments": {"get", "post"},
    "/api/v1/tasks/{task_id}/events": {"get"},
    "/api/v1/plugins": {"get"},
    "/api/v1/plugins/{name}": {"patch"},
    "/api/v1/openapi.json": {"get"},
}


def test_document_covers_the_contract(client):
    response = client.get("/api/v1/openapi.json")  # public: no token needed
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.0.3" and spec["info"]["title"] == "Workdesk API"
    for path, methods in CONTRACT.items():
        assert methods <= set(spec["paths"][path]), path
    task = spec["components"]["schemas"]["Task"]
    assert set(task["required"]) >= {"id", "number", "title", "status", "version", "plugins", "watcher_ids"}
    assert task["properties"]["due_at"] == {"type": "string", "format": "date-time", "nullable": True}
    create = spec["components"]["schemas"]["TaskCreate"]
    assert create["additionalProperties"] is False and set(create["required"]) == {"title", "department_id"}
    assert create["properties"]["priority"]["enum"] == ["low", "normal", "high", "urgent"]
    listing = spec["paths"]["/api/v1/tasks"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "assignee", "department", "status", "priority", "type", "impact", "due", "reporter", "q", "sort",
        "department_id", "assignee_id", "reporter_id", "due_before", "overdue", "limit", "cursor"}
    due = next(p for p in listing["parameters"] if p["name"] == "due")
    assert due["schema"]["enum"] == ["overdue", "today", "week", "none"]
    sort = next(p for p in listing["parameters"] if p["name"] == "sort")
    assert sort["schema"]["enum"] == ["due", "-due", "priority", "-priority", "created", "-created",
                                      "updated", "-updated"]
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "default": 50, "minimum": 1, "maximum": 200}
    patch = spec["paths"]["/api/v1/tasks/{task_id}"]["patch"]
    assert {"200", "400", "401", "403", "404", "409", "413", "422"} <= set(patch["responses"])
    assert patch["responses"]["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert patch["parameters"][0] == {"in": "path", "name": "task_id", "required": True,
                                      "schema": {"type": "integer", "minimum": 1, "maximum": 9999999999}}
    assert spec["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    assert "429" in spec["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "A token from POST /api/v1/auth/token."}


def test_plugin_endpoints_appear_while_the_plugin_is_enabled(client, enable_plugin):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/apisample/echo" not in paths
    enable_plugin("apisample")
    spec = client.get("/api/v1/openapi.json").get_json()
    echo = spec["paths"]["/api/v1/apisample/echo"]["post"]
    assert echo["x-workdesk-plugin"] == "apisample" and echo["tags"] == ["apisample"]
    assert echo["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Echo"}
    assert "/api/v1/apisample/tasks/{task_id}/summary" in spec["paths"]


def test_every_api_route_is_documented(workdesk_app):
    undocumented = [f"{sorted(rule.methods - {'HEAD', 'OPTIONS'})} {rule.rule}" for rule, view, _plugin
                    in api_rules(workdesk_app) if operation_of(view) is None]
    assert undocumented == [], "describe these views with workdesk.api.api_operation"


def test_docs_page_renders_the_document_without_external_assets(client, enable_plugin):
    enable_plugin("apisample")
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for path in (*CONTRACT, "/api/v1/apisample/echo"):
        assert path in html
    assert "TaskCreate" in html and "Unknown fields are rejected." in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
