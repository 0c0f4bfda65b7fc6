"""JSON representations of the core's rows, as documented by the response schemas in core.schemas."""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from ..db import db, in_ids
from ..models import (Absence, Attachment, Comment, Department, Membership, SavedView, Task, TaskEvent, TaskWatcher,
                      User,
                      as_utc)
from ..services.absences import current_absence
from ..registry import get_registry
from ..services.tasks import plugin_data


def iso(value: dt.datetime | None) -> str | None:
    """An instant as ISO 8601 with its UTC offset (``2026-01-31T09:00:00+00:00``)."""
    return as_utc(value).isoformat() if value is not None else None


def watcher_ids_of(task_ids: Iterable[int]) -> dict[int, list[int]]:
    """Watchers of many tasks in one query (a list page does not pay one query per task)."""
    ids = list(task_ids)
    found: dict[int, list[int]] = {task_id: [] for task_id in ids}
    if ids:
        condition, bound = in_ids("task_id", ids)  # one parameter: the statement's text never changes
        rows = db.execute_sql(f"SELECT task_id, user_id FROM {TaskWatcher._meta.table_name} WHERE {condition} "
                              "ORDER BY user_id", (bound,)).fetchall()
        for task_id, user_id in rows:
            found[task_id].append(user_id)
    return found


def task_to_dict(task: Task, user: User | None, watcher_ids: list[int] | None = None,
                 plugins: dict[str, Any] | None = None) -> dict[str, Any]:
    """The API representation of ``task`` as ``user`` sees it, ``plugins`` included.

    :param watcher_ids: the task's watchers when the caller fetched them in bulk (see
        :func:`watcher_ids_of`); read from the database otherwise.
    :param plugins: the plugins' data when the caller knows it (a page where no enabled plugin adds
        any); asked of the plugins otherwise.
    """
    return {
        "id": task.id,
        "number": task.number,
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "priority": task.priority,
        "type": task.type,
        "impact": task.impact,
        "department_id": task.department_id,
        "reporter_id": task.reporter_id,
        "assignee_id": task.assignee_id,
        "watcher_ids": task.watcher_ids if watcher_ids is None else watcher_ids,
        "parent_id": task.parent_id,
        "due_at": iso(task.due_at),
        "fields": task.fields or {},
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
        "resolved_at": iso(task.resolved_at),
        "closed_at": iso(task.closed_at),
        "version": task.version,
        "plugins": plugin_data(task, user) if plugins is None else dict(plugins),
    }


def tasks_to_dicts(tasks: list[Task], user: User | None) -> list[dict[str, Any]]:
    watchers = watcher_ids_of(t.id for t in tasks)
    # Asked once per page, not once per task: with no enabled plugin adding data, every task gets {}.
    plugins = None if get_registry().implementers("extra_task_data") else {}
    return [task_to_dict(task, user, watchers[task.id], plugins) for task in tasks]


def department_ids_of(user_ids: Iterable[int]) -> dict[int, list[int]]:
    ids = list(user_ids)
    found: dict[int, list[int]] = {user_id: [] for user_id in ids}
    if ids:
        rows = (Membership.select(Membership.user, Membership.department).where(Membership.user.in_(ids))
                .order_by(Membership.department).tuples())
        for user_id, department_id in rows:
            found[user_id].append(department_id)
    return found


def absence_brief(absence: Absence | None) -> dict[str, Any] | None:
    if absence is None:
        return None
    return {"starts_at": iso(absence.starts_at), "ends_at": iso(absence.ends_at), "delegate_id": absence.delegate_id}


def absence_to_dict(absence: Absence) -> dict[str, Any]:
    return {"id": absence.id, "user_id": absence.user_id, "starts_at": iso(absence.starts_at),
            "ends_at": iso(absence.ends_at), "delegate_id": absence.delegate_id, "note": absence.note,
            "created_by_id": absence.created_by_id, "created_at": iso(absence.created_at),
            "updated_at": iso(absence.updated_at)}


def user_to_dict(user: User, department_ids: list[int] | None = None,
                 absences: dict[int, Absence] | None = None) -> dict[str, Any]:
    """A user without any secret: the password hash and session version never leave the server.

    :param absences: the current absences of a page of users (``absences.current_absences``); read for
        this one user otherwise.
    """
    if department_ids is None:
        department_ids = department_ids_of([user.id])[user.id]
    absence = absences.get(user.id) if absences is not None else current_absence(user)
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role.name,
        "department_ids": department_ids,
        "skills": list(user.skills or []),
        "timezone": user.timezone,
        "is_active": user.is_active,
        "absence": absence_brief(absence),
    }


def saved_view_to_dict(view: SavedView, user: User, count: int | None = None) -> dict[str, Any]:
    """A saved view as ``user`` sees it: its count is of the tasks they may see."""
    from ..services import saved_views
    listing = saved_views.listing_of(view)
    return {"id": view.id, "name": view.name, "params": dict(view.params or {}), "department_id": view.department_id,
            "owner_id": view.owner_id,
            "count": count if count is not None else saved_views.view_tasks(user, view, listing).count(),
            "left_out": sorted(listing.left_out), "can_change": saved_views.can_change(user, view),
            "created_at": iso(view.created_at), "updated_at": iso(view.updated_at)}


def department_to_dict(department: Department) -> dict[str, Any]:
    return {"id": department.id, "name": department.name, "parent_id": department.parent_id,
            "head_id": department.head_id, "calendar_id": department.calendar_id}


def comment_to_dict(comment: Comment, attachment_ids: list[int] | None = None) -> dict[str, Any]:
    if attachment_ids is None:
        attachment_ids = [a.id for a in Attachment.select(Attachment.id).where(Attachment.comment == comment.id)
                          .order_by(Attachment.id)]
    return {"id": comment.id, "task_id": comment.task_id, "author_id": comment.author_id, "body": comment.body,
            "internal": bool(comment.internal), "created_at": iso(comment.created_at),
            "edited_at": iso(comment.edited_at), "attachment_ids": attachment_ids}


def attachment_to_dict(attachment: Attachment) -> dict[str, Any]:
    from flask import url_for
    return {"id": attachment.id, "task_id": attachment.task_id, "comment_id": attachment.comment_id,
            "uploader_id": attachment.uploader_id, "filename": attachment.filename,
            "content_type": attachment.content_type, "size": attachment.size, "sha256": attachment.sha256,
            "has_thumbnail": attachment.thumbnail_key is not None, "created_at": iso(attachment.created_at),
            "content_url": url_for("api.get_attachment_content", task_id=attachment.task_id,
                                   attachment_id=attachment.id)}


def event_to_dict(event: TaskEvent) -> dict[str, Any]:
    return {"id": event.id, "at": iso(event.at), "actor_id": event.actor_id, "kind": event.kind,
            "changes": event.changes or {}}
