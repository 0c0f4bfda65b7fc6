"""The list and task pages' queries (ordering by lateness, counts, joins) on PostgreSQL too."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk.services.tasks import add_comment, transition

pytestmark = [pytest.mark.postgres,
              pytest.mark.parametrize("workdesk_database", ["postgresql"], indirect=True)]


def test_pages_on_postgresql(client, login, cast, make_task):
    now = dt.datetime.now(dt.timezone.utc)
    late = make_task(cast.admin, cast.it, title="Late one", assignee_id=cast.agent.id,
                     due_at=now - dt.timedelta(days=1))
    make_task(cast.admin, cast.it, title="Undated one", assignee_id=cast.agent.id)
    queued = make_task(cast.requester, cast.it, title="Queued one", priority="urgent")
    transition(cast.agent, late.id, "open")
    add_comment(cast.requester, queued.id, "Please hurry")
    login(client, cast.agent)
    home = client.get("/").text
    assert home.index("Late one") < home.index("Undated one")
    assert 'Open <span class="count">1</span>' in home
    assert "Queued one" in client.get("/queue?priority=urgent&q=queued").text
    assert "Queued one" in client.get("/search?q=QUEUED").text
    page = client.get(f"/tasks/{queued.id}").text
    assert "Please hurry" in page and "filed the task" in page
    response = client.post(f"/tasks/{queued.id}/take", data={"version": queued.version})
    assert response.status_code == 302
    login(client, cast.other_agent)
    assert client.get(f"/tasks/{queued.id}").status_code == 404
