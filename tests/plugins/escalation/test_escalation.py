"""Warnings and escalation chains through ``workdesk tick --at``: a warning, then each level exactly once
(replays, repeated scans), meeting the target stops the chain, one digest for many breaches, a policy change
recomputes running clocks, disabling keeps cycles."""
from __future__ import annotations

from workdesk import Comment, Notification, Task, TaskEvent, services
from workdesk.plugins.escalation.models import Cycle, Firing, Recompute

from .conftest import BOTH_DATABASES, at

pytestmark = BOTH_DATABASES

CHAIN = [{"delay_minutes": 0, "actions": [{"type": "notify", "to": ["assignee", "hierarchy"]}]},
         {"delay_minutes": 60, "actions": [{"type": "notify", "to": ["hierarchy"]},
                                           {"type": "raise_priority"},
                                           {"type": "comment", "body": "Escalated to the head of IT"}]},
         {"delay_minutes": 120, "actions": [{"type": "reassign", "to": ["head"]},
                                            {"type": "add_watchers", "to": ["people"], "user_ids": []}]}]


def notes(user, kind=None):
    query = Notification.select().where((Notification.recipient == user) & Notification.kind.startswith("escalation."))
    if kind:
        query = query.where(Notification.kind == kind)
    return list(query.order_by(Notification.id))


def test_a_warning_then_each_level_exactly_once(org, make_policy, file_task, act, tick):
    chain = [dict(level) for level in CHAIN]
    chain[2] = {"delay_minutes": 120, "actions": [{"type": "reassign", "to": ["head"]},
                                                  {"type": "add_watchers", "to": ["people"], "user_ids": [org.ceo.id]}]}
    make_policy([{"kind": "resolution", "hours": 4}], levels=chain, warn_percent=75)
    task = file_task("2026-03-02T07:00Z", assignee_id=org.agent.id)  # Monday 09:00 Sofia; due 13:00 = 11:00Z
    tick("2026-03-02T09:59Z")
    assert notes(org.agent) == []
    tick("2026-03-02T10:00Z")  # 3 of 4 hours: the warning, to the assignee
    warning = notes(org.agent, "escalation.warning")
    assert len(warning) == 1 and f"#{task.number}" in warning[0].subject
    for _ in range(3):  # replays and a scan every minute repeat nothing
        tick("2026-03-02T10:30Z")
    assert len(notes(org.agent)) == 1
    tick("2026-03-02T11:00Z")  # breached: level 1 tells the assignee and the head of Helpdesk
    assert len(notes(org.agent, "escalation.escalated")) == 1
    assert len(notes(org.helpdesk_head, "escalation.escalated")) == 1 and notes(org.it_head) == []
    tick("2026-03-02T11:00Z")
    tick("2026-03-02T12:00Z")  # level 2: one step further up (IT's head), priority raised, an internal note
    assert len(notes(org.it_head, "escalation.escalated")) == 1
    assert Task.get_by_id(task.id).priority == "high"
    assert Comment.select().where((Comment.task == task.id) & Comment.internal).count() == 1
    tick("2026-03-02T13:00Z")  # level 3: reassigned to the head of Helpdesk, the CEO watches
    task = Task.get_by_id(task.id)
    assert task.assignee_id == org.helpdesk_head.id and org.ceo.id in task.watcher_ids
    for instant in ("2026-03-02T13:00Z", "2026-03-02T14:00Z", "2026-03-09T14:00Z"):
        tick(instant)
    steps = [f.step for f in Firing.select().where(Firing.task_id == task.id).order_by(Firing.step)]
    assert steps == [0, 1, 2, 3, 4]  # warning, breach, three levels: each once
    fired = TaskEvent.select().where((TaskEvent.task_id == task.id) & (TaskEvent.kind == "escalation.fired"))
    assert fired.count() == 5  # every firing is in the audit trail
    assert len(notes(org.helpdesk_head, "escalation.escalated")) == 1 and len(notes(org.it_head)) == 1


def test_meeting_the_target_stops_the_chain(org, make_policy, file_task, act, tick):
    make_policy([{"kind": "first_response", "hours": 2}], levels=CHAIN[:1], warn_percent=0)
    task = file_task("2026-03-02T07:00Z", assignee_id=org.agent.id)
    act("2026-03-02T08:00Z", services.tasks.add_comment, org.agent, task.id, "Looking at it")  # answered in 1 h
    tick("2026-03-03T12:00Z")
    assert Firing.select().where(Firing.task_id == task.id).count() == 0
    cycle = Cycle.get(Cycle.task_id == task.id)
    assert cycle.state == "met" and cycle.next_check_at is None


def test_a_level_within_working_hours_waits_for_them(org, make_policy, file_task, tick):
    make_policy([{"kind": "resolution", "hours": 1}], time_mode="calendar", warn_percent=0,
                levels=[{"delay_minutes": 0, "working_hours_only": True,
                         "actions": [{"type": "notify", "to": ["head"]}]}])
    file_task("2026-03-06T20:00Z")  # Friday 22:00 Sofia; breached at 23:00 local, out of hours
    tick("2026-03-07T10:00Z")
    assert notes(org.helpdesk_head) == []  # Saturday: waits for Monday 09:00 local
    tick("2026-03-09T07:00Z")
    assert len(notes(org.helpdesk_head)) == 1


def test_fifty_breaches_to_one_head_are_one_digest(org, make_policy, file_task, tick):
    make_policy([{"kind": "resolution", "hours": 1}], warn_percent=0,
                levels=[{"delay_minutes": 0, "actions": [{"type": "notify", "to": ["head"]}]}])
    tasks = [file_task("2026-03-02T07:00Z", title=f"Outage {n}") for n in range(50)]
    tick("2026-03-02T08:00Z")
    received = notes(org.helpdesk_head)
    assert len(received) == 1, [n.subject for n in received]
    assert "50" in received[0].subject
    assert all(f"#{task.number} " in received[0].body for task in tasks)  # listed, never silenced
    tick("2026-03-02T08:01Z")
    assert len(notes(org.helpdesk_head)) == 1


def test_a_policy_change_recomputes_running_clocks_only(org, make_policy, file_task, act, tick):
    from workdesk.plugins.escalation import policies
    policy = make_policy([{"kind": "resolution", "hours": 8}, {"kind": "first_response", "hours": 1}])
    task = file_task("2026-03-02T07:00Z")
    act("2026-03-02T09:00Z", services.tasks.add_comment, org.agent, task.id, "On it")  # response after 2 h: late
    tick("2026-03-02T09:00Z")
    before = {c.kind: c for c in Cycle.select().where(Cycle.task_id == task.id)}
    assert before["first_response"].state == "breached"
    assert before["resolution"].due_at == at("2026-03-02T15:00Z")
    policies.update_policy(None, policy.id, {"targets": [{"kind": "resolution", "hours": 4},
                                                         {"kind": "first_response", "hours": 8}]})
    tick("2026-03-02T09:01Z")  # the worker recomputes, with progress
    run = Recompute.select().order_by(Recompute.id.desc()).first()
    assert run.finished_at is not None and run.done == run.total == 1
    after = {c.kind: c for c in Cycle.select().where(Cycle.task_id == task.id)}
    assert after["resolution"].due_at == at("2026-03-02T11:00Z")  # running: recomputed
    assert after["first_response"].state == "breached"  # stopped: a breach stays a breach


def test_disabling_keeps_cycles_and_enabling_catches_up(org, make_policy, file_task, act, tick, workdesk_app):
    from workdesk.registry import set_plugin_enabled
    make_policy([{"kind": "resolution", "hours": 8}], warn_percent=0,
                levels=[{"delay_minutes": 0, "actions": [{"type": "notify", "to": ["head"]}]}])
    task = file_task("2026-03-02T07:00Z")
    set_plugin_enabled("escalation", False)
    act("2026-03-02T08:00Z", services.tasks.transition, org.agent, task.id, "open")
    act("2026-03-02T08:30Z", services.tasks.transition, org.agent, task.id, "in_progress")
    act("2026-03-02T09:00Z", services.tasks.transition, org.agent, task.id, "waiting")  # paused while off
    tick("2026-03-03T09:00Z")
    assert Cycle.select().where(Cycle.task_id == task.id).count() == 1  # kept
    set_plugin_enabled("escalation", True)
    tick("2026-03-03T09:01Z")  # caught up from the audit trail: paused since Monday 11:00 local, nothing fired
    cycle = Cycle.get(Cycle.task_id == task.id)
    assert cycle.segment_start is None and cycle.consumed_seconds == 2 * 3600
    assert notes(org.helpdesk_head) == []


def test_a_calendar_change_recomputes_running_clocks(org, make_policy, file_task, tick):
    make_policy([{"kind": "resolution", "hours": 8}], warn_percent=0)
    task = file_task("2026-03-02T07:00Z")  # Monday 09:00 Sofia: due 17:00 local (15:00 UTC)
    tick("2026-03-02T08:00Z")  # the job notes the calendars as they are
    assert Cycle.get(Cycle.task_id == task.id).due_at == at("2026-03-02T15:00Z")
    org.calendar.weekly_hours = {**org.calendar.weekly_hours, "mon": [["09:00", "13:00"]]}
    org.calendar.save()  # Mondays end at 13:00 now: 4 h on Monday, 4 h on Tuesday from 09:00
    tick("2026-03-02T08:01Z")
    assert Cycle.get(Cycle.task_id == task.id).due_at == at("2026-03-03T11:00Z")
    assert Recompute.select().where(Recompute.reason == "calendars changed").count() == 1
