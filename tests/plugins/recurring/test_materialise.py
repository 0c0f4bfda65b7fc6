"""Rules driven through months of simulated time by the periodic job (as ``workdesk tick --at`` runs it)."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk import Calendar, Department, Notification, Task, User, ValidationFailed
from workdesk.registry import get_registry, set_plugin_enabled
from workdesk.services import tasks as task_service
from workdesk.services import users as user_service

from .conftest import UTC, at

# Every scenario runs on SQLite and on PostgreSQL (skipped with a reason without TEST_POSTGRES_URL).
pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def walk(tick, start: str, end: str, step: dt.timedelta) -> None:
    """Tick at every ``step`` from ``start`` to ``end`` inclusive."""
    instant, stop = at(start), at(end)
    while instant <= stop:
        tick(instant.isoformat())
        instant += step


def local_dates(rule_tasks, rule, zone: str = "UTC") -> list[str]:
    from zoneinfo import ZoneInfo
    return [occurrence.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") for _task, occurrence in rule_tasks(rule)]


def reload(rule):
    return type(rule).get_by_id(rule.id)


# -- time ---------------------------------------------------------------------------------------------

def test_weekly_rule_keeps_local_time_through_both_dst_changes(make_rule, tick, rule_tasks):
    rule = make_rule(dtstart="2026-03-16T09:00", catch_up="all", catch_up_limit=100)
    # 09:00 Sofia is 07:00 UTC in winter and 06:00 UTC in summer (from 29 March to 25 October 2026).
    for day, utc_hour in (("2026-03-23", 7), ("2026-03-30", 6), ("2026-10-19", 6), ("2026-10-26", 7)):
        occurrence = at(f"{day}T{utc_hour:02d}:00Z")
        tick((occurrence - dt.timedelta(hours=2)).isoformat())  # settles the weeks before
        before = len(rule_tasks(rule))
        tick((occurrence - dt.timedelta(minutes=1)).isoformat())
        assert len(rule_tasks(rule)) == before, f"created too early on {day}"
        tick(occurrence.isoformat())
        assert len(rule_tasks(rule)) == before + 1, f"not created at 09:00 local on {day}"
    tick("2026-11-10T00:00Z")
    dates = local_dates(rule_tasks, rule, "Europe/Sofia")
    assert dates[0] == "2026-03-16 09:00" and dates[-1] == "2026-11-09 09:00"
    assert len(dates) == len(set(dates)) == 35 and all(d.endswith("09:00") for d in dates)


def test_month_end_rules_over_a_year(make_rule, tick, rule_tasks):
    the_31st = make_rule(title="Payroll", timezone="UTC", dtstart="2026-01-31T08:00", rrule="FREQ=MONTHLY;BYMONTHDAY=31")
    last_weekday = make_rule(title="Invoices", timezone="UTC", dtstart="2026-01-01T16:00",
                             rrule="FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1")
    walk(tick, "2026-01-01T23:00Z", "2026-12-31T23:00Z", dt.timedelta(days=1))  # late each day: "latest" catches up
    assert [d[:10] for d in local_dates(rule_tasks, the_31st)] == [
        "2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31", "2026-08-31", "2026-10-31", "2026-12-31"]
    assert [d[:10] for d in local_dates(rule_tasks, last_weekday)] == [
        "2026-01-30", "2026-02-27", "2026-03-31", "2026-04-30", "2026-05-29", "2026-06-30", "2026-07-31",
        "2026-08-31", "2026-09-30", "2026-10-30", "2026-11-30", "2026-12-31"]


def test_exdate_and_count_end_the_rule(make_rule, tick, rule_tasks):
    rule = make_rule(rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=4", exdates=["2026-01-12T09:00"])
    walk(tick, "2026-01-01T00:00Z", "2026-03-01T00:00Z", dt.timedelta(hours=6))
    assert [d[:10] for d in local_dates(rule_tasks, rule, "Europe/Sofia")] == ["2026-01-05", "2026-01-19", "2026-01-26"]
    rule = reload(rule)
    assert rule.status == "ended" and rule.next_run_at is None


def test_until_ends_the_rule(make_rule, tick, rule_tasks):
    rule = make_rule(rrule="FREQ=DAILY;UNTIL=20260108T235959")
    walk(tick, "2026-01-04T00:00Z", "2026-01-20T00:00Z", dt.timedelta(hours=6))
    assert [d[:10] for d in local_dates(rule_tasks, rule, "Europe/Sofia")] == [
        "2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08"]
    assert reload(rule).status == "ended"


# -- catch-up ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("policy, expected", [
    ("all", ["2026-01-01", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09", "2026-01-10", "2026-01-11"]),
    ("latest", ["2026-01-01", "2026-01-10", "2026-01-11"]),
    ("none", ["2026-01-01", "2026-01-11"]),
])
def test_catch_up_policies_after_downtime(make_rule, tick, rule_tasks, policy, expected):
    rule = make_rule(timezone="UTC", dtstart="2026-01-01T09:00", rrule="FREQ=DAILY", catch_up=policy, catch_up_limit=5)
    tick("2026-01-01T09:00Z")
    # The worker is down from 1 to 10 January; it comes back at 10:30, 90 minutes after the 10th's occurrence.
    tick("2026-01-10T10:30Z")
    tick("2026-01-11T09:00Z")
    assert [d[:10] for d in local_dates(rule_tasks, rule)] == expected


def test_rules_sharing_a_recurrence_keep_their_own_cursor_and_policy(make_rule, tick, rule_tasks):
    # One tick works out the due occurrences once per recurrence and cursor; each rule still applies its own
    # catch-up policy, and a rule settled up to another occurrence gets its own answer.
    daily = {"timezone": "UTC", "dtstart": "2026-01-01T09:00", "rrule": "FREQ=DAILY"}
    late_all = make_rule(now="2026-01-02T12:00Z", catch_up="all", **daily)  # settled first (lowest id)
    early_latest = make_rule(catch_up="latest", **daily)
    early_all = make_rule(catch_up="all", **daily)
    tick("2026-01-03T09:00Z")
    assert [d[:10] for d in local_dates(rule_tasks, early_all)] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert [d[:10] for d in local_dates(rule_tasks, early_latest)] == ["2026-01-03"]
    assert [d[:10] for d in local_dates(rule_tasks, late_all)] == ["2026-01-03"]
    for rule in (early_all, early_latest, late_all):
        assert reload(rule).next_occurrence_at == at("2026-01-04T09:00Z")


def test_an_occurrence_late_within_the_grace_period_is_not_missed(make_rule, tick, rule_tasks):
    rule = make_rule(timezone="UTC", dtstart="2026-01-01T09:00", rrule="FREQ=DAILY", catch_up="none")
    tick("2026-01-01T09:45Z")
    assert len(rule_tasks(rule)) == 1


def test_the_grace_period_is_a_setting(make_rule, tick, rule_tasks):
    from workdesk.registry import save_plugin_settings
    save_plugin_settings("recurring", {"catch_up_grace_minutes": 15})
    rule = make_rule(timezone="UTC", dtstart="2026-01-01T09:00", rrule="FREQ=DAILY", catch_up="none")
    tick("2026-01-01T09:45Z")  # 45 minutes late is missed with a 15-minute grace
    tick("2026-01-02T09:10Z")
    assert [d[:10] for d in local_dates(rule_tasks, rule)] == ["2026-01-02"]


def test_skip_while_previous_is_open(make_rule, tick, rule_tasks, team):
    rule = make_rule(timezone="UTC", dtstart="2026-01-01T09:00", rrule="FREQ=DAILY", skip_if_open=True)
    walk(tick, "2026-01-01T09:00Z", "2026-01-04T09:00Z", dt.timedelta(days=1))
    assert [d[:10] for d in local_dates(rule_tasks, rule)] == ["2026-01-01"]
    first, _ = rule_tasks(rule)[0]
    for status in ("open", "in_progress", "resolved"):
        task_service.transition(team["admin"], first.id, status)
    tick("2026-01-05T09:00Z")
    assert [d[:10] for d in local_dates(rule_tasks, rule)] == ["2026-01-01", "2026-01-05"]


# -- anchors and working days ---------------------------------------------------------------------------

def test_completion_anchor_follows_when_the_previous_was_done(make_rule, tick, rule_tasks, team, drain_events,
                                                             recurring):
    rule = make_rule(timezone="UTC", dtstart="2026-01-05T09:00", rrule="FREQ=DAILY;INTERVAL=7", anchor="completion")
    assert recurring.sentence(rule) == "7 days after the previous one is done at 9:00\u202fAM, UTC"
    tick("2026-01-05T09:00Z")
    walk(tick, "2026-01-06T09:00Z", "2026-02-20T09:00Z", dt.timedelta(days=1))
    assert len(rule_tasks(rule)) == 1  # nothing new while the first one is open
    task, _ = rule_tasks(rule)[0]
    for status in ("open", "in_progress", "resolved"):
        task_service.transition(team["admin"], task.id, status)
    drain_events()  # the worker delivers on_task_updated; the rule schedules its next occurrence
    done = Task.get_by_id(task.id).resolved_at
    expected = dt.datetime.combine(done.date() + dt.timedelta(days=7), dt.time(9), UTC)
    assert reload(rule).next_run_at == expected
    tick((expected - dt.timedelta(minutes=1)).isoformat())
    assert len(rule_tasks(rule)) == 1
    tick(expected.isoformat())
    assert len(rule_tasks(rule)) == 2 and rule_tasks(rule)[1][1] == expected
    drain_events()
    assert reload(rule).next_run_at is None  # waiting for the second one to be done


@pytest.mark.parametrize("policy, expected", [
    ("create", ["2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09", "2026-03-10"]),
    ("skip", ["2026-03-06", "2026-03-10"]),
    ("previous", ["2026-03-06", "2026-03-10"]),
    ("next", ["2026-03-06", "2026-03-10"]),
])
def test_non_working_day_policy(recurring, team, tick, make_department, rule_tasks, policy, expected):
    calendar = Calendar.create(name=f"Office {policy}", timezone="Europe/Sofia",
                               weekly_hours={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")})
    from workdesk.models import Holiday
    Holiday.create(calendar=calendar, date=dt.date(2026, 3, 9), name="Monday off")
    department = make_department(calendar_id=calendar.id)
    rule = recurring.create_rule(team["admin"], {
        "title": "Daily round", "department_id": department.id, "timezone": "Europe/Sofia",
        "dtstart": "2026-03-06T08:00", "rrule": "FREQ=DAILY", "non_working_day": policy}, now=at("2026-03-01T00:00Z"))
    walk(tick, "2026-03-01T00:00Z", "2026-03-10T12:00Z", dt.timedelta(hours=4))
    from zoneinfo import ZoneInfo
    sofia = ZoneInfo("Europe/Sofia")
    created = [Task.get_by_id(t.id) for t, _ in rule_tasks(rule)]
    from workdesk.plugins.recurring.models import Occurrence
    effective = [Occurrence.get(Occurrence.task_id == t.id).effective_at.astimezone(sofia) for t in created]
    assert [e.date().isoformat() for e in effective] == expected
    assert all(e.strftime("%H:%M") == "08:00" for e in effective)
    if policy == "previous":  # Saturday to Monday collapse onto Friday, which already has its own
        assert len(created) == 2


# -- who gets it -------------------------------------------------------------------------------------

def test_fixed_and_round_robin_assignees(make_rule, tick, rule_tasks, team):
    agents = team["agents"]
    fixed = make_rule(title="Fixed", assign_mode="fixed", assignee_ids=[agents[0].id])
    rotation = make_rule(title="Rotation", assign_mode="round_robin", assignee_ids=[a.id for a in agents])
    user_service.update_user(team["admin"], agents[1].id, {"is_active": False})  # skipped in the rotation
    walk(tick, "2026-01-05T07:00Z", "2026-02-02T07:00Z", dt.timedelta(days=7))
    assert {t.assignee_id for t, _ in rule_tasks(fixed)} == {agents[0].id}
    assert [t.assignee_id for t, _ in rule_tasks(rotation)] == [agents[0].id, agents[2].id, agents[0].id,
                                                                agents[2].id, agents[0].id]


def test_proposal_mode_lets_the_dispatch_hook_decide(make_rule, tick, rule_tasks, team, enable_plugin):
    enable_plugin("last_candidate")
    rule = make_rule(assign_mode="proposal")
    tick("2026-01-05T07:00Z")
    assert [t.assignee_id for t, _ in rule_tasks(rule)] == [team["agents"][-1].id]


def test_one_task_per_member(make_rule, tick, rule_tasks, team):
    rule = make_rule(assign_mode="each_member", skip_if_open=True)
    tick("2026-01-05T07:00Z")
    members = sorted([team["admin"].id] + [a.id for a in team["agents"]])
    assert sorted(t.assignee_id for t, _ in rule_tasks(rule)) == members
    first_agent_task = next(t for t, _ in rule_tasks(rule) if t.assignee_id == team["agents"][0].id)
    for status in ("open", "in_progress", "resolved"):
        task_service.transition(team["admin"], first_agent_task.id, status)
    tick("2026-01-12T07:00Z")  # only the member who finished gets the next one; the others still have theirs open
    second = [t.assignee_id for t, occurrence in rule_tasks(rule) if occurrence == at("2026-01-12T07:00Z")]
    assert second == [team["agents"][0].id]


def test_only_people_who_may_work_the_departments_tasks_are_assigned(make_rule, tick, rule_tasks, team, recurring,
                                                                     make_user, make_department, enable_plugin):
    """The core's one definition of an assignee: a rule cannot name a requester or an outsider; one task per
    member, the rotation and the dispatch candidates leave out members who may not work the tasks."""
    agents = team["agents"]
    requester = make_user("requester", departments=[team["department"]], name="Rita Requester")
    outsider = make_user("agent", departments=[make_department("Garage")], name="Otto Outsider")
    for person in (requester, outsider):
        with pytest.raises(ValidationFailed) as refused:
            make_rule(assign_mode="fixed", assignee_ids=[person.id])
        assert refused.value.fields == {"assignee_ids": [
            f"{person.name} cannot be assigned tasks of this department: only its active members whose role lets "
            f"them work tasks can."]}
    each = make_rule(title="Each", assign_mode="each_member")
    rotation = make_rule(title="Rotation", assign_mode="round_robin", assignee_ids=[agents[0].id, agents[1].id])
    user_service.update_user(team["admin"], agents[0].id, {"department_ids": []})  # moved out: skipped
    enable_plugin("last_candidate")  # proposes the candidate with the highest id: not the later requester
    proposal = make_rule(title="Proposal", assign_mode="proposal")
    tick("2026-01-05T07:00Z")
    assert sorted(t.assignee_id for t, _ in rule_tasks(each)) == sorted([team["admin"].id, agents[1].id, agents[2].id])
    assert [t.assignee_id for t, _ in rule_tasks(rotation)] == [agents[1].id]
    assert [t.assignee_id for t, _ in rule_tasks(proposal)] == [agents[2].id]


# -- template ------------------------------------------------------------------------------------------

def test_template_fields_due_offset_and_task_link(make_rule, tick, rule_tasks, team, recurring):
    watcher = team["agents"][2]
    rule = make_rule(title="Check {date}", description="Look at the boiler", priority="high", type="inspection",
                     fields={"area": "basement"}, watcher_ids=[watcher.id], due_after_minutes=2 * 24 * 60)
    tick("2026-01-05T07:00Z")
    (task, occurrence), = rule_tasks(rule)
    assert (task.title, task.description, task.priority, task.type, task.fields) == (
        "Check 2026-01-05", "Look at the boiler", "high", "inspection", {"area": "basement"})
    assert task.watcher_ids == [watcher.id]
    assert task.due_at == at("2026-01-07T07:00Z")
    from workdesk.api import task_to_dict
    assert task_to_dict(task, team["admin"])["plugins"]["recurring"] == {
        "rule_id": rule.id, "occurrence": "2026-01-05T07:00:00+00:00"}


# -- errors --------------------------------------------------------------------------------------------

def test_deleted_department_is_recorded_on_the_rule_and_notified(recurring, team, tick, make_department, rule_tasks):
    doomed = make_department("Temporary")
    rule = recurring.create_rule(team["admin"], {"title": "Temp check", "department_id": doomed.id,
                                                 "dtstart": "2026-01-05T09:00", "rrule": "FREQ=DAILY",
                                                 "timezone": "UTC"}, now=at("2026-01-01T00:00Z"))
    Department.delete_by_id(doomed.id)
    tick("2026-01-05T09:00Z")
    tick("2026-01-06T09:00Z")
    rule = reload(rule)
    assert rule_tasks(rule) == []
    assert "department was deleted" in rule.last_error and "2026-01-06 09:00" in rule.last_error
    assert rule.status == "active" and rule.next_run_at == at("2026-01-07T09:00Z")
    notes = list(Notification.select().where(Notification.kind == "recurring.failed"))
    assert [n.recipient_id for n in notes] == [team["admin"].id]  # once per failure streak, not per occurrence
    assert "Temp check" in notes[0].subject


def test_inactive_assignee_is_recorded_until_the_rule_is_fixed(make_rule, tick, rule_tasks, team, recurring):
    agent = team["agents"][0]
    rule = make_rule(assign_mode="fixed", assignee_ids=[agent.id])
    user_service.update_user(team["admin"], agent.id, {"is_active": False})
    tick("2026-01-05T07:00Z")
    rule = reload(rule)
    assert "deactivated" in rule.last_error and rule_tasks(rule) == []
    recurring.update_rule(team["admin"], rule.id, {"assignee_ids": [team["agents"][1].id]}, now=at("2026-01-06T00:00Z"))
    assert reload(rule).last_error is None
    tick("2026-01-12T07:00Z")
    assert [t.assignee_id for t, _ in rule_tasks(rule)] == [team["agents"][1].id]


def test_a_failing_rule_does_not_hold_up_the_others_in_its_batch(make_rule, tick, rule_tasks, team):
    agent = team["agents"][0]
    before = [make_rule(title=f"Before {n}") for n in range(3)]
    failing = make_rule(assign_mode="fixed", assignee_ids=[agent.id])
    after = [make_rule(title=f"After {n}") for n in range(3)]
    user_service.update_user(team["admin"], agent.id, {"is_active": False})
    tick("2026-01-05T07:00Z")
    assert "deactivated" in reload(failing).last_error and rule_tasks(failing) == []
    for rule in before + after:
        assert len(rule_tasks(rule)) == 1 and reload(rule).last_error is None
        assert reload(rule).next_run_at == reload(failing).next_run_at  # every rule moved on


# -- lifecycle -----------------------------------------------------------------------------------------

def test_pause_resume_edit_end(make_rule, tick, rule_tasks, team, recurring):
    admin = team["admin"]
    rule = make_rule(timezone="UTC", dtstart="2026-01-01T09:00", rrule="FREQ=DAILY", catch_up="all")
    tick("2026-01-01T09:00Z")
    recurring.pause_rule(admin, rule.id, now=at("2026-01-01T12:00Z"))
    walk(tick, "2026-01-02T09:00Z", "2026-01-04T09:00Z", dt.timedelta(days=1))
    recurring.resume_rule(admin, rule.id, now=at("2026-01-04T12:00Z"))  # the paused days are not created
    tick("2026-01-05T09:00Z")
    recurring.update_rule(admin, rule.id, {"dtstart": "2026-01-01T15:00"}, now=at("2026-01-05T10:00Z"))
    tick("2026-01-05T15:00Z")
    tick("2026-01-06T15:00Z")
    recurring.end_rule(admin, rule.id, now=at("2026-01-06T16:00Z"))
    walk(tick, "2026-01-07T00:00Z", "2026-01-10T00:00Z", dt.timedelta(hours=6))
    assert local_dates(rule_tasks, rule) == ["2026-01-01 09:00", "2026-01-05 09:00", "2026-01-05 15:00",
                                             "2026-01-06 15:00"]
    assert reload(rule).status == "ended"


def test_editing_does_not_touch_created_tasks(make_rule, tick, rule_tasks, team, recurring):
    rule = make_rule(title="Old title")
    tick("2026-01-05T07:00Z")
    recurring.update_rule(team["admin"], rule.id, {"title": "New title", "priority": "urgent"},
                          now=at("2026-01-06T00:00Z"))
    tick("2026-01-12T07:00Z")
    assert [(t.title, t.priority) for t, _ in rule_tasks(rule)] == [("Old title", "normal"), ("New title", "urgent")]


def test_disable_and_enable_keep_rules(make_rule, tick, rule_tasks, recurring):
    rule = make_rule(catch_up="latest")
    tick("2026-01-05T07:00Z")
    set_plugin_enabled("recurring", False)
    assert "recurring.materialise" not in tick("2026-01-12T07:00Z")
    assert len(rule_tasks(rule)) == 1
    set_plugin_enabled("recurring", True)
    assert reload(rule).status == "active"
    assert tick("2026-01-19T10:00Z")["recurring.materialise"] == "ran"  # the missed 12th is dropped: only the latest
    assert local_dates(rule_tasks, rule, "Europe/Sofia") == ["2026-01-05 09:00", "2026-01-19 09:00"]


def test_rules_need_the_manage_permission(recurring, team, make_user):
    from workdesk.errors import Forbidden
    agent = team["agents"][0]
    with pytest.raises(Forbidden):
        recurring.create_rule(agent, {"title": "x", "department_id": team["department"].id,
                                      "dtstart": "2026-01-05T09:00", "rrule": "FREQ=DAILY"})
    assert User.get_by_id(agent.id).has_permission("recurring.manage") is False


def test_a_clock_stepped_back_neither_stops_nor_repeats_the_work(make_rule, rule_tasks):
    from workdesk.jobs import run_due_jobs
    assert run_due_jobs(at("2026-03-02T12:00Z"))["recurring.materialise"] == "ran"  # a clock two hours fast
    rule = make_rule(now="2026-03-02T09:00Z", timezone="UTC", dtstart="2026-03-02T09:55", rrule="FREQ=DAILY")
    assert run_due_jobs(at("2026-03-02T10:00Z"))["recurring.materialise"] == "ran"  # set right: due at once
    assert local_dates(rule_tasks, rule) == ["2026-03-02 09:55"]
    assert run_due_jobs(at("2026-03-02T10:00Z"), force=True)["recurring.materialise"] == "ran"  # the same now again
    assert run_due_jobs(at("2026-03-02T10:01Z"))["recurring.materialise"] == "ran"
    assert local_dates(rule_tasks, rule) == ["2026-03-02 09:55"]
