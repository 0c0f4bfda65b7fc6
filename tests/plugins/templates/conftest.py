"""Fixtures for the templates plugin's tests: the plugin on, a department with a calendar and people, fields."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

UTC = dt.timezone.utc
BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture
def templates(workdesk_app, enable_plugin):
    enable_plugin("templates")
    from workdesk.plugins.templates import services
    return services


@dataclass
class Org:
    it: object
    admin: object
    agent: object
    other_agent: object
    boss: object
    auditor: object
    requester: object


@pytest.fixture
def org(templates, make_department, make_user):
    from workdesk.models import Calendar, Department, Holiday
    week = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    calendar = Calendar.create(name="Sofia office", timezone="Europe/Sofia", weekly_hours=week)
    Holiday.create(calendar=calendar, date=dt.date(2026, 12, 24), name="Christmas Eve")
    it = make_department("IT Support")
    Department.update(calendar=calendar).where(Department.id == it.id).execute()
    it = Department.get_by_id(it.id)
    return Org(it=it, admin=make_user("admin", departments=[it], name="Ada Admin"),
               agent=make_user("agent", departments=[it], name="Al Agent"),
               other_agent=make_user("agent", departments=[it], name="Bea Agent"),
               boss=make_user("manager", name="Bo Boss"),
               auditor=make_user("agent", name="Cy Auditor"),
               requester=make_user("requester", name="Di Requester"))


@pytest.fixture
def every_field(templates, org):
    """One custom field of each type."""
    made = {}
    for key, kind, extra in (("summary", "text", {}), ("details", "long_text", {}), ("cost", "number", {}),
                             ("needed_by", "date", {}), ("category", "choice", {"options": ["hardware", "software"]}),
                             ("systems", "choice", {"options": ["mail", "vpn", "erp"], "multiple": True}),
                             ("manager", "person", {}), ("link", "url", {})):
        made[key] = templates.create_field(None, {"key": key, "label": key.replace("_", " ").title(), "type": kind,
                                                  **extra})
    return made


@pytest.fixture
def onboarding(templates, org, every_field):
    """A template with a required field, a required checklist, roles and a due offset."""
    from workdesk.plugins.templates.models import FieldDefinition
    FieldDefinition.update(required=True).where(FieldDefinition.key == "category").execute()
    return templates.create_template(None, {
        "name": "New laptop", "department_id": org.it.id, "type": "request",
        "title_pattern": "Laptop for {title} ({week})", "description": "Model:\nDelivery address:",
        "priority": "high", "due_offset": 3, "due_unit": "working_days",
        "checklist": ["Order the laptop", "Install the image"], "require_checklist": True,
        "field_keys": list(every_field), "accountable_id": org.boss.id, "consulted_ids": [org.auditor.id],
        "informed_ids": [org.requester.id]})
