"""The reports plugin's settings and API schemas."""
from __future__ import annotations

import datetime as dt

from marshmallow import Schema, fields, validate

from workdesk import Id, Text


# Reports reach back to 1970 and forward to 2999: days beyond would overflow once turned into instants.
FIRST_DAY, LAST_DAY = dt.date(1970, 1, 1), dt.date(2999, 12, 31)


class ReportsSettings(Schema):
    ask_for_ratings = fields.Boolean(load_default=True, metadata={
        "description": "Send the reporter of a resolved task a link to rate it."})
    rating_link_days = fields.Integer(load_default=14, validate=validate.Range(min=1, max=365), metadata={
        "description": "How many days a rating link works."})


class ReportQuery(Schema):
    """The scope of a report: the period (local days in your time zone), a department (with its
    sub-departments), a person, and any task-list filter (type, priority, a plugin's customer...)."""

    class Meta:
        unknown = "exclude"  # the task-list filters are read by the catalogue (a wrong one is a 422 naming it)

    from_ = fields.Date(data_key="from", validate=validate.Range(min=FIRST_DAY, max=LAST_DAY), metadata={
        "description": "First day (default: 29 days before `to`)."})
    to = fields.Date(validate=validate.Range(min=FIRST_DAY, max=LAST_DAY), metadata={
        "description": "Last day, included (default: today)."})
    department = Id(strict=False, metadata={"description": "A department you may report on; its sub-departments are included."})
    person = Id(strict=False, metadata={"description": "Only tasks assigned to this person."})


class ColumnSchema(Schema):
    key = fields.String()
    label = fields.String()


class MetricSchema(Schema):
    key = fields.String()
    title = fields.String()
    description = fields.String()
    plugin = fields.String()


class ReportTableSchema(Schema):
    key = fields.String()
    title = fields.String()
    description = fields.String()
    plugin = fields.String()
    chart = fields.String(allow_none=True)
    columns = fields.List(fields.Nested(ColumnSchema))
    rows = fields.List(fields.Dict())
    links = fields.List(fields.String(allow_none=True))
    note = fields.String(allow_none=True)
    period = fields.Dict()


class MetricListSchema(Schema):
    items = fields.List(fields.Nested(MetricSchema))


class RatingInput(Schema):
    score = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = Text(load_default="", max_length=2000)


class RatingOutput(Schema):
    task_id = fields.Integer()
    score = fields.Integer()
    comment = fields.String()


def report_query_schema() -> type[Schema]:
    """The query string of a report as the OpenAPI document shows it: the scope, and every task-list
    filter of the catalogue (the core's and the enabled plugins')."""
    from workdesk import task_filters
    listing = task_filters.query_schema(task_filters.catalogue())
    declared = {name: field for name, field in listing._declared_fields.items() if name != "sort"}
    declared.update(ReportQuery._declared_fields)
    return Schema.from_dict(declared, name="ReportQuery")
