"""Workdesk's core and its one public surface for plugins.

Plugins (first-party and third-party alike) import only from here::

    from workdesk import Plugin, hookimpl, BaseModel, PeriodicJob, plugin_task, services
"""
from __future__ import annotations

from . import access, errors, notifications
from .api import (api_blueprint, api_operation, keyset_page, load_json, load_query, require_api_user, task_to_dict,
                  visible_task_page)
from .app import create_app
from .db import BaseModel, UTCDateTimeField, db, utcnow, write_transaction
from .hookspecs import HOOK_API_VERSION
from .jobs import PeriodicJob
from .models import PRIORITIES, STATUSES, WORKFLOW, Calendar, Comment, Department, Task, TaskEvent, User
from .outbox import emit, register_event_kind
from .registry import Plugin, __version__, get_registry, hookimpl, plugin_settings
from .queue import plugin_task, queue
from .services import calendars, tasks, users
from .notifications import Notification, notify
from .services.calendars import WorkingTime


class services:  # noqa: N801 - a namespace: ``services.tasks.create_task(...)``
    tasks = tasks
    users = users
    calendars = calendars


__all__ = [
    # plugins and hooks
    "Plugin", "hookimpl", "HOOK_API_VERSION", "__version__", "get_registry", "plugin_settings",
    # data
    "BaseModel", "UTCDateTimeField", "db", "utcnow", "write_transaction",
    "Task", "User", "Department", "Comment", "TaskEvent", "Calendar", "PRIORITIES", "STATUSES", "WORKFLOW",
    # services, access, errors, time
    "services", "access", "errors", "WorkingTime",
    # background work and events
    "PeriodicJob", "plugin_task", "queue", "emit", "register_event_kind",
    # notifications
    "notify", "Notification", "notifications",
    # JSON API helpers
    "api_blueprint", "api_operation", "keyset_page", "load_json", "load_query", "require_api_user", "task_to_dict",
    "visible_task_page",
    "create_app",
]
