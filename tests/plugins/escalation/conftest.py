"""Fixtures for the escalation tests: an organisation with a hierarchy of heads and a working calendar, a
settable clock for the audit trail, and ``tick`` running the periodic work as ``workdesk tick --at`` does."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

UTC = dt.timezone.utc
BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
WEEKDAYS_9_TO_17 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture
def escalation(workdesk_app, enable_plugin):
    enable_plugin("escalation")
    from workdesk.plugins.escalation import services
    return services


@pytest.fixture
def clock(monkeypatch):
    """The instant the core's task services record changes at (the audit trail the clocks follow)."""
    class Clock:
        now = at("2026-03-02T08:00Z")

        def set(self, text: str) -> None:
            self.now = at(text)
    current = Clock()
    monkeypatch.setattr("workdesk.services.tasks.utcnow", lambda: current.now)
    return current


@dataclass
class Org:
    company: object
    it: object
    helpdesk: object
    ceo: object
    it_head: object
    helpdesk_head: object
    agent: object
    requester: object
    admin: object
    calendar: object


@pytest.fixture
def org(escalation, make_department, make_user) -> Org:
    """Company (CEO) > IT (its head) > Helpdesk (its head, an agent); a requester; an admin. The company works
    Monday to Friday 09:00-17:00 Europe/Sofia."""
    from workdesk import Calendar
    from workdesk.services.users import update_department
    calendar = Calendar.create(name="Sofia office", timezone="Europe/Sofia", weekly_hours=WEEKDAYS_9_TO_17)
    company = make_department("Company")
    company.calendar = calendar
    company.save()
    it = make_department("IT", parent_id=company.id)
    helpdesk = make_department("Helpdesk", parent_id=it.id)
    admin = make_user("admin", departments=[company], name="Ada Admin")
    ceo = make_user("manager", departments=[company], name="Cleo CEO")
    it_head = make_user("manager", departments=[it], name="Ivan IT-Head")
    helpdesk_head = make_user("manager", departments=[helpdesk], name="Hana Helpdesk-Head")
    agent = make_user("agent", departments=[helpdesk], name="Eve Agent")
    requester = make_user("requester", name="Rita Requester")
    for department, head in ((company, ceo), (it, it_head), (helpdesk, helpdesk_head)):
        update_department(admin, department.id, {"head_id": head.id})
    return Org(company=company, it=it, helpdesk=helpdesk, ceo=ceo, it_head=it_head, helpdesk_head=helpdesk_head,
               agent=agent, requester=requester, admin=admin, calendar=calendar)


@pytest.fixture
def make_policy(escalation):
    from workdesk.plugins.escalation import policies

    def make(targets=None, levels=(), **values):
        data = {"name": values.pop("name", "Helpdesk SLA"),
                "targets": targets or [{"kind": "resolution", "hours": 8}], "levels": list(levels), **values}
        return policies.create_policy(None, data)
    return make


@pytest.fixture
def tick(escalation):
    """``workdesk tick --at``: every due job as of the instant (a replay), then the pending events."""
    from workdesk.jobs import run_due_jobs
    from workdesk.outbox import drain

    def run(instant: str) -> dict:
        results = run_due_jobs(at(instant), force=True, replay=True)
        drain()
        return results
    return run


@pytest.fixture
def file_task(org, clock, make_task, drain_events):
    """File a task in Helpdesk at an instant (as the requester), its events handled."""
    def make(when: str, **values):
        clock.set(when)
        values.setdefault("title", "Printer jammed")
        # Requesters file; an assignee is set by whoever may assign (the admin then reports it).
        task = make_task(org.admin if "assignee_id" in values else org.requester, org.helpdesk, **values)
        drain_events()
        return task
    return make


@pytest.fixture
def act(clock, drain_events):
    """Run a change at an instant, then handle its events as a worker would."""
    def run(when: str, change, *args, **kwargs):
        clock.set(when)
        result = change(*args, **kwargs)
        drain_events()
        return result
    return run
