"""Property-based fuzzing of the whole API from its own OpenAPI document.

With every installed plugin enabled, Hypothesis draws an operation from ``/api/v1/openapi.json``,
fills its path, query and body from the document's schemas (mostly well-formed values, sometimes
anything JSON can hold), sends it as one of several users, and checks that the answer is never a 500, that its status is one the document
lists for that operation, and that its body matches the documented schema.
"""
from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from workdesk.auth import issue_token
from workdesk.models import User
from workdesk.registry import get_registry, plugin_settings
from workdesk.schemas import MAX_ID

# Values that once answered 500 (#11 item 14): integers beyond 64 bits, Unicode digits, NUL, unpaired
# surrogates, zones zoneinfo loads but nothing renders, instants UTC cannot hold.
HOSTILE_STRINGS = st.sampled_from(["\ud800", "x\udfff", "a\x00b", "\x00", "²", "١٢", "99999999999999999999",
                                   "9223372036854775808", "Factory", "localtime", "posix/Europe/Berlin", "right/UTC",
                                   "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
HOSTILE_INTEGERS = st.sampled_from([2**31, 2**63, 2**64, 10**20, -(2**63) - 1])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8)


class Spec:
    def __init__(self, document: dict):
        self.document = document

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            schema = self.document["components"]["schemas"][name]
        return schema

    # -- generation ------------------------------------------------------------------------------

    def values(self, schema: dict, known_ids: list[int], depth: int = 0, strict: bool = False) -> st.SearchStrategy:
        """Values for ``schema``: mostly valid, with boundary cases and, at the top, arbitrary JSON.

        ``strict`` keeps to values the schema accepts, so that requests also get past validation.
        """
        schema = self.resolve(schema)
        kind = schema.get("type")
        if "enum" in schema:
            strategy = st.sampled_from(schema["enum"]) if strict else st.sampled_from(schema["enum"]) | st.text(max_size=10)
        elif kind == "integer":
            low, high = schema.get("minimum", -(2**63)), schema.get("maximum", 2**63)
            strategy = st.sampled_from([i for i in known_ids if low <= i <= high] or [low])
            if not strict:
                strategy = strategy | st.integers(low, high) | st.integers(low - 2, low) | st.integers(high, high + 2) \
                    | HOSTILE_INTEGERS
        elif kind == "number":
            strategy = st.floats(allow_nan=False, allow_infinity=False)
        elif kind == "boolean":
            strategy = st.booleans()
        elif kind == "string" and schema.get("format") == "date-time":
            strategy = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1),
                                    timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=5))])
                                    | st.none()).map(lambda d: d.isoformat()) | st.text(max_size=30)
            if not strict:
                strategy = strategy | HOSTILE_STRINGS
        elif kind == "string" and strict:
            strategy = st.text(st.characters(codec="utf-8", exclude_characters="\x00"),
                               min_size=max(schema.get("minLength", 0), 1), max_size=min(schema.get("maxLength", 40), 40))
        elif kind == "string":
            strategy = st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 40), 40)) \
                | st.text(max_size=5) | st.just("x" * (schema.get("maxLength", 300) + 1)) | HOSTILE_STRINGS
        elif kind == "array":
            strategy = st.lists(self.values(schema.get("items", {}), known_ids, depth + 1, strict), max_size=3)
        elif kind == "object" or "properties" in schema:
            strategy = self.objects(schema, known_ids, depth, strict)
        else:
            strategy = JSON_VALUES
        if schema.get("nullable") and not strict:
            strategy = strategy | st.none()
        # At the top, three draws in four follow the schema's shape; the fourth is any JSON at all.
        return st.one_of(strategy, strategy, strategy, JSON_VALUES) if depth == 0 and not strict else strategy

    def objects(self, schema: dict, known_ids: list[int], depth: int, strict: bool = False) -> st.SearchStrategy:
        properties = schema.get("properties", {})
        if not properties:
            return st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8) if strict else JSON_VALUES,
                                   max_size=3)
        required = set(schema.get("required", []))
        fixed = {name: self.values(prop, known_ids, depth + 1, strict) for name, prop in properties.items()
                 if name in required}
        optional = {name: self.values(prop, known_ids, depth + 1, strict) for name, prop in properties.items()
                    if name not in required}
        valid_shape = st.fixed_dictionaries(fixed, optional=optional)
        if strict:
            return valid_shape
        extra = st.dictionaries(st.text(min_size=1, max_size=8), JSON_VALUES, max_size=1)
        return valid_shape | st.builds(lambda a, b: {**b, **a}, valid_shape, extra)

    # -- validation ------------------------------------------------------------------------------

    def check(self, schema: dict, value: Any, where: str = "$") -> None:
        """Raise AssertionError when ``value`` breaks ``schema`` (the subset of JSON Schema apispec emits)."""
        schema = self.resolve(schema)
        if value is None:
            assert schema.get("nullable") or not schema.get("type"), f"{where}: null where not nullable"
            return
        kind = schema.get("type")
        checks = {"integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
                  "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                  "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
                  "array": lambda v: isinstance(v, list), "object": lambda v: isinstance(v, dict)}
        if kind:
            assert checks[kind](value), f"{where}: {value!r} is not {kind}"
        if "enum" in schema:
            assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
        if kind == "string" and schema.get("format") == "date-time":
            parsed = dt.datetime.fromisoformat(value)
            assert parsed.utcoffset() is not None, f"{where}: {value} has no offset"
        if kind == "array":
            for index, item in enumerate(value):
                self.check(schema.get("items", {}), item, f"{where}[{index}]")
        if isinstance(value, dict):
            properties = schema.get("properties", {})
            for name in schema.get("required", []):
                assert name in value, f"{where}: missing {name}"
            for name, item in value.items():
                if name in properties:
                    self.check(properties[name], item, f"{where}.{name}")
                elif isinstance(schema.get("additionalProperties"), dict):
                    self.check(schema["additionalProperties"], item, f"{where}.{name}")
                else:
                    assert schema.get("additionalProperties", True) is not False, f"{where}: undocumented {name}"


@pytest.fixture
def fuzz_world(workdesk_app, make_user, make_department, make_task, enable_plugin):
    for info in get_registry().usable():  # every installed plugin's endpoints are fuzzed too
        if not info.plugin.missing_configuration(plugin_settings(info.name)):  # email, webhooks: no endpoints
            enable_plugin(info.name)
    sales, support = make_department("Sales"), make_department("Support")
    people = {role: make_user(role, departments=[sales]) for role in ("admin", "manager", "agent", "reviewer",
                                                                      "requester")}
    stranger = make_user("agent", departments=[support])
    for index in range(6):
        make_task(people["agent"] if index % 2 else stranger, sales if index % 2 else support,
                  title=f"seed {index}", description="seeded", watcher_ids=[people["requester"].id])
    client = workdesk_app.test_client()
    document = client.get("/api/v1/openapi.json").get_json()
    operations = [(path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()]
    return client, Spec(document), operations, list(people.values())


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_no_500_and_no_response_breaking_the_document(fuzz_world, data):
    client, spec, operations, people = fuzz_world
    path, method, operation = data.draw(st.sampled_from(operations), label="operation")
    known_ids = sorted({row.id for row in User.select(User.id)} | set(range(1, 11)) | {MAX_ID})
    url = path
    query: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        value = data.draw(spec.values(parameter["schema"], known_ids, depth=1), label=parameter["name"])
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", quote(str(value), safe="", errors="surrogatepass"))
        elif data.draw(st.booleans(), label=f"send {parameter['name']}"):
            query[parameter["name"]] = json.dumps(value) if not isinstance(value, str) else value
    headers = {}
    who = data.draw(st.sampled_from([*people, *people, None]), label="caller")
    if who is not None:
        User.update(is_active=True).where(User.id == who.id).execute()  # earlier examples may have deactivated them
        headers["Authorization"] = f"Bearer {issue_token(User.get_by_id(who.id))}"
    body, payload, content_type = None, None, "application/json"
    if "requestBody" in operation and "application/json" in operation["requestBody"]["content"]:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        strict = data.draw(st.booleans(), label="strict body")
        body = data.draw(spec.values(schema, known_ids, strict=strict), label="body")
        payload = json.dumps(body)
    elif "requestBody" in operation:  # an upload: multipart files (names and bytes of any kind), or nothing
        files = data.draw(st.lists(st.tuples(st.text(max_size=30), st.binary(max_size=300)), max_size=3), label="files")
        payload = {"files": [(io.BytesIO(content), name) for name, content in files]}
        content_type = "multipart/form-data"
    response = client.open(url, method=method.upper(), query_string=urlencode(query, errors="surrogatepass"), headers=headers,
                           data=payload, content_type=content_type)
    event(f"status {response.status_code}")  # the spread shows with --hypothesis-show-statistics
    assert response.status_code < 500, response.get_data(as_text=True)
    documented = operation["responses"]
    assert str(response.status_code) in documented, (method, url, response.status_code, response.get_json())
    content = documented[str(response.status_code)].get("content")
    if content and "application/json" in content:
        spec.check(content["application/json"]["schema"], response.get_json())
    elif content:  # a file: documented as bytes, served as a download
        assert response.headers["Content-Disposition"].startswith("attachment")
    else:
        assert response.status_code == 204 or response.is_json
