"""The core's tables: people, departments, roles, tasks, the audit trail and the machinery rows."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import peewee
from peewee import (BooleanField, CharField, DateField, ForeignKeyField, IntegerField, JSONField,
                    TextField)

from .db import BaseModel, UTCDateTimeField, utcnow

PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("new", "open", "in_progress", "waiting", "resolved", "closed")
OPEN_STATUSES = ("new", "open", "in_progress", "waiting")
DONE_STATUSES = ("resolved", "closed")
# The default workflow: status -> statuses it may move to.
WORKFLOW: dict[str, tuple[str, ...]] = {
    "new": ("open",),
    "open": ("in_progress",),
    "in_progress": ("waiting", "resolved"),
    "waiting": ("in_progress",),
    "resolved": ("closed", "open"),
    "closed": ("open",),
}


class Role(BaseModel):
    name = CharField(max_length=64, unique=True)
    description = TextField(default="")
    permissions = JSONField(default=list)

    class Meta:
        table_name = "core_role"

    def __str__(self) -> str:
        return self.name


class User(BaseModel):
    email = CharField(max_length=254, unique=True)  # stored lower-cased: uniqueness is case-insensitive
    name = CharField(max_length=200)
    password_hash = CharField(max_length=255, default="")
    is_active = BooleanField(default=True)
    role = ForeignKeyField(Role, backref="users", on_delete="RESTRICT")
    timezone = CharField(max_length=64, default="UTC")
    locale = CharField(max_length=8, null=True)
    skills = JSONField(default=list)
    # Bumped by logout, password change and deactivation: every older session stops working.
    session_version = IntegerField(default=1)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "core_user"

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def permissions(self) -> set[str]:
        return set(self.role.permissions)

    @property
    def zone(self) -> ZoneInfo:
        """The person's IANA time zone (UTC when the stored name is not one pages can render, such as
        "Factory" stored before zones were checked: their pages keep working)."""
        from .schemas import is_renderable_zone
        return ZoneInfo(self.timezone if is_renderable_zone(self.timezone) else "UTC")

    def has_permission(self, permission: str) -> bool:
        perms = self.permissions
        return "*" in perms or permission in perms


class Calendar(BaseModel):
    """Weekly working hours in an IANA zone, plus holidays (see workdesk.services.calendars)."""
    name = CharField(max_length=100, unique=True)
    timezone = CharField(max_length=64, default="UTC")
    # {"mon": [["09:00", "17:00"]], ...}; a missing day is not worked.
    weekly_hours = JSONField(default=dict)

    class Meta:
        table_name = "core_calendar"

    def __str__(self) -> str:
        return self.name


class Holiday(BaseModel):
    calendar = ForeignKeyField(Calendar, backref="holidays", on_delete="CASCADE")
    date = DateField()
    name = CharField(max_length=200, default="")

    class Meta:
        table_name = "core_holiday"
        indexes = ((("calendar", "date"), True),)


class Department(BaseModel):
    name = CharField(max_length=200, unique=True)
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="SET NULL")
    head = ForeignKeyField(User, null=True, backref="headed_departments", on_delete="SET NULL")
    calendar = ForeignKeyField(Calendar, null=True, backref="departments", on_delete="SET NULL")

    class Meta:
        table_name = "core_department"

    def __str__(self) -> str:
        return self.name


class Membership(BaseModel):
    user = ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    department = ForeignKeyField(Department, backref="memberships", on_delete="CASCADE")

    class Meta:
        table_name = "core_membership"
        indexes = ((("user", "department"), True),)


class Task(BaseModel):
    number = IntegerField(unique=True)
    title = CharField(max_length=200)
    description = TextField(default="")
    status = CharField(max_length=32, default="new", index=True)
    priority = CharField(max_length=16, default="normal")
    type = CharField(max_length=64, default="task")
    impact = CharField(max_length=64, default="")
    department = ForeignKeyField(Department, backref="tasks", on_delete="RESTRICT")
    reporter = ForeignKeyField(User, backref="reported_tasks", on_delete="RESTRICT")
    assignee = ForeignKeyField(User, null=True, backref="assigned_tasks", on_delete="SET NULL")
    parent = ForeignKeyField("self", null=True, backref="subtasks", on_delete="SET NULL")
    due_at = UTCDateTimeField(null=True, index=True)
    fields = JSONField(default=dict)
    created_at = UTCDateTimeField(default=utcnow, index=True)
    updated_at = UTCDateTimeField(default=utcnow)
    resolved_at = UTCDateTimeField(null=True)
    closed_at = UTCDateTimeField(null=True)
    version = IntegerField(default=1)

    class Meta:
        table_name = "core_task"

    def __str__(self) -> str:
        return f"#{self.number} {self.title}"

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        """Due before ``now`` and not yet resolved or closed: the Python side of :func:`overdue_condition`."""
        return self.due_at is not None and self.status in OPEN_STATUSES and self.due_at < (now or utcnow())

    @property
    def watcher_ids(self) -> list[int]:
        from .db import hot_query
        rows = hot_query(TaskWatcher, "watchers_of_task", lambda: TaskWatcher.select(TaskWatcher.user)
                         .where(TaskWatcher.task == 0).order_by(TaskWatcher.user), self.id)
        return [row.user_id for row in rows]


def overdue_condition(now: dt.datetime) -> peewee.Expression:
    """The one definition of an overdue task, as SQL: due before ``now`` and not yet resolved or closed."""
    return Task.due_at.is_null(False) & (Task.due_at < now) & Task.status.in_(OPEN_STATUSES)


class TaskWatcher(BaseModel):
    task = ForeignKeyField(Task, backref="watchers", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="watching", on_delete="CASCADE")
    # Watching only to see the task: the core does not tell a quiet watcher of its comments and status
    # changes (a plugin that brought them in says what they hear, e.g. the templates plugin's "informed").
    quiet = BooleanField(default=False)

    class Meta:
        table_name = "core_task_watcher"
        indexes = ((("task", "user"), True),)


class Comment(BaseModel):
    """A comment in Markdown. An ``internal`` one (a note) is shown to people who work tasks, never to
    requesters; ``edited_at`` is set when its author changed it (the earlier bodies are CommentRevisions)."""
    task = ForeignKeyField(Task, backref="comments", on_delete="CASCADE")
    author = ForeignKeyField(User, backref="comments", on_delete="RESTRICT")
    body = TextField()
    created_at = UTCDateTimeField(default=utcnow)
    internal = BooleanField(default=False)
    edited_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "core_comment"


class CommentRevision(BaseModel):
    """A comment's body as it was before one edit (the edit history, oldest first by id)."""
    comment = ForeignKeyField(Comment, backref="revisions", on_delete="CASCADE")
    body = TextField()
    written_at = UTCDateTimeField()  # when this body was written (the comment's creation or an earlier edit)
    replaced_at = UTCDateTimeField(default=utcnow)
    editor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        table_name = "core_comment_revision"


class Attachment(BaseModel):
    """A file on a task, or on one of its comments. The bytes live in the attachment storage
    (``workdesk.storage``) under ``storage_key``; ``content_type`` is what the bytes are, sniffed on upload,
    never what the uploader's browser claimed."""
    task = ForeignKeyField(Task, backref="attachments", on_delete="CASCADE")
    comment = ForeignKeyField(Comment, null=True, backref="attachments", on_delete="CASCADE")
    uploader = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    filename = CharField(max_length=255)
    content_type = CharField(max_length=100)
    size = IntegerField()
    sha256 = CharField(max_length=64)
    storage_key = CharField(max_length=200, unique=True)
    thumbnail_key = CharField(max_length=200, null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "core_attachment"
        indexes = ((("task", "id"), False),)

    def __str__(self) -> str:
        return self.filename


class TaskEvent(BaseModel):
    """Append-only audit trail. ``task_id`` is a plain column so the trail outlives a deleted task."""
    task_id = IntegerField(index=True)
    task_number = IntegerField()
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    at = UTCDateTimeField(default=utcnow)
    kind = CharField(max_length=64)
    changes = JSONField(default=dict)  # {field: [old, new]}

    class Meta:
        table_name = "core_task_event"


class SavedView(BaseModel):
    """A named task list: filters and a sort, personal or shared with a department's members.

    ``params`` are query-string parameters exactly as ``GET /api/v1/tasks`` takes them
    (``{"status": "active", "assignee": "me", "sort": "-priority"}``), validated through the
    task-list catalogue (``workdesk.task_filters``) when saved.
    """
    owner = ForeignKeyField(User, backref="saved_views", on_delete="CASCADE")
    department = ForeignKeyField(Department, null=True, backref="saved_views", on_delete="CASCADE")
    name = CharField(max_length=100)
    params = JSONField(default=dict)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "core_saved_view"
        indexes = ((("owner", "name"), False),)

    def __str__(self) -> str:
        return self.name


class Absence(BaseModel):
    """A period a person is away (out of office): from ``starts_at`` up to, not including, ``ends_at``.

    ``started_event_at`` and ``ended_event_at`` record when the ``absence.started`` and
    ``absence.ended`` events were emitted, so each fires once per period (see ``workdesk.absences``).
    """
    user = ForeignKeyField(User, backref="absences", on_delete="CASCADE")
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField(index=True)
    delegate = ForeignKeyField(User, null=True, backref="delegations", on_delete="SET NULL")
    note = CharField(max_length=500, default="")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)
    started_event_at = UTCDateTimeField(null=True)
    ended_event_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "core_absence"
        indexes = ((("user", "starts_at"), False), (("starts_at",), False))

    def __str__(self) -> str:
        return f"{self.user_id}: {self.starts_at:%Y-%m-%d %H:%M} - {self.ends_at:%Y-%m-%d %H:%M} UTC"


class Sequence(BaseModel):
    """Named counters (task numbers); incremented under the row lock of the current transaction."""
    name = CharField(max_length=64, primary_key=True)
    value = IntegerField(default=0)

    class Meta:
        table_name = "core_sequence"


class SchemaVersion(BaseModel):
    """The applied migration level of the core and of each plugin."""
    owner = CharField(max_length=100, primary_key=True)
    version = IntegerField(default=0)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "core_schema_version"


class PluginState(BaseModel):
    name = CharField(max_length=100, primary_key=True)
    enabled = BooleanField(default=False)
    settings = JSONField(default=dict)  # validated by the plugin's settings schema
    # The plugin's schema version lives in SchemaVersion, beside the core's: one migration ledger.
    last_error = TextField(null=True)
    last_error_at = UTCDateTimeField(null=True)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "core_plugin_state"


class OutboxEvent(BaseModel):
    """An event written in the transaction of the change that caused it; drained by workers."""
    kind = CharField(max_length=64)
    payload = JSONField(default=dict)
    created_at = UTCDateTimeField(default=utcnow)
    available_at = UTCDateTimeField(default=utcnow, index=True)
    claimed_by = CharField(max_length=100, null=True)
    claimed_until = UTCDateTimeField(null=True)
    attempts = IntegerField(default=0)
    done_at = UTCDateTimeField(null=True, index=True)
    last_error = TextField(null=True)

    class Meta:
        table_name = "core_outbox"


class OutboxDelivery(BaseModel):
    """One plugin's handling of one event: makes redelivery after a crash skip finished plugins."""
    event = ForeignKeyField(OutboxEvent, backref="deliveries", on_delete="CASCADE")
    plugin = CharField(max_length=100)
    status = CharField(max_length=16)  # done | failed
    attempts = IntegerField(default=0)
    error = TextField(null=True)
    at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "core_outbox_delivery"
        indexes = ((("event", "plugin"), True),)


class JobRun(BaseModel):
    """Last completed run and the cross-process lock of a periodic job."""
    name = CharField(max_length=200, primary_key=True)
    last_started_at = UTCDateTimeField(null=True)
    last_completed_at = UTCDateTimeField(null=True)  # the "now" the job last completed for
    last_finished_real_at = UTCDateTimeField(null=True)
    # The instant of the last `workdesk tick --at` replay, kept apart so a replay never moves the live schedule.
    last_replay_at = UTCDateTimeField(null=True)
    locked_by = CharField(max_length=100, null=True)
    locked_until = UTCDateTimeField(null=True)
    last_error = TextField(null=True)
    last_duration_ms = IntegerField(null=True)

    class Meta:
        table_name = "core_job_run"


class WorkerHeartbeat(BaseModel):
    worker_id = CharField(max_length=100, primary_key=True)
    hostname = CharField(max_length=200)
    pid = IntegerField()
    started_at = UTCDateTimeField(default=utcnow)
    seen_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "core_worker_heartbeat"


class ApiToken(BaseModel):
    user = ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    token_hash = CharField(max_length=128, unique=True)  # sha256 of the token; the token itself is never stored
    name = CharField(max_length=100, default="")
    created_at = UTCDateTimeField(default=utcnow)
    last_used_at = UTCDateTimeField(null=True)
    revoked_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "core_api_token"


class LoginFailure(BaseModel):
    """One wrong password, wherever it was presented (login page, token endpoint, password change);
    counted per email and per client address across processes by ``workdesk.throttle``.

    The table belongs to the ``core.api`` migration history, where it was first created.
    """
    email = CharField(max_length=254, index=True)
    address = CharField(max_length=64, index=True)
    at = UTCDateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "core_api_login_failure"


CORE_MODELS: list[type[peewee.Model]] = [
    Role, User, Calendar, Holiday, Department, Membership, Task, TaskWatcher, Comment, TaskEvent,
    Sequence, SchemaVersion, PluginState, OutboxEvent, OutboxDelivery, JobRun, WorkerHeartbeat, ApiToken,
    SavedView, Absence, CommentRevision, Attachment,
]


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)
