"""Redirect targets taken from a request (issue 11, item 2): one check, after the normalisation a browser
applies, on every ``next`` of the team app (the login, taking a task); the admin panel's ``?url=`` is
tested in tests/admin/test_redirects.py."""
from __future__ import annotations

import pytest

from workdesk import safe_redirect_target

# Each of these means another site, a script, or a header break once a browser has read it.
OFF_SITE = [
    "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example", "/\\/evil.example",
    "/\t/evil.example", "\t//evil.example", " //evil.example", "\x00//evil.example", "/\r\n/evil.example",
    "/\n/x", "/\r/evil.example", "\x1f/\x0b/evil.example", "https://evil.example/x", "http:/evil.example",
    "https:evil.example", "javascript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>", "evil.example", "queue",
    "／／evil.example", "\u3000//evil.example", "/x\x00y", "/x\x7fy", "/" + "a" * 5000, "",
]
# Same-site paths: accepted as they are (percent-encoding what a header cannot carry raw).
ON_SITE = {
    "/queue": "/queue", "/tasks/7?tab=comments#c3": "/tasks/7?tab=comments#c3", " /queue\t": "/queue",
    "/search?q=a%2Fb&x=1": "/search?q=a%2Fb&x=1", "/\u0442\u0430\u0441\u043a": "/%D1%82%D0%B0%D1%81%D0%BA",
    "/a b\"<>": "/a%20b%22%3C%3E", "/x\r\nSet-Cookie: a=b": "/xSet-Cookie:%20a=b", "/a\\b": "/a/b",
    "/\u2215\u2215evil.example": "/%E2%88%95%E2%88%95evil.example",
}


@pytest.mark.parametrize("payload", OFF_SITE)
def test_off_site_targets_give_the_fallback(payload):
    assert safe_redirect_target(payload, "/fallback") == "/fallback"


@pytest.mark.parametrize("payload, target", ON_SITE.items())
def test_same_site_paths_are_kept(payload, target):
    assert safe_redirect_target(payload, "/fallback") == target


def _assert_stays_on_site(response, fallback: str):
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location
    assert not any(ord(c) < 0x21 or ord(c) > 0x7e for c in location)
    return location


@pytest.mark.parametrize("payload", OFF_SITE + list(ON_SITE))
def test_login_next(client, cast, payload):
    response = client.post("/login", query_string={"next": payload},
                           data={"email": "ana@example.com", "password": "password123"})
    location = _assert_stays_on_site(response, "/")
    assert location == safe_redirect_target(payload, "/")
    again = client.get("/login", query_string={"next": payload})  # already logged in: straight on
    assert _assert_stays_on_site(again, "/") == location


def test_login_next_with_an_encoded_tab_is_not_protocol_relative(client, cast):
    response = client.post("/login?next=/%09/evil.example", data={"email": "ana@example.com", "password": "password123"})
    assert response.headers["Location"] == "/"
    assert client.get("/login?next=/%0A/x").headers["Location"] == "/"  # was a 500
    assert client.get("/login?next=/%0d%0a/x").headers["Location"] == "/"


@pytest.mark.parametrize("payload", OFF_SITE + list(ON_SITE))
def test_take_next(client, login, cast, make_task, payload):
    task = make_task(cast.requester, cast.it)
    login(client, cast.agent)
    response = client.post(f"/tasks/{task.id}/take", query_string={"next": payload},
                           data={"version": str(task.version)})
    fallback = f"/tasks/{task.id}"
    location = _assert_stays_on_site(response, fallback)
    assert location == safe_redirect_target(payload, fallback)
