"""Task-list filters the reports link to, so that every figure opens the list of the tasks it counts:
created or resolved within a period, and a department with its sub-departments. Hidden from list
forms (a report's links carry them), accepted by the API like any filter."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields

from workdesk import DONE_STATUSES, OPEN_STATUSES, Id, Instant, Task, TaskFilter

from .models import Assignment, StatusInterval


class Interval(fields.String):
    """An ISO 8601 interval ``start/end`` of two instants, start included, end excluded."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        start, sep, end = text.partition("/")
        if not sep:
            raise ValidationError("Use start/end, two ISO 8601 instants.")
        first, last = Instant().deserialize(start), Instant().deserialize(end)
        if last <= first:
            raise ValidationError("The end must come after the start.")
        return first, last




def _created_between(query, value, context):
    return query.where((Task.created_at >= value[0]) & (Task.created_at < value[1]))


def _resolved_between(query, value, context):
    # An entry into done is a status interval starting with one (the facts the resolution metric reads).
    return query.where(Task.id.in_(
        StatusInterval.select(StatusInterval.task_id).where(
            (StatusInterval.status_changed == 1) & (StatusInterval.started_at >= value[0])
            & (StatusInterval.started_at < value[1]) & StatusInterval.from_status.in_(OPEN_STATUSES)
            & StatusInterval.status.in_(DONE_STATUSES))))


def _assigned_between(query, value, context):
    return query.where(Task.id.in_(Assignment.select(Assignment.task_id).where(
        (Assignment.at >= value[0]) & (Assignment.at < value[1]))))


def _department_tree(query, value, context):
    from .scope import with_subdepartments
    return query.where(Task.department.in_(sorted(with_subdepartments({value}))))


FILTERS = [
    TaskFilter("created_between", _l("Created between"), _created_between, field=Interval, hidden=True,
               description=_l("Created within start/end, two ISO 8601 instants (start included, end not).")),
    TaskFilter("resolved_between", _l("Resolved between"), _resolved_between, field=Interval, hidden=True,
               description=_l("Resolved or closed from an open status within start/end, two ISO 8601 instants.")),
    TaskFilter("assigned_between", _l("Assigned between"), _assigned_between, field=Interval, hidden=True,
               description=_l("Given to a person (at creation or later) within start/end, two ISO 8601 instants.")),
    TaskFilter("department_tree", _l("Department and below"), _department_tree,
               field=lambda: Id(strict=False), hidden=True,
               description=_l("A department id; its sub-departments are included.")),
]
