"""Bulk edit in the team pages: the ticked tasks of a list get a new assignee, status, priority or due date.

For people whose role has ``task.bulk_edit`` (managers, seeded). Every change of every task goes on its
own through the task service (``workdesk.services.bulk``), so the workflow, the plugins' vetoes, the
permissions and the audit trail apply per task, and the page says per task why a change was refused.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ..access import department_ids, get_visible_task, require
from ..auth import current_user, login_required
from ..dates import resolve_due
from ..errors import WorkdeskError
from ..labels import priority_choices, status_choices
from ..models import PRIORITIES, STATUSES, Task, User
from ..redirects import safe_redirect_target
from ..services import bulk
from ..services.tasks import update_task
from ..schemas import parse_id
from . import web
from .forms import BulkEditForm
from .helpers import colleagues, local_to_utc, person_label, show_service_error

BULK_PERMISSION = "task.bulk_edit"
NOBODY = "none"
MAX_TASKS = 200  # one form, one page of a list at most (a list page holds 50)


def can_bulk_edit(user: User | None) -> bool:
    return user is not None and user.is_active and user.has_permission(BULK_PERMISSION)


def bulk_form(user: User, formdata: Any = None) -> BulkEditForm:
    """The bulk-edit form with its choices: "no change" first in each."""
    form = BulkEditForm(formdata=formdata) if formdata is not None else BulkEditForm(formdata=None)
    form.assignee_id.choices = [("", _("No change")), (NOBODY, _("Nobody (unassign)"))] + [
        (str(u.id), person_label(u)) for u in colleagues(department_ids(user), user)]
    form.status.choices = [("", _("No change"))] + status_choices()
    form.priority.choices = [("", _("No change"))] + priority_choices()
    return form


@web.app_context_processor
def _bulk_edit():
    def bulk_edit_form() -> BulkEditForm | None:
        """The form a list page shows above its table, for people who may bulk-edit."""
        user = current_user()
        return bulk_form(user) if can_bulk_edit(user) else None
    return {"bulk_edit_form": bulk_edit_form}


def _changes(form: BulkEditForm, user: User) -> list[tuple[str, Callable[[Task], dict[str, Any]]]]:
    """What to change, as ``(what, task -> service changes)`` in the order they are applied."""
    changes: list[tuple[str, Callable[[Task], dict[str, Any]]]] = []
    raw = form.assignee_id.data or ""
    if raw:
        assignee_id = None if raw == NOBODY else parse_id(raw)
        if raw != NOBODY and assignee_id is None:
            form.assignee_id.errors = [*form.assignee_id.errors, _("Choose someone from the list.")]
        else:
            changes.append((_("assignee"), lambda task: {"assignee_id": assignee_id}))
    if form.status.data:
        if form.status.data not in STATUSES:
            form.status.errors = [*form.status.errors, _("Choose a status from the list.")]
        else:
            changes.append((_("status"), lambda task: {"status": form.status.data}))
    if form.priority.data:
        if form.priority.data not in PRIORITIES:
            form.priority.errors = [*form.priority.errors, _("Choose a priority from the list.")]
        else:
            changes.append((_("priority"), lambda task: {"priority": form.priority.data}))
    if form.clear_due.data:
        changes.append((_("due date"), lambda task: {"due_at": None}))
    elif form.due_preset.data or form.due_at.data:
        typed = local_to_utc(form.due_at.data, user)
        now = dt.datetime.now(dt.timezone.utc)
        # A preset is a working day of each task's own department's calendar.
        changes.append((_("due date"), lambda task: {"due_at": resolve_due(form.due_preset.data, typed,
                                                                           task.department, user.zone, now)}))
    return changes


def apply_bulk_edit(user: User, task_ids: list[str], changes) -> tuple[int, list[tuple[str, str, str]]]:
    """Apply each change to each task on its own; returns how many tasks changed and the refusals as
    ``(task label, what, reason)``."""
    changed: set[int] = set()
    refusals: list[tuple[str, str, str]] = []
    for what, values in changes:
        def change(task_id: int, values=values) -> Task:
            before = get_visible_task(user, task_id)
            task = update_task(user, task_id, values(before))
            if task.version != before.version:
                changed.add(task.id)
            return task
        result = bulk.run_bulk(task_ids, change, viewer=user)
        refusals += [(label, what, reason) for label, reason in result.refused]
    return len(changed), refusals


@web.route("/tasks/bulk", methods=["POST"])
@login_required
def bulk_edit():
    user = current_user()
    require(user, BULK_PERMISSION)
    back = safe_redirect_target(request.args.get("next"), url_for("web.search"))
    form = bulk_form(user, request.form)
    task_ids = request.form.getlist("task_ids")[:MAX_TASKS]
    if not form.validate():
        for field in form:
            for message in field.errors:
                flash(f"{field.label.text}: {message}" if field.name != "csrf_token" else message, "error")
        return redirect(back)
    try:
        changes = _changes(form, user)
    except WorkdeskError as exc:  # a due date UTC cannot hold
        show_service_error(form, exc)
        changes = []
    problems = [f"{field.label.text}: {m}" for field in form for m in field.errors] + list(form.form_errors)
    if problems:
        for message in problems:
            flash(message, "error")
        return redirect(back)
    if not task_ids:
        flash(_("Tick the tasks to change first."), "error")
        return redirect(back)
    if not changes:
        flash(_("Choose what to change first."), "error")
        return redirect(back)
    count, refusals = apply_bulk_edit(user, task_ids, changes)
    flash(ngettext("%(num)d task changed.", "%(num)d tasks changed.", count))
    for label, what, reason in refusals:
        flash(_("%(task)s, %(what)s: %(reason)s", task=label, what=what, reason=reason), "error")
    return redirect(back)

