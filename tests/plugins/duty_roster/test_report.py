"""The duty report per period, person and department: tasks received and resolved during duty,
first-response times, hand-overs complete and on time, log entries."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk import utcnow
from workdesk.plugins.duty_roster.models import Handover
from workdesk.services import tasks

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def test_the_report_counts_what_happened_during_duty(team, make_rotation, api_client):
    agents, head, department = team["agents"], team["head"], team["department"]
    rotation = make_rotation(member_ids=[agents[0].id], shift_unit="days", handoff_weekday=None,
                             start_date="2026-01-01")  # agent 0 is always on duty
    during = tasks.create_task(head, title="During duty", department_id=department.id, assignee_id=agents[0].id)
    tasks.add_comment(agents[0], during.id, "On it")
    for status in ("open", "in_progress", "resolved"):
        tasks.transition(agents[0], during.id, status)
    tasks.create_task(head, title="Waiting", department_id=department.id, assignee_id=agents[0].id)
    tasks.create_task(head, title="Not on duty", department_id=department.id, assignee_id=agents[1].id)
    now = utcnow()
    Handover.create(department=department, rotation=rotation, shift_start=now - dt.timedelta(days=2),
                    shift_end=now - dt.timedelta(days=1), outgoing=agents[0], due_at=now - dt.timedelta(hours=23),
                    submitted_at=now - dt.timedelta(hours=23, minutes=30), status="acknowledged",
                    acknowledged_at=now - dt.timedelta(hours=22))
    Handover.create(department=department, rotation=rotation, shift_start=now - dt.timedelta(days=3),
                    shift_end=now - dt.timedelta(days=2), outgoing=agents[0], due_at=now - dt.timedelta(hours=47))
    member = api_client(user=agents[1])
    member.post("/api/v1/duty/log", json={"department_id": department.id, "text": "Quiet"})
    api_client(user=agents[0]).post("/api/v1/duty/log", json={"department_id": department.id, "text": "Alarm"})

    period = {"department_id": department.id, "from": (now - dt.timedelta(days=7)).isoformat(),
              "to": (now + dt.timedelta(hours=1)).isoformat()}
    answer = member.get("/api/v1/duty/report", query_string=period)
    assert answer.status_code == 200, answer.json
    [row] = answer.json["people"]  # only people on duty appear: agent 1 was never on duty
    assert row["user_id"] == agents[0].id
    assert (row["tasks_received"], row["tasks_resolved"], row["responses"]) == (2, 1, 1)
    assert row["first_response_minutes_median"] is not None and row["first_response_minutes_median"] < 1
    assert (row["handovers_due"], row["handovers_submitted"], row["handovers_on_time"],
            row["handovers_acknowledged"]) == (2, 1, 1, 1)
    assert row["log_entries"] == 1
    assert row["shifts"] in (8, 9)  # daily shifts over 7 days and an hour: 9 when a hand-off falls in that hour
    assert answer.json["totals"]["tasks_received"] == 2
    assert answer.json["totals"]["first_response_minutes_median"] == row["first_response_minutes_median"]
    one = member.get("/api/v1/duty/report", query_string={**period, "user_id": agents[1].id}).json
    assert one["people"] == [] and one["totals"]["tasks_received"] == 0
    assert api_client(user=team["outsider"]).get("/api/v1/duty/report", query_string=period).status_code == 404
    too_long = member.get("/api/v1/duty/report", query_string={**period, "from": "2025-01-01T00:00Z"})
    assert too_long.status_code == 422 and "to" in too_long.json["error"]["fields"]
