"""The top bar: links by role and the inbox count."""
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
