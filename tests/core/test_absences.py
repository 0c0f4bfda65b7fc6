"""Absences in the core: validation, who may record them, the public API plugins use, their events through
the outbox and the periodic job, and notifications reaching the delegate. On SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk import absences
from workdesk.db import db
from workdesk.errors import Forbidden, NotFound, ValidationFailed
from workdesk.models import Absence
from workdesk.notifications import Notification, set_preferences
from workdesk.services import tasks
from workdesk.services.users import update_department, update_user

from .absence_plugin import RECEIVED

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
UTC = dt.timezone.utc


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "extra_plugins": [*workdesk_config["extra_plugins"],
                                                 "tests.core.absence_plugin:AbsenceRecorderPlugin"]}


@pytest.fixture
def team(make_department, make_user):
    dept = make_department("Support")
    ana = make_user("agent", [dept], name="Ana Agent")
    bob = make_user("agent", [dept], name="Bob Backup")
    head = make_user("agent", [], name="Hana Head")
    admin = make_user("admin", name="Ada Admin")
    update_department(admin, dept.id, {"head_id": head.id})
    outsider = make_user("agent", [make_department("Lab")], name="Olga Outsider")
    return dept, ana, bob, head, admin, outsider


def soon(hours: float) -> dt.datetime:
    return (dt.datetime.now(UTC) + dt.timedelta(hours=hours)).replace(microsecond=0)


@pytest.mark.parametrize("change, field, message", [
    ({"ends_at": "start"}, "ends_at", "The end must come after the start."),
    ({"delegate_id": "self"}, "delegate_id", "Someone else must stand in for the person who is away."),
    ({"delegate_id": 999999}, "delegate_id", "No user with id 999999."),
    ({"delegate_id": 2 ** 40}, "delegate_id", f"No user with id {2 ** 40}."),
    ({"note": "x" * 501}, "note", "At most 500 characters."),
    ({"starts_at": None}, "starts_at", "A start date and time is required."),
])
def test_validation_names_the_field(team, change, field, message):
    dept, ana, bob, *_ = team
    values = {"starts_at": soon(1), "ends_at": soon(5), "delegate_id": bob.id, "note": ""}
    if change.get("ends_at") == "start":
        change = {"ends_at": values["starts_at"]}
    if change.get("delegate_id") == "self":
        change = {"delegate_id": ana.id}
    with pytest.raises(ValidationFailed) as refused:
        absences.create_absence(ana, **{**values, **change})
    assert refused.value.fields[field] == [message]
    assert Absence.select().count() == 0


@BOTH_DATABASES
def test_periods_of_one_person_never_overlap(team):
    dept, ana, bob, *_ = team
    first = absences.create_absence(ana, starts_at=soon(24), ends_at=soon(48))
    with pytest.raises(ValidationFailed) as refused:
        absences.create_absence(ana, starts_at=soon(47), ends_at=soon(50))
    assert refused.value.fields["starts_at"][0].startswith("Overlaps the absence from")
    absences.create_absence(ana, starts_at=soon(48), ends_at=soon(50))  # back-to-back is fine
    absences.create_absence(bob, starts_at=soon(24), ends_at=soon(48))  # another person's is theirs
    with pytest.raises(ValidationFailed):
        absences.update_absence(ana, first.id, {"ends_at": soon(49)})
    assert absences.update_absence(ana, first.id, {"ends_at": soon(30)}).ends_at == soon(30)


def test_an_inactive_delegate_is_refused(team):
    dept, ana, bob, head, admin, _ = team
    update_user(admin, bob.id, {"is_active": False})
    with pytest.raises(ValidationFailed) as refused:
        absences.create_absence(ana, starts_at=soon(1), ends_at=soon(2), delegate_id=bob.id)
    assert refused.value.fields == {"delegate_id": ["Bob Backup is deactivated."]}


def test_who_may_record_someone_elses_absence(team):
    dept, ana, bob, head, admin, outsider = team
    by_head = absences.create_absence(head, user_id=ana.id, starts_at=soon(1), ends_at=soon(2))
    by_admin = absences.create_absence(admin, user_id=ana.id, starts_at=soon(3), ends_at=soon(4))
    assert by_head.created_by_id == head.id and by_admin.user_id == ana.id
    for actor in (bob, outsider):  # a colleague, someone of another department
        with pytest.raises(Forbidden):
            absences.create_absence(actor, user_id=ana.id, starts_at=soon(5), ends_at=soon(6))
        with pytest.raises(NotFound):  # and their absences stay hidden from them
            absences.delete_absence(actor, by_head.id)
    with pytest.raises(Forbidden):  # the head of Support is not the head of the Lab
        absences.create_absence(head, user_id=outsider.id, starts_at=soon(1), ends_at=soon(2))
    assert absences.heads_of(ana) == [head]


@BOTH_DATABASES
def test_the_public_api(team):
    dept, ana, bob, head, admin, outsider = team
    start, end = dt.datetime(2026, 5, 4, 7, tzinfo=UTC), dt.datetime(2026, 5, 8, 15, tzinfo=UTC)
    absences.create_absence(admin, user_id=ana.id, starts_at=start, ends_at=end, delegate_id=bob.id)
    absences.create_absence(admin, user_id=outsider.id, starts_at=start + dt.timedelta(days=1), ends_at=end)
    assert not absences.is_absent(ana, start - dt.timedelta(seconds=1))
    assert absences.is_absent(ana, start) and absences.is_absent(ana.id, end - dt.timedelta(seconds=1))
    assert not absences.is_absent(ana, end)  # the end is the first instant back
    assert absences.delegate_for(ana, start) == bob and absences.delegate_for(bob, start) is None
    noon = start + dt.timedelta(days=1, hours=5)
    assert absences.absent_user_ids(noon) == {ana.id, outsider.id}
    assert absences.absent_user_ids(noon, user_ids=[ana.id, bob.id]) == {ana.id}
    assert absences.absent_user_ids(noon, user_ids=[]) == set()
    assert absences.absent_user_ids(start) == {ana.id}
    assert {a.user_id: a.delegate.name for a in absences.current_absences(at=start).values()} == {ana.id: "Bob Backup"}
    week = absences.absences_between(dt.datetime(2026, 5, 8, tzinfo=UTC), dt.datetime(2026, 5, 15, tzinfo=UTC))
    assert [a.user_id for a in week] == sorted([ana.id, outsider.id])
    update_user(admin, bob.id, {"is_active": False})
    assert absences.delegate_for(ana, start) is None  # nobody stands in once the delegate is gone

    statements = []
    original = db.obj.execute_sql
    db.obj.execute_sql = lambda sql, params=None, *a, **k: statements.append(sql) or original(sql, params, *a, **k)
    try:
        absences.absent_user_ids(noon, user_ids=range(1, 5000))
    finally:
        db.obj.execute_sql = original
    assert len(statements) == 1  # set-based: one query for any number of people


@BOTH_DATABASES
def test_events_fire_once_as_periods_begin_and_end(team, enable_plugin, run_jobs, drain_events):
    dept, ana, bob, head, admin, _ = team
    enable_plugin("absencerecorder")
    RECEIVED.clear()
    start = dt.datetime.now(UTC).replace(microsecond=0) + dt.timedelta(hours=2)
    absence = absences.create_absence(head, user_id=ana.id, starts_at=start, ends_at=start + dt.timedelta(hours=8),
                                      delegate_id=bob.id)
    drain_events()
    assert RECEIVED == [("changed", absence.id, ana.id, "created", head.id)]
    RECEIVED.clear()
    run_jobs(start - dt.timedelta(minutes=1), force=True)
    assert RECEIVED == []
    for _ in range(3):  # a replayed or repeated run announces once
        run_jobs(start + dt.timedelta(minutes=1), force=True)
    assert [r[:3] for r in RECEIVED] == [("started", absence.id, ana.id)]
    run_jobs(start + dt.timedelta(hours=8), force=True)
    run_jobs(start + dt.timedelta(hours=9), force=True)
    assert [r[0] for r in RECEIVED] == ["started", "ended"]


@BOTH_DATABASES
def test_an_absence_recorded_mid_period_starts_at_once_and_a_deleted_one_ends(team, enable_plugin, drain_events):
    dept, ana, bob, head, admin, _ = team
    enable_plugin("absencerecorder")
    RECEIVED.clear()
    now = dt.datetime.now(UTC)
    ongoing = absences.create_absence(ana, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=3))
    past = absences.create_absence(ana, starts_at=now - dt.timedelta(days=3), ends_at=now - dt.timedelta(days=2))
    drain_events()
    assert sorted(r[0] for r in RECEIVED if r[1] == ongoing.id) == ["changed", "started"]
    assert [r[0] for r in RECEIVED if r[1] == past.id] == ["changed"]  # history is not announced
    RECEIVED.clear()
    absences.update_absence(ana, ongoing.id, {"starts_at": now + dt.timedelta(hours=1)})  # moved ahead: back for now
    drain_events()
    assert sorted(r[0] for r in RECEIVED) == ["changed", "ended"]
    RECEIVED.clear()
    absences.update_absence(ana, ongoing.id, {"starts_at": now - dt.timedelta(minutes=5)})
    absences.delete_absence(ana, ongoing.id)
    drain_events()
    assert [r[0] for r in RECEIVED] == ["changed", "started", "changed", "ended"]
    assert RECEIVED[-1][1] == ongoing.id and Absence.get_or_none(Absence.id == ongoing.id) is None


@BOTH_DATABASES
def test_notifications_to_an_absent_person_also_reach_their_delegate(team, make_task, drain_events):
    dept, ana, bob, head, admin, outsider = team
    now = dt.datetime.now(UTC)
    absences.create_absence(ana, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(days=2),
                            delegate_id=bob.id)
    task = make_task(head, dept, title="Printer on fire")
    tasks.assign(admin, task.id, ana.id)
    drain_events()
    drain_events()  # a redelivery adds nothing
    assert [(n.kind, n.subject) for n in Notification.select().where(Notification.recipient == ana)] == [
        ("task.assigned", f"Assigned to you: #{task.number} Printer on fire")]
    delegated = list(Notification.select().where(Notification.recipient == bob))
    assert [(n.kind, n.subject, n.task_id) for n in delegated] == [
        ("task.assigned", f"For Ana Agent, who is away: Assigned to you: #{task.number} Printer on fire", task.id)]

    # The delegate's own preferences decide: with an hourly digest the note waits for it.
    set_preferences(bob, digest="hourly")
    tasks.add_comment(head, task.id, "Any news?")
    drain_events()
    comment_note = Notification.get((Notification.recipient == bob) & (Notification.kind == "task.commented"))
    assert comment_note.held_for_digest and comment_note.subject.startswith("For Ana Agent, who is away:")

    # A delegate who may not see the task is not told about it; one hop only.
    absences.create_absence(bob, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=5),
                            delegate_id=outsider.id)
    tasks.add_comment(head, task.id, "Hello?")
    drain_events()
    assert Notification.select().where(Notification.recipient == outsider).count() == 0


def test_a_present_person_has_no_one_informed(team, make_task, drain_events):
    dept, ana, bob, head, admin, _ = team
    absences.create_absence(ana, starts_at=soon(24), ends_at=soon(48), delegate_id=bob.id)
    task = make_task(head, dept, title="Tomorrow's problem")
    tasks.assign(admin, task.id, ana.id)
    drain_events()
    assert Notification.select().where(Notification.recipient == bob).count() == 0


@BOTH_DATABASES
def test_announced_absence_follows_the_announcements_not_the_clock(team, run_jobs):
    dept, ana, bob, head, admin, _ = team
    start = dt.datetime.now(UTC).replace(microsecond=0) + dt.timedelta(hours=2)
    absence = absences.create_absence(admin, user_id=ana.id, starts_at=start, ends_at=start + dt.timedelta(hours=8),
                                      delegate_id=bob.id)
    assert absences.announced_absence(ana) is None
    run_jobs(start, force=True)
    assert absences.announced_absence(ana) == absence and absences.announced_absence(bob.id) is None
    run_jobs(start + dt.timedelta(hours=8), force=True)
    assert absences.announced_absence(ana.id) is None


@BOTH_DATABASES
def test_deactivating_someone_is_announced_once_after_commit(team, enable_plugin, drain_events):
    """``on_user_deactivated``: once per deactivation of an active person, whoever saves the user again."""
    dept, ana, bob, head, admin, outsider = team
    enable_plugin("absencerecorder")
    drain_events()
    RECEIVED.clear()
    update_user(admin, ana.id, {"is_active": False})
    update_user(admin, ana.id, {"is_active": False, "name": "Ana (left)"})  # already inactive: no second event
    drain_events()
    assert RECEIVED == [("deactivated", ana.id, admin.id, False)]
    RECEIVED.clear()
    update_user(admin, ana.id, {"is_active": True})
    update_user(admin, bob.id, {"name": "Bob B."})
    drain_events()
    assert RECEIVED == []
    update_user(admin, ana.id, {"is_active": False})
    drain_events()
    assert RECEIVED == [("deactivated", ana.id, admin.id, False)]
