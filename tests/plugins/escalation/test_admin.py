"""The admin panel: the policy form validates through the same rules as the API (the message next to the
field), the preview shows every step with its instant, a recompute shows its progress; a scan interrupted
mid-way fires nothing twice when run again."""
from __future__ import annotations

import json
import re

import pytest

from workdesk import TaskEvent
from workdesk.plugins.escalation.models import Firing, Policy, Recompute

from .conftest import BOTH_DATABASES


def csrf(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def test_admin_policy_form_preview_and_recompute(org, client, login, file_task):
    login(client, org.admin)
    new = "/admin/escalation/policies/new/"
    data = {"csrf_token": csrf(client, new), "name": "Helpdesk SLA", "active": "y", "position": "0",
            "match_departments": str(org.helpdesk.id), "include_subdepartments": "y", "match_types": "",
            "match_impacts": "", "time_mode": "working", "calendar_id": "", "pausing_statuses": "waiting",
            "warn_percent": "80", "targets_json": json.dumps([{"kind": "status_time", "hours": 2}]),
            "levels_json": "[]"}
    refused = client.post(new, data=data).get_data(as_text=True)
    assert "A time-in-status target names its status." in refused and Policy.select().count() == 0
    broken = client.post(new, data={**data, "targets_json": "not json"}).get_data(as_text=True)
    assert "Write a JSON list." in broken
    chain = [{"delay_minutes": 30, "actions": [{"type": "notify", "to": ["head"]}]}]
    not_an_object = client.post(new, data={**data, "match_fields_json": "[]"}).get_data(as_text=True)
    assert "Write a JSON object." in not_an_object
    too_long = client.post(new, data={**data, "match_types": "x" * 65}).get_data(as_text=True)
    assert too_long.count("Length must be between 1 and 64.") == 1 and Policy.select().count() == 0
    created = client.post(new, data={**data, "targets_json": json.dumps([{"kind": "resolution", "hours": 8}]),
                                     "levels_json": json.dumps(chain), "match_fields_json": '{"vip": ["yes"]}'})
    assert created.status_code == 302, created.get_data(as_text=True)
    policy = Policy.get(Policy.name == "Helpdesk SLA")
    assert policy.match["fields"] == {"vip": ["yes"]}
    edit_url = f"/admin/escalation/policies/edit/?id={policy.id}"
    edit = client.get(edit_url).get_data(as_text=True)
    assert "resolution" in edit and "delay_minutes" in edit and "vip" in edit
    # Saving the form again keeps the custom-field match (it was dropped: the form had no place for it).
    resaved = client.post(edit_url, data={**data, "csrf_token": csrf(client, edit_url), "name": "Helpdesk SLA",
                                          "targets_json": json.dumps([{"kind": "resolution", "hours": 8}]),
                                          "levels_json": json.dumps(chain), "match_fields_json": '{"vip": ["yes"]}'})
    assert resaved.status_code == 302 and Policy.get_by_id(policy.id).match["fields"] == {"vip": ["yes"]}

    preview = "/admin/escalation/preview/"
    page = client.post(preview, data={"csrf_token": csrf(client, preview), "department_id": str(org.helpdesk.id),
                                      "type": "task", "priority": "normal", "impact": "",
                                      "created_at": "2026-03-02T09:00"}).get_data(as_text=True)
    assert "No policy matches" in page  # the policy wants the custom field vip=yes
    page = client.post(preview, data={"csrf_token": csrf(client, preview), "department_id": str(org.helpdesk.id),
                                      "type": "task", "priority": "normal", "impact": "",
                                      "fields_json": '{"vip": "yes"}',
                                      "created_at": "2026-03-02T09:00"}).get_data(as_text=True)
    assert "Helpdesk SLA" in page and "level 1" in page and "breach" in page
    broken = client.post(preview, data={"csrf_token": csrf(client, preview), "priority": "normal",
                                        "fields_json": "[1]"}).get_data(as_text=True)
    assert "Write a JSON object." in broken
    task = file_task("2026-03-02T07:00Z", fields={"vip": "yes"})
    page = client.post(preview, data={"csrf_token": csrf(client, preview), "task_number": str(task.number),
                                      "priority": "normal"}).get_data(as_text=True)
    assert "warning" in page
    missing = client.post(preview, data={"csrf_token": csrf(client, preview), "task_number": "999999",
                                         "priority": "normal"}).get_data(as_text=True)
    assert "No such task." in missing
    asked = client.post(f"{preview}recompute/", data={"csrf_token": csrf(client, preview)})
    assert asked.status_code == 302 and Recompute.select().where(Recompute.finished_at.is_null()).count() >= 1
    assert "asked in the admin panel" in client.get(preview).get_data(as_text=True)
    queued = Recompute.select().count()
    assert client.post(f"{preview}recompute/", data={}).status_code == 400  # no CSRF token: refused
    assert Recompute.select().count() == queued


def test_only_managers_of_policies_reach_the_admin_views(org, client, login, make_user):
    login(client, org.agent)
    assert client.get("/admin/escalation/policies/").status_code in (403, 404)
    assert client.get("/admin/escalation/preview/").status_code in (403, 404)


@BOTH_DATABASES
def test_a_scan_interrupted_mid_way_fires_nothing_twice(org, make_policy, file_task, tick, monkeypatch):
    make_policy([{"kind": "resolution", "hours": 1}], warn_percent=0,
                levels=[{"delay_minutes": 0, "actions": [{"type": "notify", "to": ["head"]}]}])
    tasks = [file_task("2026-03-02T07:00Z", title=f"Outage {n}") for n in range(3)]
    from workdesk.plugins.escalation import scan as scanning
    original = scanning.insert_rows

    def crash(model, rows, *args, **kwargs):
        if model is TaskEvent:
            raise RuntimeError("the worker was killed here")
        return original(model, rows, *args, **kwargs)
    monkeypatch.setattr(scanning, "insert_rows", crash)
    with pytest.raises(RuntimeError):
        scanning.scan(scanning.dt.datetime(2026, 3, 2, 9, tzinfo=scanning.dt.timezone.utc))
    assert Firing.select().count() == 0  # the whole batch rolled back: nothing half-fired
    monkeypatch.setattr(scanning, "insert_rows", original)
    tick("2026-03-02T09:00Z")
    tick("2026-03-02T09:01Z")
    for task in tasks:
        assert sorted(f.step for f in Firing.select().where(Firing.task_id == task.id)) == [1, 2]


@BOTH_DATABASES
def test_admin_builds_a_working_calendar_and_running_clocks_follow(org, client, login, make_policy, file_task, tick):
    from workdesk import Calendar, Holiday
    from workdesk.plugins.escalation.models import Cycle

    from .conftest import at
    login(client, org.admin)
    new = "/admin/escalation/calendars/new/"
    data = {"csrf_token": csrf(client, new), "name": "Berlin office", "timezone": "Europe/Berlin",
            "weekly_hours_json": json.dumps({"mon": [["08:00", "12:00"]], "tue": [["08:00", "12:00"]]}),
            "holidays_text": "2026-03-03 Not a real holiday\n"}
    for changed, field_message in ((({"timezone": "Mars/Olympus"}), "Not a valid choice"),
                                   ({"weekly_hours_json": json.dumps({"mon": [["17:00", "09:00"]]})},
                                    'Give days mon to sun, each a list of [&#34;HH:MM&#34;, &#34;HH:MM&#34;] pairs'),
                                   ({"weekly_hours_json": "[]"}, "Write a JSON object."),
                                   ({"weekly_hours_json": '{"mon": []}'}, "Give working hours on at least one day."),
                                   ({"holidays_text": "2026-03-03 Once\nsoon Twice"},
                                    "Line 2: start with a date such as 2026-12-24."),
                                   ({"holidays_text": "2026-03-03 Once\n2026-03-03 Twice"},
                                    "This date is given twice."),
                                   ({"name": org.calendar.name}, "A calendar with this name exists.")):
        refused = client.post(new, data={**data, **changed}).get_data(as_text=True)
        assert field_message in refused, changed
    assert Calendar.select().where(Calendar.name == "Berlin office").count() == 0
    created = client.post(new, data=data)
    assert created.status_code == 302, created.get_data(as_text=True)
    berlin = Calendar.get(Calendar.name == "Berlin office")
    assert berlin.timezone == "Europe/Berlin" and [h.name for h in Holiday.select().where(Holiday.calendar == berlin)] \
        == ["Not a real holiday"]
    edit = client.get(f"/admin/escalation/calendars/edit/?id={berlin.id}").get_data(as_text=True)
    assert "2026-03-03 Not a real holiday" in edit and "08:00" in edit

    # A policy counts on it: 6 working hours from Monday 08:00 Berlin (07:00 UTC) skip the holiday Tuesday.
    make_policy([{"kind": "resolution", "hours": 6}], calendar_id=berlin.id, warn_percent=0)
    task = file_task("2026-03-02T07:00Z")
    tick("2026-03-02T07:01Z")  # the job notes the calendars as they are
    assert Cycle.get(Cycle.task_id == task.id).due_at == at("2026-03-09T09:00Z")  # 4 h Monday, 2 h next Monday
    edit_url = f"/admin/escalation/calendars/edit/?id={berlin.id}"
    saved = client.post(edit_url, data={**data, "csrf_token": csrf(client, edit_url), "holidays_text": ""})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    tick("2026-03-02T07:02Z")  # the holiday is gone: running clocks are recomputed on the worker
    assert Cycle.get(Cycle.task_id == task.id).due_at == at("2026-03-03T09:00Z")
    login(client, org.agent)
    assert client.get("/admin/escalation/calendars/").status_code in (403, 404)
