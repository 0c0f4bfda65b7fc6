"""The admin panel's rule views: create and edit through the services, refusals on the fields, preview, actions."""
from __future__ import annotations

import re

import pytest

from workdesk.registry import set_plugin_enabled
from workdesk.plugins.recurring.models import Rule

LIST = "/admin/recurring/rules/"


@pytest.fixture
def admin_client(client, team, login):
    login(client, team["admin"])
    return client


def csrf(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def form(team, **changes) -> dict:
    return {"title": "Generator test run", "description": "", "department_id": str(team["department"].id),
            "priority": "high", "type": "task", "due_after_minutes": "60", "assign_mode": "fixed",
            "assignee_ids": str(team["agents"][0].id), "watcher_ids": "", "timezone": "Europe/Sofia",
            "dtstart": "2099-01-05T09:00", "rrule": "FREQ=MONTHLY;BYDAY=1MO", "exdates": "2099-02-02T09:00",
            "anchor": "schedule", "non_working_day": "create", "catch_up": "latest", "catch_up_limit": "10",
            **changes}


def test_create_list_preview_and_edit(admin_client, team):
    data = {**form(team), "csrf_token": csrf(admin_client, LIST + "new/")}
    created = admin_client.post(LIST + "new/", data=data)
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    rule = Rule.get(Rule.title == "Generator test run")
    assert (rule.assignee_ids, rule.exdates, rule.created_by_id) == ([team["agents"][0].id], ["2099-02-02T09:00:00"],
                                                                     team["admin"].id)
    listing = admin_client.get(LIST).get_data(as_text=True)
    assert "every month on the first Monday at 9:00\u202fAM, Europe/Sofia, except 1 date" in listing
    preview = admin_client.get(LIST + f"preview/?id={rule.id}&count=3").get_data(as_text=True)
    assert "2099-01-05T09:00:00+02:00" in preview and "2099-03-02T09:00:00+02:00" in preview
    assert "2099-02-02T09:00" not in preview  # left out by EXDATE
    edit_url = LIST + f"edit/?id={rule.id}"
    page = admin_client.get(edit_url).get_data(as_text=True)
    assert "2099-02-02T09:00:00" in page  # prefilled
    edited = admin_client.post(edit_url, data={**form(team, title="Generator run"), "csrf_token": csrf(admin_client, edit_url)})
    assert edited.status_code == 302
    assert Rule.get_by_id(rule.id).title == "Generator run"


def test_refusals_appear_on_the_fields(admin_client, team):
    data = {**form(team, rrule="FREQ=WEEKLY;BYDAY=NOPE"), "csrf_token": csrf(admin_client, LIST + "new/")}
    page = admin_client.post(LIST + "new/", data=data).get_data(as_text=True)
    assert "Not a valid RFC 5545 RRULE" in page
    assert Rule.select().count() == 0


def test_post_without_csrf_token_is_refused(admin_client, team):
    response = admin_client.post(LIST + "new/", data=form(team))
    assert response.status_code == 400
    assert Rule.select().count() == 0


def test_pause_and_end_actions(admin_client, team, make_rule):
    rule = make_rule()
    token = csrf(admin_client, LIST)
    admin_client.post(LIST + "action/", data={"csrf_token": token, "action": "pause", "rowid": str(rule.id)})
    assert Rule.get_by_id(rule.id).status == "paused"
    admin_client.post(LIST + "action/", data={"csrf_token": token, "action": "end", "rowid": str(rule.id)})
    assert Rule.get_by_id(rule.id).status == "ended"


def test_rule_title_and_errors_are_escaped(admin_client, make_rule):
    rule = make_rule(title="<script>alert(1)</script>")
    Rule.update(last_error="<b>boom</b>").where(Rule.id == rule.id).execute()
    listing = admin_client.get(LIST).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in listing and "&lt;script&gt;" in listing
    assert "<b>boom</b>" not in admin_client.get(LIST + f"preview/?id={rule.id}").get_data(as_text=True)


def test_refused_to_agents(client, login, team):
    login(client, team["agents"][0])
    assert client.get(LIST).status_code == 403


def test_gone_while_the_plugin_is_disabled(admin_client):
    assert admin_client.get(LIST).status_code == 200
    set_plugin_enabled("recurring", False)
    assert admin_client.get(LIST).status_code == 404
