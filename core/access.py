"""Who may see and do what: the one place the API, pages, admin panel and plugins ask."""
from __future__ import annotations

import operator
from functools import reduce

from flask_babel import gettext

from .db import hot_query
from .errors import Forbidden, NotFound
from .models import Membership, Task, TaskWatcher, User


def department_ids(user: User) -> list[int]:
    return [m.department_id for m in Membership.select(Membership.department).where(Membership.user == user)]


def visibility_conditions(user: User, per_department: bool = False) -> list | None:
    """The conditions any one of which lets ``user`` see a task; None when every task is visible.

    :param per_department: one equality per department of the user instead of one ``IN``
        subquery, so that a list can page each condition along its own index and merge the pages
        (``workdesk.api.visible_task_page``) instead of sorting every visible task for each page.
    """
    if user.has_permission("task.view_all"):
        return None
    watched = TaskWatcher.select(TaskWatcher.task).where(TaskWatcher.user == user)
    conditions = [Task.reporter == user, Task.assignee == user, Task.id.in_(watched)]
    if user.has_permission("task.view_department"):
        if per_department:
            conditions.extend(Task.department == dept_id for dept_id in department_ids(user))
        else:
            conditions.append(Task.department.in_(
                Membership.select(Membership.department).where(Membership.user == user)))
    return conditions


def visible_tasks(user: User, query=None):
    """``query`` (default: all tasks) narrowed to the tasks ``user`` may see."""
    query = query if query is not None else Task.select()
    conditions = visibility_conditions(user)
    return query if conditions is None else query.where(reduce(operator.or_, conditions))


def can_see(user: User, task: Task) -> bool:
    if user.has_permission("task.view_all"):
        return True
    if task.reporter_id == user.id or task.assignee_id == user.id:
        return True
    if TaskWatcher.select().where((TaskWatcher.task == task) & (TaskWatcher.user == user)).exists():
        return True
    return user.has_permission("task.view_department") and task.department_id in department_ids(user)


def task_by_id(task_id: int) -> Task | None:
    """The task with this id, or None, without any access check (a precompiled query: it runs per request
    and per outbox event)."""
    return next(iter(hot_query(Task, "task_by_id", lambda: Task.select().where(Task.id == 0), task_id)), None)


def get_visible_task(user: User, task_id: int, for_update: bool = False) -> Task:
    """The task, or NotFound when it is missing *or* not visible (its existence must not leak)."""
    try:
        task_id = int(task_id)
    except (TypeError, ValueError):
        raise NotFound(gettext("No such task.")) from None
    task = task_by_id(task_id)
    if task is None or not can_see(user, task):
        raise NotFound(gettext("No such task."))
    return task


def require(user: User, permission: str, message: str | None = None) -> None:
    """Raise Forbidden unless ``user``'s role grants ``permission`` (named in words in the message, by
    key in the error's ``permission``)."""
    if not user.is_active or not user.has_permission(permission):
        if message is None:
            from .registry import get_registry
            from .schema import all_permissions
            what = all_permissions(get_registry()).get(permission, permission)
            message = gettext("Your role does not allow this: “%(what)s”.", what=what)
        raise Forbidden(message, permission=permission)


__all__ = ["department_ids", "visibility_conditions", "visible_tasks", "can_see", "get_visible_task", "require"]
