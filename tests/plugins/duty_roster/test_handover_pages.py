"""The hand-over and duty log pages: who sees what, CSRF on every form, errors beside their fields, and
times in the reader's zone and language."""
from __future__ import annotations

import re

import pytest

from workdesk import Department
from workdesk.services import tasks, users

from .conftest import at

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def token(html: str, prefix: str = "") -> str:
    return re.search(rf'name="{prefix}csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.fixture
def record(team, make_rotation, run_jobs):
    """Agent 0's hand-over to agent 1 of the daily shift that ended 3 March 2026 07:00 UTC, with one open task."""
    from workdesk.plugins.duty_roster.models import Handover
    agents, department = team["agents"], team["department"]
    make_rotation(shift_unit="days", handoff_weekday=None, start_date="2026-03-02")
    tasks.create_task(team["head"], title="Printer on fire", department_id=department.id, assignee_id=agents[0].id)
    run_jobs("2026-03-03T07:05Z", force=True)
    return Handover.get(Handover.outgoing == agents[0])


def test_the_outgoing_person_submits_and_the_incoming_one_acknowledges(team, record, client, login):
    agents = team["agents"]
    users.update_user(agents[0], agents[0].id, {"timezone": "America/New_York", "locale": "de"})
    login(client, agents[0])
    listing = client.get("/duty/handovers").get_data(as_text=True)
    assert f"/duty/handovers/{record.id}" in listing
    url = f"/duty/handovers/{record.id}"
    page = client.get(url).get_data(as_text=True)
    # The shift ended 07:00 UTC: 02:00 in New York, written the German way (a four-digit year).
    assert "Printer on fire" in page and "03.03.2026, 02:00" in page
    assert client.post(url, data={"handover-notes": "x", "submit": "1"}).status_code == 400  # no CSRF token
    nul = client.post(url, data={"handover-csrf_token": token(page, "handover-"), "handover-notes": "a\x00b",
                                 "save": "1"})
    assert nul.status_code == 200 and 'class="error"' in nul.get_data(as_text=True)
    long_incident = "y" * 2001
    refused = client.post(url, data={"handover-csrf_token": token(page, "handover-"), "handover-notes": "kept",
                                     "handover-incidents": long_incident, "save": "1"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and 'class="error"' in html and "kept</textarea>" in html
    done = client.post(url, data={"handover-csrf_token": token(page, "handover-"),
                                  "handover-notes": "Printer still smoking",
                                  "handover-incidents": "Fire alarm at 14:00\n\n  Coffee machine  \n", "submit": "1"})
    assert done.status_code == 302
    record = type(record).get_by_id(record.id)
    assert (record.status, record.notes, record.incidents) == ("submitted", "Printer still smoking",
                                                               ["Fire alarm at 14:00", "Coffee machine"])
    assert "Acknowledge</button>" not in client.get(url).get_data(as_text=True)

    login(client, agents[1])
    assert f"/duty/handovers/{record.id}" in client.get("/duty/handovers").get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert "Printer still smoking" in page and "Coffee machine" in page and "Acknowledge</button>" in page
    assert client.post(url, data={"ack-x": "1"}).status_code == 400
    assert client.post(url, data={"ack-csrf_token": token(page, "ack-")}).status_code == 302
    assert type(record).get_by_id(record.id).status == "acknowledged"


def test_others_get_404_and_the_head_sees_flagged_hand_overs(team, record, client, login, run_jobs, make_user):
    login(client, team["outsider"])
    assert client.get(f"/duty/handovers/{record.id}").status_code == 404
    assert client.get("/duty/handovers/999999").status_code == 404
    assert client.get("/duty/handovers/abc").status_code == 404
    login(client, team["agents"][2])  # a member who is neither outgoing nor incoming: reads, cannot submit
    page = client.get(f"/duty/handovers/{record.id}").get_data(as_text=True)
    assert "Submit the hand-over" not in page
    refused = client.post(f"/duty/handovers/{record.id}", data={
        "handover-csrf_token": token(page), "handover-notes": "mine", "submit": "1"})
    assert refused.status_code == 200 and "Only the outgoing person" in refused.get_data(as_text=True)
    requester = make_user("requester", departments=[team["department"]])  # reads the roster, not others' tasks
    login(client, requester)
    page = client.get(f"/duty/handovers/{record.id}")
    assert page.status_code == 200 and "Printer on fire" not in page.get_data(as_text=True)
    login(client, team["head"])
    assert f"/duty/handovers/{record.id}" not in client.get("/duty/handovers").get_data(as_text=True)
    run_jobs("2026-03-03T09:00Z", force=True)  # not submitted an hour after the shift: flagged
    flagged = client.get("/duty/handovers").get_data(as_text=True)
    assert f"/duty/handovers/{record.id}" in flagged and "missing" in flagged
    login(client, team["admin"])  # a roster manager sees them only where the department has no head
    assert f"/duty/handovers/{record.id}" not in client.get("/duty/handovers").get_data(as_text=True)
    Department.update(head=None).where(Department.id == team["department"].id).execute()
    assert f"/duty/handovers/{record.id}" in client.get("/duty/handovers").get_data(as_text=True)


def test_the_duty_log_page(team, make_rotation, client, login, duty):
    agents, department = team["agents"], team["department"]
    make_rotation(member_ids=[agents[0].id], shift_unit="days", handoff_weekday=None, start_date="2026-01-01")
    mine = tasks.create_task(team["head"], title="Router", department_id=department.id)
    hidden = tasks.create_task(team["outsider"], title="Secret", department_id=team["elsewhere"].id)
    login(client, agents[0])
    page = client.get("/duty/log").get_data(as_text=True)
    assert "Nothing logged in this period." in page and "Add to the log" in page
    assert client.post("/duty/log", data={"text": "no token"}).status_code == 400
    csrf = token(page)
    unseen = client.post("/duty/log", data={"csrf_token": csrf, "text": "about it", "task_number": hidden.number})
    html = unseen.get_data(as_text=True)
    assert unseen.status_code == 200 and "No such task." in html and "about it" in html
    for hostile in ({"text": ""}, {"text": "x", "task_number": "abc"}, {"text": "x", "task_number": "-5"},
                    {"text": "a\x00b"}, {"text": "x", "task_number": "99999999999999999999"}):
        answer = client.post("/duty/log", data={"csrf_token": csrf, **hostile})
        assert answer.status_code == 200 and 'class="error"' in answer.get_data(as_text=True)
    added = client.post("/duty/log", data={"csrf_token": csrf, "text": "Router <b>rebooted</b>",
                                           "task_number": mine.number})
    assert added.status_code == 302
    page = client.get("/duty/log").get_data(as_text=True)
    assert "Router &lt;b&gt;rebooted&lt;/b&gt;" in page and f"#{mine.number}" in page and "on duty" in page

    login(client, agents[1])  # a colleague reads the department's log for a period
    page = client.get(f"/duty/log?department_id={department.id}&from=2020-01-01&to=2020-01-02")
    assert "Nothing logged in this period." in page.get_data(as_text=True)
    assert "Not a period" in client.get("/duty/log?from=someday").get_data(as_text=True)
    assert client.get("/duty/log?from=0001-01-01&to=0001-01-01").status_code == 200
    users.update_user(agents[1], agents[1].id, {"timezone": "Europe/Sofia"})  # 0001-01-01 local is before UTC's year 1
    for period in ("from=9999-12-31", "from=0001-01-01", "to=2026-13-01", "from=2026-03-01&to=2026-02-01",
                   "from=%00", "from=x&from=2026-01-01"):
        answer = client.get(f"/duty/log?{period}")
        assert answer.status_code == 200 and 'role="alert"' in answer.get_data(as_text=True), period
    long = client.get("/duty/log?from=2020-01-01&to=2026-01-01")
    assert long.status_code == 200
    login(client, team["outsider"])  # another department's log is not there; posting to it neither
    assert client.get(f"/duty/log?department_id={department.id}").status_code == 404
    assert client.get("/duty/log?department_id=abc").status_code == 404
    assert client.get("/duty/log?department_id=" + "9" * 30).status_code == 404
    assert client.get("/duty/?department_id=" + "9" * 30).status_code == 404
    assert client.get("/duty/handovers/" + "9" * 30).status_code == 404
    page = client.get("/duty/log").get_data(as_text=True)
    assert "Add to the log" in page and "Router" not in page


def test_my_shifts_shows_each_shift_in_the_readers_zone_and_format(team, make_rotation, client, login):
    agents = team["agents"]
    make_rotation(member_ids=[agents[0].id], shift_unit="days", handoff_weekday=None, start_date="2026-01-01")
    users.update_user(agents[0], agents[0].id, {"timezone": "America/New_York", "locale": "fr"})
    login(client, agents[0])
    html = client.get("/duty/mine").get_data(as_text=True)
    # Hand-offs at 09:00 Sofia are 02:00 in New York (07:00 UTC), in French numbers ("dd/MM/y HH:mm").
    assert re.search(r"\d\d/\d\d/\d{4} 02:00 – \d\d/\d\d/\d{4} 02:00", html), html
    assert "/duty/handovers" in html and "/duty/log" in html
