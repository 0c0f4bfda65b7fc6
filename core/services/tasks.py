"""Tasks: create, change, transition, comment, watch, delete.

Each function checks permissions, writes the change, its audit-trail rows and its outbox events in
one transaction, and fires the synchronous plugin hooks (vetoes, assignee proposals). Events reach
plugins on a worker after commit.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterable

import marshmallow
from flask_babel import gettext as _
from flask_babel import ngettext

from .. import outbox
from ..access import (can_see, eligible_assignees, get_visible_task, may_be_assignee, require, task_by_id,
                      works_tasks)
from ..db import hot_query, insert_rows, utcnow, write_transaction
from ..hookspecs import UNASSIGNED
from ..errors import (ChangeBlocked, Conflict, Forbidden, InvalidTransition, NotFound, TransitionBlocked,
                      ValidationFailed, WorkdeskError)
from ..labels import status_label
from ..models import (PRIORITIES, STATUSES, WORKFLOW, Comment, CommentRevision, Department, Sequence, Task,
                      TaskEvent, TaskWatcher, User, as_utc)
from ..registry import PluginFailed, get_registry, record_error
from ..storage import delete_quietly

EDITABLE_FIELDS = ("title", "description", "priority", "type", "impact", "department_id", "assignee_id",
                   "due_at", "fields", "parent_id", "watcher_ids", "status")
# Which permission a change of each field needs (beyond seeing the task).
FIELD_PERMISSION = {"status": "task.transition", "assignee_id": "task.assign"}


def _stale_task_message() -> str:
    # The version numbers stay in the error's ``current_version`` for programs; people read this.
    return _("Someone else changed this task since you opened it. Reload it to see their change, then try again.")


def allowed_transitions(status: str) -> tuple[str, ...]:
    return WORKFLOW.get(status, ())


# -- reference checks -------------------------------------------------------------------------

def _department(value: Any, field: str = "department_id") -> Department:
    department = next(iter(hot_query(Department, "department_by_id", lambda: Department.select()
                                     .where(Department.id == 0), value)), None) if value is not None else None
    if department is None:
        raise ValidationFailed(_("Invalid reference."), {field: [_("No department with id %(id)s.", id=value)]})
    return department


def _user(value: Any, field: str) -> User:
    user = User.get_or_none(User.id == value) if value is not None else None
    if user is None:
        raise ValidationFailed(_("Invalid reference."), {field: [_("No user with id %(id)s.", id=value)]})
    if not user.is_active:
        raise ValidationFailed(_("Invalid reference."), {field: [_("User %(id)s is deactivated.", id=value)]})
    return user


def _assignee(value: Any, department: Department) -> User:
    """The user ``value`` names, if they may be assigned a task of ``department`` (active, a member of it,
    with a role that works tasks: ``workdesk.access.eligible_assignees``); else a ValidationFailed on
    ``assignee_id`` whose message names the person, so a bulk action can say why per task."""
    user = _user(value, "assignee_id")
    if not may_be_assignee(user, department.id):
        raise ValidationFailed(
            _("%(name)s cannot be assigned tasks of %(department)s.", name=user.name, department=department.name),
            {"assignee_id": [_("Only active members of %(department)s whose role lets them work tasks can be "
                               "assigned its tasks.", department=department.name)]})
    return user


def _parent(actor: User, value: Any, task: Task | None = None) -> Task:
    parent = Task.get_or_none(Task.id == value) if value is not None else None
    if parent is None or not can_see(actor, parent):
        raise ValidationFailed(_("Invalid reference."), {"parent_id": [_("No task with id %(id)s.", id=value)]})
    node = parent
    while task is not None and node is not None:  # a task cannot become its own ancestor
        if node.id == task.id:
            raise ValidationFailed(_("Invalid reference."), {"parent_id": [_("A task cannot be its own parent.")]})
        node = node.parent
    return parent


def _check_choice(field: str, value: Any, choices: Iterable[str]) -> None:
    if value not in choices:
        raise ValidationFailed(_("Invalid value."), {field: [_("Must be one of: %(choices)s.",
                                                               choices=", ".join(choices))]})


def _jsonable(value: Any) -> Any:
    if value is None or type(value) in (str, int):  # most values of an audit row
        return value
    if isinstance(value, dt.datetime):
        return as_utc(value).isoformat()
    if isinstance(value, (User, Department, Task)):
        return value.id
    return value


def _event_row(task: Task, actor: User | None, kind: str, changes: dict[str, list]) -> dict[str, Any]:
    return {"task_id": task.id, "task_number": task.number, "actor": actor, "kind": kind, "at": utcnow(),
            "changes": {k: [_jsonable(o), _jsonable(n)] for k, (o, n) in changes.items()}}


def _record(task: Task, actor: User | None, kind: str, changes: dict[str, list]) -> TaskEvent:
    return TaskEvent.create(**_event_row(task, actor, kind, changes))


def _next_numbers(count: int) -> range:
    """``count`` consecutive task numbers. The UPDATE takes the row lock, so concurrent creators get
    distinct numbers on either database."""
    rows = hot_query(Sequence, "next_task_number", lambda: Sequence.update(value=Sequence.value + 1)
                     .where(Sequence.name == "").returning(Sequence.value), count, "task")
    last = list(rows)[0].value  # consume the cursor: SQLite finishes an UPDATE...RETURNING only when stepped to the end
    return range(last - count + 1, last + 1)


def _actor_payload(actor: User | None) -> int | None:
    return actor.id if actor is not None else None


# -- create -----------------------------------------------------------------------------------

TaskInput = dict[str, Any]  # create_task's keyword arguments: title, department_id, description, ...
CREATE_DEFAULTS: TaskInput = {"description": "", "priority": "normal", "type": "task", "impact": "",
                              "assignee_id": None, "due_at": None, "watcher_ids": (), "parent_id": None,
                              "fields": None}


def create_task(actor: User | None, *, title: str | None = None, department_id: int | None = None,
                description: str = "",
                priority: str = "normal", type: str = "task", impact: str = "", assignee_id: int | None = None,
                due_at: dt.datetime | None = None, watcher_ids: Iterable[int] = (), parent_id: int | None = None,
                fields: dict | None = None, uploads: Iterable[Any] = (), **plugin_inputs: Any) -> Task:
    """File a new task. ``actor`` None means the system (a plugin's job) files it as the department head
    or first admin; permissions are only checked for people. ``plugin_inputs`` are the extra inputs enabled
    plugins declare (``register_task_inputs``, e.g. the templates plugin's ``template_id``). ``title`` and
    ``department_id`` may be left out only when a plugin's ``adjust_task_change`` supplies them (a task
    template); otherwise the 422 names them.

    ``uploads`` (``workdesk.services.attachments.Upload``) are attached to the new task in the same
    transaction, under the attachment limits, by someone who may also comment: the task is filed with
    all its files or not at all."""
    data = {"title": title, "department_id": department_id, "description": description, "priority": priority,
            "type": type, "impact": impact, "assignee_id": assignee_id, "due_at": due_at,
            "watcher_ids": watcher_ids, "parent_id": parent_id, "fields": fields, **plugin_inputs}
    uploads = list(uploads)
    if not uploads:
        return create_tasks(actor, [data])[0]
    from . import attachments
    if actor is not None:
        require(actor, "task.create")
        require(actor, "task.comment")  # who may comment may attach, also when filing
    attachments.check_uploads(uploads)
    files: list = []
    try:
        with write_transaction():
            task = create_tasks(actor, [data])[0]
            files = attachments.store_uploads(actor, task, uploads)
    except BaseException:
        delete_quietly(attachments.keys_of(files))  # nothing was committed: neither are the files kept
        raise
    return task


TASK_INPUT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def plugin_task_inputs() -> dict[str, Any]:
    """The extra inputs enabled plugins let filing a task accept (``register_task_inputs``): name ->
    marshmallow field. A bad item or a name that is taken is recorded against its plugin and left out."""
    taken = set(CREATE_DEFAULTS) | {"title", "department_id", "status", "version", "uploads"}
    inputs: dict[str, Any] = {}
    for plugin, item in get_registry().collect("register_task_inputs"):
        name, field = item if isinstance(item, (tuple, list)) and len(item) == 2 else (None, None)
        if not (isinstance(name, str) and TASK_INPUT_NAME.match(name) and isinstance(field, marshmallow.fields.Field)):
            record_error(plugin, f"register_task_inputs returned {item!r}: expected a (name, marshmallow field) pair "
                                 "whose name is 1-40 lower-case letters, digits and underscores; left out")
        elif name in taken or name in inputs:
            record_error(plugin, f"register_task_inputs: the input name {name!r} is taken; left out")
        else:
            inputs[name] = field
    return inputs


def create_tasks(actor: User | None, inputs: Iterable[TaskInput]) -> list[Task]:
    """File many tasks at once, all or nothing: one transaction, multi-row inserts of the tasks, their
    watchers, audit rows and outbox events (``task.created``, and ``task.assigned`` when assigned).

    Each input holds :func:`create_task`'s keyword arguments (``title`` and ``department_id`` required, unless
    a plugin's ``adjust_task_change`` supplies them, as a task template does).
    Every task gets the checks of a single create: the actor's permissions, the plugins'
    ``adjust_task_change``, validation, ``propose_assignee`` and ``veto_task_change``. Those decision
    hooks answer about one task, so they are asked once per task; a hook no enabled plugin implements
    costs nothing, and lookups (departments, people, a department's candidates) are shared by the batch.
    When one input is refused, nothing is created and the error (``ValidationFailed``, ``ChangeBlocked``,
    ``Forbidden``) carries ``index``, the position of the refused input. Returns the tasks in input order.
    """
    extra_inputs = set(plugin_task_inputs())
    requests = [_requested(index, data, extra_inputs) for index, data in enumerate(inputs)]
    if actor is not None:
        require(actor, "task.create")
        for index, requested in enumerate(requests):
            if requested["assignee_id"] is not None and requested["assignee_id"] != actor.id:
                try:
                    require(actor, "task.assign")
                except WorkdeskError as exc:
                    raise _at(index, exc)
                break  # one check answers for the batch
    if not requests:
        return []
    lookups = _CreateLookups(actor)
    registry = get_registry()
    # Which decision hooks an enabled plugin implements, asked once for the batch; the others are skipped.
    adjusting, validating, vetoing, proposing = (bool(registry.implementers(hook)) for hook in (
        "adjust_task_change", "validate_task_change", "veto_task_change", "propose_assignee"))
    with write_transaction():
        prepared = []
        for index, requested in enumerate(requests):
            try:
                values = _adjusted(None, requested, actor) if adjusting else requested
                for name in extra_inputs:  # consumed by the plugins' adjustments; not columns of the task
                    values.pop(name, None)
                if validating:
                    _validate_change(None, values, actor)
                prepared.append(_prepared_task(actor, values, lookups))
            except WorkdeskError as exc:
                raise _at(index, exc)
        for (task, watchers), number in zip(prepared, _next_numbers(len(prepared))):
            task.number = number
            if task.assignee_id is None and proposing:
                task.assignee = _proposed_assignee(task, lookups.candidates(task.department_id))
        for index, (task, watchers) in enumerate(prepared):
            try:
                if vetoing:
                    _veto_change(task, {**_created_diff(task), "description": [None, task.description],
                                        "type": [None, task.type], "impact": [None, task.impact],
                                        "fields": [None, task.fields], "watcher_ids": [None, [w.id for w in watchers]]},
                                 actor)
            except WorkdeskError as exc:
                raise _at(index, exc)
        tasks = [task for task, _watchers in prepared]
        columns = [f.name for f in Task._meta.sorted_fields if f.name != "id"]
        # Rows come back in any order; the task numbers, unique, match them up.
        ids = {number: id_ for id_, number in insert_rows(Task, [{c: t.__data__.get(c) for c in columns}
                                                                 for t in tasks], returning=(Task.id, Task.number))}
        for task in tasks:
            task.id = ids[task.number]
            task._dirty.clear()
        insert_rows(TaskWatcher, [{"task": task.id, "user": watcher.id}
                                  for task, watchers in prepared for watcher in watchers])
        # (each diff made when its row is: a batch holds one copy of its audit rows, not two)
        insert_rows(TaskEvent, [_event_row(task, actor, "created", _created_diff(task)) for task in tasks])
        outbox.emit_many("task.created", [{"task_id": t.id, "actor_id": _actor_payload(actor)} for t in tasks])
        outbox.emit_many("task.assigned", [{"task_id": t.id, "actor_id": _actor_payload(actor),
                                            "assignee_id": t.assignee_id, "previous_assignee_id": None}
                                           for t in tasks if t.assignee_id is not None])
    return tasks


def _created_diff(task: Task) -> dict[str, list]:
    """What the audit row of a new task records (a veto of its creation sees these and the other fields)."""
    return {"title": [None, task.title], "status": [None, task.status], "priority": [None, task.priority],
            "department_id": [None, task.department_id], "assignee_id": [None, task.assignee_id],
            "due_at": [None, task.due_at], "parent_id": [None, task.parent_id]}


def _requested(index: int, data: TaskInput, extra_inputs: set[str]) -> dict[str, Any]:
    """One create input with the defaults filled in; an unknown input is refused."""
    unknown = sorted(set(data) - set(CREATE_DEFAULTS) - {"title", "department_id"} - extra_inputs)
    if unknown:
        raise _at(index, ValidationFailed(_("Unknown fields."), {k: [_("Unknown field.")] for k in unknown}))
    requested = {**CREATE_DEFAULTS, "title": None, "department_id": None, **data}
    requested["watcher_ids"] = list(requested["watcher_ids"] or ())
    requested["fields"] = requested["fields"] or {}
    return requested


class _Checked(Exception):
    """Rolls back what the hooks of a :func:`check_new_task` may have written."""


def check_new_task(actor: User | None, data: TaskInput) -> None:
    """The checks :func:`create_task` makes of ``data`` — unknown inputs, every enabled plugin's
    ``adjust_task_change`` and ``validate_task_change`` (a task template's id and required fields), then the
    title, department, assignee, parent and watchers — without filing anything: whatever a hook wrote is
    rolled back. For a plugin that keeps a task's inputs to file it later (a recurring rule), so a wrong input
    is refused when it is saved, not at each occurrence: ``ValidationFailed`` names the field. Permissions and
    ``veto_task_change`` (which judge a task at the moment it is filed) are not asked."""
    extra_inputs = set(plugin_task_inputs())
    requested = _requested(0, data, extra_inputs)
    try:
        with write_transaction():
            values = _adjusted(None, requested, actor)
            for name in extra_inputs:
                values.pop(name, None)
            _validate_change(None, values, actor)
            _prepared_task(actor, values, _CreateLookups(actor))
            raise _Checked
    except _Checked:
        return


def _at(index: int, error: WorkdeskError) -> WorkdeskError:
    """Mark which input of a batch was refused (kept out of the API's JSON)."""
    error.index = index
    return error


class _CreateLookups:
    """What the tasks of one batch share: departments, people, system reporters and assignment candidates,
    each looked up (and validated) once."""

    def __init__(self, actor: User | None) -> None:
        self.actor = actor
        self._departments: dict[Any, Department] = {}
        self._users: dict[tuple[Any, str], User] = {}
        self._reporters: dict[int, User] = {}
        self._candidates: dict[int, list[User]] = {}
        self._candidate_ids: dict[int, dict[int, User]] = {}

    def department(self, value: Any) -> Department:
        key = repr(value)
        if key not in self._departments:
            self._departments[key] = _department(value)
        return self._departments[key]

    def user(self, value: Any, field: str) -> User:
        key = (repr(value), field)
        if key not in self._users:
            self._users[key] = _user(value, field)
        return self._users[key]

    def reporter(self, department: Department) -> User:
        if self.actor is not None:
            return self.actor
        if department.id not in self._reporters:
            self._reporters[department.id] = _system_reporter(department)
        return self._reporters[department.id]

    def assignee(self, value: Any, department: Department) -> User:
        """The assignee ``value`` names, checked against the department's candidates (one query per department
        for the whole batch); anyone else goes through the single check, for its message."""
        by_id = self._candidate_ids.get(department.id)
        if by_id is None:
            by_id = self._candidate_ids[department.id] = {u.id: u for u in self.candidates(department.id)}
        found = by_id.get(value) if isinstance(value, int) and not isinstance(value, bool) else None
        return found if found is not None else _assignee(value, department)

    def candidates(self, department_id: int) -> list[User]:
        """Who may be assigned the department's tasks (``workdesk.access.eligible_assignees``)."""
        if department_id not in self._candidates:
            self._candidates[department_id] = sorted(eligible_assignees(department_id), key=lambda u: u.id)
        return self._candidates[department_id]


def _prepared_task(actor: User | None, values: dict[str, Any], lookups: _CreateLookups) -> tuple[Task, list[User]]:
    """The validated, unsaved and unnumbered task of one create request, and its watchers."""
    # Left out and not supplied by a plugin (a task template): required, as the API's schema says without one.
    missing = {name: [_("Missing data for required field.")] for name in ("title", "department_id")
               if values[name] is None}
    if missing:
        raise ValidationFailed(_("Some fields are not valid."), missing)
    title = values["title"].strip() if isinstance(values["title"], str) else ""
    if not title or len(title) > 200:
        raise ValidationFailed(_("Invalid value."), {"title": [_("Between 1 and 200 characters.")]})
    _check_choice("priority", values["priority"], PRIORITIES)
    department = lookups.department(values["department_id"])
    assignee = lookups.assignee(values["assignee_id"], department) if values["assignee_id"] is not None else None
    parent_id = values["parent_id"]
    parent = _parent(actor, parent_id) if (parent_id is not None and actor is not None) else (
        Task.get_or_none(Task.id == parent_id) if parent_id is not None else None)
    watchers = [lookups.user(w, "watcher_ids") for w in dict.fromkeys(values["watcher_ids"] or ())]
    now = utcnow()
    task = Task(title=title, description=values["description"] or "", status="new", priority=values["priority"],
                type=values["type"] or "task", impact=values["impact"] or "", department=department,
                reporter=lookups.reporter(department), assignee=assignee, parent=parent,
                due_at=as_utc(values["due_at"]), fields=values["fields"] or {}, created_at=now, updated_at=now,
                version=1)
    return task, watchers


def _system_reporter(department: Department) -> User:
    if department.head_id is not None:
        return department.head
    from ..models import Role
    admin = (User.select().join(Role).where((Role.name == "admin") & (User.is_active == True))  # noqa: E712
             .order_by(User.id).first())
    if admin is None:
        raise ValidationFailed(_("No one can report this task."),
                               {"department_id": [_("The department has no head and there is no admin.")]})
    return admin


def _proposed_assignee(task: Task, candidates: list[User]) -> User | None:
    eligible = {u.id for u in candidates}
    # A broken dispatch plugin counts as no proposal: the task is filed unassigned, never lost. A proposal
    # of someone who may not be the assignee is recorded against the plugin and the next one is asked.
    for plugin, proposed in get_registry().decide("propose_assignee", task=task, candidates=candidates):
        if proposed is UNASSIGNED:  # the plugin decided the task waits in the queue: nobody after it is asked
            return None
        if not isinstance(proposed, User):
            continue
        if proposed.id in eligible:
            return proposed
        record_error(plugin, f"propose_assignee proposed user {proposed.id}, who may not be assigned tasks of "
                             f"department {task.department_id} (not an active member whose role works tasks); ignored")
    return None


# -- plugin decisions ---------------------------------------------------------------------------

def _plugin_title(name: str) -> str:
    plugin = get_registry().get(name)
    return plugin.title() if plugin is not None else name


def _failed_closed(failure: PluginFailed) -> ChangeBlocked:
    return ChangeBlocked(_("%(plugin)s could not check this change, so it is refused until the plugin works "
                           "again. An administrator can see the error in the health panel.",
                           plugin=_plugin_title(failure.plugin)), plugin=failure.plugin, reason="plugin_error")


def _adjusted(task: Task | None, changes: dict[str, Any], actor: User | None) -> dict[str, Any]:
    """The requested changes with every enabled plugin's ``adjust_task_change`` answer applied in turn."""
    allowed = set(changes) if task is None else set(EDITABLE_FIELDS)  # creation: every field it takes
    current = dict(changes)
    for plugin, answer in get_registry().decide("adjust_task_change", task=task, changes=dict(current), actor=actor):
        if isinstance(answer, PluginFailed):
            raise _failed_closed(answer)
        if answer is None:
            continue
        if not isinstance(answer, dict) or set(answer) - allowed:
            record_error(plugin, f"adjust_task_change returned {answer!r}: expected a dict of the fields "
                                 f"{', '.join(sorted(allowed))}; ignored")
            continue
        current.update(answer)
    return current


def _validate_change(task: Task | None, changes: dict[str, Any], actor: User | None) -> None:
    """Ask every enabled plugin's ``validate_task_change``; their field messages together refuse the change (422)."""
    errors: dict[str, list[str]] = {}
    for plugin, answer in get_registry().decide("validate_task_change", task=task, changes=dict(changes), actor=actor):
        if isinstance(answer, PluginFailed):
            raise _failed_closed(answer)
        if not answer:
            continue
        if not isinstance(answer, dict):
            record_error(plugin, f"validate_task_change returned {answer!r}: expected {{field: [messages]}}; ignored")
            continue
        for field, messages in answer.items():
            messages = messages if isinstance(messages, (list, tuple)) else [messages]
            errors.setdefault(str(field), []).extend(str(m) for m in messages)
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors)


def _veto_change(task: Task, diff: dict[str, list], actor: User | None) -> None:
    """Ask every enabled plugin's ``veto_task_change``; the first reason refuses the change."""
    for plugin, reason in get_registry().decide("veto_task_change", task=task, changes=diff, actor=actor):
        if isinstance(reason, PluginFailed):
            raise _failed_closed(reason)
        if reason:
            raise ChangeBlocked(_("%(plugin)s blocks this change: %(reason)s", plugin=_plugin_title(plugin),
                                  reason=reason), plugin=plugin, reason=str(reason))


# -- update -----------------------------------------------------------------------------------

def update_task(actor: User, task_id: int, changes: dict[str, Any], expected_version: int | None = None) -> Task:
    """Change editable fields (status included). ``expected_version`` guards against lost updates."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationFailed(_("Unknown fields."), {k: [_("Unknown field.")] for k in unknown})
    with write_transaction():
        task = get_visible_task(actor, task_id)
        if expected_version is not None and int(expected_version) != task.version:
            raise Conflict(_stale_task_message(), current_version=task.version)
        for name in changes:
            require(actor, FIELD_PERMISSION.get(name, "task.edit"))
        changes = _adjusted(task, changes, actor)
        _validate_change(task, changes, actor)
        diff: dict[str, list] = {}
        old_assignee = task.assignee_id

        def set_field(name: str, attr: str, new: Any, old: Any) -> None:
            if new != old:
                diff[name] = [old, new]
                setattr(task, attr, new)

        if "title" in changes:
            title = (changes["title"] or "").strip()
            if not title or len(title) > 200:
                raise ValidationFailed(_("Invalid value."), {"title": [_("Between 1 and 200 characters.")]})
            set_field("title", "title", title, task.title)
        for name in ("description", "type", "impact"):
            if name in changes:
                set_field(name, name, changes[name] or "", getattr(task, name))
        if "priority" in changes:
            _check_choice("priority", changes["priority"], PRIORITIES)
            set_field("priority", "priority", changes["priority"], task.priority)
        if "fields" in changes:
            set_field("fields", "fields", dict(changes["fields"] or {}), task.fields)
        if "due_at" in changes:
            set_field("due_at", "due_at", as_utc(changes["due_at"]), task.due_at)
        department = _department(changes["department_id"]) if "department_id" in changes else None
        if department is not None:
            set_field("department_id", "department_id", department.id, task.department_id)
        if "assignee_id" in changes:
            new = changes["assignee_id"]
            if new is not None and new != task.assignee_id:
                new = _user(new, "assignee_id").id
            set_field("assignee_id", "assignee_id", new, task.assignee_id)
        if task.assignee_id is not None and ("assignee_id" in diff or "department_id" in diff):
            # A new assignee, or a task moved to another department, must suit the task's department.
            _assignee(task.assignee_id, department or _department(task.department_id))
        if "parent_id" in changes:
            new = changes["parent_id"]
            set_field("parent_id", "parent_id", _parent(actor, new, task).id if new is not None else None,
                      task.parent_id)
        if "status" in changes:
            _apply_status(actor, task, changes["status"], diff)
        if "watcher_ids" in changes:
            new_ids = sorted({_user(w, "watcher_ids").id for w in (changes["watcher_ids"] or [])})
            old_ids = task.watcher_ids
            if new_ids != old_ids:
                quiet = {w.user_id for w in TaskWatcher.select(TaskWatcher.user).where(
                    (TaskWatcher.task == task) & (TaskWatcher.quiet == True))}  # noqa: E712 - kept quiet
                TaskWatcher.delete().where(TaskWatcher.task == task).execute()
                for uid in new_ids:
                    TaskWatcher.create(task=task, user=uid, quiet=uid in quiet)
                diff["watcher_ids"] = [old_ids, new_ids]
        if not diff:
            return task
        _veto_change(task, diff, actor)
        _save_versioned(task)
        _record(task, actor, "updated", diff)
        outbox.emit("task.updated", {"task_id": task.id, "actor_id": actor.id,
                                     "changes": {k: [_jsonable(o), _jsonable(n)] for k, (o, n) in diff.items()}})
        if "assignee_id" in diff:
            outbox.emit("task.assigned", {"task_id": task.id, "actor_id": actor.id,
                                          "assignee_id": task.assignee_id, "previous_assignee_id": old_assignee})
    return task


def _apply_status(actor: User | None, task: Task, new_status: Any, diff: dict) -> None:
    _check_choice("status", new_status, STATUSES)
    old = task.status
    if new_status == old:
        return
    if new_status not in allowed_transitions(old):
        raise InvalidTransition(_("A task cannot move from %(old)s to %(new)s. Allowed: %(allowed)s.",
                                  old=status_label(old), new=status_label(new_status),
                                  allowed=", ".join(map(status_label, allowed_transitions(old))) or "-"),
                                allowed=list(allowed_transitions(old)))
    for plugin, reason in get_registry().decide("veto_transition", task=task, old_status=old,
                                                new_status=new_status, actor=actor):
        if isinstance(reason, PluginFailed):
            raise TransitionBlocked(_failed_closed(reason).message, plugin=plugin, reason="plugin_error")
        if reason:
            raise TransitionBlocked(_("%(plugin)s blocks this change: %(reason)s", plugin=_plugin_title(plugin),
                                      reason=reason), plugin=plugin, reason=str(reason))
    now = utcnow()
    diff["status"] = [old, new_status]
    task.status = new_status
    if new_status == "resolved":
        diff["resolved_at"] = [task.resolved_at, now]
        task.resolved_at = now
    elif new_status == "closed":
        diff["closed_at"] = [task.closed_at, now]
        task.closed_at = now
        if task.resolved_at is None:
            task.resolved_at = now
    elif new_status == "open" and old in ("resolved", "closed"):
        diff["resolved_at"] = [task.resolved_at, None]
        task.resolved_at = None
        task.closed_at = None


def _save_versioned(task: Task) -> None:
    """Save with compare-and-set on ``version`` so a concurrent writer cannot be overwritten silently."""
    old_version = task.version
    task.version = old_version + 1
    task.updated_at = utcnow()
    data = {field: getattr(task, field.name) for field in Task._meta.sorted_fields if field.name != "id"}
    updated = Task.update(data).where((Task.id == task.id) & (Task.version == old_version)).execute()
    if not updated:
        raise Conflict(_stale_task_message())


def transition(actor: User, task_id: int, new_status: str, expected_version: int | None = None) -> Task:
    return update_task(actor, task_id, {"status": new_status}, expected_version)


def assign(actor: User, task_id: int, assignee_id: int | None, expected_version: int | None = None) -> Task:
    return update_task(actor, task_id, {"assignee_id": assignee_id}, expected_version)


# -- the requester's answer to a resolution ----------------------------------------------------------

REOPEN_REASON_MAX = 2000


def confirm_resolution(actor: User, task_id: int, expected_version: int | None = None) -> Task:
    """The reporter (or anyone allowed to move tasks) confirms a resolved task is done: it is closed.

    Through the workflow and the plugins' vetoes like any status change; recorded in the audit trail as
    ``confirmed``, and told to the task's people as a status change.
    """
    return _requester_transition(actor, task_id, "closed", "confirmed", None, expected_version)


def reopen_task(actor: User, task_id: int, reason: str, expected_version: int | None = None) -> Task:
    """The reporter (or anyone allowed to move tasks) reopens a resolved or closed task, saying why.

    The reason is required (at most 2000 characters); the audit trail records it with the change
    (kind ``reopened``) and the task's people are told of the status change.
    """
    reason = (reason or "").strip() if isinstance(reason, (str, type(None))) else ""
    if not reason:
        raise ValidationFailed(_("Invalid value."), {"reason": [_("Say why the task is not done.")]})
    if len(reason) > REOPEN_REASON_MAX:
        raise ValidationFailed(_("Invalid value."), {"reason": [_("At most %(max)d characters.",
                                                                  max=REOPEN_REASON_MAX)]})
    return _requester_transition(actor, task_id, "open", "reopened", reason, expected_version)


def can_answer_resolution(actor: User, task: Task) -> bool:
    """Whether ``actor`` may confirm or reopen ``task``: its reporter, or someone who moves tasks."""
    return actor.is_active and (task.reporter_id == actor.id or actor.has_permission("task.transition"))


def _requester_transition(actor: User, task_id: int, new_status: str, kind: str, reason: str | None,
                          expected_version: int | None) -> Task:
    with write_transaction():
        task = get_visible_task(actor, task_id)
        if expected_version is not None and int(expected_version) != task.version:
            raise Conflict(_stale_task_message(), current_version=task.version)
        if not can_answer_resolution(actor, task):
            require(actor, "task.transition")
        allowed_from = ("resolved",) if kind == "confirmed" else ("resolved", "closed")
        if task.status not in allowed_from:
            raise InvalidTransition(
                _("Only a resolved task can be confirmed; this one is %(status)s.", status=status_label(task.status))
                if kind == "confirmed" else
                _("Only a resolved or closed task can be reopened; this one is %(status)s.",
                  status=status_label(task.status)), allowed=list(allowed_transitions(task.status)))
        diff: dict[str, list] = {}
        _apply_status(actor, task, new_status, diff)
        _veto_change(task, diff, actor)
        _save_versioned(task)
        recorded = {**diff, "reason": [None, reason]} if reason else diff
        _record(task, actor, kind, recorded)
        outbox.emit("task.updated", {"task_id": task.id, "actor_id": actor.id, "reason": reason or "",
                                     "changes": {k: [_jsonable(o), _jsonable(n)] for k, (o, n) in diff.items()}})
    return task


def system_transition(task_id: int, new_status: str, reason: str = "") -> Task:
    """Move a task as the system (a plugin job), through the workflow and the vetoes, recorded in the trail."""
    with write_transaction():
        task = Task.get_or_none(Task.id == task_id)
        if task is None:
            raise NotFound(_("No such task."))
        diff: dict[str, list] = {}
        _apply_status(None, task, new_status, diff)
        if not diff:
            return task
        _veto_change(task, diff, None)
        _save_versioned(task)
        _record(task, None, "updated", diff)
        outbox.emit("task.updated", {"task_id": task.id, "actor_id": None, "reason": reason,
                                     "changes": {k: [_jsonable(o), _jsonable(n)] for k, (o, n) in diff.items()}})
    return task


def system_assign(task_id: int, assignee_id: int | None, reason: str = "") -> Task:
    """Give a task to someone (or nobody: back to the queue) as the system, for a plugin that hands work
    on (a dispatcher when its assignee goes away). The assignee must suit the task's department
    (``workdesk.access.may_be_assignee``); the vetoes apply and the change is recorded in the audit trail
    and announced (``task.updated``, ``task.assigned``) like a person's."""
    with write_transaction():
        task = Task.get_or_none(Task.id == task_id)
        if task is None:
            raise NotFound(_("No such task."))
        if assignee_id is not None:
            _assignee(assignee_id, _department(task.department_id))
        old_assignee = task.assignee_id
        if assignee_id == old_assignee:
            return task
        diff = {"assignee_id": [old_assignee, assignee_id]}
        task.assignee_id = assignee_id
        _veto_change(task, diff, None)
        _save_versioned(task)
        _record(task, None, "updated", diff)
        outbox.emit("task.updated", {"task_id": task.id, "actor_id": None, "reason": reason, "changes": diff})
        outbox.emit("task.assigned", {"task_id": task.id, "actor_id": None, "assignee_id": assignee_id,
                                      "previous_assignee_id": old_assignee})
    return task


def add_watchers(task_id: int, user_ids: Iterable[int], actor: User | None = None, quiet: bool = False) -> list[int]:
    """Make people watch a task on the system's (or ``actor``'s) authority, recorded in the audit trail.

    For plugins that bring people into a task they could not see before (a review asking someone from
    another department to decide): watching makes the task visible to them and keeps them told. People
    already watching and deactivated people are skipped; returns the ids that were added.

    :param quiet: they watch only to see the task: the core does not tell them of its comments and status
        changes, and the plugin says what they hear (the templates plugin's *informed* people).
    """
    with write_transaction():
        task = Task.get_or_none(Task.id == task_id)
        if task is None:
            raise NotFound(_("No such task."))
        current = task.watcher_ids
        wanted = [uid for uid in dict.fromkeys(user_ids) if uid not in current]
        added = [u.id for u in User.select(User.id).where(User.id.in_(wanted) & (User.is_active == True))  # noqa: E712
                 .order_by(User.id)] if wanted else []
        if not added:
            return []
        for uid in added:
            TaskWatcher.create(task=task, user=uid, quiet=quiet)
        diff = {"watcher_ids": [current, sorted([*current, *added])]}
        Task.update(updated_at=utcnow()).where(Task.id == task.id).execute()
        _record(task, actor, "updated", diff)
        outbox.emit("task.updated", {"task_id": task.id, "actor_id": _actor_payload(actor), "changes": diff})
    return added


# -- comments, watching, delete ----------------------------------------------------------------

def _comment_body(body: str | None, required: bool = True) -> str:
    body = (body or "").strip()
    if not body and required:
        raise ValidationFailed(_("Invalid value."), {"body": [_("A comment cannot be empty.")]})
    if len(body) > 20000:
        raise ValidationFailed(_("Invalid value."), {"body": [_("At most 20000 characters.")]})
    return body


def add_comment(actor: User, task_id: int, body: str, internal: bool = False,
                uploads: Iterable[Any] = ()) -> Comment:
    """Comment on a task one can see, in Markdown, with files attached (``workdesk.services.attachments
    .Upload``; a comment with files may have no text). ``internal``: a note only people who work tasks
    see (and only they may write one)."""
    uploads = list(uploads)
    body = _comment_body(body, required=not uploads)
    from . import attachments
    task = get_visible_task(actor, task_id)
    require(actor, "task.comment")
    if internal and not works_tasks(actor):
        raise Forbidden(_("Only people who work tasks can write internal notes."), permission="task.transition")
    if uploads:
        attachments.check_uploads(uploads)
    files: list = []
    try:
        with write_transaction():
            task = get_visible_task(actor, task_id)
            comment = Comment.create(task=task, author=actor, body=body, created_at=utcnow(),
                                     internal=bool(internal))
            if uploads:
                files = attachments.store_uploads(actor, task, uploads, comment)
            Task.update(updated_at=utcnow()).where(Task.id == task.id).execute()
            _record(task, actor, "commented", {"comment_id": [None, comment.id],
                                               **({"internal": [None, True]} if internal else {})})
            outbox.emit("task.commented", {"task_id": task.id, "comment_id": comment.id, "actor_id": actor.id,
                                           "internal": bool(internal)})
    except BaseException:
        delete_quietly(attachments.keys_of(files))  # nothing was committed: neither are the files kept
        raise
    return comment


def visible_comments(viewer: User, task: Task):
    """The comments of ``task`` that ``viewer`` (who may see the task) may read: internal notes only for
    people who work tasks. A query, oldest first."""
    query = Comment.select(Comment, User).join(User, on=(Comment.author == User.id)).where(Comment.task == task)
    if not works_tasks(viewer):
        query = query.where(Comment.internal == False)  # noqa: E712
    return query.order_by(Comment.created_at, Comment.id)


def get_visible_comment(viewer: User, task_id: int, comment_id: int) -> Comment:
    """A comment of a task ``viewer`` may see and that they may read; NotFound otherwise."""
    task = get_visible_task(viewer, task_id)
    comment = visible_comments(viewer, task).where(Comment.id == comment_id).first()
    if comment is None:
        raise NotFound(_("No such comment."))
    return comment


def edit_window() -> dt.timedelta:
    """How long after writing it an author may edit a comment (the ``comment_edit_minutes`` setting)."""
    from ..site_settings import site_settings
    return dt.timedelta(minutes=site_settings()["comment_edit_minutes"])


def may_edit_comment(viewer: User, comment: Comment, now: dt.datetime | None = None) -> bool:
    """Its author, while the editing window set by an admin is open."""
    window = edit_window()
    return (comment.author_id == viewer.id and viewer.is_active and window > dt.timedelta(0)
            and as_utc(comment.created_at) + window > (now or utcnow()))


def edit_comment(actor: User, task_id: int, comment_id: int, body: str) -> Comment:
    """Change one's own comment within the editing window; the earlier body is kept as a CommentRevision
    and the audit trail records the edit."""
    body = _comment_body(body)
    with write_transaction():
        comment = get_visible_comment(actor, task_id, comment_id)
        if comment.author_id != actor.id:
            raise Forbidden(_("Only the author can edit a comment."))
        if not may_edit_comment(actor, comment):
            minutes = int(edit_window().total_seconds() // 60)
            raise Forbidden(ngettext("Comments can be edited for %(num)d minute after writing them.",
                                     "Comments can be edited for %(num)d minutes after writing them.", minutes)
                            if minutes else _("Comments cannot be edited on this Workdesk."))
        if body == comment.body:
            return comment
        now = utcnow()
        CommentRevision.create(comment=comment, body=comment.body, written_at=comment.edited_at or comment.created_at,
                               replaced_at=now, editor=actor)
        comment.body, comment.edited_at = body, now
        comment.save()
        task = comment.task
        _record(task, actor, "comment_edited", {"comment_id": [comment.id, comment.id],
                                                **({"internal": [True, True]} if comment.internal else {})})
    return comment


def comment_revisions(comment: Comment) -> list[CommentRevision]:
    """A comment's earlier bodies, oldest first."""
    return list(CommentRevision.select().where(CommentRevision.comment == comment).order_by(CommentRevision.id))


def set_watching(actor: User, task_id: int, watching: bool) -> Task:
    """Watch or unwatch a task one can see (no edit permission needed for oneself)."""
    with write_transaction():
        task = get_visible_task(actor, task_id)
        exists = TaskWatcher.select().where((TaskWatcher.task == task) & (TaskWatcher.user == actor)).exists()
        if watching and not exists:
            TaskWatcher.create(task=task, user=actor)
            _record(task, actor, "watched", {"watcher_ids": [None, actor.id]})
        elif not watching and exists:
            TaskWatcher.delete().where((TaskWatcher.task == task) & (TaskWatcher.user == actor)).execute()
            _record(task, actor, "unwatched", {"watcher_ids": [actor.id, None]})
    return task


def delete_task(actor: User, task_id: int) -> None:
    """Delete a task (admins); its audit trail stays, with a final ``deleted`` entry."""
    from ..models import Attachment
    from .attachments import stored_keys
    with write_transaction():
        task = get_visible_task(actor, task_id)
        require(actor, "task.delete")
        files = stored_keys(Attachment.task == task)  # the rows go with the task (ON DELETE CASCADE)
        _record(task, actor, "deleted", {"title": [task.title, None], "status": [task.status, None]})
        Task.update(parent=None).where(Task.parent == task).execute()
        snapshot = {"id": task.id, "number": task.number, "title": task.title, "status": task.status,
                    "department_id": task.department_id, "reporter_id": task.reporter_id,
                    "assignee_id": task.assignee_id}
        task.delete_instance()
        outbox.emit("task.deleted", {"task_id": snapshot["id"], "actor_id": actor.id, "snapshot": snapshot})
    delete_quietly(files)  # after the commit: a deletion that failed keeps its files


def plugin_data(task: Task, user: User | None) -> dict[str, Any]:
    """What enabled plugins add to a task's representation, under each plugin's name."""
    return dict(get_registry().gather("extra_task_data", task=task, user=user))


# -- event payloads -----------------------------------------------------------------------------

def _load_task_event(event) -> dict[str, Any] | None:
    task = task_by_id(event.payload["task_id"])
    if task is None:
        return None  # deleted since: nothing left to act on
    return {"task": task, "actor": _user_or_none(event.payload.get("actor_id"))}


def _user_or_none(user_id: int | None) -> User | None:
    # Precompiled: every task event loads one to three people.
    if not user_id:
        return None
    return next(iter(hot_query(User, "user_by_id", lambda: User.select().where(User.id == 0), user_id)), None)


def _updated_kwargs(event):
    kwargs = _load_task_event(event)
    if kwargs is not None:
        kwargs["changes"] = event.payload.get("changes", {})
    return kwargs


def _commented_kwargs(event):
    kwargs = _load_task_event(event)
    if kwargs is not None:
        kwargs["comment"] = Comment.get_or_none(Comment.id == event.payload["comment_id"])
        if kwargs["comment"] is None:
            return None
    return kwargs


def _assigned_kwargs(event):
    kwargs = _load_task_event(event)
    if kwargs is not None:
        for key in ("assignee", "previous_assignee"):
            kwargs[key] = _user_or_none(event.payload.get(f"{key}_id"))
    return kwargs


outbox.register_event_kind("task.created", "on_task_created", _load_task_event)
outbox.register_event_kind("task.updated", "on_task_updated", _updated_kwargs)
outbox.register_event_kind("task.commented", "on_task_commented", _commented_kwargs)
outbox.register_event_kind("task.assigned", "on_task_assigned", _assigned_kwargs)


def _deleted_kwargs(event):
    actor_id = event.payload.get("actor_id")
    return {"task_id": event.payload["task_id"], "snapshot": event.payload["snapshot"],
            "actor": User.get_or_none(User.id == actor_id) if actor_id else None}


outbox.register_event_kind("task.deleted", "on_task_deleted", _deleted_kwargs)
