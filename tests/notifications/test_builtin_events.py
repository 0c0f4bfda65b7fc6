"""The core's own notifications: assignment, comments, status changes and mentions."""
from __future__ import annotations

import pytest

from workdesk.models import OutboxEvent
from workdesk.notifications import Notification, mark_read, notify
from workdesk.notifications.events import mentioned_users
from workdesk.outbox import process
from workdesk.services import tasks


def inbox(user):
    return [(n.kind, n.subject) for n in Notification.select().where(Notification.recipient == user)
            .order_by(Notification.id)]


def kinds(user):
    return [kind for kind, _subject in inbox(user)]


def test_assigning_notifies_the_assignee_but_not_an_actor_assigning_themself(make_user, make_department,
                                                                             make_task, drain_events):
    dept = make_department()
    boss, agent = make_user("manager", [dept]), make_user("agent", [dept])
    task = make_task(boss, dept, title="Fix the boiler")
    tasks.assign(boss, task.id, agent.id)
    drain_events()
    assert inbox(agent) == [("task.assigned", f"Assigned to you: #{task.number} Fix the boiler")]
    note = Notification.get(Notification.recipient == agent)
    assert note.task_id == task.id and f"{boss.name} assigned" in note.body

    own = make_task(agent, dept, title="Mine", assignee_id=agent.id)
    drain_events()
    assert [n for n in inbox(agent) if "Mine" in n[1]] == []
    assert own.assignee_id == agent.id


def test_a_comment_notifies_reporter_assignee_and_watchers_except_its_author(make_user, make_department,
                                                                             make_task, drain_events):
    dept = make_department()
    reporter, assignee, watcher, author = (make_user("agent", [dept]) for _ in range(4))
    bystander = make_user("agent", [dept])
    task = make_task(reporter, dept, assignee_id=assignee.id, watcher_ids=[watcher.id, author.id])
    drain_events()
    Notification.delete().execute()
    tasks.add_comment(author, task.id, "Parts arrive on Monday.")
    drain_events()
    for person in (reporter, assignee, watcher):
        assert kinds(person) == ["task.commented"]
        note = Notification.get(Notification.recipient == person)
        assert note.body == "Parts arrive on Monday." and author.name in note.subject
    assert kinds(author) == [] and kinds(bystander) == []


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_a_quiet_watcher_sees_the_task_but_the_core_tells_them_nothing(make_user, make_department, make_task,
                                                                      drain_events):
    """A plugin makes someone watch only so they can see the task (add_watchers(..., quiet=True)): comments
    and status changes reach the others, not them; replacing the watchers keeps them quiet."""
    from workdesk.access import can_see
    from workdesk.models import TaskWatcher
    dept, elsewhere = make_department(), make_department()
    reporter, loud = make_user("agent", [dept]), make_user("agent", [elsewhere])
    quiet = make_user("requester", [elsewhere])
    task = make_task(reporter, dept)
    assert tasks.add_watchers(task.id, [quiet.id], quiet=True) == [quiet.id]
    tasks.add_watchers(task.id, [loud.id])
    assert can_see(quiet, task)
    drain_events()
    Notification.delete().execute()
    tasks.add_comment(reporter, task.id, "Parts arrive on Monday.")
    tasks.transition(reporter, task.id, "open")
    drain_events()
    assert kinds(loud) == ["task.commented", "task.status_changed"] and kinds(quiet) == []
    other = make_user("agent", [dept])
    tasks.update_task(reporter, task.id, {"watcher_ids": [quiet.id, loud.id, other.id]})
    assert {w.user_id: w.quiet for w in TaskWatcher.select().where(TaskWatcher.task == task.id)} == {
        quiet.id: True, loud.id: False, other.id: False}


def test_a_status_change_notifies_participants_except_the_actor(make_user, make_department, make_task,
                                                                drain_events):
    dept = make_department()
    reporter, assignee, watcher = (make_user("agent", [dept]) for _ in range(3))
    task = make_task(reporter, dept, assignee_id=assignee.id, watcher_ids=[watcher.id])
    drain_events()
    Notification.delete().execute()
    tasks.transition(assignee, task.id, "open")
    drain_events()
    assert kinds(reporter) == ["task.status_changed"] and kinds(watcher) == ["task.status_changed"]
    assert kinds(assignee) == []
    note = Notification.get(Notification.recipient == reporter)
    assert "from New to Open" in note.body and note.subject.endswith("is now Open")
    tasks.transition(assignee, task.id, "in_progress")
    drain_events()
    note = Notification.select().where(Notification.recipient == reporter).order_by(Notification.id.desc()).get()
    assert "from Open to In progress" in note.body and note.subject.endswith("is now In progress")
    assert "in_progress" not in note.subject + note.body  # the reader's word, not the stored key

    tasks.update_task(assignee, task.id, {"title": "Renamed"})  # no status change: nobody hears
    drain_events()
    assert len(inbox(reporter)) == 2


def test_system_status_change_notifies_everyone_involved(make_user, make_department, make_task, drain_events):
    dept = make_department()
    reporter = make_user("agent", [dept])
    task = make_task(reporter, dept)
    drain_events()
    tasks.system_transition(task.id, "open", reason="escalation")
    drain_events()
    assert kinds(reporter) == ["task.status_changed"]
    assert "Workdesk moved" in Notification.get(Notification.recipient == reporter).body


def test_mentions_by_email_and_by_name_reach_people_who_can_see_the_task(make_user, make_department,
                                                                         make_task, drain_events):
    dept, other_dept = make_department(), make_department()
    author = make_user("agent", [dept])
    by_email = make_user("agent", [dept], email="bob.builder@example.com", name="Bob Builder")
    by_name = make_user("agent", [dept], name="Ann Lee")
    longer_name = make_user("agent", [dept], name="Ann Leeway")
    outsider = make_user("requester", [other_dept], name="Olga Outside")
    task = make_task(author, dept, watcher_ids=[by_name.id])
    drain_events()
    Notification.delete().execute()
    tasks.add_comment(author, task.id, "@bob.builder@example.com and @ann lee, please check. "
                                       "@Olga Outside cannot see this; mail me at author@x.org")
    drain_events()
    assert kinds(by_email) == ["task.mentioned"]
    # A watcher who is mentioned gets the mention instead of the comment note: one note per person.
    assert kinds(by_name) == ["task.mentioned"]
    assert kinds(longer_name) == [] and kinds(outsider) == [] and kinds(author) == []
    assert f"{author.name} mentioned you" in Notification.get(Notification.recipient == by_email).subject


def test_mentions_in_a_description_reach_people_once_when_filed_and_when_newly_added(make_user, make_department,
                                                                                      make_task, drain_events):
    dept, other_dept = make_department(), make_department()
    author = make_user("agent", [dept], name="Dora Author")
    ann = make_user("agent", [dept], name="Ann Lee")
    bob = make_user("agent", [dept], name="Bob Builder")
    outsider = make_user("requester", [other_dept], name="Olga Outside")
    task = make_task(author, dept, description="@Ann Lee please look; @Olga Outside cannot see it; @Dora Author")
    drain_events()
    assert inbox(ann) == [("task.mentioned", f"Dora Author mentioned you on #{task.number} {task.title}")]
    assert kinds(outsider) == [] and kinds(author) == [] and kinds(bob) == []
    assert "please look" in Notification.get(Notification.recipient == ann).body

    # An edit tells only who is newly mentioned; an edit without new mentions tells nobody.
    tasks.update_task(author, task.id, {"description": "@Ann Lee please look, with @bob builder"})
    tasks.update_task(author, task.id, {"description": "@Ann Lee and @Bob Builder: thanks"})
    drain_events()
    assert kinds(ann) == ["task.mentioned"] and kinds(bob) == ["task.mentioned"]
    # Someone else editing mentions its author, who is told like anyone.
    tasks.update_task(bob, task.id, {"description": "Over to @Dora Author"})
    drain_events()
    assert kinds(author) == ["task.mentioned"] and "Bob Builder mentioned you" in inbox(author)[0][1]


def test_mention_parsing_prefers_the_longest_name_and_ignores_addresses_in_words(make_user):
    ann = make_user(name="Ann Lee")
    annway = make_user(name="Ann Leeway")
    make_user(email="carol@example.com", name="Carol")
    assert [u.id for u in mentioned_users("(@Ann Leeway) thanks")] == [annway.id]
    assert [u.id for u in mentioned_users("hi @ann lee.")] == [ann.id]
    assert mentioned_users("write to carol@example.com or @nobody") == []
    assert [u.name for u in mentioned_users("@carol@example.com")] == ["Carol"]


def test_a_handler_repeated_after_a_crash_stores_nothing_new(make_user, make_department, make_task,
                                                            drain_events):
    dept = make_department()
    boss, agent = make_user("manager", [dept]), make_user("agent", [dept])
    task = make_task(boss, dept)
    drain_events()
    tasks.assign(boss, task.id, agent.id)
    event = OutboxEvent.select().where(OutboxEvent.kind == "task.assigned").order_by(OutboxEvent.id.desc()).get()
    drain_events()
    # The worker died after notifying but before recording it: the event is handled again.
    from workdesk.models import OutboxDelivery
    OutboxDelivery.delete().where(OutboxDelivery.event == event).execute()
    process(OutboxEvent.get_by_id(event.id))
    assert kinds(agent) == ["task.assigned"]


def test_inactive_recipients_get_nothing_and_mark_read_is_private(make_user):
    active, inactive = make_user(), make_user()
    inactive.is_active = False
    inactive.save()
    assert notify(inactive, "x.test", "Hello") is None
    note = notify(active, "x.test", "Hello")
    other = make_user()
    import pytest
    from workdesk.errors import NotFound
    with pytest.raises(NotFound):
        mark_read(other, note.id)
    assert mark_read(active, note.id).is_read
