"""Marshmallow schemas: the plugin's settings and the API's rule input and output."""
from __future__ import annotations

from marshmallow import Schema, validate
from marshmallow import fields as mf

from workdesk import Id, JsonObject, Text, Zone

from .models import ANCHORS, ASSIGN_MODES, CATCH_UP_POLICIES, NON_WORKING_DAY_POLICIES, RULE_STATUSES


MAX_DUE_MINUTES = 366 * 24 * 60  # a task due more than a year after it appears is not a recurring chore


class RecurringSettings(Schema):
    catch_up_grace_minutes = mf.Integer(
        load_default=60, validate=validate.Range(min=1, max=10080),
        metadata={"description": "An occurrence overdue by more than this counts as missed, so its rule's "
                                 "catch-up policy decides whether it is still created."})


class RuleInput(Schema):
    """A rule as the API accepts it; the service checks references and the recurrence itself."""
    title = Text(required=True, min_length=1, max_length=200)
    description = Text(max_length=20000)
    department_id = Id(required=True)
    priority = Text(max_length=32)
    type = Text(min_length=1, max_length=64)
    fields = JsonObject(keys=mf.String())
    watcher_ids = mf.List(Id())
    due_after_minutes = mf.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=MAX_DUE_MINUTES))
    assign_mode = mf.String(validate=validate.OneOf(ASSIGN_MODES))
    assignee_ids = mf.List(Id())
    timezone = Zone()
    dtstart = Text(required=True, max_length=40, metadata={"description": "Local wall time, e.g. 2026-01-05T09:00"})
    rrule = Text(required=True, min_length=1, max_length=1000,
                 metadata={"description": "RFC 5545 RRULE value, e.g. FREQ=WEEKLY;BYDAY=MO"})
    exdates = mf.List(Text(max_length=40), metadata={"description": "Local wall times to leave out"})
    anchor = mf.String(validate=validate.OneOf(ANCHORS))
    catch_up = mf.String(validate=validate.OneOf(CATCH_UP_POLICIES))
    catch_up_limit = mf.Integer(strict=True, validate=validate.Range(min=1, max=1000))
    skip_if_open = mf.Boolean()
    non_working_day = mf.String(validate=validate.OneOf(NON_WORKING_DAY_POLICIES))


class RuleOutput(RuleInput):
    id = mf.Integer()
    status = mf.String(validate=validate.OneOf(RULE_STATUSES))
    sentence = mf.String(metadata={"description": "The recurrence in words"})
    next_run_at = mf.String(allow_none=True)
    next_occurrence_at = mf.String(allow_none=True)
    last_occurrence_at = mf.String(allow_none=True)
    occurrences_created = mf.Integer()
    last_error = mf.String(allow_none=True)
    last_error_at = mf.String(allow_none=True)
    created_by_id = mf.Integer(allow_none=True)
    created_at = mf.String()
    updated_at = mf.String(allow_none=True)
    ended_at = mf.String(allow_none=True)


class OccurrencePreview(Schema):
    occurrence = mf.String(metadata={"description": "The scheduled instant (UTC): the occurrence's identity"})
    at = mf.String(metadata={"description": "When its task appears (UTC), after any working-day move"})
    local = mf.String(metadata={"description": "The same in the rule's time zone"})
    moved = mf.Boolean()
