"""Coverage gaps and schedule quality: uncovered hours, load per person against the average, the score,
absences uncovering shifts, and the heads told once per uncovered stretch by the job (``tick --at``)."""
from __future__ import annotations

import pytest

from workdesk import Notification
from workdesk.services import absences

from .conftest import at

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
OFFICE_HOURS = [{"weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}]


def test_quality_of_a_fair_roster_and_of_one_with_someone_away(team, make_rotation, api_client):
    agents = team["agents"]
    make_rotation(shift_unit="days", handoff_weekday=None, start_date="2026-03-02")
    member = api_client(user=agents[0])
    period = {"department_id": team["department"].id, "from": "2026-03-02T07:00Z", "to": "2026-03-17T07:00Z"}
    fair = member.get("/api/v1/duty/quality", query_string=period)
    assert fair.status_code == 200, fair.json
    assert (fair.json["covered_hours"], fair.json["uncovered_hours"], fair.json["score"]) == (360, 0, 100)
    assert [(p["user_id"], p["hours"], p["ratio"]) for p in fair.json["load"]] == [(a.id, 120, 1.0) for a in agents]

    # Agent 1 is away for their first shift (3 March 09:00 to 4 March 09:00 Sofia): 24 hours uncovered.
    absences.create_absence(team["head"], user_id=agents[1].id, starts_at=at("2026-03-03T07:00Z"),
                            ends_at=at("2026-03-04T07:00Z"))
    away = member.get("/api/v1/duty/quality", query_string=period).json
    assert (away["covered_hours"], away["uncovered_hours"], away["average_load_hours"]) == (336, 24, 112)
    assert [p["ratio"] for p in away["load"]] == [1.07, 0.86, 1.07]
    # covered share 336/360 times fairness 1 - mean deviation 32/3 over the average 112: 84.
    assert away["score"] == 84
    assert away["uncovered"] == [{"kind": "absent", "start": "2026-03-03T07:00:00+00:00",
                                  "end": "2026-03-04T07:00:00+00:00", "user_id": agents[1].id,
                                  "rotation_id": away["uncovered"][0]["rotation_id"]}]
    assert api_client(user=team["outsider"]).get("/api/v1/duty/quality", query_string=period).status_code == 404


def test_gaps_and_deliberate_nobody_in_the_quality(team, make_rotation, duty):
    make_rotation(shift_unit="days", handoff_weekday=None, start_date="2026-03-02", restrictions=OFFICE_HOURS, layer=1)
    week = duty.quality(team["department"].id, at("2026-03-08T22:00Z"), at("2026-03-15T22:00Z"))
    assert (week["covered_hours"], week["uncovered_hours"]) == (45, 168 - 45)
    assert week["uncovered"][0] == {"kind": "gap", "start": "2026-03-08T22:00:00+00:00",
                                    "end": "2026-03-09T07:00:00+00:00", "user_id": None, "rotation_id": None}
    # Nights and weekends made deliberately unstaffed by a "nobody" layer underneath: no gaps left.
    make_rotation(name="Closed", layer=0, member_ids=[None], shift_unit="days", handoff_weekday=None,
                  start_date="2026-03-01")
    week = duty.quality(team["department"].id, at("2026-03-08T22:00Z"), at("2026-03-15T22:00Z"))
    assert (week["covered_hours"], week["uncovered_hours"], week["nobody_hours"]) == (45, 0, 123)


def test_the_head_is_told_once_about_each_uncovered_stretch(team, make_rotation, run_jobs, enable_plugin):
    enable_plugin("duty_roster", coverage_horizon_days=1)
    agents, head = team["agents"], team["head"]
    make_rotation(shift_unit="days", handoff_weekday=None, start_date="2026-02-02", restrictions=OFFICE_HOURS)

    def told() -> list[str]:
        return [n.subject for n in Notification.select().where((Notification.recipient == head)
                & (Notification.kind == "duty_roster.uncovered")).order_by(Notification.id)]

    assert run_jobs("2026-03-06T06:00Z")["duty_roster.coverage"] == "ran"  # Friday 08:00 in Sofia
    assert told() == ["Nobody is on duty in Support from 3/5/2026, 4:00 PM – 3/6/2026, 7:00 AM",  # reader's zone: UTC
                      "Nobody is on duty in Support from 3/6/2026, 4:00 PM – 3/7/2026, 6:00 AM"]
    run_jobs("2026-03-06T07:00Z")
    run_jobs("2026-03-07T06:00Z")  # the weekend gap has grown in the window, but it is the same gap
    assert len(told()) == 2

    monday_person = agents[25 % 3]  # 9 March is the 26th working day since 2 February (weekends pass no turn)
    absences.create_absence(head, user_id=monday_person.id, starts_at=at("2026-03-09T00:00Z"),
                            ends_at=at("2026-03-10T00:00Z"))
    run_jobs("2026-03-08T12:00Z")
    assert told()[2:] == [f"{monday_person.name} is away during their duty in Support from 3/9/2026, 7:00 AM – "
                          "3/9/2026, 12:00 PM"]
    run_jobs("2026-03-08T13:00Z")
    assert len(told()) == 3
