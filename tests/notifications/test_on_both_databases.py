"""The notification tables, their migrations and the delivery path on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk.notifications import DIGEST_KIND, Notification, notify, set_preferences, unread_count
from workdesk.notifications.digest import send_digests
from workdesk.services import tasks


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_events_preferences_digest_and_dedupe(workdesk_database, make_department, make_user, make_task,
                                              drain_events):
    dept = make_department()
    boss, agent = make_user("manager", [dept]), make_user("agent", [dept])
    set_preferences(agent, digest="hourly", channels={"task.commented": {"email": False}})
    task = make_task(boss, dept, assignee_id=agent.id)
    tasks.add_comment(boss, task.id, "Ping")
    drain_events()
    assert [n.kind for n in Notification.select().where(Notification.recipient == agent).order_by(Notification.id)] \
        == ["task.assigned", "task.commented"]
    assert unread_count(agent) == 2
    again = notify(agent, "task.assigned", "Same cause", dedupe_key="outbox:1")
    assert notify(agent, "task.assigned", "Same cause", dedupe_key="outbox:1").id == again.id
    now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    assert send_digests(now) == 1
    assert Notification.select().where(Notification.kind == DIGEST_KIND).count() == 1
