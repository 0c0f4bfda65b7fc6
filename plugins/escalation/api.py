"""JSON API under /api/v1/escalation: policies (needs ``escalation.manage``), a task's clocks, cycles and
firings (whoever sees the task), and the "what would happen" preview."""
from __future__ import annotations

from flask_babel import gettext as _

from workdesk import (NotFound, api_blueprint, api_operation, get_visible_task, load_json, require,
                      require_api_user)

from . import policies, services
from .schemas import ClocksOutput, PolicyInput, PolicyList, PolicyOutput, PreviewInput, PreviewOutput

blueprint = api_blueprint("escalation_api", __name__, url_prefix="/api/v1/escalation")
TAGS = ("escalation",)


@blueprint.get("/policies")
@api_operation("List SLA policies", tags=TAGS, response=PolicyList)
def list_policies():
    """Every policy in matching order: the first active one that matches a task applies."""
    return {"items": [policies.policy_to_dict(p) for p in policies.list_policies(require_api_user())]}


@blueprint.post("/policies")
@api_operation("Create an SLA policy", tags=TAGS, request=PolicyInput, response=PolicyOutput, status=201)
def create_policy():
    """Which tasks (``match``), how time counts (``time_mode``, ``calendar_id``, ``pausing_statuses``), the
    ``targets`` and the escalation chain (``levels``)."""
    policy = policies.create_policy(require_api_user(), load_json(PolicyInput))
    return policies.policy_to_dict(policy), 201


@blueprint.get("/policies/<id:policy_id>")
@api_operation("Show an SLA policy", tags=TAGS, response=PolicyOutput)
def show_policy(policy_id: int):
    return policies.policy_to_dict(policies.get_policy(require_api_user(), policy_id))


@blueprint.patch("/policies/<id:policy_id>")
@api_operation("Change an SLA policy", tags=TAGS, request=PolicyInput, response=PolicyOutput)
def update_policy(policy_id: int):
    """Send only what changes; ``targets`` and ``levels`` replace the lists. Running clocks are recomputed on
    a worker; stopped cycles keep their outcome."""
    user = require_api_user()
    return policies.policy_to_dict(policies.update_policy(user, policy_id, load_json(PolicyInput, partial=True)))


@blueprint.delete("/policies/<id:policy_id>")
@api_operation("Delete an SLA policy", tags=TAGS, response=None, status=204)
def delete_policy(policy_id: int):
    policies.delete_policy(require_api_user(), policy_id)
    return "", 204


@blueprint.post("/preview")
@api_operation("What would happen", tags=TAGS, request=PreviewInput, response=PreviewOutput)
def preview():
    """Every deadline and escalation step with its instant, for ``task_id`` or a hypothetical task
    (``department_id``, ``type``, ``priority``, ``impact``, ``fields``, ``created_at``). Needs
    ``escalation.manage``."""
    user = require_api_user()
    require(user, policies.PERMISSION_MANAGE)
    data = load_json(PreviewInput)
    task = get_visible_task(user, data["task_id"]) if data.get("task_id") else None
    return services.preview(task, data)


@blueprint.get("/tasks/<id:task_id>")
@api_operation("A task's SLA clocks", tags=TAGS, response=ClocksOutput)
def task_clocks(task_id: int):
    """The policy, the current clock of every target (due instant, remaining time, state, at risk), every
    cycle with its pauses, and every escalation step fired. 404 when you cannot see the task."""
    task = get_visible_task(require_api_user(), task_id)
    data = services.clocks_of(task)
    if data["policy"] is None and not data["cycles"]:
        raise NotFound(_("This task has no SLA clock."))
    return data
