from flask import jsonify

from workdesk import api_blueprint, api_operation, get_visible_task, require_api_user

from .models import Stamp

blueprint = api_blueprint("stamp_api", __name__, url_prefix="/api/v1/stamp")


@blueprint.get("/tasks/<id:task_id>")
@api_operation("The stamps of a task", tags=["stamp"], errors=[404])
def task_stamps(task_id: int):
    """The days a task you may see was stamped overdue."""
    task = get_visible_task(require_api_user(), task_id)
    return jsonify({"task_id": task.id,
                    "days": [s.day for s in Stamp.select().where(Stamp.task_id == task.id).order_by(Stamp.day)]})
