"""Through ``workdesk tick --at``: breaches fire at the working-time instant across a weekend, a holiday and
both daylight-saving changes; the warning reaches the department's queue when nobody is assigned; the chain's
other recipients (a role, named people) and reassigning to a named person; pausing statuses chosen per
policy (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk import Holiday, Notification, Task, services
from workdesk.plugins.escalation.models import Cycle, Firing

from .conftest import BOTH_DATABASES, at

pytestmark = BOTH_DATABASES
HEAD_LEVEL = [{"delay_minutes": 0, "actions": [{"type": "notify", "to": ["head"]}]}]


def received(user, kind="escalation.escalated") -> int:
    return Notification.select().where((Notification.recipient == user) & (Notification.kind == kind)).count()


@pytest.mark.parametrize("filed, holiday, quiet, due", [
    # Friday 15:00 Sofia (UTC+2), spring change on Sunday: 2 h Friday + 6 h Monday, 15:00 local (UTC+3).
    ("2026-03-27T13:00Z", None, ["2026-03-28T13:00Z", "2026-03-30T11:59Z"], "2026-03-30T12:00Z"),
    # The same with Monday a holiday: Tuesday 15:00 local.
    ("2026-03-27T13:00Z", dt.date(2026, 3, 30), ["2026-03-30T12:00Z", "2026-03-31T11:59Z"], "2026-03-31T12:00Z"),
    # Friday 16:00 Sofia (UTC+3), autumn change on Sunday: 1 h Friday + 7 h Monday, 16:00 local (UTC+2).
    ("2026-10-23T13:00Z", None, ["2026-10-25T13:00Z", "2026-10-26T13:59Z"], "2026-10-26T14:00Z"),
])
def test_a_breach_fires_at_the_working_time_instant(org, make_policy, file_task, tick, filed, holiday, quiet, due):
    if holiday is not None:
        Holiday.create(calendar=org.calendar, date=holiday, name="A holiday")
    make_policy([{"kind": "resolution", "hours": 8}], warn_percent=0, levels=HEAD_LEVEL)
    task = file_task(filed)
    for instant in quiet:  # over the weekend (and the holiday) nothing is due
        tick(instant)
        assert Firing.select().where(Firing.task_id == task.id).count() == 0, instant
    tick(due)
    assert [f.step for f in Firing.select().where(Firing.task_id == task.id).order_by(Firing.step)] == [1, 2]
    assert Cycle.get(Cycle.task_id == task.id).breached_at == at(due)
    assert received(org.helpdesk_head) == 1


def test_the_warning_goes_to_the_queue_when_nobody_is_assigned(org, make_policy, file_task, tick):
    make_policy([{"kind": "resolution", "hours": 4}], warn_percent=50)
    task = file_task("2026-03-02T07:00Z")  # unassigned; Monday 09:00 Sofia: warning at 11:00 local
    tick("2026-03-02T09:00Z")
    assert received(org.agent, "escalation.warning") == 1  # the Helpdesk queue: its agent
    assert received(org.requester, "escalation.warning") == 0 and received(org.ceo, "escalation.warning") == 0
    firing = Firing.get((Firing.task_id == task.id) & (Firing.step == 0))
    assert org.agent.id in firing.actions[0]["user_ids"]


def test_a_role_named_people_and_reassigning_to_a_named_person(org, make_policy, file_task, tick, make_user):
    second = make_user("agent", departments=[org.helpdesk], name="Sam Second")
    make_policy([{"kind": "resolution", "hours": 1}], warn_percent=0, levels=[
        {"delay_minutes": 0, "actions": [{"type": "notify", "to": ["role"], "role": "admin"},
                                         {"type": "notify", "to": ["people"], "user_ids": [org.ceo.id]},
                                         {"type": "reassign", "user_ids": [second.id]}]}])
    task = file_task("2026-03-02T07:00Z", assignee_id=org.agent.id)
    tick("2026-03-02T08:00Z")
    assert received(org.admin) == 1 and received(org.ceo) == 1
    assert received(org.helpdesk_head) == 0 and received(org.agent) == 0  # nobody else is told
    assert Task.get_by_id(task.id).assignee_id == second.id
    level = Firing.get((Firing.task_id == task.id) & (Firing.step == 2))
    assert {"type": "reassign", "assignee_id": second.id} in level.actions


def test_pausing_statuses_are_the_policy_s(org, make_policy, file_task, act, tick):
    make_policy([{"kind": "resolution", "hours": 4}], warn_percent=0, pausing_statuses=[], levels=HEAD_LEVEL)
    task = file_task("2026-03-02T07:00Z")  # Monday 09:00 Sofia
    act("2026-03-02T07:30Z", services.tasks.transition, org.agent, task.id, "open")
    act("2026-03-02T07:40Z", services.tasks.transition, org.agent, task.id, "in_progress")
    act("2026-03-02T08:00Z", services.tasks.transition, org.agent, task.id, "waiting")  # does not pause here
    tick("2026-03-02T11:00Z")
    cycle = Cycle.get(Cycle.task_id == task.id)
    assert cycle.pauses == [] and cycle.segment_start is not None  # still counting while waiting
    assert cycle.breached_at == at("2026-03-02T11:00Z") and received(org.helpdesk_head) == 1


def test_a_status_the_policy_names_pauses_the_clock(org, make_policy, file_task, act, tick):
    make_policy([{"kind": "resolution", "hours": 4}], warn_percent=0, pausing_statuses=["open"], levels=HEAD_LEVEL)
    task = file_task("2026-03-02T07:00Z")  # Monday 09:00 Sofia
    act("2026-03-02T08:00Z", services.tasks.transition, org.agent, task.id, "open")  # paused after 1 h
    tick("2026-03-03T12:00Z")
    cycle = Cycle.get(Cycle.task_id == task.id)
    assert cycle.segment_start is None and cycle.consumed_seconds == 3600 and received(org.helpdesk_head) == 0
