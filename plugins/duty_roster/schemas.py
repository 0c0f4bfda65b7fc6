"""Marshmallow schemas of the duty roster API: what requests may carry and what answers look like."""
from __future__ import annotations

from marshmallow import Schema, validate
from marshmallow import fields as mf

from workdesk import Id, Instant, StrictBoolean, Text

from .schedule import ADVANCES, UNITS

UTC_HELP = "An instant with its UTC offset (without one, UTC)."


class DutyRosterSettings(Schema):
    coverage_horizon_days = mf.Integer(
        load_default=14, validate=validate.Range(min=1, max=92),
        metadata={"description": "How many days ahead department heads are told about uncovered duty."})
    handover_due_minutes = mf.Integer(
        load_default=60, validate=validate.Range(min=0, max=10080),
        metadata={"description": "A hand-over not submitted this long after its shift ended is flagged."})
    handover_ack_minutes = mf.Integer(
        load_default=120, validate=validate.Range(min=1, max=10080),
        metadata={"description": "A hand-over not acknowledged this long after it was submitted is flagged."})
    reminder_minutes = mf.Integer(
        load_default=60, validate=validate.Range(min=1, max=10080),
        metadata={"description": "How long before their duty begins people are reminded."})


class WindowSchema(Schema):
    weekdays = mf.List(mf.Integer(strict=True, validate=validate.Range(min=1, max=7)), required=True,
                       metadata={"description": "ISO weekdays, 1 = Monday"})
    start = Text(required=True, max_length=5, metadata={"description": "Local time HH:MM"})
    end = Text(required=True, max_length=5, metadata={"description": "Local time HH:MM; at or before start: "
                                                                      "runs past midnight"})


class RotationInput(Schema):
    """A rotation as the API accepts it; the service checks references, members and times."""
    department_id = Id(required=True)
    name = Text(required=True, min_length=1, max_length=100)
    layer = mf.Integer(strict=True, validate=validate.Range(min=0, max=100),
                       metadata={"description": "Higher layers override lower ones (default 0)"})
    member_ids = mf.List(Id(allow_none=True), required=True,
                         metadata={"description": "User ids in order; null is a deliberate nobody slot"})
    shift_length = mf.Integer(strict=True, validate=validate.Range(min=1, max=744))
    shift_unit = mf.String(validate=validate.OneOf(UNITS))
    handoff_time = Text(max_length=5, metadata={"description": "Local hand-off time HH:MM (default 09:00)"})
    handoff_weekday = mf.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=7),
                                 metadata={"description": "ISO weekday of the first hand-off (weekly rotations)"})
    timezone = Text(max_length=64, metadata={"description": "IANA zone the hand-offs are kept in"})
    start_date = mf.Date(required=True)
    restrictions = mf.List(mf.Nested(WindowSchema), metadata={"description": "Covered only inside these windows"})
    advance = mf.String(validate=validate.OneOf(ADVANCES), metadata={
        "description": "With restrictions, which hand-offs pass the turn: 'windows' (default) only those opening "
                       "restricted time, so no member's turn is lost outside the windows; 'calendar' every one"})


class RotationOutput(RotationInput):
    id = mf.Integer()
    created_at = mf.String()
    updated_at = mf.String()


class RotationList(Schema):
    items = mf.List(mf.Nested(RotationOutput))


class RotationListQuery(Schema):
    department_id = Id(strict=False)


class OverrideInput(Schema):
    rotation_id = Id(required=True)
    user_id = Id(required=True, allow_none=True, metadata={"description": "Who covers; null: deliberately nobody"})
    starts_at = Instant(required=True, metadata={"description": UTC_HELP})
    ends_at = Instant(required=True, metadata={"description": UTC_HELP})
    note = Text(max_length=2000)


class OverrideOutput(OverrideInput):
    id = mf.Integer()


class OverrideList(Schema):
    items = mf.List(mf.Nested(OverrideOutput))


class SlotOutput(Schema):
    user_id = mf.Integer(allow_none=True)
    user_name = mf.String(allow_none=True)
    kind = mf.String(metadata={"description": "shift, override, nobody (deliberate) or absent (uncovered)"})
    covered = mf.Boolean()
    rotation_id = mf.Integer()
    rotation_name = mf.String()
    department_id = mf.Integer()
    layer = mf.Integer()
    start = mf.String(metadata={"description": "When this piece starts (shift lists only)"})
    end = mf.String()
    shift_start = mf.String(metadata={"description": "The hand-off that started the shift"})
    shift_end = mf.String(metadata={"description": "The hand-off that ends it"})


class NowQuery(Schema):
    department_id = Id(required=True, strict=False)
    at = Instant(metadata={"description": "Default: now. " + UTC_HELP})


class NowOutput(Schema):
    department_id = mf.Integer()
    at = mf.String()
    keeps_roster = mf.Boolean()
    people = mf.List(mf.Nested(SlotOutput), metadata={"description": "Who is on duty, highest layer first"})
    slots = mf.List(mf.Nested(SlotOutput), metadata={"description": "Every winning slot, nobody and absent included"})


class PeriodQuery(Schema):
    start = Instant(required=True, data_key="from", metadata={"description": UTC_HELP})
    end = Instant(required=True, data_key="to", metadata={"description": "At most 92 days after from"})


class ShiftsQuery(PeriodQuery):
    department_id = Id(strict=False)
    user_id = Id(strict=False)


class ShiftList(Schema):
    items = mf.List(mf.Nested(SlotOutput))


class DepartmentSettingsSchema(Schema):
    department_id = mf.Integer(dump_only=True)
    auto_assign = StrictBoolean(metadata={"description": "New unassigned tasks go to whoever is on duty"})


class QualityQuery(Schema):
    department_id = Id(required=True, strict=False)
    start = Instant(data_key="from", metadata={"description": "Default: now"})
    end = Instant(data_key="to", metadata={"description": "Default: four weeks after from; at most 92 days"})


class LoadOutput(Schema):
    user_id = mf.Integer()
    user_name = mf.String(allow_none=True)
    hours = mf.Float()
    ratio = mf.Float(allow_none=True, metadata={"description": "Load against the average (1.0 = average)"})


class UncoveredOutput(Schema):
    kind = mf.String(metadata={"description": "gap (nobody scheduled) or absent (the person is away)"})
    start = mf.String()
    end = mf.String()
    user_id = mf.Integer(allow_none=True)
    rotation_id = mf.Integer(allow_none=True)


class QualityOutput(Schema):
    department_id = mf.Integer()
    start = mf.String(data_key="from")
    end = mf.String(data_key="to")
    covered_hours = mf.Float()
    uncovered_hours = mf.Float(metadata={"description": "Gaps and absent people's slots"})
    nobody_hours = mf.Float(metadata={"description": "Deliberately unstaffed"})
    average_load_hours = mf.Float()
    score = mf.Integer(metadata={"description": "0-100: covered share times fairness of the loads"})
    load = mf.List(mf.Nested(LoadOutput))
    uncovered = mf.List(mf.Nested(UncoveredOutput))


class FeedInput(Schema):
    department_id = Id(allow_none=True, metadata={"description": "A department's roster; omit for your own shifts"})


class FeedOutput(Schema):
    id = mf.Integer()
    department_id = mf.Integer(allow_none=True)
    created_at = mf.String()
    url = mf.String(metadata={"description": "The secret feed URL, shown only when the feed is created"})


class FeedList(Schema):
    items = mf.List(mf.Nested(FeedOutput))


class HandoverQuery(Schema):
    department_id = Id(required=True, strict=False)
    status = mf.String(validate=validate.OneOf(("open", "submitted", "acknowledged")))


class HandoverInput(Schema):
    notes = Text(max_length=20000)
    incidents = mf.List(Text(min_length=1, max_length=2000), validate=validate.Length(max=100))


class HandoverTask(Schema):
    id = mf.Integer()
    number = mf.Integer()
    title = mf.String()
    status = mf.String()


class HandoverOutput(Schema):
    id = mf.Integer()
    department_id = mf.Integer()
    rotation_id = mf.Integer()
    shift_start = mf.String()
    shift_end = mf.String()
    outgoing_id = mf.Integer()
    incoming_id = mf.Integer(allow_none=True)
    status = mf.String(metadata={"description": "open, submitted or acknowledged"})
    tasks = mf.List(mf.Nested(HandoverTask), metadata={"description": "The shift's open tasks, listed automatically"})
    notes = mf.String()
    incidents = mf.List(mf.String())
    due_at = mf.String()
    submitted_at = mf.String(allow_none=True)
    acknowledged_at = mf.String(allow_none=True)
    missing = mf.Boolean(metadata={"description": "Flagged: not submitted in time"})
    unacknowledged = mf.Boolean(metadata={"description": "Flagged: not acknowledged in time"})


class HandoverList(Schema):
    items = mf.List(mf.Nested(HandoverOutput))


class LogInput(Schema):
    department_id = Id(required=True)
    text = Text(required=True, min_length=1, max_length=5000)
    task_id = Id(allow_none=True)
    at = Instant(metadata={"description": "When it happened; default now, never in the future"})


class LogOutput(Schema):
    id = mf.Integer()
    department_id = mf.Integer()
    user_id = mf.Integer()
    user_name = mf.String()
    at = mf.String()
    text = mf.String()
    task_id = mf.Integer(allow_none=True)
    on_duty = mf.Boolean(metadata={"description": "Whether the author was on duty then"})


class LogQuery(PeriodQuery):
    department_id = Id(required=True, strict=False)


class LogList(Schema):
    items = mf.List(mf.Nested(LogOutput))


class SwapInput(Schema):
    rotation_id = Id(required=True)
    user_id = Id(required=True, metadata={"description": "Who is asked to take the duty"})
    starts_at = Instant(required=True, metadata={"description": UTC_HELP})
    ends_at = Instant(required=True, metadata={"description": UTC_HELP})
    return_starts_at = Instant(allow_none=True, metadata={"description": "Optional: the asked person's duty the "
                                                                         "requester takes in return"})
    return_ends_at = Instant(allow_none=True)
    expires_at = Instant(metadata={"description": "Default and latest: when the duty starts"})
    note = Text(max_length=2000)


class SwapOutput(Schema):
    id = mf.Integer()
    rotation_id = mf.Integer()
    requester_id = mf.Integer()
    user_id = mf.Integer()
    starts_at = mf.String()
    ends_at = mf.String()
    return_starts_at = mf.String(allow_none=True)
    return_ends_at = mf.String(allow_none=True)
    note = mf.String()
    status = mf.String(metadata={"description": "pending, accepted, declined, cancelled or expired"})
    expires_at = mf.String()
    decided_at = mf.String(allow_none=True)


class SwapList(Schema):
    items = mf.List(mf.Nested(SwapOutput))


class ReportQuery(PeriodQuery):
    department_id = Id(required=True, strict=False)
    user_id = Id(strict=False)


class ReportCounts(Schema):
    hours_on_duty = mf.Float()
    shifts = mf.Integer()
    tasks_received = mf.Integer(metadata={"description": "Assigned to the person while on duty"})
    tasks_resolved = mf.Integer(metadata={"description": "Resolved by the person while on duty"})
    responses = mf.Integer()
    handovers_due = mf.Integer()
    handovers_submitted = mf.Integer()
    handovers_on_time = mf.Integer()
    handovers_acknowledged = mf.Integer()
    log_entries = mf.Integer()


class ReportPerson(ReportCounts):
    user_id = mf.Integer()
    user_name = mf.String(allow_none=True)
    first_response_minutes_median = mf.Float(allow_none=True)
    first_response_minutes_average = mf.Float(allow_none=True)


class ReportOutput(Schema):
    department_id = mf.Integer()
    start = mf.String(data_key="from")
    end = mf.String(data_key="to")
    people = mf.List(mf.Nested(ReportPerson))
    totals = mf.Nested(ReportCounts)
