"""Fixtures of the API tests: a bearer-authenticated client per user."""
from __future__ import annotations

from typing import Callable

import pytest

from workdesk.auth import issue_token


class ApiClient:
    """Flask's test client sending a bearer token and JSON."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        base = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**base, **(headers or {})}

    def request(self, method: str, url: str, json=None, headers: dict | None = None, **kwargs):
        return self.client.open(url, method=method, json=json, headers=self._headers(headers), **kwargs)

    def get(self, url: str, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url: str, json=None, **kwargs):
        return self.request("POST", url, json=json, **kwargs)

    def patch(self, url: str, json=None, **kwargs):
        return self.request("PATCH", url, json=json, **kwargs)

    def delete(self, url: str, **kwargs):
        return self.request("DELETE", url, **kwargs)


@pytest.fixture
def api_as(workdesk_app) -> Callable[..., ApiClient]:
    """``api_as(user)``: a client authenticated with a fresh token of ``user``; ``api_as(None)`` is anonymous."""
    def make(user) -> ApiClient:
        return ApiClient(workdesk_app.test_client(), issue_token(user) if user is not None else None)
    return make


def error_of(response) -> dict:
    """The ``error`` object of a JSON error response, checking the one error format on the way."""
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "fields"} <= set(body["error"]), body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "extra_plugins": ["tests.api.sample_plugin:SamplePlugin"]}


@pytest.fixture
def dept(make_department):
    return make_department()


@pytest.fixture
def admin(make_user):
    return make_user("admin")
