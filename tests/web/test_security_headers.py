"""Every response forbids framing and carries the strict Content-Security-Policy: pages, the admin
panel, the API and its docs, a plugin's page and static files, error pages, static files."""
from __future__ import annotations

import re

import pytest

HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
POLICY = re.compile(r"^default-src 'self'; script-src 'self'( 'nonce-[\w-]+')?; style-src 'self'( 'nonce-[\w-]+')?; "
                    r"img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
                    r"frame-ancestors 'none'$")


def assert_protected(response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    policy = response.headers["Content-Security-Policy"]
    assert POLICY.match(policy), policy
    assert "unsafe" not in policy


@pytest.mark.parametrize("path, status", [
    ("/", 200),
    ("/tasks/new", 200),
    ("/notifications", 200),
    ("/healthz", 200),
    ("/admin/", 200),
    ("/admin/tasks/", 200),
    ("/admin/plugins/", 200),
    ("/api/v1/openapi.json", 200),
    ("/api/docs", 200),
    ("/compliance/queue", 200),
    ("/static/workdesk.css", 200),
    ("/static/plugins/compliance_review/compliance.css", 200),
    ("/static/workdesk-admin/actions.js", 200),
    ("/no/such/page", 404),
    ("/api/v1/no-such-endpoint", 404),
    ("/tasks/999999", 404),
])
def test_every_kind_of_response_is_protected(path, status, client, login, cast, enable_plugin):
    enable_plugin("compliance_review")
    login(client, cast.admin)
    response = client.get(path)
    assert response.status_code == status
    assert_protected(response)


def test_anonymous_pages_redirects_api_answers_and_posts_are_protected(client, api_client, cast):
    assert_protected(client.get("/login"))
    assert_protected(client.get("/admin/"))  # a redirect to the login page
    assert_protected(client.get("/api/v1/tasks"))  # 401 JSON
    assert_protected(api_client(user=cast.agent).get("/api/v1/tasks"))
    assert_protected(client.post("/login", data={"email": "nobody@example.com", "password": "wrong"}))


def test_the_admin_panel_tags_its_scripts_with_a_fresh_nonce(client, login, cast):
    """Flask-Admin marks its scripts and styles with the nonce ``csp_nonce()`` gives (and would its
    few inline blocks): the response's policy names that nonce, new for every response."""
    login(client, cast.admin)
    nonces = []
    for _ in range(2):
        response = client.get("/admin/tasks/")
        nonce = re.search(r"'nonce-([\w-]+)'", response.headers["Content-Security-Policy"]).group(1)
        tagged = re.findall(r'nonce="([^"]+)"', response.get_data(as_text=True))
        assert tagged and set(tagged) == {nonce}
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_no_template_holds_inline_script_style_or_handlers(workdesk_app):
    """The policy would block them: every template the app can render (the core's, the admin
    panel's with its Flask-Admin overrides, every plugin's) has no inline handler, no style
    attribute, no javascript: URL, and no <script>/<style> block without the nonce."""
    env = workdesk_app.jinja_env
    names = [n for n in env.list_templates(extensions=["html"]) if not n.startswith(("email/", "bootstrap"))]
    assert "core/base.html" in names and "admin/model/row_actions.html" in names
    inline = re.compile(r"""\son[a-z]+\s*=|\sstyle\s*=|javascript:|<style(?![^>]*nonce)|<script(?![^>]*(src=|nonce))""", re.I)
    offenders = {}
    for name in names:
        source, filename, _ = env.loader.get_source(env, name)
        if "flask_admin" in (filename or ""):
            continue  # Flask-Admin's own templates: their inline blocks carry the nonce; handlers are overridden
        found = inline.findall(source)
        if found:
            offenders[name] = found
    assert offenders == {}


def test_error_pages_are_protected_too(workdesk_app, client):
    def boom():
        raise RuntimeError("a bug")
    workdesk_app.add_url_rule("/test-boom", "test_boom", boom)
    workdesk_app.add_url_rule("/api/v1/test-boom", "test_api_boom", boom)
    for path in ("/test-boom", "/api/v1/test-boom"):
        response = client.get(path)
        assert response.status_code == 500
        assert_protected(response)
