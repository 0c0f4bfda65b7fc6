"""The admin panel's views: rotations (layers, members with nobody slots, restrictions) created and edited
through the services with refusals on the fields, overrides, the swap list, and the permission."""
from __future__ import annotations

import re

import pytest

from workdesk.plugins.duty_roster.models import Override, Rotation

ROTATIONS = "/admin/duty_roster/rotations/"


@pytest.fixture
def admin_client(client, team, login):
    login(client, team["admin"])
    return client


def csrf(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def form(team, **changes) -> dict:
    agents = team["agents"]
    return {"name": "Weekend", "department_id": str(team["department"].id), "layer": "1",
            "member_ids": f"{agents[0].id}, nobody, {agents[1].id}", "shift_length": "1", "shift_unit": "days",
            "handoff_time": "00:00", "handoff_weekday": "", "timezone": "Europe/Sofia", "start_date": "2026-03-07",
            "restrictions": "6,7 00:00 00:00", **changes}


def test_create_list_and_edit_a_rotation(admin_client, team):
    created = admin_client.post(ROTATIONS + "new/", data={**form(team), "csrf_token": csrf(admin_client, ROTATIONS + "new/")})
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    rotation = Rotation.get(Rotation.name == "Weekend")
    assert rotation.member_ids == [team["agents"][0].id, None, team["agents"][1].id]
    assert rotation.restrictions == [{"weekdays": [6, 7], "start": "00:00", "end": "00:00"}]
    assert rotation.advance == "windows"  # the default: weekdays outside the windows pass no turn
    listing = admin_client.get(ROTATIONS).get_data(as_text=True)
    assert f"{team['agents'][0].name}, nobody, {team['agents'][1].name}" in listing
    edit_url = ROTATIONS + f"edit/?id={rotation.id}"
    page = admin_client.get(edit_url).get_data(as_text=True)
    assert "6,7 00:00 00:00" in page and f"{team['agents'][0].id}, nobody" in page
    assert 'value="calendar"' in page and "at every hand-off" in page
    edited = admin_client.post(edit_url, data={**form(team, layer="2", advance="calendar"),
                                               "csrf_token": csrf(admin_client, edit_url)})
    assert edited.status_code == 302 and Rotation.get_by_id(rotation.id).layer == 2
    assert Rotation.get_by_id(rotation.id).advance == "calendar"
    page = admin_client.get(edit_url).get_data(as_text=True)
    assert re.search(r'<option selected value="calendar"|<option value="calendar" selected', page), "kept on edit"


@pytest.mark.parametrize("change, message", [
    ({"timezone": "Mars/Olympus"}, "Not an IANA time zone"),
    ({"member_ids": f"{99999}"}, "No user with id 99999"),
    ({"restrictions": "weekends all day"}, "Write each window as weekdays, start and end"),
    ({"handoff_time": "9am"}, "HH:MM"),
])
def test_refusals_appear_on_the_form(admin_client, team, change, message):
    page = admin_client.post(ROTATIONS + "new/", data={**form(team, **change),
                                                       "csrf_token": csrf(admin_client, ROTATIONS + "new/")})
    assert page.status_code == 200 and message in page.get_data(as_text=True)
    assert Rotation.select().count() == 0


def test_overrides_and_swaps_views(admin_client, team, make_rotation):
    rotation = make_rotation()
    url = "/admin/duty_roster/overrides/new/"
    created = admin_client.post(url, data={"rotation_id": str(rotation.id), "user_id": str(team["agents"][2].id),
                                           "starts_at": "2026-04-01T09:00+03:00", "ends_at": "2026-04-02T09:00+03:00",
                                           "note": "Cover", "csrf_token": csrf(admin_client, url)})
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    assert Override.get().user_id == team["agents"][2].id
    refused = admin_client.post(url, data={"rotation_id": str(rotation.id), "user_id": "",
                                           "starts_at": "2026-04-01T09:00", "ends_at": "2026-04-02T09:00+03:00",
                                           "csrf_token": csrf(admin_client, url)})
    assert "An instant with its UTC offset" in refused.get_data(as_text=True)
    assert admin_client.get("/admin/duty_roster/overrides/").status_code == 200
    assert admin_client.get("/admin/duty_roster/swaps/").status_code == 200


def test_only_roster_managers_reach_the_views(client, team, login):
    login(client, team["agents"][0])
    assert client.get(ROTATIONS).status_code in (403, 404)


def test_the_hand_off_weekdays_are_offered_in_the_readers_week(workdesk_app):
    from flask_babel import force_locale

    from workdesk.plugins.duty_roster.admin import weekday_choices
    with workdesk_app.test_request_context():
        with force_locale("en"):
            assert [value for value, _label in weekday_choices()] == ["", "7", "1", "2", "3", "4", "5", "6"]
        with force_locale("de"):
            choices = weekday_choices()
            assert [value for value, _label in choices] == ["", "1", "2", "3", "4", "5", "6", "7"]
            assert str(choices[1][1]) == "Montag"
