"""A plugin exercising the API's extension points: a veto, extra task data, settings and its own endpoints."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from workdesk import Plugin, api_blueprint, api_operation, hookimpl, load_json, require_api_user, access


class SampleSettings(Schema):
    threshold = fields.Integer(load_default=3, validate=validate.Range(min=1, max=10))
    label = fields.String(load_default="sample", validate=validate.Length(min=1, max=20))


class SummarySchema(Schema):
    task_id = fields.Integer(required=True)
    label = fields.String(required=True)


class EchoSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=50))


blueprint = api_blueprint("apisample_api", __name__, url_prefix="/api/v1/apisample")


@blueprint.get("/tasks/<id:task_id>/summary")
@api_operation("A sample summary of a task", response=SummarySchema)
def summary(task_id: int):
    user = require_api_user()
    task = access.get_visible_task(user, task_id)
    return {"task_id": task.id, "label": SamplePlugin().settings()["label"]}


@blueprint.post("/echo")
@api_operation("Echo text back", request=EchoSchema, response=EchoSchema, status=201)
def echo():
    require_api_user()
    return load_json(EchoSchema), 201


class SamplePlugin(Plugin):
    """API sample

    Blocks resolving tasks whose custom field ``checklist`` is ``"open"``.
    """
    name = "apisample"
    version = "0.1.0"
    settings_schema = SampleSettings

    @hookimpl
    def veto_transition(self, task, old_status, new_status):
        if new_status == "resolved" and (task.fields or {}).get("checklist") == "open":
            return "the checklist is not done"
        return None

    @hookimpl
    def extra_task_data(self, task, user):
        return {"checklist": (task.fields or {}).get("checklist"), "viewer_id": user.id if user else None}

    @hookimpl
    def register_blueprints(self, app):
        return [blueprint]
