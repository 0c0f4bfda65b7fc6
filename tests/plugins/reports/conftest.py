"""A hand-built history with known answers for the reports plugin's tests.

Viewer zone Europe/Sofia (UTC+2 in January); the period is Monday 5 to Sunday 11 January 2026 in
Sofia, i.e. [2026-01-04 22:00Z, 2026-01-11 22:00Z). IT (and its sub-department Network) works
Monday-Friday 09:00-17:00 Sofia; Facilities has no calendar (working time = calendar time).

- T0 (IT, high): created 1 January, still open, due 2 January: the backlog at the start, overdue now.
- T1 (IT): created Mon 07:00Z; agent A comments 08:00Z (response 1 h, 1 working h); reassigned A -> B
  08:30Z; open 08:45Z, in progress 09:00Z, resolved 13:00Z (6 h, 6 working h).
- T2 (Network, a sub-department of IT): created 4 Jan 22:30Z = Monday 00:30 Sofia (a day at the time-zone
  boundary: Sunday in UTC, Monday in the period); A opens it Mon 08:00Z (9.5 h, 1 working h);
  resolved Tue 08:00Z, reopened Wed 08:00Z, resolved again Thu 08:00Z (81.5 h, 25 working h).
- T3 (IT -> Facilities, type "handover"): created Tue 10:00Z, assigned to A 10:30Z (a first assignment,
  not a reassignment), opened by A 11:00Z (1 h), moved to Facilities 12:00Z; open to the end.
- T4 (IT, urgent): created Sun 11 Jan 21:30Z = 23:30 Sofia (in the period); its reporter comments
  (not a response).
- T5 (IT): created Sun 11 Jan 22:30Z = Monday 12 Jan 00:30 Sofia: after the period.
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

UTC = dt.timezone.utc
SOFIA = ZoneInfo("Europe/Sofia")
BOTH = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class History:
    """Writes tasks and their audit trail as they would have been recorded, at chosen instants."""

    def __init__(self):
        self.number = 1000

    def task(self, when: str, department, reporter, assignee=None, priority="normal", type="task", due=None,
             title=None):
        from workdesk import Task, TaskEvent
        self.number += 1
        created = at(when)
        task = Task.create(number=self.number, title=title or f"Task {self.number}", department=department,
                           reporter=reporter, assignee=assignee, priority=priority, type=type, status="new",
                           created_at=created, updated_at=created, due_at=at(due) if due else None)
        TaskEvent.create(task_id=task.id, task_number=task.number, actor=reporter, at=created, kind="created",
                         changes={"title": [None, task.title], "status": [None, "new"],
                                  "priority": [None, priority], "department_id": [None, department.id],
                                  "assignee_id": [None, assignee.id if assignee else None]})
        return task

    def change(self, task, when: str, actor, **changes):
        """An ``updated`` row; ``status="open"`` records the move from the task's current status."""
        from workdesk import Task, TaskEvent
        task = Task.get_by_id(task.id)
        diff = {}
        if "status" in changes:  # resolved_at and closed_at kept as the task service keeps them
            diff["status"] = [task.status, changes["status"]]
            if changes["status"] == "resolved":
                task.resolved_at = at(when)
            elif changes["status"] == "closed":
                task.closed_at, task.resolved_at = at(when), task.resolved_at or at(when)
            elif task.status in ("resolved", "closed"):
                task.resolved_at = task.closed_at = None
            task.status = changes["status"]
        if "department" in changes:
            diff["department_id"] = [task.department_id, changes["department"].id]
            task.department = changes["department"]
        if "assignee" in changes:
            diff["assignee_id"] = [task.assignee_id, changes["assignee"].id if changes["assignee"] else None]
            task.assignee = changes["assignee"]
        task.save()
        TaskEvent.create(task_id=task.id, task_number=task.number, actor=actor, at=at(when), kind="updated",
                         changes=diff)
        return task

    def comment(self, task, when: str, actor):
        from workdesk import TaskEvent
        TaskEvent.create(task_id=task.id, task_number=task.number, actor=actor, at=at(when), kind="commented",
                         changes={"comment_id": [None, 1]})


@pytest.fixture
def history(workdesk_app, enable_plugin, make_department, make_user):
    from workdesk import Calendar
    enable_plugin("reports")
    hours = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    office = Calendar.create(name="Sofia office", timezone="Europe/Sofia", weekly_hours=hours)
    it = make_department("IT", calendar_id=office.id)
    network = make_department("Network", parent_id=it.id)
    facilities = make_department("Facilities")
    manager = make_user("manager", [it], name="Mila Manager", timezone="Europe/Sofia")
    agent_a = make_user("agent", [it, network, facilities], name="Ana Agent", timezone="Europe/Sofia")
    agent_b = make_user("agent", [it], name="Boris Agent")
    reporter = make_user("requester", [], name="Rita Reporter", email="rita@example.com")
    admin = make_user("admin", [], name="Ada Admin", timezone="Europe/Sofia")
    facilities_head = make_user("manager", [facilities], name="Fay Facilities", timezone="Europe/Sofia")
    h = History()
    t0 = h.task("2026-01-01T10:00Z", it, reporter, assignee=agent_a, priority="high", due="2026-01-02T10:00Z")
    t1 = h.task("2026-01-05T07:00Z", it, reporter, assignee=agent_a)
    h.comment(t1, "2026-01-05T08:00Z", agent_a)
    h.change(t1, "2026-01-05T08:30Z", agent_a, assignee=agent_b)
    h.change(t1, "2026-01-05T08:45Z", agent_b, status="open")
    h.change(t1, "2026-01-05T09:00Z", agent_b, status="in_progress")
    h.change(t1, "2026-01-05T13:00Z", agent_b, status="resolved")
    t2 = h.task("2026-01-04T22:30Z", network, reporter, assignee=agent_a)
    h.change(t2, "2026-01-05T08:00Z", agent_a, status="open")
    h.change(t2, "2026-01-05T09:00Z", agent_a, status="in_progress")
    h.change(t2, "2026-01-06T08:00Z", agent_a, status="resolved")
    h.change(t2, "2026-01-07T08:00Z", reporter, status="open")
    h.change(t2, "2026-01-07T09:00Z", agent_a, status="in_progress")
    h.change(t2, "2026-01-08T08:00Z", agent_a, status="resolved")
    t3 = h.task("2026-01-06T10:00Z", it, reporter, type="handover", due="2099-01-01T00:00Z")
    h.change(t3, "2026-01-06T10:30Z", manager, assignee=agent_a)
    h.change(t3, "2026-01-06T11:00Z", agent_a, status="open")
    h.change(t3, "2026-01-06T12:00Z", agent_a, department=facilities)
    t4 = h.task("2026-01-11T21:30Z", it, reporter, priority="urgent")
    h.comment(t4, "2026-01-11T21:40Z", reporter)
    t5 = h.task("2026-01-11T22:30Z", it, reporter)
    # The trail above is written directly, as it would have been recorded, so no event handler ran:
    # derive the metrics' facts from it as an existing install's upgrade does.
    from workdesk.plugins.reports.facts import rebuild
    rebuild()
    return SimpleNamespace(it=it, network=network, facilities=facilities, manager=manager, agent_a=agent_a,
                           agent_b=agent_b, reporter=reporter, admin=admin, facilities_head=facilities_head,
                           office=office, tasks=[t0, t1, t2, t3, t4, t5])


@pytest.fixture
def week():
    from workdesk.plugins.reports.scope import Period
    return Period(dt.date(2026, 1, 5), dt.date(2026, 1, 11), SOFIA)
