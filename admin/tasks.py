"""Tasks (list, filters, search, bulk actions), comments and the read-only audit trail."""
from __future__ import annotations

import json
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

import marshmallow
from flask import flash, g, has_request_context, request, url_for
from flask_admin.actions import action
from flask_admin.contrib.peewee import filters
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup
from wtforms import DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from workdesk import keyset, task_filters
from workdesk.access import can_see, visible_tasks, working_role_ids
from workdesk.search import matching_tasks, sorted_by_name
from workdesk.errors import ValidationFailed, WorkdeskError
from workdesk.labels import (PRIORITY_LABELS, STATUS_LABELS, priority_choices, priority_label, status_choices,
                             status_label)
from workdesk.models import PRIORITIES, STATUSES, Comment, Department, Membership, Task, TaskEvent, User
from workdesk.schemas import parse_id
from workdesk.services import bulk
from workdesk.services import tasks as task_service
from workdesk.web.helpers import local_to_utc

from .base import AdminForm, WorkdeskModelView, admin_user, flash_service_error, live_options, person_name

NOBODY = "none"


def _user_options() -> list[tuple[str, str]]:
    return [(str(u.id), u.name) for u in sorted_by_name(User.select().where(User.is_active == True))]  # noqa: E712


def _assignee_options() -> list[tuple[str, str]]:
    """Everyone who may be assigned tasks of some department (``workdesk.access.eligible_assignees``), named
    with those departments: the bulk action's and the edit form's choices (the edit form may move the task
    too). The task service refuses, per task, a person who does not suit the task's department."""
    rows = (Membership.select(Membership.user, User.name, Department.name.alias("department"))
            .join_from(Membership, User).join_from(Membership, Department)
            .where((User.is_active == True) & User.role.in_(working_role_ids()))  # noqa: E712
            .order_by(User.name, User.id, Department.name).tuples())
    people: dict[int, tuple[str, list[str]]] = {}
    for user_id, name, department in rows:
        people.setdefault(user_id, (name, []))[1].append(department)
    return [(str(user_id), f"{name} ({', '.join(departments)})")
            for user_id, (name, departments) in sorted_by_name(people.items(), lambda item: item[1][0])]


def _department_options() -> list[tuple[str, str]]:
    return [(str(d.id), d.name) for d in Department.select().order_by(Department.name)]


# -- bulk actions ------------------------------------------------------------------------------

class BulkResult(bulk.BulkResult):
    """What a bulk action did (``workdesk.services.bulk``), told to the admin as flash messages."""

    def flash(self, done_message: Callable[[int], str]) -> None:
        """``done_message(n)`` words the successes; refusals are listed with their reasons."""
        if self.done:
            flash(done_message(len(self.done)), "success")
        if self.refused:
            reasons = "; ".join(f"{label}: {reason}" for label, reason in self.refused)
            flash(ngettext("%(num)d task was not changed: %(reasons)s", "%(num)d tasks were not changed: %(reasons)s",
                           len(self.refused), reasons=reasons), "error")


def run_bulk(ids: Iterable[str], change: Callable[[int], Task]) -> BulkResult:
    """Apply ``change`` to each task on its own (``workdesk.services.bulk.run_bulk``)."""
    result = bulk.run_bulk(ids, change)
    return BulkResult(done=result.done, refused=result.refused)


def bulk_assign(actor: User, ids: Iterable[str], assignee_id: int | None) -> BulkResult:
    return run_bulk(ids, lambda task_id: task_service.assign(actor, task_id, assignee_id))


def bulk_status(actor: User, ids: Iterable[str], status: str) -> BulkResult:
    return run_bulk(ids, lambda task_id: task_service.transition(actor, task_id, status))


def bulk_priority(actor: User, ids: Iterable[str], priority: str) -> BulkResult:
    return run_bulk(ids, lambda task_id: task_service.update_task(actor, task_id, {"priority": priority}))


# -- the task-list catalogue's filters and sorts ---------------------------------------------------

class CatalogueFilter(filters.BasePeeweeFilter):
    """A filter of the task-list catalogue (``workdesk.task_filters``) in Flask-Admin's filter bar: the same
    values and the same query as the API's and the pages'. A plugin's filter is offered while the plugin
    is enabled."""

    def __init__(self, task_filter: task_filters.TaskFilter):
        super().__init__(Task.id, task_filter.label)
        self.parameter = task_filter.name

    def live(self) -> task_filters.TaskFilter | None:
        return task_filters.catalogue().filters.get(self.parameter)

    def _load(self, value: str):
        task_filter = self.live()
        if task_filter is None:
            raise LookupError(self.parameter)
        return task_filter, task_filter.schema_field().deserialize(value)

    def validate(self, value) -> bool:
        try:
            self._load(value)
        except (LookupError, marshmallow.ValidationError):
            return False
        return True

    def apply(self, query, value, alias=None):
        task_filter, loaded = self._load(value)
        return task_filter.apply(query, loaded, task_filters.FilterContext.of(admin_user()))

    def operation(self):
        return _l("is")

    def get_options(self, view):
        task_filter = self.live() if has_request_context() else None
        if task_filter is None or not task_filter.choices:
            return None
        return task_filter.options(admin_user())


def catalogue_filters() -> list[CatalogueFilter]:
    """The catalogue's filters the admin list lacks (due range, type, impact) and every installed plugin's."""
    chosen = {f.name: f for f in task_filters.CORE_FILTERS if f.name in ("due", "type", "impact")}
    core_names = {f.name for f in task_filters.CORE_FILTERS}
    for _plugin, item in task_filters.plugin_items("installed"):
        if isinstance(item, task_filters.TaskFilter) and item.name not in core_names:
            chosen.setdefault(item.name, item)
    return [CatalogueFilter(f) for f in chosen.values()]


# -- the task list -----------------------------------------------------------------------------

class TaskForm(AdminForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"))
    priority = SelectField(_l("Priority"), choices=[])
    type = StringField(_l("Type"), validators=[Length(max=64)])
    department_id = SelectField(_l("Department"), choices=[])
    # The task service judges the assignee (who may work the task's department, maybe a new one), so a
    # refusal names the reason rather than "Not a valid choice".
    assignee_id = SelectField(_l("Assignee"), choices=[], validate_choice=False)
    due_at = DateTimeLocalField(_l("Due (your time zone)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    # The task's custom fields as a JSON object; plugins check their values (validate_task_change).
    fields = TextAreaField(_l("Custom fields (JSON)"), validators=[Optional(), Length(max=100000)])


def _fields_json(text: str | None) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ValidationFailed(_("Invalid value."), {"fields": [_("Write a JSON object, e.g. {\"cost\": 12}.")]})
    return value


def _tz() -> ZoneInfo:
    user = admin_user()
    return user.zone if user else ZoneInfo("UTC")


STATUS_BADGES = {"new": "info", "open": "primary", "in_progress": "warning", "waiting": "secondary",
                 "resolved": "success", "closed": "dark"}
PRIORITY_BADGES = {"low": "light", "normal": "secondary", "high": "warning", "urgent": "danger"}


def _badge(classes: dict[str, str], label: Callable[[str], str]):
    def formatter(view, context, model, name) -> Markup:
        value = getattr(model, name)
        return Markup('<span class="badge badge-{}">{}</span>').format(classes.get(value, "light"), label(value))
    return formatter


def _title_link(view, context, model, name) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url_for(".details_view", id=model.id), model.title)


def _json_text(view, context, model, name) -> str:
    return json.dumps(getattr(model, name), ensure_ascii=False, sort_keys=True)


class TaskView(WorkdeskModelView):
    list_template = "workdesk_admin/task_list.html"
    can_create = False
    can_view_details = True
    can_export = True
    form = TaskForm
    column_list = ("number", "title", "status", "priority", "department", "assignee", "due_at", "updated_at")
    column_details_list = ("number", "title", "description", "status", "priority", "type", "impact", "department",
                           "reporter", "assignee", "parent", "due_at", "fields", "created_at", "updated_at",
                           "resolved_at", "closed_at", "version")
    column_export_list = ("number", "title", "status", "priority", "department", "assignee", "due_at", "created_at")
    column_searchable_list = (Task.title, Task.description)
    column_sortable_list = ("number", "title", "status", "priority", ("department", Department.name), "due_at",
                            "created_at", "updated_at")
    column_default_sort = ("number", True)
    column_formatters = {"title": _title_link, "status": _badge(STATUS_BADGES, status_label),
                         "priority": _badge(PRIORITY_BADGES, priority_label), "assignee": person_name,
                         "fields": _json_text}
    column_formatters_detail = {"fields": _json_text, "assignee": person_name, "reporter": person_name,
                                "status": _badge(STATUS_BADGES, status_label),
                                "priority": _badge(PRIORITY_BADGES, priority_label)}
    column_formatters_export = {"assignee": lambda view, context, model, name: person_name(view, context, model, name)}
    column_labels = {"number": "#", "due_at": _l("Due"), "updated_at": _l("Updated")}
    column_filters = (
        filters.FilterEqual(Task.status, _l("Status"), options=list(STATUS_LABELS.items())),
        filters.FilterInList(Task.status, _l("Status")),
        filters.FilterEqual(Task.priority, _l("Priority"), options=list(PRIORITY_LABELS.items())),
        filters.FilterEqual(Task.department, _l("Department"), options=live_options(_department_options)),
        filters.FilterEqual(Task.assignee, _l("Assignee"), options=live_options(_user_options)),
        filters.FilterEmpty(Task.assignee, _l("Assignee")),
        filters.DateTimeSmallerFilter(Task.due_at, _l("Due (UTC)")),
        filters.DateTimeGreaterFilter(Task.due_at, _l("Due (UTC)")),
        filters.DateTimeBetweenFilter(Task.due_at, _l("Due (UTC)")),
        filters.FilterEmpty(Task.due_at, _l("Due (UTC)")),
    )

    def __init__(self, *args, **kwargs):
        # The catalogue's filters join the panel's own when the panel is built (plugins are known by then).
        self.column_filters = (*type(self).column_filters, *catalogue_filters())
        super().__init__(*args, **kwargs)

    def search_placeholder(self) -> str:
        return _("Search titles and descriptions")

    def _get_filter_groups(self):
        groups = super()._get_filter_groups()
        if not groups:
            return groups
        # A plugin's filter disappears while the plugin is disabled.
        hidden = {i for i, flt in enumerate(self._filters) if isinstance(flt, CatalogueFilter) and flt.live() is None}
        return type(groups)((name, items) for name, items in
                            ((name, [i for i in items if i["index"] not in hidden]) for name, items in groups.items())
                            if items)

    def get_invalid_value_msg(self, value, filter):
        if isinstance(filter, CatalogueFilter) and filter.live() is None:
            return _("The filter “%(name)s” is left out: its plugin is disabled.", name=filter.parameter)
        return super().get_invalid_value_msg(value, filter)

    # The catalogue's sorts ("order", as the column headers use "sort"), plugins' joined ones included.
    def order_options(self) -> list[tuple[str, str]]:
        return task_filters.catalogue().sort_options()

    def chosen_order(self) -> tuple[task_filters.TaskSort, bool] | None:
        value = request.args.get("order", "")
        sort = task_filters.catalogue().sorts.get(value.lstrip("-"))
        return (sort, value.startswith("-")) if sort is not None else None

    # An admin role without task.view_all sees in the panel exactly the tasks it sees elsewhere, and
    # the search box finds what the API's q and the search page find (the one text search).
    def get_query(self):
        return matching_tasks(visible_tasks(admin_user(), Task.select()), g.get("admin_task_search", ""))

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        g.admin_task_search = search or ""
        order = self.chosen_order() if has_request_context() else None
        if order is None:
            return super().get_list(page, sort_column, sort_desc, None, filters, execute, page_size)
        count, query = super().get_list(page, None, None, None, filters, False, page_size)
        sort, descending = order
        query = (sort.join(query) if sort.join else query).order_by(*keyset.ordering(sort.keys(descending)))
        return count, (list(query.execute()) if execute else query)

    def get_one(self, id):
        task = super().get_one(id)
        return task if task is not None and can_see(admin_user(), task) else None

    # Bulk-action parameters come from the controls rendered inside the action form.
    def bulk_options(self) -> dict[str, list[tuple[str, str]]]:
        return {"assignees": [(NOBODY, _("Nobody (unassign)"))] + _assignee_options(),
                "statuses": status_choices(), "priorities": priority_choices()}

    @action("assign", _l("Assign to the chosen person"))
    def action_assign(self, ids):
        raw = request.form.get("bulk_assignee", "")
        if raw == NOBODY:
            assignee_id = None
        elif parse_id(raw) is not None:
            assignee_id = parse_id(raw)
        else:
            flash(_("Choose the person to assign the tasks to."), "error")
            return None
        bulk_assign(admin_user(), ids, assignee_id).flash(
            lambda n: ngettext("%(num)d task assigned.", "%(num)d tasks assigned.", n))
        return None

    @action("set_status", _l("Move to the chosen status"))
    def action_set_status(self, ids):
        status = request.form.get("bulk_status", "")
        if status not in STATUSES:
            flash(_("Choose the status to move the tasks to."), "error")
            return None
        bulk_status(admin_user(), ids, status).flash(
            lambda n: ngettext("%(num)d task moved to %(status)s.", "%(num)d tasks moved to %(status)s.", n,
                               status=status_label(status)))
        return None

    @action("set_priority", _l("Change priority to the chosen one"))
    def action_set_priority(self, ids):
        priority = request.form.get("bulk_priority", "")
        if priority not in PRIORITIES:
            flash(_("Choose the priority to give the tasks."), "error")
            return None
        bulk_priority(admin_user(), ids, priority).flash(
            lambda n: ngettext("%(num)d task now has priority %(priority)s.",
                               "%(num)d tasks now have priority %(priority)s.", n,
                               priority=priority_label(priority)))
        return None

    @action("close", _l("Close"), _l("Close the selected tasks? Only resolved tasks can be closed."))
    def action_close(self, ids):
        bulk_status(admin_user(), ids, "closed").flash(
            lambda n: ngettext("%(num)d task closed.", "%(num)d tasks closed.", n))
        return None

    # -- editing and deleting go through the task service --------------------------------------

    def _with_choices(self, form, task: Task | None = None):
        form.priority.choices = priority_choices()
        form.department_id.choices = _department_options()
        options = _assignee_options()
        if task is not None and task.assignee_id and str(task.assignee_id) not in {v for v, _label in options}:
            options.append((str(task.assignee_id), task.assignee.name))  # assigned before the rule held
        form.assignee_id.choices = [("", _("Nobody"))] + options
        return form

    def edit_form(self, obj=None):
        return self._with_choices(super().edit_form(obj), obj)

    def on_form_prefill(self, form, id):
        if request.method != "GET":  # keep what was typed when a save failed
            return
        task = Task.get_by_id(id)
        form.department_id.data = str(task.department_id)
        form.assignee_id.data = str(task.assignee_id) if task.assignee_id else ""
        form.due_at.data = task.due_at.astimezone(_tz()).replace(tzinfo=None) if task.due_at else None
        form.fields.data = json.dumps(task.fields or {}, ensure_ascii=False, indent=1)

    def update_model(self, form, model):
        try:
            department_id = parse_id(form.department_id.data)
            if department_id is None:
                raise ValidationFailed(_("Invalid reference."), {"department_id": [_("Choose from the list.")]})
            assignee_id = parse_id(form.assignee_id.data)
            if form.assignee_id.data and assignee_id is None:
                raise ValidationFailed(_("Invalid reference."), {"assignee_id": [_("Choose from the list.")]})
            changes = {"title": form.title.data, "description": form.description.data,
                       "priority": form.priority.data, "type": form.type.data or "task",
                       "department_id": department_id, "assignee_id": assignee_id,
                       "due_at": local_to_utc(form.due_at.data, admin_user()), "fields": _fields_json(form.fields.data)}
            task_service.update_task(admin_user(), model.id, changes, expected_version=model.version)
        except WorkdeskError as exc:
            # A custom field's message ("fields.cost") goes under the JSON box, naming the key.
            for name in [n for n in (exc.fields or {}) if n.startswith("fields.")]:
                exc.fields.setdefault("fields", []).extend(f"{name[7:]}: {m}" for m in exc.fields.pop(name))
            flash_service_error(exc, form)
            return False
        return True

    def delete_model(self, model):
        try:
            task_service.delete_task(admin_user(), model.id)
        except WorkdeskError as exc:
            flash_service_error(exc)
            return False
        return True


class CommentView(WorkdeskModelView):
    """Comments are read here; writing and removing them happens on the task (audit trail intact)."""
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = True
    column_list = ("task", "author", "body", "created_at")
    column_formatters = {"author": person_name}

    def search_placeholder(self) -> str:
        return _("Search comments")

    def get_query(self):
        return visible_tasks(admin_user(), Comment.select().join(Task))

    def get_one(self, id):
        comment = super().get_one(id)
        return comment if comment is not None and can_see(admin_user(), comment.task) else None
    column_searchable_list = (Comment.body,)
    column_sortable_list = ("created_at",)
    column_default_sort = ("created_at", True)
    column_filters = (filters.FilterEqual(Comment.author, _l("Author"), options=live_options(_user_options)),
                      filters.DateTimeGreaterFilter(Comment.created_at, _l("Written (UTC)")),
                      filters.DateTimeSmallerFilter(Comment.created_at, _l("Written (UTC)")))


def _changes_text(view, context, model, name) -> str:
    return "; ".join(f"{key}: {json.dumps(old, ensure_ascii=False)} → {json.dumps(new, ensure_ascii=False)}"
                     for key, (old, new) in sorted(model.changes.items()))


class AuditView(WorkdeskModelView):
    """The append-only audit trail: filterable, exportable, never edited or deleted."""
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = True
    can_export = True
    column_list = ("at", "task_number", "kind", "actor", "changes")
    column_sortable_list = ("at", "task_number", "kind")
    column_default_sort = ("at", True)
    column_labels = {"task_number": _l("Task #"), "at": _l("When (UTC)")}
    column_formatters = {"changes": _changes_text, "actor": person_name}
    column_formatters_detail = {"changes": _changes_text, "actor": person_name}
    column_formatters_export = {"changes": lambda view, context, model, name: _changes_text(view, context, model, name)}
    def get_query(self):
        user = admin_user()
        if user.has_permission("task.view_all"):
            return TaskEvent.select()  # deleted tasks' trails included
        return TaskEvent.select().where(TaskEvent.task_id.in_(visible_tasks(user, Task.select(Task.id))))

    def get_one(self, id):
        return self.get_query().where(TaskEvent.id == id).first()

    column_filters = (
        filters.IntEqualFilter(TaskEvent.task_number, _l("Task #")),
        filters.FilterEqual(TaskEvent.kind, _l("Kind"), options=[(k, k) for k in (
            "created", "updated", "commented", "watched", "unwatched", "deleted")]),
        filters.FilterEqual(TaskEvent.actor, _l("Actor"), options=live_options(_user_options)),
        filters.DateTimeGreaterFilter(TaskEvent.at, _l("When (UTC)")),
        filters.DateTimeSmallerFilter(TaskEvent.at, _l("When (UTC)")),
    )
