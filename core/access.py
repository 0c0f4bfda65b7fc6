"""Who may see and do what: the one place the API, pages, admin panel and plugins ask."""
from __future__ import annotations


from .errors import Forbidden, NotFound
from .models import Membership, Task, TaskWatcher, User


def department_ids(user: User) -> list[int]:
    return [m.department_id for m in Membership.select(Membership.department).where(Membership.user == user)]


def visible_tasks(user: User, query=None):
    """``query`` (default: all tasks) narrowed to the tasks ``user`` may see."""
    query = query if query is not None else Task.select()
    if user.has_permission("task.view_all"):
        return query
    watched = TaskWatcher.select(TaskWatcher.task).where(TaskWatcher.user == user)
    condition = (Task.reporter == user) | (Task.assignee == user) | Task.id.in_(watched)
    if user.has_permission("task.view_department"):
        condition |= Task.department.in_(
            Membership.select(Membership.department).where(Membership.user == user))
    return query.where(condition)


def can_see(user: User, task: Task) -> bool:
    if user.has_permission("task.view_all"):
        return True
    if task.reporter_id == user.id or task.assignee_id == user.id:
        return True
    if TaskWatcher.select().where((TaskWatcher.task == task) & (TaskWatcher.user == user)).exists():
        return True
    return user.has_permission("task.view_department") and task.department_id in department_ids(user)


def get_visible_task(user: User, task_id: int, for_update: bool = False) -> Task:
    """The task, or NotFound when it is missing *or* not visible (its existence must not leak)."""
    try:
        task_id = int(task_id)
    except (TypeError, ValueError):
        raise NotFound("No such task.") from None
    task = Task.get_or_none(Task.id == task_id)
    if task is None or not can_see(user, task):
        raise NotFound("No such task.")
    return task


def require(user: User, permission: str, message: str | None = None) -> None:
    """Raise Forbidden unless ``user``'s role grants ``permission``."""
    if not user.is_active or not user.has_permission(permission):
        raise Forbidden(message or f"Your role does not allow this ({permission}).",
                        permission=permission)


__all__ = ["department_ids", "visible_tasks", "can_see", "get_visible_task", "require"]
