"""Dispatch decisions: each strategy, caps, skills, absences, the duty, the no-candidate path with its
notice, the audit trail, hand-back and the core's precedence, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk import Notification, Task, TaskEvent, ValidationFailed, services, utcnow
from workdesk.services import absences

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def file(head, department, make_task, count=1, **values):
    return [make_task(head, department, title=f"Request {n}", **values) for n in range(count)]


def test_least_loaded_weighs_priorities_and_respects_the_cap(team, make_rule, make_task, drain_events):
    department, head, agents = team["department"], team["head"], team["agents"]
    make_task(head, department, assignee_id=agents[0].id, priority="urgent")  # load 5
    make_task(head, department, assignee_id=agents[1].id, priority="low")     # load 1
    make_task(head, department, assignee_id=agents[1].id, priority="low")     # load 2 in two tasks
    make_rule(cap=2)
    first = make_task(head, department, title="New")
    assert first.assignee_id == agents[2].id  # 0 load, lowest id among the idle
    assert make_task(head, department).assignee_id == agents[3].id
    spread = [make_task(head, department).assignee_id for _ in range(3)]
    # agents[1] is at the cap of 2 open tasks; the lightest loads fill up to it, agents[0]'s urgent task last
    assert spread == [agents[2].id, agents[3].id, agents[0].id]
    counts = {a.id: Task.select().where(Task.assignee == a.id).count() for a in agents}
    assert all(count <= 2 for count in counts.values())
    # everyone at the cap: the task waits unassigned, and no later plugin takes it
    assert make_task(head, department, title="Overflow").assignee_id is None
    drain_events()
    trail = {e.kind: e for e in TaskEvent.select().where(TaskEvent.kind.startswith("dispatch."))}
    assigned = trail["dispatch.assigned"].changes["dispatch"][1]
    assert assigned["strategy"] == "least_loaded" and assigned["rule"] == "Support"
    assert any(f["user_id"] == assigned["chosen"] for f in assigned["figures"])
    unplaced = trail["dispatch.unplaced"].changes["dispatch"][1]
    assert unplaced["reason"] == "at_cap" and set(unplaced["filtered"].values()) == {"at_cap"}


def test_round_robin_cursor_is_persisted_per_rule(team, make_rule, make_task, dispatch):
    department, head, agents = team["department"], team["head"], team["agents"]
    rule = make_rule(strategy="round_robin")
    got = [t.assignee_id for t in file(head, department, make_task, 6)]
    ids = [a.id for a in agents]
    assert got == ids + ids[:2]
    assert dispatch.get_rule(rule.id).cursor == ids[1]  # kept in the database: a restart continues from here
    # someone away is skipped, and the turn goes on after them
    absences.create_absence(team["admin"], user_id=agents[2].id, starts_at=utcnow() - dt.timedelta(hours=1),
                            ends_at=utcnow() + dt.timedelta(days=1))
    assert [t.assignee_id for t in file(head, department, make_task, 2)] == [ids[3], ids[0]]


def test_best_skill_match_with_load_breaking_ties(team, make_rule, make_task):
    department, head, agents = team["department"], team["head"], team["agents"]
    for agent, skills in zip(agents, (["printers"], ["printers", "network"], ["network"], ["printers", "network"])):
        services.users.update_user(team["admin"], agent.id, {"skills": skills})
    make_task(head, department, assignee_id=agents[1].id)
    make_rule(strategy="best_skill", skills=["printers"])
    task = make_task(head, department, fields={"skills": ["network"]})
    assert task.assignee_id == agents[3].id  # two matches; agents[1] has the same but a load
    # a skills pool takes only people with one of the tags
    make_rule(name="Network", position=1, pool="skills", skills=["network"], strategy="best_skill", types=["net"])
    assert make_task(head, department, type="net").assignee_id in {agents[1].id, agents[2].id, agents[3].id}


def test_longest_idle(team, make_rule, make_task):
    department, head, agents = team["department"], team["head"], team["agents"]
    make_rule(strategy="longest_idle")
    got = [t.assignee_id for t in file(head, department, make_task, 5)]
    assert got == [a.id for a in agents] + [agents[0].id]  # never assigned first, then the oldest assignment


def test_absences_including_one_starting_mid_day(team, make_rule, make_task, dispatch, api_client):
    department, head, agents = team["department"], team["head"], team["agents"]
    make_rule(pool_user_ids=[agents[0].id])
    noon = utcnow().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=2)
    absences.create_absence(team["admin"], user_id=agents[0].id, starts_at=noon, ends_at=noon + dt.timedelta(hours=5))
    client = api_client(user=team["admin"])
    before = client.post("/api/v1/dispatch/preview", json={"department_id": department.id,
                                                          "at": (noon - dt.timedelta(minutes=1)).isoformat()})
    after = client.post("/api/v1/dispatch/preview", json={"department_id": department.id,
                                                         "at": (noon + dt.timedelta(minutes=1)).isoformat()})
    assert before.json["chosen"]["user_id"] == agents[0].id
    assert after.json["chosen"] is None and after.json["reason"] == "absent"
    assert after.json["candidates"][0]["filtered"] == "absent"
    assert make_task(head, department).assignee_id == agents[0].id  # not away yet
    absences.create_absence(team["admin"], user_id=agents[1].id, starts_at=utcnow() - dt.timedelta(minutes=1),
                            ends_at=utcnow() + dt.timedelta(hours=1))
    dispatch.update_rule(team["admin"], dispatch.list_rules()[0].id, {"pool_user_ids": [agents[1].id]})
    assert make_task(head, department).assignee_id is None  # never a silent fallback to someone away


def test_the_duty_interplay(team, make_rule, make_task, enable_plugin, api_client):
    enable_plugin("duty_roster")
    department, head, agents = team["department"], team["head"], team["agents"]
    from workdesk.plugins.duty_roster import services as duty
    today = utcnow().date() - dt.timedelta(days=1)
    duty.create_rotation(team["admin"], {"department_id": department.id, "name": "Primary",
                                         "member_ids": [agents[2].id], "shift_length": 1, "shift_unit": "weeks",
                                         "timezone": "UTC", "start_date": today.isoformat()})
    duty.update_department_settings(team["admin"], department.id, {"auto_assign": True})
    assert make_task(head, department).assignee_id == agents[2].id  # no rule matches: the duty decides
    make_rule(on_duty_only=True, strategy="round_robin")
    assert make_task(head, department).assignee_id == agents[2].id  # the rule, restricted to the duty
    make_rule(name="Urgent", position=1, priorities=["urgent"], pool_user_ids=[agents[0].id, agents[1].id])
    assert make_task(head, department, priority="urgent").assignee_id == agents[0].id  # rules before the duty
    assert make_task(head, department, assignee_id=agents[3].id).assignee_id == agents[3].id  # explicit wins
    # A rule that matches and finds nobody keeps the task in the queue: the duty (agents[2]) is not asked.
    make_rule(name="High", position=0, priorities=["high"], pool_user_ids=[agents[0].id])
    absences.create_absence(team["admin"], user_id=agents[0].id, starts_at=utcnow() - dt.timedelta(minutes=5),
                            ends_at=utcnow() + dt.timedelta(hours=3))
    assert make_task(head, department, priority="high").assignee_id is None
    absences.create_absence(team["admin"], user_id=agents[2].id, starts_at=utcnow() - dt.timedelta(minutes=5),
                            ends_at=utcnow() + dt.timedelta(hours=3))
    # the rule matched and nobody on duty is here: unassigned, and the duty plugin is not asked after it
    assert make_task(head, department).assignee_id is None


def test_nobody_fits_leaves_the_task_in_the_queue_and_tells_the_head(team, make_rule, make_task, drain_events,
                                                                      client, login):
    department, head, agents = team["department"], team["head"], team["agents"]
    services.users.update_user(team["admin"], agents[0].id, {"is_active": False})
    make_rule(pool_user_ids=[agents[0].id, team["outsider"].id])
    task = make_task(head, department, title="Printer on fire")
    assert task.assignee_id is None
    drain_events()
    entry = TaskEvent.get((TaskEvent.task_id == task.id) & (TaskEvent.kind == "dispatch.unplaced"))
    details = entry.changes["dispatch"][1]
    assert details["reason"] == "no_pool"
    assert details["filtered"] == {str(agents[0].id): "inactive", str(team["outsider"].id): "not_allowed"}
    notice = Notification.get((Notification.recipient == head.id) & (Notification.kind == "dispatch.unplaced"))
    assert f"#{task.number}" in notice.subject and "waits unassigned" in notice.body
    drain_events()  # a redelivery writes nothing twice
    assert TaskEvent.select().where(TaskEvent.kind == "dispatch.unplaced").count() == 1
    login(client, head)
    page = client.get(f"/tasks/{task.id}")
    assert "could not dispatch it by the rule “Support”" in page.get_data(as_text=True)
    # each reader in their own language: the trail on the page, the notice in the recipient's
    services.users.update_user(head, head.id, {"locale": "de"})
    german = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "konnte sie nach der Regel „Support“ nicht zuweisen" in german
    later = make_task(team["admin"], department, title="Second fire")
    drain_events()
    notice = Notification.get((Notification.recipient == head.id) & (Notification.kind == "dispatch.unplaced")
                              & (Notification.task_id == later.id))
    assert notice.subject.startswith(f"#{later.number} Second fire konnte niemandem zugewiesen werden")


def test_hand_back_on_deactivation_and_on_an_absence(team, make_rule, make_task, run_jobs, drain_events):
    department, head, agents = team["department"], team["head"], team["agents"]
    make_rule(hand_back=True, pool_user_ids=[agents[0].id, agents[1].id])
    mine = [make_task(head, department, assignee_id=agents[0].id) for _ in range(2)]
    services.users.update_user(team["admin"], agents[0].id, {"is_active": False})
    drain_events()  # on_user_deactivated: at once, no job needed
    assert {Task.get_by_id(t.id).assignee_id for t in mine} == {agents[1].id}
    handed = TaskEvent.select().where(TaskEvent.kind == "dispatch.handed_back")
    assert handed.count() == 2 and handed[0].changes["dispatch"][1]["why"] == "deactivated"
    assert Notification.select().where((Notification.recipient == head.id)
                                       & (Notification.kind == "dispatch.handed_back")).count() == 1
    # agents[1] goes away mid-day: their tasks come back, nobody else fits, so they wait in the queue
    absences.create_absence(team["admin"], user_id=agents[1].id, starts_at=utcnow() - dt.timedelta(minutes=1),
                            ends_at=utcnow() + dt.timedelta(hours=4))
    drain_events()
    assert {Task.get_by_id(t.id).assignee_id for t in mine} == {None}
    assert Notification.select().where((Notification.recipient == agents[1].id)
                                       & (Notification.kind == "dispatch.handed_back")).count() == 1
    # the head is told which tasks nobody could take, in the language they read it in
    to_head = (Notification.select().where((Notification.recipient == head.id)
                                           & (Notification.kind == "dispatch.handed_back"))
               .order_by(Notification.id.desc()).get())
    numbers = ", ".join(f"#{t.number}" for t in mine)
    assert to_head.subject == f"{agents[1].name} is away: their open tasks were handed on ({numbers})"
    assert to_head.body == f"Nobody could take {numbers}: they wait unassigned in the queue."
    services.users.update_user(head, head.id, {"locale": "de"})
    assert "warten nicht zugewiesen in der Warteschlange" in Notification.get_by_id(to_head.id).body
    drain_events()
    run_jobs(utcnow() + dt.timedelta(minutes=10), force=True)  # a repeat hands nothing twice
    assert TaskEvent.select().where(TaskEvent.kind == "dispatch.handed_back").count() == 4


def test_a_disabled_plugin_proposes_nobody_and_its_api_is_gone(team, make_rule, make_task, api_client):
    from workdesk.registry import set_plugin_enabled
    make_rule()
    assert make_task(team["head"], team["department"]).assignee_id == team["agents"][0].id
    set_plugin_enabled("dispatch", False)
    assert make_task(team["head"], team["department"]).assignee_id is None
    assert api_client(user=team["admin"]).get("/api/v1/dispatch/rules").status_code == 404


def test_the_system_assigns_only_people_who_may_work_the_department(team, make_task):
    task = make_task(team["head"], team["department"])
    with pytest.raises(ValidationFailed) as refused:
        services.tasks.system_assign(task.id, team["outsider"].id, reason="test")
    assert "cannot be assigned tasks of Support" in refused.value.message
    assert services.tasks.system_assign(task.id, team["agents"][0].id).assignee_id == team["agents"][0].id
    last = TaskEvent.select().where(TaskEvent.task_id == task.id).order_by(TaskEvent.id.desc()).get()
    assert last.actor_id is None and last.changes == {"assignee_id": [None, team["agents"][0].id]}


def test_rules_without_hand_back_keep_the_work(team, make_rule, make_task, run_jobs):
    department, head, agents = team["department"], team["head"], team["agents"]
    make_rule()
    task = make_task(head, department, assignee_id=agents[0].id)
    services.users.update_user(team["admin"], agents[0].id, {"is_active": False})
    run_jobs(utcnow(), force=True)
    assert Task.get_by_id(task.id).assignee_id == agents[0].id


def test_loads_follow_every_change_of_a_task(team, make_task, dispatch, run_jobs):
    from workdesk.plugins.dispatch import load
    from workdesk.plugins.dispatch.models import Load
    department, head, agents = team["department"], team["head"], team["agents"]

    def loads():
        return {row.user_id: (row.open_tasks, row.load) for row in Load.select() if row.open_tasks or row.load}

    urgent = make_task(head, department, assignee_id=agents[0].id, priority="urgent")
    low = make_task(head, department, assignee_id=agents[0].id, priority="low")
    assert loads() == {agents[0].id: (2, 6)}
    services.tasks.update_task(team["admin"], low.id, {"priority": "high", "assignee_id": agents[1].id})
    assert loads() == {agents[0].id: (1, 5), agents[1].id: (1, 3)}
    for status in ("open", "in_progress"):
        services.tasks.transition(team["admin"], urgent.id, status)
    services.tasks.transition(team["admin"], urgent.id, "resolved")
    assert loads() == {agents[1].id: (1, 3)}
    services.tasks.delete_task(team["admin"], low.id)
    assert loads() == {}
    services.tasks.create_tasks(head, [{"title": f"Bulk {n}", "department_id": department.id,
                                        "assignee_id": agents[2].id} for n in range(3)])
    assert loads() == {agents[2].id: (3, 6)}
    before = loads()
    load.rebuild()  # a recount from the tasks agrees with what the triggers kept
    assert loads() == before
    # a task table rebuilt by a migration loses its triggers: the job puts them back and recounts
    from peewee import SqliteDatabase

    from workdesk import db
    if isinstance(db.obj, SqliteDatabase):
        for name in ("dispatch_load_insert", "dispatch_load_delete", "dispatch_load_update"):
            db.execute_sql(f"DROP TRIGGER {name}")
    else:
        db.execute_sql(f"DROP TRIGGER dispatch_load ON {Task._meta.table_name}")
    assert not load._present(db.obj)
    make_task(head, department, assignee_id=agents[3].id)  # not counted by any trigger
    assert run_jobs(utcnow(), force=True)["dispatch.check_loads"] == "ran"
    assert load._present(db.obj) and loads() == {**before, agents[3].id: (1, 2)}
    assert load.ensure() is False


def test_an_absence_starting_mid_day_hands_the_work_on_when_it_begins(team, make_rule, make_task, run_jobs):
    department, head, agents = team["department"], team["head"], team["agents"]
    make_rule(hand_back=True, pool_user_ids=[agents[0].id, agents[1].id, agents[2].id])
    mine = [make_task(head, department, assignee_id=agents[0].id) for _ in range(2)]
    noon = utcnow().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=3)
    for agent in agents[:2]:  # both go away at noon; agents[1] would be the lightest before it
        absences.create_absence(team["admin"], user_id=agent.id, starts_at=noon, ends_at=noon + dt.timedelta(hours=4))
    run_jobs(noon - dt.timedelta(minutes=1), force=True)
    assert {Task.get_by_id(t.id).assignee_id for t in mine} == {agents[0].id}  # not away yet
    run_jobs(noon + dt.timedelta(minutes=1), force=True)  # the core announces the start; dispatch decides as of noon
    assert {Task.get_by_id(t.id).assignee_id for t in mine} == {agents[2].id}
    details = [e.changes["dispatch"][1] for e in TaskEvent.select().where(TaskEvent.kind == "dispatch.handed_back")]
    assert len(details) == 2 and all(d["why"] == "absent" and d["from"] == agents[0].id for d in details)
    assert all(d["filtered"] == {str(agents[0].id): "handing_back", str(agents[1].id): "absent"} for d in details)
    for person in (agents[0], head):
        assert Notification.select().where((Notification.recipient == person.id)
                                           & (Notification.kind == "dispatch.handed_back")).count() == 1


def test_the_job_hands_back_the_work_of_someone_deactivated_while_dispatch_was_off(team, make_rule, make_task,
                                                                                     run_jobs, drain_events):
    from workdesk.registry import set_plugin_enabled
    department, head, agents = team["department"], team["head"], team["agents"]
    make_rule(hand_back=True, pool_user_ids=[agents[0].id, agents[1].id])
    task = make_task(head, department, assignee_id=agents[0].id)
    set_plugin_enabled("dispatch", False)
    services.users.update_user(team["admin"], agents[0].id, {"is_active": False})
    drain_events()
    assert Task.get_by_id(task.id).assignee_id == agents[0].id  # dispatch was off: nobody handed it on
    set_plugin_enabled("dispatch", True)
    run_jobs(utcnow(), force=True)
    assert Task.get_by_id(task.id).assignee_id == agents[1].id
