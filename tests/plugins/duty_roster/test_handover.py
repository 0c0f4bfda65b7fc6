"""The hand-over flow driven by the jobs as ``workdesk tick --at`` runs them: records opened when shifts end
with the shift's open tasks, notes and incidents, submit, acknowledge, flags for missing and
unacknowledged hand-overs told to the head once; reminders before a shift; the duty log."""
from __future__ import annotations

import pytest

from workdesk import Notification
from workdesk.services import tasks

from .conftest import at

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def daily(team, make_rotation):
    """Daily shifts of agents 0, 1, 2 handed off at 09:00 Sofia (07:00 UTC in March) from 2 March 2026."""
    return make_rotation(shift_unit="days", handoff_weekday=None, start_date="2026-03-02")


def notes_of(user, kind: str) -> list[str]:
    return [n.subject for n in Notification.select().where((Notification.recipient == user)
            & (Notification.kind == kind)).order_by(Notification.id)]


def test_the_hand_over_flow_and_its_flags(team, daily, run_jobs, api_client, duty):
    from workdesk.plugins.duty_roster import handover as flow
    agents, head, department = team["agents"], team["head"], team["department"]
    theirs = tasks.create_task(head, title="Printer on fire", department_id=department.id, assignee_id=agents[0].id)
    done = tasks.create_task(head, title="Old", department_id=department.id, assignee_id=agents[0].id)
    for status in ("open", "in_progress", "resolved"):
        tasks.transition(agents[0], done.id, status)
    tasks.create_task(head, title="Someone else's", department_id=department.id, assignee_id=agents[1].id)

    assert run_jobs("2026-03-03T07:05Z", force=True)["duty_roster.handovers"] == "ran"
    outgoing, incoming = api_client(user=agents[0]), api_client(user=agents[1])
    listed = outgoing.get("/api/v1/duty/handovers", query_string={"department_id": department.id}).json["items"]
    assert len(listed) == 1
    record = listed[0]
    assert (record["outgoing_id"], record["incoming_id"], record["status"]) == (agents[0].id, agents[1].id, "open")
    assert (record["shift_start"], record["shift_end"]) == ("2026-03-02T07:00:00+00:00", "2026-03-03T07:00:00+00:00")
    assert [t["title"] for t in record["tasks"]] == ["Printer on fire"]
    url = f"/api/v1/duty/handovers/{record['id']}"

    assert incoming.patch(url, json={"notes": "mine now"}).status_code == 403
    written = outgoing.patch(url, json={"notes": "Printer still smoking", "incidents": ["Fire alarm at 14:00"]})
    assert written.status_code == 200 and written.json["incidents"] == ["Fire alarm at 14:00"]
    assert outgoing.patch(url, json={"incidents": [""]}).status_code == 422
    assert incoming.post(f"{url}/acknowledge").status_code in (403, 409)
    submitted = outgoing.post(f"{url}/submit", json={})
    assert submitted.status_code == 200 and submitted.json["status"] == "submitted"
    assert notes_of(agents[1], "duty_roster.handover") == [f"{agents[0].name} handed the shift over to you"]
    assert outgoing.patch(url, json={"notes": "too late"}).status_code == 409
    assert outgoing.post(f"{url}/acknowledge").status_code == 403
    acknowledged = incoming.post(f"{url}/acknowledge")
    assert acknowledged.status_code == 200 and acknowledged.json["status"] == "acknowledged"
    assert api_client(user=team["outsider"]).get(url).status_code == 404

    # Agent 1 hands nothing over: flagged an hour after the shift, the head told once.
    run_jobs("2026-03-04T07:05Z", force=True)
    run_jobs("2026-03-04T07:59Z", force=True)
    assert notes_of(head, "duty_roster.handover_late") == []
    run_jobs("2026-03-04T08:00Z", force=True)
    run_jobs("2026-03-04T08:30Z", force=True)
    assert notes_of(head, "duty_roster.handover_late") == [
        f"{agents[1].name} has not handed over the shift that ended 3/4/2026, 7:00 AM in Support"]
    missing = outgoing.get("/api/v1/duty/handovers", query_string={"department_id": department.id,
                                                                   "status": "open"}).json["items"]
    assert [(h["outgoing_id"], h["missing"]) for h in missing] == [(agents[1].id, True)]

    # Agent 2 submits, agent 0 never acknowledges: flagged two hours after submission.
    run_jobs("2026-03-05T07:05Z", force=True)
    third = flow.list_handovers(head, department.id, "open")
    third = [h for h in third if h.outgoing_id == agents[2].id][0]
    flow.submit_handover(agents[2], third.id, {"notes": "quiet"}, now=at("2026-03-05T07:30Z"))
    run_jobs("2026-03-05T09:29Z", force=True)
    assert len(notes_of(head, "duty_roster.handover_late")) == 1
    run_jobs("2026-03-05T09:30Z", force=True)
    run_jobs("2026-03-05T09:45Z", force=True)
    assert notes_of(head, "duty_roster.handover_late")[1:] == [
        "The hand-over of the shift that ended 3/5/2026, 7:00 AM in Support is not acknowledged"]


def test_on_weekdays_only_the_friday_person_hands_over_to_mondays(team, make_rotation, run_jobs, api_client):
    # Daily at 09:00 Sofia, covered 09:00-18:00 on weekdays, from Monday 2 March: agents 0, 1, 2, 0, 1
    # Monday to Friday, and agent 2 on Monday 9 March (weekends pass no turn: the default advance).
    agents, department = team["agents"], team["department"]
    make_rotation(shift_unit="days", handoff_weekday=None, start_date="2026-03-02",
                  restrictions=[{"weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}])
    admin = api_client(user=team["admin"])

    def records():
        items = admin.get("/api/v1/duty/handovers", query_string={"department_id": department.id}).json["items"]
        return sorted((h["shift_start"], h["shift_end"], h["outgoing_id"], h["incoming_id"]) for h in items)

    for day in range(3, 9):  # 09:05 each morning, Tuesday to Sunday: the Friday shift goes on until Monday
        run_jobs(f"2026-03-{day:02}T07:05Z", force=True)
    assert records() == [(f"2026-03-0{day}T07:00:00+00:00", f"2026-03-0{day + 1}T07:00:00+00:00",
                          agents[(day - 2) % 3].id, agents[(day - 1) % 3].id) for day in range(2, 6)]
    run_jobs("2026-03-09T07:05Z", force=True)  # Monday 09:05
    assert records()[-1] == ("2026-03-06T07:00:00+00:00", "2026-03-09T07:00:00+00:00", agents[1].id, agents[2].id)
    monday = admin.get("/api/v1/duty/now", query_string={"department_id": department.id,
                                                         "at": "2026-03-09T07:00:00Z"}).json["people"]
    assert [p["user_id"] for p in monday] == [agents[2].id]


def test_with_the_calendar_advance_friday_hands_over_to_the_next_person_with_time(team, make_rotation, run_jobs,
                                                                                 api_client):
    # Every hand-off passes the turn: agents 0, 1, 2 and the head from Monday 2 March, so Friday 6 March is
    # agent 0's, Saturday agent 1's and Sunday agent 2's (no time: weekdays only), Monday the head's. The
    # Friday hand-over goes to the head, the next person who holds any time, not to nobody.
    agents, head, department = team["agents"], team["head"], team["department"]
    make_rotation(shift_unit="days", handoff_weekday=None, start_date="2026-03-02", advance="calendar",
                  member_ids=[agents[0].id, agents[1].id, agents[2].id, head.id],
                  restrictions=[{"weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}])
    run_jobs("2026-03-07T07:05Z", force=True)
    items = api_client(user=head).get("/api/v1/duty/handovers", query_string={"department_id": department.id,
                                                                              "status": "open"}).json["items"]
    friday = [h for h in items if h["shift_start"] == "2026-03-06T07:00:00+00:00"]
    assert [(h["outgoing_id"], h["incoming_id"], h["shift_end"]) for h in friday] == [
        (agents[0].id, head.id, "2026-03-07T07:00:00+00:00")]
    run_jobs("2026-03-08T07:05Z", force=True)
    run_jobs("2026-03-09T07:05Z", force=True)  # the weekend shifts held nothing: no hand-over of theirs
    starts = {h["shift_start"] for h in api_client(user=head).get(
        "/api/v1/duty/handovers", query_string={"department_id": department.id}).json["items"]}
    assert {"2026-03-07T07:00:00+00:00", "2026-03-08T07:00:00+00:00"} & starts == set()


def test_reminders_before_a_shift(team, daily, run_jobs):
    agents = team["agents"]
    run_jobs("2026-03-03T05:59Z", force=True)
    assert notes_of(agents[1], "duty_roster.reminder") == []
    run_jobs("2026-03-03T06:10Z", force=True)  # agent 1's shift begins at 07:00 UTC, 09:00 in Sofia
    run_jobs("2026-03-03T06:20Z", force=True)
    assert notes_of(agents[1], "duty_roster.reminder") == ["Your duty (Primary) begins at 3/3/2026, 7:00 AM"]
    assert notes_of(agents[0], "duty_roster.reminder") == []


def test_the_duty_log(team, daily, api_client, make_task):
    agents, department = team["agents"], team["department"]
    task = make_task(team["head"], department)
    on_duty, off_duty = api_client(user=agents[0]), api_client(user=agents[1])
    entry = on_duty.post("/api/v1/duty/log", json={"department_id": department.id, "text": "Server room alarm",
                                                   "task_id": task.id, "at": "2026-03-02T10:00:00Z"})
    assert entry.status_code == 201, entry.json
    assert (entry.json["on_duty"], entry.json["task_id"], entry.json["at"]) == (True, task.id, "2026-03-02T10:00:00+00:00")
    second = off_duty.post("/api/v1/duty/log", json={"department_id": department.id, "text": "Helped out",
                                                     "at": "2026-03-02T11:00:00Z"})
    assert second.json["on_duty"] is False
    future = on_duty.post("/api/v1/duty/log", json={"department_id": department.id, "text": "Tomorrow",
                                                    "at": "2999-01-01T00:00:00Z"})
    assert future.status_code == 422 and "at" in future.json["error"]["fields"]
    assert on_duty.post("/api/v1/duty/log", json={"department_id": department.id, "text": ""}).status_code == 422
    assert on_duty.post("/api/v1/duty/log", json={"department_id": department.id, "text": "x",
                                                  "task_id": 999999}).status_code == 422
    outsider = api_client(user=team["outsider"])
    assert outsider.post("/api/v1/duty/log", json={"department_id": department.id, "text": "hi"}).status_code == 404
    log = off_duty.get("/api/v1/duty/log", query_string={"department_id": department.id,
                                                         "from": "2026-03-02T00:00Z", "to": "2026-03-03T00:00Z"})
    assert [(e["text"], e["user_id"]) for e in log.json["items"]] == [("Server room alarm", agents[0].id),
                                                                      ("Helped out", agents[1].id)]
