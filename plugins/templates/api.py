"""JSON API under /api/v1/templates: templates, custom field definitions, the priority matrix, departments'
default roles, and a task's template, checklist and roles (accept or return its result)."""
from __future__ import annotations

from marshmallow import Schema
from marshmallow import fields as mf

from flask_babel import gettext as _

from workdesk import Department, NotFound, api_blueprint, api_operation, get_visible_task, load_json, require_api_user

from . import services
from .schemas import (ChecklistAdd, ChecklistChange, ChecklistItemOutput, FieldInput, FieldList, FieldOutput, PriorityMatrix,
                      RaciOutput, ResultReturnInput, RolesInput, TaskTemplatesData, TaskTemplateInput, TaskTemplateList,
                      TaskTemplateOutput)

blueprint = api_blueprint("templates_api", __name__, url_prefix="/api/v1/templates")
TAGS = ("templates",)


class TemplatesTaskStatus(Schema):
    id = mf.Integer()
    status = mf.String()


# -- templates ---------------------------------------------------------------------------------------

@blueprint.get("")
@api_operation("List task templates", tags=TAGS, response=TaskTemplateList)
def list_templates():
    """Active templates for everyone (to file from); managers (``templates.manage``) also see inactive ones."""
    user = require_api_user()
    manager = user.has_permission(services.PERMISSION_MANAGE)
    return {"items": [services.template_to_dict(t) for t in services.list_templates(active_only=not manager)]}


@blueprint.post("")
@api_operation("Create a task template", tags=TAGS, request=TaskTemplateInput, response=TaskTemplateOutput, status=201)
def create_template():
    """Needs ``templates.manage``. The title pattern may use {title}, {date}, {week}, {department} and
    {reporter}; a wrong variable, department, person or field key is a 422 naming the field."""
    template = services.create_template(require_api_user(), load_json(TaskTemplateInput))
    return services.template_to_dict(template), 201


@blueprint.get("/<id:template_id>")
@api_operation("Show a task template", tags=TAGS, response=TaskTemplateOutput)
def show_template(template_id: int):
    user = require_api_user()
    template = services.require_template(template_id)
    if not template.active and not user.has_permission(services.PERMISSION_MANAGE):
        raise NotFound(_("No such template."))
    return services.template_to_dict(template)


@blueprint.patch("/<id:template_id>")
@api_operation("Change a task template", tags=TAGS, request=TaskTemplateInput, response=TaskTemplateOutput)
def update_template(template_id: int):
    """Send only what changes. Tasks filed earlier keep what they were filed with."""
    user = require_api_user()
    return services.template_to_dict(services.update_template(user, template_id, load_json(TaskTemplateInput, partial=True)))


@blueprint.delete("/<id:template_id>")
@api_operation("Delete a task template", tags=TAGS, response=None, status=204)
def delete_template(template_id: int):
    services.delete_template(require_api_user(), template_id)
    return "", 204


# -- custom fields ------------------------------------------------------------------------------------

@blueprint.get("/fields")
@api_operation("List custom field definitions", tags=TAGS, response=FieldList)
def list_fields():
    require_api_user()
    return {"items": [services.field_to_dict(d) for d in services.list_fields()]}


@blueprint.post("/fields")
@api_operation("Define a custom field", tags=TAGS, request=FieldInput, response=FieldOutput, status=201)
def create_field():
    """Types: text, long_text, number, date, choice (``options``, ``multiple``), person (a user id) and url."""
    return services.field_to_dict(services.create_field(require_api_user(), load_json(FieldInput))), 201


@blueprint.patch("/fields/<id:field_id>")
@api_operation("Change a custom field", tags=TAGS, request=FieldInput, response=FieldOutput)
def update_field(field_id: int):
    user = require_api_user()
    return services.field_to_dict(services.update_field(user, field_id, load_json(FieldInput, partial=True)))


@blueprint.delete("/fields/<id:field_id>")
@api_operation("Delete a custom field", tags=TAGS, response=None, status=204, errors=(409,))
def delete_field(field_id: int):
    """A field a template still uses is a 409 naming the templates."""
    services.delete_field(require_api_user(), field_id)
    return "", 204


# -- the matrix ------------------------------------------------------------------------------------------

@blueprint.get("/matrix")
@api_operation("The impact × urgency matrix", tags=TAGS, response=PriorityMatrix)
def show_matrix():
    require_api_user()
    return {"cells": services.matrix_to_list()}


@blueprint.put("/matrix")
@api_operation("Change the impact × urgency matrix", tags=TAGS, request=PriorityMatrix, response=PriorityMatrix)
def save_matrix():
    """Needs ``templates.manage``; cells not sent keep their priority."""
    services.save_matrix(require_api_user(), load_json(PriorityMatrix)["cells"])
    return {"cells": services.matrix_to_list()}


# -- departments' default roles -----------------------------------------------------------------------------

@blueprint.get("/departments/<id:department_id>/roles")
@api_operation("A department's default RACI roles", tags=TAGS, response=RolesInput)
def show_department_roles(department_id: int):
    require_api_user()
    if Department.get_or_none(Department.id == department_id) is None:
        raise NotFound(_("No such department."))
    return services.department_roles_to_dict(department_id)


@blueprint.put("/departments/<id:department_id>/roles")
@api_operation("Set a department's default RACI roles", tags=TAGS, request=RolesInput, response=RolesInput)
def save_department_roles(department_id: int):
    services.save_department_roles(require_api_user(), department_id, load_json(RolesInput))
    return services.department_roles_to_dict(department_id)


# -- a task's template, checklist and roles ------------------------------------------------------------------

def _task_view(user, task_id: int) -> dict:
    task = get_visible_task(user, task_id)
    raci = services.raci_of(task)
    return services.task_summary(task) or {"template_id": None, "checklist": [], "require_checklist": False,
                                           "raci": {**raci, "accepted_at": None}}


@blueprint.get("/tasks/<id:task_id>")
@api_operation("A task's template, checklist and roles", tags=TAGS, response=TaskTemplatesData)
def show_task(task_id: int):
    return _task_view(require_api_user(), task_id)


@blueprint.post("/tasks/<id:task_id>/checklist")
@api_operation("Add a checklist item", tags=TAGS, request=ChecklistAdd, response=ChecklistItemOutput, status=201)
def add_item(task_id: int):
    user = require_api_user()
    item = services.add_checklist_item(user, task_id, load_json(ChecklistAdd)["text"])
    return _item(item), 201


@blueprint.patch("/tasks/<id:task_id>/checklist/<id:item_id>")
@api_operation("Tick or untick a checklist item", tags=TAGS, request=ChecklistChange, response=ChecklistItemOutput)
def check_item(task_id: int, item_id: int):
    """Who ticked it and when are kept. The assignee, or someone with ``task.edit``."""
    user = require_api_user()
    return _item(services.check_item(user, task_id, item_id, load_json(ChecklistChange)["done"]))


def _item(item) -> dict:
    return {"id": item.id, "position": item.position, "text": item.text, "done": item.done,
            "done_by_id": item.done_by_id, "done_at": item.done_at.isoformat() if item.done_at else None}


@blueprint.put("/tasks/<id:task_id>/roles")
@api_operation("Set a task's RACI roles", tags=TAGS, request=RolesInput, response=RaciOutput)
def set_roles(task_id: int):
    """Accountable, consulted and informed people (responsible is the assignee). Needs ``task.edit``;
    people who cannot see the task are made watchers."""
    raci = services.set_roles(require_api_user(), task_id, load_json(RolesInput))
    return {**raci, "accepted_at": raci["accepted_at"].isoformat() if raci["accepted_at"] else None}


@blueprint.post("/tasks/<id:task_id>/accept")
@api_operation("Accept a resolved task's result", tags=TAGS, response=TemplatesTaskStatus, errors=(409,))
def accept(task_id: int):
    """The accountable person only; the task closes."""
    task = services.accept(require_api_user(), task_id)
    return {"id": task.id, "status": task.status}


@blueprint.post("/tasks/<id:task_id>/return")
@api_operation("Return a resolved task's result", tags=TAGS, request=ResultReturnInput, response=TemplatesTaskStatus, errors=(409,))
def return_result(task_id: int):
    """The accountable person only, with a reason; the task opens again and its assignee is told."""
    user = require_api_user()
    task = services.return_task(user, task_id, load_json(ResultReturnInput)["reason"])
    return {"id": task.id, "status": task.status}
