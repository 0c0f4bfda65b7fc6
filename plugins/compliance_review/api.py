"""JSON API under /api/v1/compliance: policies, a task's review, decisions, the reviewer's queue, the log."""
from __future__ import annotations

from workdesk import (api_blueprint, api_operation, keyset_page, load_json, load_query, require_api_user)

from . import policies, services
from .models import Decision
from .schemas import (DecisionInput, DecisionPage, DecisionQuery, ExpediteInput, PolicyInput, PolicyList,
                      PolicyOutput, QueueOutput, ReviewOutput, TemplateOutput)

blueprint = api_blueprint("compliance_review_api", __name__, url_prefix="/api/v1/compliance")
TAGS = ("compliance",)


# -- policies -------------------------------------------------------------------------------------

@blueprint.get("/policies")
@api_operation("List review policies", tags=TAGS, response=PolicyList)
def list_policies():
    """Every policy in matching order (needs ``compliance.manage``)."""
    return {"items": [policies.policy_to_dict(p) for p in policies.list_policies(require_api_user())]}


@blueprint.post("/policies")
@api_operation("Create a review policy", tags=TAGS, request=PolicyInput, response=PolicyOutput, status=201)
def create_policy():
    """Which tasks need review (``match``) and the workflow (``steps`` of parallel ``stages``)."""
    policy = policies.create_policy(require_api_user(), load_json(PolicyInput))
    return policies.policy_to_dict(policy), 201


@blueprint.post("/policies/templates/change-request")
@api_operation("Install the Change request template", tags=TAGS, response=TemplateOutput, status=201,
               errors=(409,))
def install_change_request():
    """Technical assessment (head of IT), cost review (any member of Finance), management approval (head of
    the top-level department) for tasks of type ``change_request``. Missing departments are created."""
    policy, created = policies.install_change_request(require_api_user())
    return {**policies.policy_to_dict(policy), "created_departments": created}, 201


@blueprint.get("/policies/<id:policy_id>")
@api_operation("Show a review policy", tags=TAGS, response=PolicyOutput)
def show_policy(policy_id: int):
    return policies.policy_to_dict(policies.get_policy(require_api_user(), policy_id))


@blueprint.patch("/policies/<id:policy_id>")
@api_operation("Change a review policy", tags=TAGS, request=PolicyInput, response=PolicyOutput)
def update_policy(policy_id: int):
    """Send only what changes; ``steps`` replaces every stage. Reviews under way keep the stages they
    started with."""
    user = require_api_user()
    return policies.policy_to_dict(policies.update_policy(user, policy_id, load_json(PolicyInput, partial=True)))


@blueprint.delete("/policies/<id:policy_id>")
@api_operation("Delete a review policy", tags=TAGS, response=None, status=204)
def delete_policy(policy_id: int):
    """Reviews it started go on with their own copy of its stages."""
    policies.delete_policy(require_api_user(), policy_id)
    return "", 204


# -- reviews --------------------------------------------------------------------------------------

@blueprint.get("/tasks/<id:task_id>/review")
@api_operation("A task's review", tags=TAGS, response=ReviewOutput)
def show_review(task_id: int):
    """Each stage's state, its approvers with their decisions (who, when, why) and whom it waits for;
    404 when the task has no review or you cannot see it."""
    user = require_api_user()
    task, review = services.get_review(user, task_id)
    return services.review_to_dict(review, user, task)


@blueprint.post("/tasks/<id:task_id>/review/decisions")
@api_operation("Approve or reject the stage that waits for you", tags=TAGS, request=DecisionInput,
               response=ReviewOutput, errors=(409,))
def decide(task_id: int):
    """A rejection needs a ``comment`` and sends the task back to its reporter (``open``). You may change
    your vote until the stage passes. Separation of duties answers 403 with ``reason``
    ``separation_of_duties`` unless someone with ``compliance.manage`` gives an ``override_reason``."""
    user = require_api_user()
    data = load_json(DecisionInput)
    review = services.decide(user, task_id, data["decision"], data.get("comment", ""), stage_id=data.get("stage_id"),
                             override_reason=data.get("override_reason", ""))
    return services.review_to_dict(review, user)


@blueprint.post("/tasks/<id:task_id>/review/resubmit")
@api_operation("Resubmit a rejected review", tags=TAGS, response=ReviewOutput, errors=(409,))
def resubmit(task_id: int):
    """Restarts from the first stage or from the rejecting stage, as the policy says."""
    user = require_api_user()
    return services.review_to_dict(services.resubmit(user, task_id), user)


@blueprint.post("/tasks/<id:task_id>/review/expedite")
@api_operation("Expedite an urgent task's review", tags=TAGS, request=ExpediteInput, response=ReviewOutput,
               errors=(409,))
def expedite(task_id: int):
    """Skips the stages marked "may be skipped for urgent tasks" (needs ``compliance.expedite`` and a reason);
    the skipped approvers are told and the skip is flagged in the log."""
    user = require_api_user()
    review = services.expedite(user, task_id, load_json(ExpediteInput)["reason"])
    return services.review_to_dict(review, user)


@blueprint.get("/queue")
@api_operation("What waits for your review", tags=TAGS, response=QueueOutput)
def queue():
    """Stages that wait for your decision (also those escalated to you), soonest deadline first."""
    return {"items": services.queue(require_api_user())}


@blueprint.get("/decisions")
@api_operation("The review log over a period", tags=TAGS, query=DecisionQuery, response=DecisionPage)
def decisions():
    """Every decision, automatic action, override and expedite from ``since`` to ``until``, oldest first
    (needs ``compliance.audit``). The same rows as the CSV export at ``/compliance/export``."""
    user = require_api_user()
    query = load_query(DecisionQuery)
    rows = services.decisions_between(user, query["since"], query["until"])
    items, cursor = keyset_page(rows, Decision.id, query["limit"], query.get("cursor"), newest_first=False)
    return {"items": [services.decision_to_dict(row) for row in items], "next_cursor": cursor}
