"""Workdesk, and its one public surface for plugins.

Plugins, first-party and third-party alike, import only from here (and their tests from
``workdesk.testing``)::

    from workdesk import Plugin, hookimpl, BaseModel, PeriodicJob, services, notify

Everything else under ``workdesk.`` is internal and may change between releases; a name leaves this
list only after a release that deprecates it. When a plugin needs something that is not here, the
surface is widened, so that third parties can do what first-party plugins do.
"""
from __future__ import annotations

from . import access, csv_export, dates, errors, labels, notifications, outbound, signing, task_filters, throttle
from .access import can_see, department_ids, get_visible_task, require, visible_tasks
from .api import (api_blueprint, api_operation, keyset_page, load_json, load_query, require_api_user, task_to_dict,
                  visible_task_page)
from .app import create_app
from .auth import authenticate, check_current_password, current_user, login_required
from .redirects import safe_redirect_target
from .report_metrics import ReportMetric, ReportScope, ReportTable, contributed_metrics, elapsed_seconds
from .db import (BaseModel, UTCDateTimeField, db, for_each_in_transaction, insert_rows, load_rows, update_rows,
                 utcnow, write_transaction)
from .errors import (BadRequest, ChangeBlocked, Conflict, Forbidden, InvalidTransition, NotFound, TransitionBlocked,
                     ValidationFailed, WorkdeskError)
from .hookspecs import HOOK_API_VERSION, UNASSIGNED
from .jobs import PeriodicJob
from .migrate import has_column
from .models import (DONE_STATUSES, OPEN_STATUSES, PRIORITIES, STATUSES, WORKFLOW, Absence, Attachment, Calendar,
                     Comment, CommentRevision, Department, Holiday, Membership, Role, SavedView, Task, TaskEvent,
                     TaskWatcher, User, overdue_condition)
from .notifications import Notification, notify
from .notifications.messages import LocalInstant, MessageLines
from .notifications.admin import delivery_admin_views
from .notifications.delivery import PermanentDeliveryError, RetryPolicy, RetrySettings
from .outbound import DestinationRefused, DestinationUnresolved, check_destination, guarded_connection
from .outbox import emit, register_event_kind
from .queue import plugin_task, queue
from .registry import Plugin, __version__, get_registry, hookimpl, plugin_settings, record_error, save_plugin_settings
from .schemas import (Id, Instant, JsonObject, PageQuerySchema, StrictBoolean, Text, Zone, is_renderable_zone, page_schema,
                      parse_id, renderable_zones, text_problem)
from .search import matching_tasks, name_sort_key, sorted_by_name
from .rich_text import render_markdown, sanitise_html
from .storage import AttachmentStorage, get_storage, set_storage
from .sniff import sniff
from .notifications.events import mentioned_users
from .task_filters import FilterContext, TaskFilter, TaskSort
from .services import absences, attachments, calendars, saved_views, tasks, users
from .services.calendars import WorkingTime
from .web.forms import WorkdeskForm, show_service_error
from .admin_views import PermissionRequired, ServiceModelView


people_on_duty = users.people_on_duty


class services:  # noqa: N801 - a namespace: ``services.tasks.create_task(...)``
    tasks = tasks
    users = users
    calendars = calendars
    absences = absences
    saved_views = saved_views
    attachments = attachments


__all__ = [
    # plugins and hooks
    "Plugin", "hookimpl", "HOOK_API_VERSION",
    # a propose_assignee answer: this plugin decided the task waits unassigned (later plugins are not asked)
    "UNASSIGNED", "__version__", "get_registry", "plugin_settings", "record_error",
    # a plugin storing settings it generates itself (keys made on enable): validated by its schema, secrets kept
    "save_plugin_settings",
    # data and transactions
    "BaseModel", "UTCDateTimeField", "db", "utcnow", "write_transaction", "for_each_in_transaction", "has_column",
    # services.tasks.check_new_task(actor, input) makes create_task's checks without filing (a rule saved to file later);
    # bulk work: services.tasks.create_tasks(actor, inputs) files many tasks at once; insert_rows and update_rows write many
    # rows, load_rows(query) reads many into model instances
    "insert_rows", "update_rows", "load_rows",
    "Task", "User", "Role", "Department", "Membership", "Comment", "TaskEvent", "Calendar", "Holiday", "Absence",
    "SavedView", "Attachment", "CommentRevision", "TaskWatcher",
    "PRIORITIES", "STATUSES", "OPEN_STATUSES", "DONE_STATUSES", "WORKFLOW", "overdue_condition", "matching_tasks",
    # lists of people in a readable order (case and accents ignored): sorted_by_name(users), name_sort_key(name)
    "sorted_by_name", "name_sort_key",
    # the words people read for statuses and priorities: labels.status_label(key), labels.priority_label(key)
    "labels",
    # task lists: filters and sorts (the register_task_filters hook)
    "TaskFilter", "TaskSort", "FilterContext", "task_filters",
    # report metrics (the register_report_metrics hook, shown by the reports plugin)
    "ReportMetric", "ReportScope", "ReportTable", "contributed_metrics", "elapsed_seconds",
    # services, access, time
    "services", "access", "can_see", "department_ids", "get_visible_task", "require", "visible_tasks",
    "current_user", "login_required", "WorkingTime", "people_on_duty",
    # dates as the reader reads them: dates.format_instant, dates.format_day, dates.first_week_day, dates.week_start, dates.week_days
    "dates",
    # passwords: every check goes through one throttle (workdesk.throttle.check / record_failure)
    "authenticate", "check_current_password", "throttle",
    # the one check of a redirect target taken from a request (?next=); the one CSV writer (escapes every cell)
    "safe_redirect_target", "csv_export",
    # signed, expiring link tokens with the instance's secret, on web and worker alike (signing.sign / unsign)
    "signing",
    # who is away: workdesk.absences.is_absent(user, at), absent_user_ids(at, user_ids), delegate_for(user, at)
    "absences",
    # errors (each renders as {"error": {"code", "message", "fields"}} in the API)
    "errors", "WorkdeskError", "BadRequest", "Forbidden", "NotFound", "Conflict", "ValidationFailed",
    "InvalidTransition", "TransitionBlocked", "ChangeBlocked",
    # background work and events
    "PeriodicJob", "plugin_task", "queue", "emit", "register_event_kind",
    # notifications and delivery channels
    # (notify() takes lazy strings and LocalInstant values: rendered when read, in the reader's language and zone)
    "notify", "Notification", "notifications", "LocalInstant", "MessageLines", "RetrySettings", "RetryPolicy", "PermanentDeliveryError",
    "delivery_admin_views",
    # requests going out: the one SSRF guard (workdesk.outbound.check_destination, guarded_connection)
    "outbound", "check_destination", "guarded_connection", "DestinationRefused", "DestinationUnresolved",
    # JSON API helpers
    "api_blueprint", "api_operation", "keyset_page", "load_json", "load_query", "require_api_user", "task_to_dict",
    "visible_task_page", "page_schema", "PageQuerySchema",
    # input field types shared by every schema and form (bounded ids, storable text, renderable time zones,
    # instants UTC can hold, JSON objects) and the parsers forms and query strings use
    "Id", "Text", "Zone", "Instant", "StrictBoolean", "JsonObject", "parse_id", "is_renderable_zone", "text_problem",
    "renderable_zones",
    # rich text: the one Markdown renderer (markdown-it-py, sanitised by nh3) for descriptions, comments and
    # plugins' text; attachments: services.attachments (Upload, add_attachments, visible_attachments...) and
    # the storage interface a backend implements (AttachmentStorage, installed with set_storage)
    "render_markdown", "sanitise_html", "AttachmentStorage", "set_storage",
    # files kept outside tasks (a plugin's own file rows): the installed storage and the type of some bytes
    # (sniffed, never what a browser claimed); the people a text @mentions (as comments mention them)
    "get_storage", "sniff", "mentioned_users",
    # the base of every form (Flask-WTF's CSRF token; storable text in every field)
    "WorkdeskForm", "show_service_error",
    # a plugin's admin view of its records, saved and deleted through its services
    "ServiceModelView", "PermissionRequired",
    "create_app",
]
