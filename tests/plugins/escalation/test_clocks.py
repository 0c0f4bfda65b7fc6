"""Clocks through ``workdesk tick --at`` over simulated weeks: working time across weekends, holidays and both
daylight-saving changes; pause and resume; reopening that continues a clock or starts a new cycle."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk import Holiday, services

from .conftest import BOTH_DATABASES, at

pytestmark = BOTH_DATABASES


def clocks(escalation, task, now: str) -> dict:
    from workdesk import Task
    data = escalation.clocks_of(Task.get_by_id(task.id), at(now))
    return {(c["target"], c["status"]): c for c in data["clocks"]}


def test_working_time_skips_the_weekend_and_the_spring_dst_change(org, make_policy, file_task, escalation, tick):
    make_policy([{"kind": "resolution", "hours": 8}])
    # Friday 27 March 2026, 15:00 in Sofia (UTC+2); clocks go forward on Sunday 29 March.
    task = file_task("2026-03-27T13:00Z")
    clock = clocks(escalation, task, "2026-03-27T13:00Z")[("resolution", "")]
    # 2 h on Friday, 6 h on Monday from 09:00 local, now UTC+3: 15:00 local is 12:00 UTC.
    assert clock["due_at"] == "2026-03-30T12:00:00+00:00"
    assert clock["state"] == "running" and clock["remaining_seconds"] == 8 * 3600
    assert clocks(escalation, task, "2026-03-30T06:00Z")[("resolution", "")]["remaining_seconds"] == 6 * 3600  # 09:00 local
    tick("2026-03-30T12:01Z")
    assert clocks(escalation, task, "2026-03-30T12:01Z")[("resolution", "")]["state"] == "breached"


def test_a_holiday_is_not_working_time(org, make_policy, file_task, escalation):
    Holiday.create(calendar=org.calendar, date=dt.date(2026, 3, 30), name="Easter Monday (for the test)")
    make_policy([{"kind": "resolution", "hours": 8}])
    task = file_task("2026-03-27T13:00Z")
    assert clocks(escalation, task, "2026-03-27T13:00Z")[("resolution", "")]["due_at"] == "2026-03-31T12:00:00+00:00"


def test_the_autumn_dst_change(org, make_policy, file_task, escalation):
    make_policy([{"kind": "resolution", "hours": 8}])
    # Friday 23 October 2026, 16:00 in Sofia (UTC+3); clocks go back on Sunday 25 October.
    task = file_task("2026-10-23T13:00Z")
    # 1 h on Friday, 7 h on Monday 26 October from 09:00 local, now UTC+2: 16:00 local is 14:00 UTC.
    assert clocks(escalation, task, "2026-10-23T13:00Z")[("resolution", "")]["due_at"] == "2026-10-26T14:00:00+00:00"


def test_calendar_time_counts_every_hour(org, make_policy, file_task, escalation):
    make_policy([{"kind": "resolution", "hours": 48}], time_mode="calendar")
    task = file_task("2026-03-27T13:00Z")  # 48 real hours, across the spring change: still 48 h of UTC
    assert clocks(escalation, task, "2026-03-27T13:00Z")[("resolution", "")]["due_at"] == "2026-03-29T13:00:00+00:00"


def test_pause_and_resume(org, make_policy, file_task, escalation, act, tick):
    make_policy([{"kind": "resolution", "hours": 8}])
    task = file_task("2026-03-02T07:00Z")  # Monday 09:00 Sofia (UTC+2)
    act("2026-03-02T08:00Z", services.tasks.transition, org.agent, task.id, "open")
    act("2026-03-02T09:00Z", services.tasks.transition, org.agent, task.id, "in_progress")
    act("2026-03-02T10:00Z", services.tasks.transition, org.agent, task.id, "waiting")  # 3 h used
    paused = clocks(escalation, task, "2026-03-03T10:00Z")[("resolution", "")]
    assert paused["state"] == "paused" and paused["due_at"] is None and paused["remaining_seconds"] == 5 * 3600
    tick("2026-03-04T10:00Z")  # paused: nothing breaches however long it waits
    assert clocks(escalation, task, "2026-03-04T10:00Z")[("resolution", "")]["state"] == "paused"
    act("2026-03-04T07:00Z", services.tasks.transition, org.agent, task.id, "in_progress")  # Wednesday 09:00
    resumed = clocks(escalation, task, "2026-03-04T07:00Z")[("resolution", "")]
    assert resumed["state"] == "running" and resumed["due_at"] == "2026-03-04T12:00:00+00:00"
    assert resumed["pauses"] == [["2026-03-02T10:00:00+00:00", "2026-03-04T07:00:00+00:00"]]


@pytest.mark.parametrize("mode, number, due", [("continue", 1, "2026-03-03T12:00:00+00:00"),
                                               ("new_cycle", 2, "2026-03-03T15:00:00+00:00")])
def test_reopen_continues_or_starts_a_new_cycle(org, make_policy, file_task, escalation, act, mode, number, due):
    make_policy([{"kind": "resolution", "hours": 8, "on_reopen": mode}])
    task = file_task("2026-03-02T07:00Z")  # Monday 09:00 Sofia
    for when, status in (("2026-03-02T08:00Z", "open"), ("2026-03-02T09:00Z", "in_progress"),
                         ("2026-03-02T10:00Z", "resolved")):  # resolved after 3 working hours: met
        act(when, services.tasks.transition, org.agent, task.id, status)
    assert clocks(escalation, task, "2026-03-02T11:00Z")[("resolution", "")]["state"] == "met"
    act("2026-03-03T07:00Z", services.tasks.transition, org.agent, task.id, "open")  # Tuesday 09:00: reopened
    clock = clocks(escalation, task, "2026-03-03T07:00Z")[("resolution", "")]
    # continue: 5 h were left, so Tuesday 14:00 local; a new cycle: 8 h from Tuesday 09:00, so 17:00 local
    assert (clock["number"], clock["state"], clock["due_at"]) == (number, "running", due)
    from workdesk.plugins.escalation.models import Cycle
    assert Cycle.select().where(Cycle.task_id == task.id, Cycle.kind == "resolution").count() == number


def test_the_documented_worked_example(org, make_policy, file_task, escalation, act, tick):
    """docs/plugins/escalation.md, "Worked example", step by step."""
    from workdesk import Notification
    make_policy([{"kind": "resolution", "hours": 8}], warn_percent=80)
    task = file_task("2026-03-27T13:00Z", assignee_id=org.agent.id)  # Friday 15:00 Sofia
    clock = clocks(escalation, task, "2026-03-27T13:00Z")[("resolution", "")]
    assert (clock["warn_at"], clock["due_at"]) == ("2026-03-30T10:24:00+00:00", "2026-03-30T12:00:00+00:00")
    act("2026-03-30T06:30Z", services.tasks.transition, org.agent, task.id, "open")
    act("2026-03-30T06:45Z", services.tasks.transition, org.agent, task.id, "in_progress")
    act("2026-03-30T07:00Z", services.tasks.transition, org.agent, task.id, "waiting")  # Monday 10:00: 3 h counted
    paused = clocks(escalation, task, "2026-03-31T07:00Z")[("resolution", "")]
    assert paused["state"] == "paused" and paused["remaining_seconds"] == 5 * 3600
    tick("2026-03-31T12:00Z")  # waiting: no warning, no breach
    assert Notification.select().where(Notification.kind.startswith("escalation.")).count() == 0
    act("2026-04-01T06:00Z", services.tasks.transition, org.agent, task.id, "in_progress")  # Wednesday 09:00
    assert clocks(escalation, task, "2026-04-01T06:00Z")[("resolution", "")]["due_at"] == "2026-04-01T11:00:00+00:00"
