"""Small services of the reports plugin: the permissions managers start with, and schedules."""
from __future__ import annotations

from flask_babel import gettext as _

from workdesk import Department, NotFound, Role, User, ValidationFailed, require, write_transaction

from .models import FREQUENCIES, Schedule
from .scope import may_view, reportable_departments


def grant_default_permissions() -> None:
    """Give the seeded ``manager`` role ``reports.view`` when the plugin is first enabled (an admin may
    take it away in the role editor; it is not given again while the role has been edited since)."""
    role = Role.get_or_none(Role.name == "manager")
    if role is not None and "reports.view" not in (role.permissions or []):
        role.permissions = [*role.permissions, "reports.view"]
        role.save()


def create_schedule(actor: User, recipient_id: int, frequency: str, department_id: int | None) -> Schedule:
    """A weekly or monthly report for a person who may read reports (on that department, if one is given)."""
    require(actor, "reports.view_all")
    errors: dict[str, list[str]] = {}
    recipient = User.get_or_none((User.id == recipient_id) & (User.is_active == True))  # noqa: E712
    if recipient is None or not may_view(recipient):
        errors["recipient_id"] = [_("Choose an active person whose role allows reports.")]
    if frequency not in FREQUENCIES:
        errors["frequency"] = [_("Choose weekly or monthly.")]
    if department_id is not None:
        if Department.get_or_none(Department.id == department_id) is None:
            raise NotFound(_("No such department."))
        allowed = reportable_departments(recipient) if recipient is not None and may_view(recipient) else set()
        if allowed is not None and department_id not in allowed:
            errors["department_id"] = [_("This person may not see reports on this department.")]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors)
    with write_transaction():
        return Schedule.create(recipient=recipient, frequency=frequency, department=department_id, created_by=actor)
