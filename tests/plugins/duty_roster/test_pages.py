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
    # English (the site's language here) starts the week on Sunday, as CLDR says for en (-> en_US).
    assert "Week of 2026-03-29" in html and "Europe/Sofia" in html
    assert html.index('data-date="2026-03-29"') < html.index('data-date="2026-03-30"')
    # The week of 30 March is agent 0's; on Wednesday agent 1 covers; nights and the weekend are gaps.
    assert html.count(f"{agents[0].name}</span>") == 4 and html.count(f"{agents[1].name}</span>") == 1
    assert "09:00–18:00" in html and "Nobody scheduled" in html and "covering" in html
    assert "week=2026-03-22" in html and "week=2026-04-05" in html
    bad = client.get(f"/duty/?department_id={team['department'].id}&week=someday")
    assert bad.status_code == 200 and "Not a date: someday" in bad.get_data(as_text=True)


def test_the_week_starts_on_the_first_day_of_the_readers_language(team, make_rotation, client, login):
    make_rotation()
    reader = team["agents"][2]
    for locale, first, previous in (("de", "2026-03-30", "2026-03-23"), ("en", "2026-03-29", "2026-03-22"),
                                    ("zh_Hans", "2026-03-30", "2026-03-23"), ("vi", "2026-03-30", "2026-03-23")):
        users.update_user(reader, reader.id, {"locale": locale})
        login(client, reader)
        html = client.get(f"/duty/?department_id={team['department'].id}&week=2026-04-01").get_data(as_text=True)
        days = [part.split('"', 1)[0] for part in html.split('data-date="')[1:]]
        assert days[0] == first and len(days) == 7, (locale, days)
        assert f"week={previous}" in html and f'name="week" value="{first}"' in html


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
