"""The admin panel's tests run with the sample plugin installed (disabled until a test enables it)."""
from __future__ import annotations

import re

import pytest

SAMPLE_PLUGIN = "tests.admin.sample_plugin:SamplePlugin"
CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "extra_plugins": [SAMPLE_PLUGIN]}


@pytest.fixture
def csrf_token():
    """The CSRF token a page of the admin panel carries (CSRF stays enforced in these tests)."""
    def token(client, url: str = "/admin/") -> str:
        html = client.get(url).get_data(as_text=True)
        match = CSRF_INPUT.search(html) or re.search(r'csrf_token[^>]*value="([^"]+)"', html)
        assert match, f"no CSRF token on {url}"
        return next(g for g in match.groups() if g)
    return token


@pytest.fixture
def admin(make_user, login, client):
    user = make_user("admin", name="Ada Admin")
    login(client, user)
    return user


@pytest.fixture
def department(make_department):
    return make_department("Support")
