"""Internal notes and the clocks: a note answers nobody (first response and update keep running, a public
comment meets them), and the chain's ``comment`` action posts one real internal note per firing, which a
requester never sees."""
from __future__ import annotations

from workdesk import Comment, TaskEvent, services
from workdesk.plugins.escalation.models import Cycle, Firing

from .conftest import BOTH_DATABASES, at

pytestmark = BOTH_DATABASES

NOTE = "Escalated: the head of Helpdesk has been told"


def cycles(task, kind):
    return list(Cycle.select().where((Cycle.task_id == task.id) & (Cycle.kind == kind)).order_by(Cycle.number))


def test_an_internal_note_leaves_first_response_running_and_a_public_comment_stops_it(org, make_policy, file_task,
                                                                                     act, tick):
    make_policy([{"kind": "first_response", "hours": 2}, {"kind": "update", "hours": 4}], warn_percent=0)
    task = file_task("2026-03-02T07:00Z")  # Monday 09:00 Sofia, by the requester: first response due 09:00Z
    act("2026-03-02T07:30Z", services.tasks.add_comment, org.agent, task.id, "Probably the fuser", internal=True)
    [first] = cycles(task, "first_response")
    assert first.state == "running" and first.stopped_at is None and first.due_at == at("2026-03-02T09:00Z")
    assert len(cycles(task, "update")) == 1  # nor is a note an update
    tick("2026-03-02T08:00Z")
    assert Cycle.get_by_id(first.id).state == "running"
    act("2026-03-02T08:30Z", services.tasks.add_comment, org.agent, task.id, "A technician comes at noon")
    first = Cycle.get_by_id(first.id)
    assert first.state == "met" and first.stopped_at == at("2026-03-02T08:30Z") and first.next_check_at is None
    update = cycles(task, "update")
    assert [c.state for c in update] == ["met", "running"] and update[1].started_at == at("2026-03-02T08:30Z")


def test_a_note_after_the_deadline_does_not_meet_it(org, make_policy, file_task, act, tick):
    make_policy([{"kind": "first_response", "hours": 1}], warn_percent=0)
    task = file_task("2026-03-02T07:00Z")
    act("2026-03-02T07:50Z", services.tasks.add_comment, org.agent, task.id, "Looking", internal=True)
    tick("2026-03-02T08:00Z")
    assert Firing.select().where((Firing.task_id == task.id) & (Firing.step == 1)).count() == 1  # breached
    [cycle] = cycles(task, "first_response")
    assert cycle.breached_at == at("2026-03-02T08:00Z")


def test_the_comment_action_posts_one_internal_note_a_requester_does_not_see(org, make_policy, file_task, tick,
                                                                             api_client):
    from workdesk.plugins.escalation import scan
    make_policy([{"kind": "resolution", "hours": 1}], warn_percent=0,
                levels=[{"delay_minutes": 0, "actions": [{"type": "comment", "body": NOTE}]}])
    task = file_task("2026-03-02T07:00Z")  # filed by the requester
    tick("2026-03-02T08:00Z")  # breached: level 1 posts the note
    for instant in ("2026-03-02T08:00Z", "2026-03-02T08:01Z", "2026-03-02T09:00Z"):  # replays, scans
        tick(instant)
    notes = list(Comment.select().where(Comment.task == task.id))
    assert len(notes) == 1
    note = notes[0]
    assert note.internal and note.body == NOTE and note.author_id == org.admin.id  # the system actor
    firing = Firing.get((Firing.task_id == task.id) & (Firing.step == 2))
    assert {"type": "comment", "note": 1, "comment_id": note.id} in firing.actions
    trail = TaskEvent.select().where((TaskEvent.task_id == task.id) & (TaskEvent.kind == "commented"))
    assert [(e.actor_id, e.changes.get("internal")) for e in trail] == [(org.admin.id, [None, True])]

    # The same firing run again (its actions redone) posts no second note.
    scan._change_task(task, [{"type": "comment", "body": NOTE, "user_ids": []}], firing.id, [])
    assert Comment.select().where(Comment.task == task.id).count() == 1

    requester, agent = api_client(user=org.requester), api_client(user=org.agent)
    seen = requester.get(f"/api/v1/tasks/{task.id}/comments")
    assert seen.status_code == 200 and seen.json["items"] == []
    assert requester.get(f"/api/v1/tasks/{task.id}/comments/{note.id}/revisions").status_code == 404
    assert [c["id"] for c in agent.get(f"/api/v1/tasks/{task.id}/comments").json["items"]] == [note.id]
    assert list(services.tasks.visible_comments(org.requester, task)) == []
