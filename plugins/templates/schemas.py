"""Marshmallow schemas: the plugin's settings and the API's input and output."""
from __future__ import annotations

from marshmallow import Schema, validate
from marshmallow import fields as mf

from workdesk import PRIORITIES, Id, Text

from .models import DUE_UNITS, FIELD_TYPES, LEVELS


class TemplatesSettings(Schema):
    matrix_enabled = mf.Boolean(load_default=True, metadata={
        "description": "Derive a task's priority from its impact and urgency when both are set."})


_LEVEL = validate.OneOf(("", *LEVELS))


class FieldInput(Schema):
    key = Text(required=True, min_length=1, max_length=40)
    label = Text(required=True, min_length=1, max_length=100)
    type = mf.String(required=True, validate=validate.OneOf(FIELD_TYPES))
    required = mf.Boolean()
    help_text = Text(max_length=300)
    options = mf.List(Text(min_length=1, max_length=100), validate=validate.Length(max=100))
    multiple = mf.Boolean()


class FieldOutput(FieldInput):
    id = mf.Integer()


class FieldList(Schema):
    items = mf.List(mf.Nested(FieldOutput))


class TaskTemplateInput(Schema):
    name = Text(required=True, min_length=1, max_length=100)
    department_id = Id(required=True)
    type = Text(min_length=1, max_length=64)
    title_pattern = Text(min_length=1, max_length=200)
    description = Text(max_length=20000)
    priority = mf.String(validate=validate.OneOf(PRIORITIES))
    impact = mf.String(validate=_LEVEL)
    urgency = mf.String(validate=_LEVEL)
    assignee_id = Id(allow_none=True)
    watcher_ids = mf.List(Id(), validate=validate.Length(max=50))
    due_offset = mf.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=2000))
    due_unit = mf.String(validate=validate.OneOf(DUE_UNITS))
    checklist = mf.List(Text(min_length=1, max_length=300), validate=validate.Length(max=100))
    require_checklist = mf.Boolean()
    field_keys = mf.List(Text(min_length=1, max_length=40), validate=validate.Length(max=50))
    accountable_id = Id(allow_none=True)
    consulted_ids = mf.List(Id(), validate=validate.Length(max=50))
    informed_ids = mf.List(Id(), validate=validate.Length(max=50))
    active = mf.Boolean()


class TaskTemplateOutput(TaskTemplateInput):
    id = mf.Integer()
    fields = mf.List(mf.Nested(FieldOutput))


class TaskTemplateList(Schema):
    items = mf.List(mf.Nested(TaskTemplateOutput))


class MatrixCellSchema(Schema):
    impact = mf.String(required=True, validate=validate.OneOf(LEVELS))
    urgency = mf.String(required=True, validate=validate.OneOf(LEVELS))
    priority = mf.String(required=True, validate=validate.OneOf(PRIORITIES))


class PriorityMatrix(Schema):
    cells = mf.List(mf.Nested(MatrixCellSchema), required=True, validate=validate.Length(max=9))


class RolesInput(Schema):
    accountable_id = Id(allow_none=True)
    consulted_ids = mf.List(Id(), validate=validate.Length(max=50))
    informed_ids = mf.List(Id(), validate=validate.Length(max=50))


class ChecklistItemOutput(Schema):
    id = mf.Integer()
    position = mf.Integer()
    text = mf.String()
    done = mf.Boolean()
    done_by_id = mf.Integer(allow_none=True)
    done_at = mf.DateTime(allow_none=True)


class RaciOutput(Schema):
    responsible_id = mf.Integer(allow_none=True)
    accountable_id = mf.Integer(allow_none=True)
    consulted_ids = mf.List(mf.Integer())
    informed_ids = mf.List(mf.Integer())
    accepted_at = mf.DateTime(allow_none=True)
    awaiting_acceptance = mf.Boolean()


class TaskTemplatesData(Schema):
    template_id = mf.Integer(allow_none=True)
    checklist = mf.List(mf.Nested(ChecklistItemOutput))
    require_checklist = mf.Boolean()
    raci = mf.Nested(RaciOutput)


class ChecklistAdd(Schema):
    text = Text(required=True, min_length=1, max_length=300)


class ChecklistChange(Schema):
    done = mf.Boolean(required=True)


class ResultReturnInput(Schema):
    reason = Text(required=True, min_length=1, max_length=2000)
