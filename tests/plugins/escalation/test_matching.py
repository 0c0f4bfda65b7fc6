"""Which policy applies: the first active one in order that matches department (with or without its
sub-departments), type, priority, impact and custom-field values; a new or re-scoped policy reaches open
tasks that had no clock on the next tick; the calendar comes from the policy, else the task's department,
else the instance default (SQLite and PostgreSQL)."""
from __future__ import annotations

from workdesk import Calendar, Task

from .conftest import BOTH_DATABASES, WEEKDAYS_9_TO_17, at

pytestmark = BOTH_DATABASES


def policy_name(escalation, task) -> str | None:
    data = escalation.clocks_of(Task.get_by_id(task.id), at("2026-03-02T08:00Z"))
    return data["policy"]["name"] if data["policy"] else None


def test_the_first_matching_policy_wins(org, make_policy, file_task, escalation, make_department, act):
    make_policy(name="VIP printers", position=1,
                match={"department_ids": [org.it.id], "include_subdepartments": True, "types": ["incident"],
                       "priorities": ["high"], "impacts": ["wide"], "fields": {"vip": ["yes"]}})
    make_policy(name="IT only", position=2, match={"department_ids": [org.it.id]})
    make_policy(name="IT and below", position=3, match={"department_ids": [org.it.id],
                                                        "include_subdepartments": True})
    make_policy(name="Switched off", position=0, active=False)
    vip = file_task("2026-03-02T07:00Z", type="incident", priority="high", impact="wide", fields={"vip": "yes"})
    other_field = file_task("2026-03-02T07:00Z", type="incident", priority="high", impact="wide",
                            fields={"vip": "no"})
    plain = file_task("2026-03-02T07:00Z")
    assert policy_name(escalation, vip) == "VIP printers"  # Helpdesk is inside IT
    assert policy_name(escalation, other_field) == "IT and below"  # "IT only" leaves sub-departments out
    assert policy_name(escalation, plain) == "IT and below"
    elsewhere = make_department("Facilities")
    from workdesk import services
    act("2026-03-02T08:00Z", services.tasks.update_task, org.admin, plain.id, {"department_id": elsewhere.id})
    assert policy_name(escalation, plain) is None  # no policy matches Facilities: its clocks stop counting


def test_a_new_policy_reaches_open_tasks_on_the_next_tick(org, make_policy, file_task, escalation, tick):
    from workdesk.plugins.escalation import policies
    from workdesk.plugins.escalation.models import Cycle, Recompute
    task = file_task("2026-03-02T07:00Z")  # filed before any policy exists
    assert policy_name(escalation, task) is None
    policy = make_policy([{"kind": "resolution", "hours": 8}], match={"priorities": ["high"]})
    tick("2026-03-02T08:00Z")
    assert policy_name(escalation, task) is None  # normal priority: not matched
    policies.update_policy(None, policy.id, {"match": {"priorities": ["normal", "high"]}})
    tick("2026-03-02T08:01Z")  # the worker recomputes every open task, with progress
    run = Recompute.select().order_by(Recompute.id.desc()).first()
    assert run.scope == "open" and run.finished_at is not None
    assert policy_name(escalation, task) == "Helpdesk SLA"
    assert Cycle.get(Cycle.task_id == task.id).due_at == at("2026-03-02T15:00Z")  # 8 h from Monday 09:00 Sofia


def test_the_calendar_comes_from_the_policy_else_the_department_else_the_default(org, make_policy, file_task,
                                                                                escalation, tick):
    from workdesk.plugins.escalation import policies
    from workdesk.plugins.escalation.models import Cycle
    from workdesk.registry import save_plugin_settings
    tokyo = Calendar.create(name="Tokyo office", timezone="Asia/Tokyo", weekly_hours=WEEKDAYS_9_TO_17)
    policy = make_policy([{"kind": "resolution", "hours": 2}], calendar_id=tokyo.id, warn_percent=0)
    task = file_task("2026-03-02T01:00Z")  # Monday 10:00 in Tokyo, 03:00 in Sofia
    assert Cycle.get(Cycle.task_id == task.id).due_at == at("2026-03-02T03:00Z")  # the policy's: Tokyo 12:00
    policies.update_policy(None, policy.id, {"calendar_id": None})
    tick("2026-03-02T01:01Z")
    assert Cycle.get(Cycle.task_id == task.id).due_at == at("2026-03-02T09:00Z")  # the department's: Sofia 11:00
    org.company.calendar = None
    org.company.save()
    save_plugin_settings("escalation", {"default_calendar": "Tokyo office"})
    policies.update_policy(None, policy.id, {"warn_percent": 0})
    tick("2026-03-02T01:02Z")
    assert Cycle.get(Cycle.task_id == task.id).due_at == at("2026-03-02T03:00Z")  # the instance default
    save_plugin_settings("escalation", {"default_calendar": ""})
    policies.update_policy(None, policy.id, {"warn_percent": 0})
    tick("2026-03-02T01:03Z")
    assert Cycle.get(Cycle.task_id == task.id).due_at == at("2026-03-02T03:00Z")  # none: around the clock
