"""JSON API under /api/v1/dispatch: rules (CRUD), the preview, batches (``dispatch.manage``)."""
from __future__ import annotations

from flask_babel import gettext as _

from workdesk import (NotFound, api_blueprint, api_operation, load_json, parse_id, require, require_api_user,
                      write_transaction)

from . import batch, services
from .models import Batch
from .schemas import (DispatchBatchInput, DispatchBatchOutput, DispatchPreviewInput, DispatchPreviewOutput,
                      DispatchRuleInput, DispatchRuleList, DispatchRuleOutput, DispatchSavedBatchInput,
                      DispatchSavedBatchList, DispatchSavedBatchOutput)

blueprint = api_blueprint("dispatch_api", __name__, url_prefix="/api/v1/dispatch")
TAGS = ("dispatch",)


def _manager():
    user = require_api_user()
    require(user, services.PERMISSION)
    return user


@blueprint.get("/rules")
@api_operation("List dispatch rules", tags=TAGS, response=DispatchRuleList)
def list_rules():
    """In the order they are tried."""
    _manager()
    return {"items": [services.rule_to_dict(r) for r in services.list_rules()]}


@blueprint.post("/rules")
@api_operation("Create a dispatch rule", tags=TAGS, request=DispatchRuleInput, response=DispatchRuleOutput, status=201)
def create_rule():
    """A wrong value is a 422 naming the field."""
    return services.rule_to_dict(services.create_rule(_manager(), load_json(DispatchRuleInput))), 201


@blueprint.get("/rules/<id:rule_id>")
@api_operation("Show a dispatch rule", tags=TAGS, response=DispatchRuleOutput)
def show_rule(rule_id: int):
    _manager()
    return services.rule_to_dict(services.get_rule(rule_id))


@blueprint.patch("/rules/<id:rule_id>")
@api_operation("Change a dispatch rule", tags=TAGS, request=DispatchRuleInput, response=DispatchRuleOutput)
def update_rule(rule_id: int):
    """Send only the fields to change."""
    user = _manager()
    return services.rule_to_dict(services.update_rule(user, rule_id, load_json(DispatchRuleInput, partial=True)))


@blueprint.delete("/rules/<id:rule_id>")
@api_operation("Delete a dispatch rule", tags=TAGS, response=None, status=204)
def delete_rule(rule_id: int):
    services.delete_rule(_manager(), rule_id)
    return "", 204


@blueprint.post("/preview")
@api_operation("Who would get this task, and why not the others", tags=TAGS, request=DispatchPreviewInput,
               response=DispatchPreviewOutput)
def preview():
    """The rule that matches a task with these values and, for everyone in its pool, the figures and why
    they were left out. Nothing is assigned and the round-robin cursor does not move."""
    user = _manager()
    values = load_json(DispatchPreviewInput)
    return services.preview(user, values, values.get("at"))


@blueprint.post("/batch")
@api_operation("Dispatch a batch", tags=TAGS, request=DispatchBatchInput, response=DispatchBatchOutput, status=201)
def run_batch():
    """Creates the tasks at once, all or nothing: one per member who may work each department's tasks and is
    not away (assigned to them), one per department (``per: team``, assigned by the rules or the duty), or one
    per shift group on duty in each department (``per: shift``, assigned to whoever covers it)."""
    return batch.run(_manager(), load_json(DispatchBatchInput)), 201


def _saved(batch_id: int) -> Batch:
    found = Batch.get_or_none(Batch.id == parse_id(batch_id))
    if found is None:
        raise NotFound(_("No such batch."))
    return found


@blueprint.get("/batches")
@api_operation("List saved batches", tags=TAGS, response=DispatchSavedBatchList)
def list_batches():
    _manager()
    return {"items": [batch.batch_to_dict(b) for b in Batch.select().order_by(Batch.name, Batch.id)]}


@blueprint.post("/batches")
@api_operation("Save a batch", tags=TAGS, request=DispatchSavedBatchInput, response=DispatchSavedBatchOutput,
               status=201)
def create_batch():
    """With ``daily_at`` it runs every day at that local time (in ``timezone``)."""
    return batch.batch_to_dict(batch.save_batch(_manager(), load_json(DispatchSavedBatchInput))), 201


@blueprint.patch("/batches/<id:batch_id>")
@api_operation("Change a saved batch", tags=TAGS, request=DispatchSavedBatchInput, response=DispatchSavedBatchOutput)
def update_batch(batch_id: int):
    user = _manager()
    changes = load_json(DispatchSavedBatchInput, partial=True)
    return batch.batch_to_dict(batch.save_batch(user, changes, _saved(batch_id)))


@blueprint.delete("/batches/<id:batch_id>")
@api_operation("Delete a saved batch", tags=TAGS, response=None, status=204)
def delete_batch(batch_id: int):
    _manager()
    with write_transaction():
        _saved(batch_id).delete_instance()
    return "", 204


@blueprint.post("/batches/<id:batch_id>/run")
@api_operation("Run a saved batch now", tags=TAGS, response=DispatchBatchOutput, status=201)
def run_saved_batch(batch_id: int):
    user = _manager()
    return batch.run_saved(user, _saved(batch_id), None), 201
