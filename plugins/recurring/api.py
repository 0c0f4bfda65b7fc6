"""JSON API under /api/v1/recurring: rule CRUD, pause/resume/end and a preview of the next occurrences."""
from __future__ import annotations

from marshmallow import Schema, validate
from marshmallow import fields as mf

from workdesk import api_blueprint, api_operation, load_json, load_query, require_api_user

from . import services
from .schemas import OccurrencePreview, RuleInput, RuleOutput

blueprint = api_blueprint("recurring_api", __name__, url_prefix="/api/v1/recurring")
TAGS = ("recurring",)


class RuleList(Schema):
    items = mf.List(mf.Nested(RuleOutput))


class RuleListQuery(Schema):
    status = mf.String(validate=validate.OneOf(("active", "paused", "ended")))


class PreviewQuery(Schema):
    count = mf.Integer(load_default=10, validate=validate.Range(min=1, max=100))


class PreviewOutput(Schema):
    rule_id = mf.Integer()
    sentence = mf.String()
    occurrences = mf.List(mf.Nested(OccurrencePreview))


@blueprint.get("/rules")
@api_operation("List recurring rules", tags=TAGS, query=RuleListQuery, response=RuleList)
def list_rules():
    """Every rule, oldest first; ``status`` narrows to active, paused or ended rules."""
    query = load_query(RuleListQuery)
    rules = services.list_rules(require_api_user(), query.get("status"))
    return {"items": [services.rule_to_dict(rule) for rule in rules]}


@blueprint.post("/rules")
@api_operation("Create a recurring rule", tags=TAGS, request=RuleInput, response=RuleOutput, status=201)
def create_rule():
    """A task template plus its recurrence. Occurrences before now are never created; an invalid RRULE,
    time zone or template is a 422 naming the field."""
    rule = services.create_rule(require_api_user(), load_json(RuleInput))
    return services.rule_to_dict(rule), 201


@blueprint.get("/rules/<id:rule_id>")
@api_operation("Show a recurring rule", tags=TAGS, response=RuleOutput)
def show_rule(rule_id: int):
    return services.rule_to_dict(services.get_rule(require_api_user(), rule_id))


@blueprint.patch("/rules/<id:rule_id>")
@api_operation("Change a recurring rule", tags=TAGS, request=RuleInput, response=RuleOutput)
def update_rule(rule_id: int):
    """Send only the fields to change. A changed recurrence applies to future occurrences only; tasks
    already created are left as they are."""
    user = require_api_user()
    changes = load_json(RuleInput, partial=True)
    return services.rule_to_dict(services.update_rule(user, rule_id, changes))


@blueprint.delete("/rules/<id:rule_id>")
@api_operation("Delete a recurring rule", tags=TAGS, response=None, status=204)
def delete_rule(rule_id: int):
    """The tasks it created stay, and keep ``plugins.recurring`` pointing at the rule's id."""
    services.delete_rule(require_api_user(), rule_id)
    return "", 204


@blueprint.post("/rules/<id:rule_id>/pause")
@api_operation("Pause a recurring rule", tags=TAGS, response=RuleOutput, errors=(409,))
def pause_rule(rule_id: int):
    return services.rule_to_dict(services.pause_rule(require_api_user(), rule_id))


@blueprint.post("/rules/<id:rule_id>/resume")
@api_operation("Resume a paused recurring rule", tags=TAGS, response=RuleOutput, errors=(409,))
def resume_rule(rule_id: int):
    """Occurrences that fell in the pause are not created."""
    return services.rule_to_dict(services.resume_rule(require_api_user(), rule_id))


@blueprint.post("/rules/<id:rule_id>/end")
@api_operation("End a recurring rule", tags=TAGS, response=RuleOutput)
def end_rule(rule_id: int):
    return services.rule_to_dict(services.end_rule(require_api_user(), rule_id))


@blueprint.get("/rules/<id:rule_id>/preview")
@api_operation("Preview the next occurrences of a rule", tags=TAGS, query=PreviewQuery, response=PreviewOutput)
def preview_rule(rule_id: int):
    """The next ``count`` (1-100, default 10) occurrences with their local times and the rule in words."""
    user = require_api_user()
    count = load_query(PreviewQuery)["count"]
    rule = services.get_rule(user, rule_id)
    return {"rule_id": rule.id, "sentence": services.sentence(rule),
            "occurrences": services.preview(rule, count)}
