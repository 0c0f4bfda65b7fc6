"""The top bar: links by role and the inbox count; what plugins add to every page's head and to the account
page."""
from __future__ import annotations

import re

from workdesk.notifications import notify


def inbox_link(html: str) -> str:
    match = re.search(r'<a href="/notifications"[^>]*>.*?</a>', html, re.S)
    assert match, "no Inbox link in the top bar"
    return match.group(0)


def test_nav_links_follow_the_role(client, login, cast):
    login(client, cast.requester)
    page = client.get("/").text
    assert 'href="/search"' in page and 'href="/tasks/new"' in page and 'href="/queue"' not in page
    assert 'href="/admin/"' not in page
    login(client, cast.agent)
    assert 'href="/queue"' in client.get("/").text
    login(client, cast.admin)
    assert 'href="/admin/"' in client.get("/").text


def test_inbox_link_shows_the_unread_count_only_when_there_is_one(client, login, cast):
    login(client, cast.agent)
    assert "count" not in inbox_link(client.get("/").text)
    notify(cast.agent, "test.note", "Hello")
    notify(cast.agent, "test.note", "Hello again")
    link = inbox_link(client.get("/").text)
    assert '<span class="count" aria-label="2 unread">2</span>' in link


def test_the_login_page_has_no_nav(client):
    page = client.get("/login").text
    assert "mainnav" not in page and "Log out" not in page and 'name="email"' in page


def test_plugins_add_navigation_links_for_who_may_open_them(client, login, cast, enable_plugin):
    from workdesk.registry import PluginState
    enable_plugin("webnav")
    enable_plugin("webnav_broken")
    login(client, cast.agent)
    page = client.get("/").text
    assert '<a href="/checklists">Checklists</a>' in page  # a path on this site
    assert "evil.example" not in page and "Elsewhere" not in page  # an outside URL is left out, and recorded
    assert "not a (label, path) pair" in PluginState.get(PluginState.name == "webnav").last_error
    assert "navigation exploded" in PluginState.get(PluginState.name == "webnav_broken").last_error
    login(client, cast.requester)
    assert "/checklists" not in client.get("/").text


def test_plugins_add_to_every_pages_head_and_to_the_account_page(client, login, cast, enable_plugin, caplog):
    enable_plugin("webnav")
    enable_plugin("webnav_broken")
    head = client.get("/login").text.split("</head>")[0]
    assert '<meta name="checklists" content="nobody">' in head  # pages shown to anyone too
    login(client, cast.agent)
    for path in ("/", "/search", "/account"):
        assert f'<meta name="checklists" content="{cast.agent.name}">' in client.get(path).text.split("</head>")[0]
    page = client.get("/account").text
    assert '<section class="card plugin-panel" id="webnav" data-plugin="webnav">' in page
    assert "<h2>My checklists</h2>" in page and f'<p class="probe">Checklists of {cast.agent.name}</p>' in page
    assert "&lt;b&gt;not html&lt;/b&gt;" in page  # a plain string is text
    # Each failure is recorded against its plugin (the last one also shows in the admin panel).
    recorded = caplog.text
    assert "webnav: account_page_panels returned 'not a pair', not a (title, html) pair" in recorded
    assert "webnav_broken: extra_head raised RuntimeError('head exploded')" in recorded
    assert "webnav_broken: account_page_panels raised RuntimeError('account panel exploded')" in recorded
    assert "account panel exploded" not in page and "head exploded" not in page
