"""The week grid and "my shifts" pages: what they show, in the reader's zone, and who may see them."""
from __future__ import annotations

import pytest

from workdesk.services import users

from .conftest import at

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def test_the_week_grid_shows_each_day_in_the_readers_zone(team, make_rotation, client, login, duty):
    agents = team["agents"]
    rotation = make_rotation(restrictions=[{"weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}])
    duty.create_override(team["admin"], {"rotation_id": rotation.id, "user_id": agents[1].id,
                                         "starts_at": at("2026-04-01T06:00Z"), "ends_at": at("2026-04-01T15:00Z")})
    users.update_user(agents[2], agents[2].id, {"timezone": "Europe/Sofia"})
    login(client, agents[2])
    page = client.get(f"/duty/?department_id={team['department'].id}&week=2026-04-01")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Week of 2026-03-30" in html and "Europe/Sofia" in html
    # The week of 30 March is agent 0's; on Wednesday agent 1 covers; nights and the weekend are gaps.
    assert html.count(f"{agents[0].name}</span>") == 4 and html.count(f"{agents[1].name}</span>") == 1
    assert "09:00–18:00" in html and "Nobody scheduled" in html and "covering" in html
    assert "week=2026-03-23" in html and "week=2026-04-06" in html
    bad = client.get(f"/duty/?department_id={team['department'].id}&week=someday")
    assert bad.status_code == 200 and "Not a date: someday" in bad.get_data(as_text=True)


def test_my_shifts_and_who_may_see_what(team, make_rotation, client, login, workdesk_app):
    make_rotation(start_date="2099-01-05")  # nobody has duty in the coming weeks yet
    login(client, team["agents"][0])
    assert "You have no duty in the coming weeks." in client.get("/duty/mine").get_data(as_text=True)
    login(client, team["outsider"])
    assert client.get(f"/duty/?department_id={team['department'].id}").status_code == 404
    assert client.get(f"/duty/?department_id={team['elsewhere'].id}").status_code == 200
    anonymous = workdesk_app.test_client().get("/duty/", follow_redirects=False)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]


def test_my_shifts_lists_the_coming_duty(team, make_rotation, client, login):
    agents = team["agents"]
    make_rotation(member_ids=[agents[0].id], shift_unit="days", handoff_weekday=None, start_date="2026-01-01")
    login(client, agents[0])
    html = client.get("/duty/mine").get_data(as_text=True)
    assert html.count("duty-day") >= 28 and "Primary" in html
