"""Who may see and do what: the one place the API, pages, admin panel and plugins ask."""
from __future__ import annotations

import operator
from functools import reduce

from flask_babel import gettext

from .db import db, hot_query, quoted, sql_once
from .errors import Forbidden, NotFound
from .models import Membership, Role, Task, TaskWatcher, User

# Working tasks is moving them through the workflow: who may do that may be assigned tasks (and sees
# the people directory); everyone else is a requester.
WORK_PERMISSION = "task.transition"


def department_ids(user: User) -> list[int]:
    """The departments ``user`` is a member of (by id), in the order they joined."""
    return [department_id for (department_id,) in db.execute_sql(sql_once("department_ids", _department_ids_sql),
                                                                 (user.id,))]


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


def newest_visible_ids(user: User, limit: int, before: int | None = None) -> list[int]:
    """The ids of the ``limit`` newest tasks ``user`` may see (with an id below ``before``), newest first:
    an unfiltered list's page.

    The rules are :func:`visibility_conditions`'s, each paged along its own index (reported, assigned,
    watched, each department) and united in one statement whose text is written once per shape: built
    by peewee on every request, the page's queries cost more than the database takes to answer them.
    """
    after = before is not None
    if user.has_permission("task.view_all"):
        sql = sql_once(("newest", after), lambda: _newest_sql(("all",), after))
        return [task_id for (task_id,) in db.execute_sql(sql, (*((before,) if after else ()), limit))]
    departments = department_ids(user) if user.has_permission("task.view_department") else []
    rules = ("reporter", "assignee", "watched", *("department",) * len(departments))
    params: list = []
    for value in (user.id, user.id, user.id, *departments):
        params.extend((value, before, limit) if after else (value, limit))
    params.append(limit)
    sql = sql_once(("newest", after, len(departments)), lambda: _newest_sql(rules, after))
    return [task_id for (task_id,) in db.execute_sql(sql, params)]


def _department_ids_sql() -> str:
    return (f"SELECT {quoted('department_id')} FROM {quoted(Membership._meta.table_name)} "
            f"WHERE {quoted('user_id')} = {db.obj.param} ORDER BY {quoted('id')}")


def _newest_sql(rules: tuple[str, ...], after: bool) -> str:
    param, task = db.obj.param, quoted(Task._meta.table_name)
    column = {"reporter": "reporter_id", "assignee": "assignee_id", "department": "department_id"}
    branches = []
    for rule in rules:
        if rule == "watched":
            table, key, where = quoted(TaskWatcher._meta.table_name), quoted("task_id"), [f"{quoted('user_id')} = {param}"]
        else:
            table, key = task, quoted("id")
            where = [] if rule == "all" else [f"{quoted(column[rule])} = {param}"]
        if after:
            where.append(f"{key} < {param}")
        condition = f" WHERE {' AND '.join(where)}" if where else ""
        branches.append(f"SELECT {key} AS page_id FROM {table}{condition} ORDER BY {key} DESC LIMIT {param}")
    if len(branches) == 1:
        return branches[0]
    united = " UNION ".join(f"SELECT page_id FROM ({branch}) AS rule_{i}" for i, branch in enumerate(branches))
    return f"{united} ORDER BY page_id DESC LIMIT {param}"


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


# -- who works tasks, and who may be a task's assignee ------------------------------------------

def works_tasks(user: User) -> bool:
    """Whether ``user`` works tasks (an agent, manager, reviewer...) rather than only filing them."""
    return bool(user.is_active and user.has_permission(WORK_PERMISSION))


def working_role_ids() -> list[int]:
    """The roles whose permissions include working tasks (roles are few: read them all)."""
    return [role.id for role in Role.select(Role.id, Role.permissions)
            if "*" in (role.permissions or []) or WORK_PERMISSION in (role.permissions or [])]


def eligible_assignees(department_id: int):
    """Who may be the assignee of a task of ``department_id``, defined once: active people who are members
    of that department with a role that lets them work tasks. A query of users, by name."""
    return (User.select().join(Membership, on=(Membership.user == User.id))
            .where((Membership.department == department_id) & (User.is_active == True)  # noqa: E712
                   & User.role.in_(working_role_ids()))
            .order_by(User.name, User.id))


def may_be_assignee(user: User, department_id: int) -> bool:
    """Whether ``user`` may be assigned a task of ``department_id`` (see :func:`eligible_assignees`)."""
    return (works_tasks(user) and Membership.select().where(
        (Membership.user == user.id) & (Membership.department == department_id)).exists())


# -- the people directory -------------------------------------------------------------------------

def open_directory() -> bool:
    """The admin's ``open_directory`` setting: everyone may list everyone."""
    from .site_settings import site_settings
    return bool(site_settings()["open_directory"])


def visible_users(viewer: User):
    """The people ``viewer`` may look up (the API's user list and lookups, every page that lists people).

    Who works tasks or manages users sees everyone, and so does everyone while the ``open_directory``
    setting is on; a requester sees themselves and the people they work with: everyone on a task they
    reported, are assigned or watch (its reporter, assignee and watchers). Deactivated accounts are
    only listed to those who manage users.
    """
    query = User.select()
    if not viewer.has_permission("user.manage"):
        query = query.where(User.is_active == True)  # noqa: E712
    if viewer.has_permission("user.manage") or works_tasks(viewer) or open_directory():
        return query
    watched = TaskWatcher.select(TaskWatcher.task).where(TaskWatcher.user == viewer)
    mine = Task.select(Task.id).where((Task.reporter == viewer) | (Task.assignee == viewer) | Task.id.in_(watched))
    return query.where((User.id == viewer.id)
                       | User.id.in_(Task.select(Task.reporter).where(Task.id.in_(mine)))
                       | User.id.in_(Task.select(Task.assignee).where(Task.id.in_(mine) & Task.assignee.is_null(False)))
                       | User.id.in_(TaskWatcher.select(TaskWatcher.user).where(TaskWatcher.task.in_(mine))))


__all__ = ["department_ids", "visibility_conditions", "visible_tasks", "can_see", "get_visible_task", "require",
           "WORK_PERMISSION", "works_tasks", "working_role_ids", "eligible_assignees", "may_be_assignee",
           "open_directory", "visible_users"]
