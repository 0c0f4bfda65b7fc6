"""Admin panel: scheduled reports (who gets which report how often). Created through the service,
which checks the recipient may read reports on that department."""
from __future__ import annotations

from flask_admin.contrib.peewee import ModelView
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from wtforms import SelectField

from workdesk import Department, User, WorkdeskError, WorkdeskForm, current_user, show_service_error, sorted_by_name

from . import services
from .models import Schedule
from .scope import may_view

FREQUENCY_LABELS = {"weekly": _l("Weekly (the last week, Monday to Sunday)"),
                    "monthly": _l("Monthly (the last calendar month)")}


class ScheduleForm(WorkdeskForm):
    recipient_id = SelectField(_l("Recipient"), coerce=int, choices=[])
    frequency = SelectField(_l("How often"), choices=[(k, v) for k, v in FREQUENCY_LABELS.items()])
    department_id = SelectField(_l("Department (with its sub-departments)"), coerce=int, choices=[])


class ScheduleView(ModelView):
    """Scheduled reports."""

    form_base_class = WorkdeskForm
    can_edit = False
    can_view_details = False
    column_list = ("recipient", "frequency", "department", "last_period")
    column_labels = {"recipient": _l("Recipient"), "frequency": _l("How often"), "department": _l("Department"),
                     "last_period": _l("Last period sent (its first day)")}
    column_formatters = {
        "recipient": lambda v, c, m, n: escape(m.recipient.name),
        "department": lambda v, c, m, n: escape(m.department.name) if m.department_id else _l("All their departments"),
        "frequency": lambda v, c, m, n: FREQUENCY_LABELS.get(m.frequency, m.frequency)}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("name", _l("Scheduled reports"))
        kwargs.setdefault("endpoint", "reports_schedules")
        kwargs.setdefault("url", "/admin/reports/schedules")
        super().__init__(Schedule, *args, **kwargs)

    def get_create_form(self):
        return ScheduleForm

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form.recipient_id.choices = [(u.id, u.name) for u in sorted_by_name(User.select()
                                                                            .where(User.is_active == True))  # noqa: E712
                                     if may_view(u)]
        form.department_id.choices = [(0, _l("All their departments"))] + [
            (d.id, d.name) for d in Department.select().order_by(Department.name)]
        return form

    def create_model(self, form):
        try:
            return services.create_schedule(current_user(), form.recipient_id.data, form.frequency.data,
                                            form.department_id.data or None)
        except WorkdeskError as exc:
            show_service_error(exc, form)
            return False


def admin_views() -> list:
    return [ScheduleView()]
