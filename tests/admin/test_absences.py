"""Absences in the admin panel: recorded for anyone in the person's own time zone, through the service."""
from __future__ import annotations

import datetime as dt

from workdesk.models import Absence


def test_record_edit_and_delete_an_absence(client, admin, csrf_token, make_user, department):
    ana = make_user("agent", [department], name="Ana Agent", timezone="America/New_York")
    bob = make_user("agent", [department], name="Bob Backup")
    form_url = "/admin/absences/new/"
    assert "Who stands in" in client.get(form_url).text
    response = client.post(form_url, data={"csrf_token": csrf_token(client, form_url), "user_id": str(ana.id),
                                           "starts_at": "2099-01-05T09:00", "ends_at": "2099-01-09T17:00",
                                           "delegate_id": str(bob.id), "note": "Training"})
    assert response.status_code == 302, response.text
    absence = Absence.get(Absence.user == ana.id)
    # Typed in Ana's zone (New York, UTC-5 in January), stored in UTC.
    assert absence.starts_at == dt.datetime(2099, 1, 5, 14, tzinfo=dt.timezone.utc)
    assert (absence.delegate_id, absence.note, absence.created_by_id) == (bob.id, "Training", admin.id)
    listing = client.get("/admin/absences/").text
    assert "Ana Agent" in listing and "Bob Backup" in listing and "Training" in listing

    edit_url = f"/admin/absences/edit/?id={absence.id}"
    assert 'value="2099-01-05T09:00"' in client.get(edit_url).text  # shown in Ana's zone again
    refused = client.post(edit_url, data={"csrf_token": csrf_token(client, edit_url), "user_id": str(ana.id),
                                          "starts_at": "2099-01-05T09:00", "ends_at": "2099-01-04T09:00",
                                          "delegate_id": str(ana.id), "note": ""})
    assert refused.status_code == 200
    assert "The end must come after the start." in refused.text
    assert "Someone else must stand in for the person who is away." in refused.text
    assert Absence.get_by_id(absence.id).delegate_id == bob.id  # nothing half-written

    response = client.post("/admin/absences/delete/", data={"csrf_token": csrf_token(client, "/admin/absences/"),
                                                            "id": str(absence.id), "url": "/admin/absences/"})
    assert response.status_code == 302 and Absence.get_or_none(Absence.id == absence.id) is None
