"""Out of office in the team pages: recorded on one's account page in one's own time zone, and "away until …"
next to the person's name wherever it appears."""
from __future__ import annotations

import datetime as dt
import re

from workdesk import absences
from workdesk.models import Absence
from workdesk.services.tasks import add_comment
from workdesk.services.users import update_user

from .conftest import csrf_token_from


def test_recording_and_deleting_an_absence_on_the_account_page(client, login, cast):
    update_user(cast.admin, cast.agent.id, {"timezone": "Europe/Sofia"})
    login(client, cast.agent)
    page = client.get("/account").text
    assert "Out of office" in page and "No absence planned." in page
    assert re.search(r'<option [^>]*value="">Nobody</option>', page) and ">Rita Requester</option>" in page
    response = client.post("/account/absences", data={"starts_at": "2099-07-01T09:00", "ends_at": "2099-07-15T09:00",
                                                      "delegate_id": str(cast.requester.id), "note": "Holiday"})
    assert response.status_code == 302 and response.headers["Location"] == "/account#absences"
    absence = Absence.get(Absence.user == cast.agent.id)
    # Typed in Sofia's summer time (UTC+3), stored in UTC.
    assert absence.starts_at == dt.datetime(2099, 7, 1, 6, tzinfo=dt.timezone.utc)
    assert (absence.delegate_id, absence.note, absence.created_by_id) == (cast.requester.id, "Holiday", cast.agent.id)
    page = client.get("/account").text
    assert "Holiday" in page and "Rita Requester stands in." in page

    clash = client.post("/account/absences", data={"starts_at": "2099-07-10T09:00", "ends_at": "2099-07-20T09:00"})
    assert clash.status_code == 422 and "Overlaps the absence from" in clash.text
    backwards = client.post("/account/absences", data={"starts_at": "2099-08-10T09:00",
                                                       "ends_at": "2099-08-01T09:00"})
    assert backwards.status_code == 422 and "The end must come after the start." in backwards.text
    assert client.post("/account/absences", data={"starts_at": "soon", "ends_at": ""}).status_code == 400
    update_user(cast.admin, cast.agent.id, {"timezone": "America/New_York"})
    beyond = client.post("/account/absences", data={"starts_at": "2099-01-01T09:00", "ends_at": "9999-12-31T23:30"})
    assert beyond.status_code == 422 and "Not a date and time Workdesk can store." in beyond.text
    nul = client.post("/account/absences", data={"starts_at": "2099-09-01T09:00", "ends_at": "2099-09-02T09:00",
                                                 "note": "a\x00b"})
    assert nul.status_code == 400 and "Must not contain NUL characters." in nul.text  # the form's field error
    assert Absence.select().count() == 1

    # Someone else's absence cannot be deleted from this page, nor is its existence confirmed.
    other = absences.create_absence(cast.admin, user_id=cast.other_agent.id, starts_at=absence.starts_at,
                                    ends_at=absence.ends_at)
    assert client.post(f"/account/absences/{other.id}/delete").status_code == 404
    assert client.post(f"/account/absences/{absence.id}/delete").status_code == 302
    assert Absence.get_or_none(Absence.id == absence.id) is None


def test_the_absence_form_needs_the_csrf_token(client, login, cast):
    client.application.config["WTF_CSRF_ENABLED"] = True
    login(client, cast.agent)
    data = {"starts_at": "2099-07-01T09:00", "ends_at": "2099-07-15T09:00"}
    assert client.post("/account/absences", data=data).status_code == 400
    token = csrf_token_from(client.get("/account").text)
    assert client.post("/account/absences", data={**data, "csrf_token": token}).status_code == 302


def test_away_until_next_to_the_name_wherever_it_appears(client, login, cast, make_task):
    now = dt.datetime.now(dt.timezone.utc)
    absences.create_absence(cast.agent, starts_at=now - dt.timedelta(hours=1), ends_at=dt.datetime(
        2099, 3, 2, 15, 30, tzinfo=dt.timezone.utc), delegate_id=cast.other_agent.id)
    task = make_task(cast.admin, cast.it, title="Who has it?", assignee_id=cast.agent.id,
                     watcher_ids=[cast.agent.id])
    add_comment(cast.agent, task.id, "On it before I leave.")
    login(client, cast.admin)
    page = client.get(f"/tasks/{task.id}").text
    marker = '<span class="away" title="Fred Facilities stands in.">away until 3/2/2099, 3:30\u202fPM</span>'
    assert page.count(marker) == 3  # assignee, watcher, comment author
    assert marker in client.get("/search?q=who").text
    assert marker in client.get("/search?q=who&layout=table").text
    assert "Ana Agent (away until 3/2/2099, 3:30\u202fPM)" in client.get(f"/tasks/{task.id}").text  # the reassign list


def test_a_department_head_records_and_deletes_a_members_absence_on_the_account_page(client, login, cast,
                                                                                      make_user):
    from workdesk.models import Absence, Department
    head = make_user("manager", [cast.it], name="Hedda Head", email="hedda@example.com")
    Department.update(head=head).where(Department.id == cast.it.id).execute()
    login(client, head)
    page = client.get("/account").text
    assert "Who is away" in page and f'<option value="{cast.agent.id}">Ana Agent</option>' in page
    response = client.post("/account/absences", data={"user_id": str(cast.agent.id), "starts_at": "2099-05-01T09:00",
                                                      "ends_at": "2099-05-08T18:00",
                                                      "delegate_id": str(cast.requester.id)},
                           follow_redirects=True)
    assert "The absence of Ana Agent is recorded." in response.text
    absence = Absence.get(Absence.user == cast.agent)
    assert absence.created_by_id == head.id
    assert "Ana Agent" in response.text.split("Your team")[1]  # listed under the team's absences
    # Someone who heads nothing cannot record another's absence: refused, nothing stored.
    login(client, cast.other_agent)
    assert "Who is away" not in client.get("/account").text
    response = client.post("/account/absences", data={"user_id": str(cast.agent.id), "starts_at": "2099-06-01T09:00",
                                                      "ends_at": "2099-06-02T09:00"})
    assert response.status_code == 403 and "Only the person, a head of one of their departments" in response.text
    assert client.post(f"/account/absences/{absence.id}/delete").status_code == 404  # nor delete it
    login(client, head)
    response = client.post(f"/account/absences/{absence.id}/delete", follow_redirects=True)
    assert "The absence is deleted." in response.text and Absence.select().count() == 0
