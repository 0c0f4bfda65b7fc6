"""The admin home page: open tasks by status and department, overdue, this week's flow, workload."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk.admin.stats import home_figures, week_start
from workdesk.db import utcnow
from workdesk.models import Membership, Task
from workdesk.services import tasks as task_service


def test_week_starts_on_monday_midnight_in_the_admins_zone():
    thursday = dt.datetime(2026, 11, 19, 23, 30, tzinfo=dt.timezone.utc)  # Friday 01:30 in Sofia
    assert week_start(thursday, "UTC") == dt.datetime(2026, 11, 16, 0, 0, tzinfo=dt.timezone.utc)
    assert week_start(thursday, "Europe/Sofia") == dt.datetime(2026, 11, 15, 22, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_figures(admin, make_user, make_department, make_task):
    support, facilities = make_department("Support"), make_department("Facilities")
    ann = make_user("agent", departments=[support], name="Ann")
    bob = make_user("agent", departments=[facilities], name="Bob")
    now = utcnow()
    late = make_task(admin, support, assignee_id=ann.id, due_at=now - dt.timedelta(days=1))
    make_task(admin, support, assignee_id=ann.id)
    make_task(admin, facilities, assignee_id=bob.id, due_at=now + dt.timedelta(days=3))
    finished = make_task(admin, facilities)
    for status in ("open", "in_progress", "resolved"):
        task_service.transition(admin, finished.id, status)
    task_service.transition(admin, late.id, "open")
    Task.update(created_at=now - dt.timedelta(days=30)).where(Task.id == late.id).execute()

    figures = home_figures(now)
    assert figures.open_total == 3 and figures.overdue == 1
    assert figures.by_status == {"new": 2, "open": 1, "in_progress": 0, "waiting": 0}
    assert [(row["department"], row["counts"]["new"], row["counts"]["open"], row["total"])
            for row in figures.by_department] == [("Facilities", 1, 0, 1), ("Support", 1, 1, 2)]
    assert figures.created_this_week == 3 and figures.resolved_this_week == 1
    assert [(w["user"].name, w["open"], w["overdue"]) for w in figures.workload] == [("Ann", 2, 1), ("Bob", 1, 0)]
    assert figures.unassigned == 0


def test_home_page_shows_the_figures(client, admin, department, make_task):
    Membership.create(user=admin, department=department)  # she works Support's tasks, so she may be assigned one
    make_task(admin, department, title="One", due_at=utcnow() - dt.timedelta(hours=1), assignee_id=admin.id)
    text = client.get("/admin/").get_data(as_text=True)
    for label in ("Open tasks", "Overdue", "Created this week", "Resolved this week", "Workload per person",
                  "Open tasks by department and status", "No worker is running", "Queue depth"):
        assert label in text, label
    assert "Ada Admin" in text and "Support" in text
    assert ">In progress</th>" in text and "in_progress" not in text  # status labels, not stored keys
