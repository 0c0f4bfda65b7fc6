"""iCalendar feeds per person and per department behind revocable secret URLs, parsed back with the
``icalendar`` package and checked event by event."""
from __future__ import annotations

import datetime as dt
import hashlib

import icalendar
import pytest

from workdesk.services import users

from .conftest import at

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def events(body: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


def path_of(url: str) -> str:
    return url.split("127.0.0.1:5000", 1)[1]


def test_a_person_feed_lists_their_shifts_event_by_event(team, make_rotation, api_client, client, monkeypatch):
    from workdesk.plugins.duty_roster import feeds
    monkeypatch.setattr(feeds, "utcnow", lambda: at("2026-03-20T12:00Z"))
    agents = team["agents"]
    # Weekly, Monday 09:00 Sofia: agent 1 has shifts 7 (23 Feb), 10 (16 Mar), 13 (6 Apr), 16 (27 Apr) and 19
    # (18 May); the feed runs from midnight a month back (18 Feb) to two months ahead (20 May 12:00 UTC).
    make_rotation()
    me = api_client(user=agents[1])
    created = me.post("/api/v1/duty/feeds", json={})
    assert created.status_code == 201, created.json
    url = created.json["url"]
    assert url.startswith("http://127.0.0.1:5000/duty/feeds/") and url.endswith(".ics")

    answer = client.get(path_of(url))
    assert answer.status_code == 200 and answer.mimetype == "text/calendar"
    found = events(answer.data)
    spans = [(e.decoded("dtstart"), e.decoded("dtend")) for e in found]
    assert spans == [(at("2026-02-23T07:00Z"), at("2026-03-02T07:00Z")), (at("2026-03-16T07:00Z"), at("2026-03-23T07:00Z")),
                     (at("2026-04-06T06:00Z"), at("2026-04-13T06:00Z")), (at("2026-04-27T06:00Z"), at("2026-05-04T06:00Z")),
                     (at("2026-05-18T06:00Z"), at("2026-05-20T12:00Z"))]
    assert {str(e.get("summary")) for e in found} == {f"On duty: {agents[1].name} (Primary)"}
    assert len({str(e.get("uid")) for e in found}) == 5
    assert events(client.get(path_of(url)).data)[0].get("uid") == found[0].get("uid")  # stable across reads

    # Only the token's hash is stored.
    from workdesk.plugins.duty_roster.models import Feed
    token = url.rsplit("/", 1)[1][:-4]
    assert Feed.get().token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in Feed.get().token_hash
    assert "url" not in me.get("/api/v1/duty/feeds").json["items"][0]

    assert me.delete(f"/api/v1/duty/feeds/{created.json['id']}").status_code == 204
    assert client.get(path_of(url)).status_code == 404
    assert me.get("/api/v1/duty/feeds").json["items"] == []
    assert client.get("/duty/feeds/not-a-token.ics").status_code == 404


def test_a_department_feed_shows_everyone_and_nobody(team, make_rotation, duty, api_client, client, monkeypatch):
    from workdesk.plugins.duty_roster import feeds
    monkeypatch.setattr(feeds, "utcnow", lambda: at("2026-03-20T12:00Z"))
    agents = team["agents"]
    rotation = make_rotation(member_ids=[agents[0].id, None])
    duty.create_override(team["admin"], {"rotation_id": rotation.id, "user_id": agents[2].id,
                                         "starts_at": at("2026-03-24T00:00Z"), "ends_at": at("2026-03-25T00:00Z")})
    url = api_client(user=agents[0]).post("/api/v1/duty/feeds", json={"department_id": team["department"].id}).json["url"]
    found = events(client.get(path_of(url)).data)
    # Shift 11 (from 23 March, the week the clocks change) is a nobody slot, with an override inside it.
    week = [e for e in found if at("2026-03-23T00:00Z") <= e.decoded("dtstart") < at("2026-03-30T00:00Z")]
    assert [(str(e.get("summary")), e.decoded("dtstart"), e.decoded("dtend")) for e in week] == [
        ("Nobody on duty (Primary)", at("2026-03-23T07:00Z"), at("2026-03-24T00:00Z")),
        (f"On duty: {agents[2].name} (Primary)", at("2026-03-24T00:00Z"), at("2026-03-25T00:00Z")),
        ("Nobody on duty (Primary)", at("2026-03-25T00:00Z"), at("2026-03-30T06:00Z"))]
    assert all(e.decoded("dtend") - e.decoded("dtstart") <= dt.timedelta(weeks=1) for e in found)

    # A department feed dies with its owner's access; an outsider cannot make one.
    assert api_client(user=team["outsider"]).post("/api/v1/duty/feeds", json={
        "department_id": team["department"].id}).status_code == 404
    users.update_user(team["admin"], agents[0].id, {"department_ids": [team["elsewhere"].id]})
    assert client.get(path_of(url)).status_code == 404


def test_a_feed_describes_each_shift_in_its_owners_zone_and_language(team, make_rotation, api_client, client,
                                                                   monkeypatch):
    from workdesk.plugins.duty_roster import feeds
    monkeypatch.setattr(feeds, "utcnow", lambda: at("2026-03-20T12:00Z"))
    agents = team["agents"]
    users.update_user(agents[1], agents[1].id, {"timezone": "America/New_York", "locale": "de"})
    make_rotation()
    url = api_client(user=agents[1]).post("/api/v1/duty/feeds", json={}).json["url"]
    found = events(client.get(path_of(url)).data)
    # 16 March 07:00 UTC is 03:00 in New York (on daylight time since 8 March), written the German way.
    assert str(found[1].get("description")) == "16.03.2026, 03:00 – 23.03.2026, 03:00 (America/New_York)"
