"""Flask-Admin's return target (``?url=`` of every model view and bulk action) goes through the core's one
redirect check (issue 11, item 2): it answered 500 for a CR/LF in it and handed raw values to Location."""
from __future__ import annotations

import pytest

from workdesk import safe_redirect_target
from workdesk.models import User

from tests.web.test_redirects import OFF_SITE, ON_SITE


@pytest.mark.parametrize("payload", OFF_SITE + list(ON_SITE) + ["/admin/departments/?page=2"])
def test_bulk_action_return_url(client, admin, csrf_token, make_user, payload):
    person = make_user("agent")
    response = client.post("/admin/users/action/", query_string={"url": payload}, data={
        "csrf_token": csrf_token(client, "/admin/users/"), "action": "deactivate", "rowid": [str(person.id)]})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == safe_redirect_target(payload, "/admin/users/")
    assert location.startswith("/") and not location.startswith("//")
    assert not User.get_by_id(person.id).is_active


def test_a_header_break_in_the_return_url_is_not_a_500(client, admin, csrf_token, make_user):
    person = make_user("agent")
    response = client.post("/admin/users/action/?url=/x%0D%0ASet-Cookie:a=b", data={
        "csrf_token": csrf_token(client, "/admin/users/"), "action": "deactivate", "rowid": [str(person.id)]})
    assert response.status_code == 302 and response.headers["Location"] == "/xSet-Cookie:a=b"
    assert "a=b" not in response.headers.get("Set-Cookie", "")
