"""JSON API under /api/v1/duty: rotations and overrides (``duty.manage``), who is on duty, shifts."""
from __future__ import annotations

from flask import request

from workdesk import api_blueprint, api_operation, load_json, load_query, require_api_user

from . import feeds, handover, report, services, swaps
from .schemas import (DepartmentSettingsSchema, FeedInput, FeedList, FeedOutput, HandoverInput, HandoverList,
                      HandoverOutput, HandoverQuery, LogInput, LogList, LogOutput, LogQuery, NowOutput, NowQuery,
                      OverrideInput, OverrideList, OverrideOutput, PeriodQuery, QualityOutput, QualityQuery,
                      ReportOutput, ReportQuery, RotationInput, RotationList, RotationListQuery, RotationOutput,
                      ShiftList, ShiftsQuery, SwapInput, SwapList, SwapOutput)

blueprint = api_blueprint("duty_roster_api", __name__, url_prefix="/api/v1/duty")
TAGS = ("duty",)


@blueprint.get("/now")
@api_operation("Who is on duty", tags=TAGS, query=NowQuery, response=NowOutput)
def on_duty_now():
    """The people on duty in a department now (or at ``at``), across layers, with their shift's start and
    end. ``people`` is empty for a deliberate nobody, an absent person or a gap; ``slots`` says which."""
    query = load_query(NowQuery)
    return services.now_answer(require_api_user(), query["department_id"], query.get("at"))


@blueprint.get("/shifts")
@api_operation("Shifts between two instants", tags=TAGS, query=ShiftsQuery, response=ShiftList)
def list_shifts():
    """The roster's pieces from ``from`` to ``to`` (at most 92 days): of ``department_id``, or of every
    department whose roster you see; ``user_id`` narrows to one person."""
    query = load_query(ShiftsQuery)
    return {"items": services.shifts_answer(require_api_user(), query["start"], query["end"],
                                            query.get("department_id"), query.get("user_id"))}


@blueprint.get("/my-shifts")
@api_operation("My shifts", tags=TAGS, query=PeriodQuery, response=ShiftList)
def list_my_shifts():
    """Your own shifts from ``from`` to ``to`` in every department you belong to."""
    query = load_query(PeriodQuery)
    return {"items": services.my_shifts(require_api_user(), query["start"], query["end"])}


@blueprint.get("/quality")
@api_operation("Schedule quality", tags=TAGS, query=QualityQuery, response=QualityOutput)
def schedule_quality():
    """Coverage of a department's roster for the coming weeks (default: four from now): covered and
    uncovered hours (gaps, absent people), deliberate nobody, each person's load against the average,
    and a score from 0 to 100."""
    query = load_query(QualityQuery)
    return services.quality_answer(require_api_user(), query["department_id"], query.get("start"), query.get("end"))


@blueprint.get("/rotations")
@api_operation("List rotations", tags=TAGS, query=RotationListQuery, response=RotationList)
def list_rotations():
    """The rotations of the departments whose roster you see (all of them with ``duty.manage``)."""
    query = load_query(RotationListQuery)
    rotations = services.list_rotations(require_api_user(), query.get("department_id"))
    return {"items": [services.rotation_to_dict(r) for r in rotations]}


@blueprint.post("/rotations")
@api_operation("Create a rotation", tags=TAGS, request=RotationInput, response=RotationOutput, status=201)
def create_rotation():
    """Members must belong to the department; a wrong value is a 422 naming the field."""
    rotation = services.create_rotation(require_api_user(), load_json(RotationInput))
    return services.rotation_to_dict(rotation), 201


@blueprint.get("/rotations/<id:rotation_id>")
@api_operation("Show a rotation", tags=TAGS, response=RotationOutput)
def show_rotation(rotation_id: int):
    return services.rotation_to_dict(services.get_rotation(require_api_user(), rotation_id))


@blueprint.patch("/rotations/<id:rotation_id>")
@api_operation("Change a rotation", tags=TAGS, request=RotationInput, response=RotationOutput)
def update_rotation(rotation_id: int):
    """Send only the fields to change; the schedule is recomputed from them, past and future alike."""
    user = require_api_user()
    changes = load_json(RotationInput, partial=True)
    return services.rotation_to_dict(services.update_rotation(user, rotation_id, changes))


@blueprint.delete("/rotations/<id:rotation_id>")
@api_operation("Delete a rotation", tags=TAGS, response=None, status=204)
def delete_rotation(rotation_id: int):
    """Its overrides go with it."""
    services.delete_rotation(require_api_user(), rotation_id)
    return "", 204


@blueprint.get("/rotations/<id:rotation_id>/overrides")
@api_operation("List a rotation's overrides", tags=TAGS, response=OverrideList)
def list_overrides(rotation_id: int):
    overrides = services.list_overrides(require_api_user(), rotation_id)
    return {"items": [services.override_to_dict(o) for o in overrides]}


@blueprint.post("/overrides")
@api_operation("Create an override", tags=TAGS, request=OverrideInput, response=OverrideOutput, status=201)
def create_override():
    """Someone covers a rotation for a period (``user_id`` null: deliberately nobody)."""
    override = services.create_override(require_api_user(), load_json(OverrideInput))
    return services.override_to_dict(override), 201


@blueprint.delete("/overrides/<id:override_id>")
@api_operation("Delete an override", tags=TAGS, response=None, status=204)
def delete_override(override_id: int):
    services.delete_override(require_api_user(), override_id)
    return "", 204


@blueprint.get("/departments/<id:department_id>")
@api_operation("A department's roster switches", tags=TAGS, response=DepartmentSettingsSchema)
def show_department(department_id: int):
    department = services.visible_department(require_api_user(), department_id)
    return services.department_settings(department.id)


@blueprint.patch("/departments/<id:department_id>")
@api_operation("Change a department's roster switches", tags=TAGS, request=DepartmentSettingsSchema,
               response=DepartmentSettingsSchema)
def update_department(department_id: int):
    """``auto_assign``: new unassigned tasks of the department go to whoever is on duty, after an explicit
    assignee and dispatch rules (see ``Plugin.assignment_rank``)."""
    user = require_api_user()
    return services.update_department_settings(user, department_id, load_json(DepartmentSettingsSchema))


@blueprint.get("/feeds")
@api_operation("List my calendar feeds", tags=TAGS, response=FeedList)
def list_feeds():
    """Your live feeds; their URLs are not shown again (revoke one and create another)."""
    return {"items": [feeds.feed_to_dict(f) for f in feeds.list_feeds(require_api_user())]}


@blueprint.post("/feeds")
@api_operation("Create a calendar feed", tags=TAGS, request=FeedInput, response=FeedOutput, status=201)
def create_feed():
    """A secret iCalendar URL of your own shifts, or of a department's roster you see. The URL is the
    credential: it is shown once, only its hash is stored, and anyone holding it reads the feed until it
    is revoked."""
    feed, token = feeds.create_feed(require_api_user(), load_json(FeedInput).get("department_id"))
    return feeds.feed_to_dict(feed, token), 201


@blueprint.delete("/feeds/<id:feed_id>")
@api_operation("Revoke a calendar feed", tags=TAGS, response=None, status=204)
def revoke_feed(feed_id: int):
    """Its URL answers 404 from now on."""
    feeds.revoke_feed(require_api_user(), feed_id)
    return "", 204


@blueprint.get("/handovers")
@api_operation("List hand-overs", tags=TAGS, query=HandoverQuery, response=HandoverList)
def list_handovers():
    """A department's hand-over records, latest shift first (200 at most unless narrowed by ``status``)."""
    query = load_query(HandoverQuery)
    found = handover.list_handovers(require_api_user(), query["department_id"], query.get("status"))
    return {"items": [handover.handover_to_dict(h) for h in found]}


@blueprint.get("/handovers/<id:handover_id>")
@api_operation("Show a hand-over", tags=TAGS, response=HandoverOutput)
def show_handover(handover_id: int):
    return handover.handover_to_dict(handover.visible_handover(require_api_user(), handover_id))


@blueprint.patch("/handovers/<id:handover_id>")
@api_operation("Write a hand-over's notes and incidents", tags=TAGS, request=HandoverInput, response=HandoverOutput,
               errors=(409,))
def update_handover(handover_id: int):
    """The outgoing person (or ``duty.manage``), until it is submitted."""
    user = require_api_user()
    return handover.handover_to_dict(handover.update_handover(user, handover_id, load_json(HandoverInput)))


@blueprint.post("/handovers/<id:handover_id>/submit")
@api_operation("Submit a hand-over", tags=TAGS, request=HandoverInput, response=HandoverOutput, errors=(409,))
def submit_handover(handover_id: int):
    """The outgoing person completes it, with any last notes and incidents (an empty object is fine); its
    list of open tasks is refreshed and the incoming person is told."""
    user = require_api_user()
    changes = load_json(HandoverInput) if request.get_data(cache=True).strip() else {}
    return handover.handover_to_dict(handover.submit_handover(user, handover_id, changes))


@blueprint.post("/handovers/<id:handover_id>/acknowledge")
@api_operation("Acknowledge a hand-over", tags=TAGS, response=HandoverOutput, errors=(409,))
def acknowledge_handover(handover_id: int):
    """The incoming person (or ``duty.manage``) confirms they read it."""
    return handover.handover_to_dict(handover.acknowledge_handover(require_api_user(), handover_id))


@blueprint.get("/log")
@api_operation("Read the duty log", tags=TAGS, query=LogQuery, response=LogList)
def read_log():
    """A department's log entries between two instants (at most 92 days), oldest first."""
    query = load_query(LogQuery)
    entries = handover.log_entries(require_api_user(), query["department_id"], query["start"], query["end"])
    return {"items": [handover.log_entry_to_dict(e) for e in entries]}


@blueprint.post("/log")
@api_operation("Write in the duty log", tags=TAGS, request=LogInput, response=LogOutput, status=201)
def write_log():
    """A timestamped entry by a member of the department, optionally about a task you can see."""
    entry = handover.add_log_entry(require_api_user(), load_json(LogInput))
    return handover.log_entry_to_dict(entry), 201


@blueprint.get("/swaps")
@api_operation("List my swap requests", tags=TAGS, response=SwapList)
def list_swaps():
    """Those you asked and those you were asked, latest first."""
    return {"items": [swaps.swap_to_dict(s) for s in swaps.list_swaps(require_api_user())]}


@blueprint.post("/swaps")
@api_operation("Ask someone to take my duty", tags=TAGS, request=SwapInput, response=SwapOutput, status=201)
def request_swap():
    """For a period of your duty on a rotation, optionally taking theirs in return; they are told and answer
    before ``expires_at`` (at the latest when the duty starts)."""
    return swaps.swap_to_dict(swaps.request_swap(require_api_user(), load_json(SwapInput))), 201


@blueprint.post("/swaps/<id:swap_id>/accept")
@api_operation("Accept a swap request", tags=TAGS, response=SwapOutput, errors=(409,))
def accept_swap(swap_id: int):
    """The person asked takes the duty (overrides are created); 409 once it expired or was answered."""
    return swaps.swap_to_dict(swaps.answer_swap(require_api_user(), swap_id, accept=True))


@blueprint.post("/swaps/<id:swap_id>/decline")
@api_operation("Decline a swap request", tags=TAGS, response=SwapOutput, errors=(409,))
def decline_swap(swap_id: int):
    return swaps.swap_to_dict(swaps.answer_swap(require_api_user(), swap_id, accept=False))


@blueprint.post("/swaps/<id:swap_id>/cancel")
@api_operation("Cancel my swap request", tags=TAGS, response=SwapOutput, errors=(409,))
def cancel_swap(swap_id: int):
    return swaps.swap_to_dict(swaps.cancel_swap(require_api_user(), swap_id))


@blueprint.get("/report")
@api_operation("Duty report", tags=TAGS, query=ReportQuery, response=ReportOutput)
def duty_report():
    """Per person on duty in a department between two instants (at most 92 days; ``user_id`` narrows to
    one): hours and shifts, tasks received and resolved during duty, first-response times, hand-overs
    due, submitted, on time and acknowledged, and log entries; with the department's totals."""
    query = load_query(ReportQuery)
    return report.report_answer(require_api_user(), query["department_id"], query["start"], query["end"],
                                query.get("user_id"))
