"""Filing a task and the task page with everything one can do there."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable

from flask import current_app, flash, redirect, render_template, request, url_for
from ..dates import format_instant
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from ..access import can_see, eligible_assignees, get_visible_task, visible_tasks, visible_users, works_tasks
from ..auth import current_user, login_required, normalise_email
from ..errors import NotFound, ValidationFailed, WorkdeskError
from ..models import Department, Task, TaskEvent, User
from ..redirects import safe_redirect_target
from ..registry import get_registry
from ..dates import resolve_due
from ..notifications import mark_task_read
from ..services.tasks import add_comment, allowed_transitions, assign, can_answer_resolution, confirm_resolution, \
    create_task, plugin_data, reopen_task, set_watching, transition, update_task
from ..services.attachments import MAX_FILES_PER_UPLOAD, human_size
from ..services.attachments import limits as attachment_limits
from ..services.users import filing_department
from ..schemas import parse_id
from ..search import sorted_by_name
from . import web
from .content import (allow_large_upload, content_context, content_event_phrase, may_see_event,
                      uploads_from_request)
from .forms import (AssignForm, CommentForm, ConfirmForm, EditTaskForm, QuickCreateForm, ReopenForm, TakeForm,
                    TaskForm, TransitionForm, WatchForm)
from ..labels import type_label
from .helpers import (USUAL_NEXT, local_to_utc, person_label, priority_label, show_service_error,
                      status_label, task_panels, transition_label, utc_to_local)

# Service field names and the form fields that show their errors.
FIELD_ALIASES = {"watcher_ids": "watchers", "parent_id": "parent"}


# -- filing ------------------------------------------------------------------------------------

def _intake_setting() -> int | str | None:
    return current_app.config["WORKDESK"]["intake_department"]


@web.route("/tasks/quick", methods=["POST"])
@login_required
def task_quick():
    """One title and Enter: a task in the user's department (or the intake department), everything else
    defaulted. Every outcome redirects: to the new task, or with the reason to where it can be fixed."""
    user = current_user()
    form = QuickCreateForm()
    if not form.validate_on_submit():
        if not (form.title.data or "").strip():
            flash(_("Type what needs doing, then press Add."), "error")
            return redirect(url_for("web.home"))
        for message in form.title.errors:
            flash(message, "error")
        return redirect(url_for("web.task_new", title=form.title.data))
    try:
        department = filing_department(user, _intake_setting())
        task = create_task(user, title=form.title.data, department_id=department.id)
    except WorkdeskError as exc:
        # The full form keeps the title and lets the person choose what quick create could not.
        flash(" ".join([exc.message, *(m for messages in exc.fields.values() for m in messages)]), "error")
        return redirect(url_for("web.task_new", title=form.title.data))
    flash(_("Task #%(number)s is filed in %(department)s.", number=task.number, department=department.name))
    return redirect(url_for("web.task_page", task_id=task.id))


def _assignee_choices(user: User, department: Department | None) -> list[tuple[str, str]]:
    """Who the new-task form offers: the people who may be assigned tasks of the filing department
    (``workdesk.access.eligible_assignees``), "me" first when the user works tasks at all."""
    choices = [("", _("Nobody yet (automatic)"))]
    if works_tasks(user):
        choices.append((str(user.id), _("Me")))
    if user.has_permission("task.assign") and department is not None:
        choices += [(str(u.id), person_label(u)) for u in sorted_by_name(eligible_assignees(department.id))
                    if u.id != user.id]
    return choices


def _user_id(value: str | None) -> int | None:
    if not value:
        return None
    user_id = parse_id(value)
    if user_id is None:
        raise ValidationFailed(_("Invalid reference."), {"assignee_id": [_("Choose someone from the list.")]})
    return user_id


def _watcher_ids(user: User, text: str | None) -> list[int]:
    emails = [normalise_email(part) for part in re.split(r"[\s,;]+", text or "") if part.strip()]
    # only people the author may look up: the form must not tell a requester which addresses have accounts
    found = {u.email: u.id for u in visible_users(user).select(User.id, User.email).where(User.email.in_(emails))} \
        if emails else {}
    missing = [e for e in emails if e not in found]
    if missing:
        raise ValidationFailed(_("Invalid reference."), {"watchers": [
            _("No user with the email %(email)s.", email=e) for e in missing]})
    return list(dict.fromkeys(found[e] for e in emails))


def _parent_id(user: User, text: str | None) -> int | None:
    text = (text or "").strip().lstrip("#")
    if not text:
        return None
    number = parse_id(text)
    parent = visible_tasks(user).where(Task.number == number).first() if number is not None else None
    if parent is None:
        raise ValidationFailed(_("Invalid reference."), {"parent": [_("No task #%(number)s.", number=text)]})
    return parent.id


@web.route("/tasks/new", methods=["GET", "POST"])
@login_required
@allow_large_upload
def task_new():
    """The full form for filing a task, files included (several at once, or dropped onto the form)."""
    user = current_user()
    form = TaskForm()
    departments = list(Department.select().order_by(Department.name))
    form.department_id.choices = [(d.id, d.name) for d in departments]
    try:
        home = filing_department(user, _intake_setting())
    except ValidationFailed:
        home = None
    form.assignee_id.choices = _assignee_choices(user, home)
    if request.method == "GET":
        form.title.data = request.args.get("title", "")[:200]
        if home is not None:
            form.department_id.data = home.id
    if form.validate_on_submit():
        try:
            task = create_task(
                user, title=form.title.data, department_id=form.department_id.data,
                description=form.description.data or "", priority=form.priority.data,
                assignee_id=_user_id(form.assignee_id.data),
                due_at=resolve_due(form.due_preset.data, local_to_utc(form.due_at.data, user),
                                   Department.get_or_none(Department.id == form.department_id.data), user.zone),
                watcher_ids=_watcher_ids(user, form.watchers.data),
                parent_id=_parent_id(user, form.parent.data), uploads=uploads_from_request())
        except NotFound:
            raise
        except WorkdeskError as exc:
            show_service_error(form, exc, FIELD_ALIASES)
            return _new_task_page(form), exc.status
        flash(_("Task #%(number)s is filed.", number=task.number))
        return redirect(url_for("web.task_page", task_id=task.id))
    return _new_task_page(form), 200 if request.method == "GET" else 400


def _new_task_page(form: TaskForm) -> str:
    largest, _quota = attachment_limits()
    return render_template("core/task_new.html", form=form, max_files=MAX_FILES_PER_UPLOAD,
                           largest_file=human_size(largest))


# -- the task page -----------------------------------------------------------------------------

def _user_names(ids: set[int]) -> dict[int, str]:
    ids = {i for i in ids if isinstance(i, int)}
    return {u.id: u.name for u in User.select(User.id, User.name).where(User.id.in_(ids))} if ids else {}


def _when(value: Any) -> str:
    if not value:
        return ""
    try:
        return format_instant(dt.datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value)


def _describe_change(field: str, old: Any, new: Any, names: dict[int, str], actor_id: int | None,
                     viewer: User) -> str | None:
    """One readable phrase for one changed field of an audit-trail entry (None: not worth a line)."""
    if field == "status":
        return _("changed the status from %(old)s to %(new)s", old=status_label(old), new=status_label(new))
    if field == "assignee_id":
        if new is None:
            someone = _("someone")  # its own call: the extractor does not see a _() nested in another
            return _("unassigned %(old)s", old=names.get(old, someone))
        if new == actor_id:
            return _("took it")
        former_user = _("a former user")
        return _("assigned it to %(new)s", new=names.get(new, former_user))
    if field == "priority":
        return _("changed the priority from %(old)s to %(new)s", old=priority_label(old), new=priority_label(new))
    if field == "title":
        return _("renamed it from “%(old)s” to “%(new)s”", old=old, new=new)
    if field == "due_at":
        return _("set the due date to %(new)s", new=_when(new)) if new else _("removed the due date")
    if field == "description":
        return _("edited the description")
    if field == "parent_id":
        if not new:
            return _("detached it from its parent")
        parent = Task.get_or_none(Task.id == new)
        if parent is None or not can_see(viewer, parent):
            return _("made it part of another task")
        return _("made it part of #%(number)s", number=parent.number)
    if field == "department_id":
        department = Department.get_or_none(Department.id == new)
        return _("moved it to %(department)s", department=department.name if department else "?")
    if field == "watcher_ids":
        return _("changed who is watching")
    if field in ("resolved_at", "closed_at"):
        return None  # said by the status change of the same entry
    if field == "type":
        return _("changed the type to %(new)s", new=type_label(new))
    if field == "impact":
        return _("changed the impact to %(new)s", new=new) if new else _("removed the impact")
    if field == "fields":
        return _("changed the custom fields")
    return _("changed %(field)s", field=field.replace("_", " "))


def timeline(task: Task, viewer: User) -> list[dict[str, Any]]:
    """The task's audit trail as readable entries, oldest first (naming only tasks ``viewer`` may see)."""
    events = list(TaskEvent.select().where(TaskEvent.task_id == task.id).order_by(TaskEvent.at, TaskEvent.id))
    ids = {e.actor_id for e in events}
    for event in events:
        if "assignee_id" in event.changes:
            ids.update(event.changes["assignee_id"])
    names = _user_names(ids)
    registry = get_registry()
    entries = []
    for event in events:
        if not may_see_event(viewer, event):
            continue
        actor = names.get(event.actor_id, _("A former user")) if event.actor_id else _("Workdesk")
        if event.kind == "created":
            phrases = [_("filed the task")]
            assignee = event.changes.get("assignee_id", [None, None])[1]
            if assignee:
                phrases.append(_describe_change("assignee_id", None, assignee, names, event.actor_id, viewer))
        elif event.kind == "commented":
            phrases = [_("added an internal note") if "internal" in event.changes else _("commented")]
        elif event.kind in ("attached", "detached", "comment_edited"):
            phrases = [content_event_phrase(event)]
        elif event.kind == "confirmed":
            phrases = [_("confirmed the resolution and closed the task")]
        elif event.kind == "reopened":
            reason = (event.changes.get("reason") or [None, ""])[1]
            phrases = [_("reopened the task: “%(reason)s”", reason=reason)]
        elif event.kind == "watched":
            phrases = [_("started watching")]
        elif event.kind == "unwatched":
            phrases = [_("stopped watching")]
        elif "." in event.kind and isinstance(phrase := registry.ask(event.kind.partition(".")[0],
                                                                      "describe_task_event", event=event), str):
            phrases = [phrase]  # an entry a plugin recorded, in the plugin's words
        else:
            phrases = [p for f, (old, new) in event.changes.items()
                       if (p := _describe_change(f, old, new, names, event.actor_id, viewer))]
        if phrases:
            entries.append({"at": event.at, "actor": actor, "text": "; ".join(phrases), "kind": event.kind})
    return entries


def render_task(task_id: int, status_code: int = 200, **forms: FlaskForm):
    """The task page; ``forms`` replaces the empty form of the same name with one that carries errors."""
    user = current_user()
    task = get_visible_task(user, task_id)
    content = content_context(task, user)
    for name in ("attachment_form", "comment_edit_form", "delete_form"):
        if name in forms:
            content[name] = forms.pop(name)
    parent = task.parent if task.parent_id and can_see(user, task.parent) else None
    watchers = sorted_by_name(User.select(User.id, User.name).where(User.id.in_(task.watcher_ids)))
    assignable = sorted_by_name(eligible_assignees(task.department_id))
    if task.assignee_id and task.assignee_id not in {u.id for u in assignable}:  # assigned before the rule held
        assignable.append(task.assignee)
    defaults = {
        "transition_form": TransitionForm(formdata=None),
        "assign_form": AssignForm(formdata=None, assignee_id=str(task.assignee_id or "")),
        "take_form": TakeForm(formdata=None),
        "watch_form": WatchForm(formdata=None),
        "comment_form": CommentForm(formdata=None),
        "confirm_form": ConfirmForm(formdata=None),
        "reopen_form": ReopenForm(formdata=None),
        "edit_form": EditTaskForm(formdata=None, title=task.title, description=task.description,
                                  priority=task.priority, due_at=utc_to_local(task.due_at, user),
                                  parent=str(parent.number) if parent else ""),
    }
    defaults.update(forms)
    for form in defaults.values():
        if hasattr(form, "version"):
            form.version.data = str(task.version)  # a retry after a conflict acts on what is shown now
    defaults["assign_form"].assignee_id.choices = [("", _("Nobody"))] + [(str(u.id), person_label(u))
                                                                          for u in assignable]
    can = {perm: user.has_permission(f"task.{perm}") for perm in ("transition", "assign", "edit", "comment")}
    usual = USUAL_NEXT.get(task.status)
    transitions = [(s, transition_label(task.status, s), s == usual)
                   for s in sorted(allowed_transitions(task.status), key=lambda s: s != usual)] \
        if can["transition"] else []
    subtasks = list(visible_tasks(user).where(Task.parent == task).order_by(Task.number))
    return render_template(
        "core/task.html", task=task, parent=parent, subtasks=subtasks, watchers=watchers,
        watching=user.id in {w.id for w in watchers}, transitions=transitions, can=can,
        answer_resolution=task.status in ("resolved", "closed") and task.reporter_id == user.id
        and can_answer_resolution(user, task),
        timeline=timeline(task, user), panels=task_panels(task, user), plugin_data=plugin_data(task, user),
        **content, **defaults), status_code


@web.route("/tasks/<int:task_id>")
@login_required
def task_page(task_id: int):
    user = current_user()
    get_visible_task(user, task_id)  # 404 first: nothing is marked for a task one may not see
    mark_task_read(user, task_id)  # opening the task is reading what it was about
    return render_task(task_id)


def _version(form: FlaskForm) -> int | None:
    return parse_id(form.version.data)  # versions count from 1, within the same bounds as ids


def _act(task_id: int, form_name: str, form: FlaskForm, action, aliases: dict[str, str] | None = None,
         done: str | None = None, anchor: str = ""):
    """Run one task action from a posted form: errors come back on the page, success redirects (no resubmit).

    The flash message is what ``action`` returns when that is text (see :func:`_change`), else ``done``.
    """
    if not form.validate_on_submit():
        return render_task(task_id, 400, **{form_name: form})
    try:
        result = action()
    except NotFound:
        raise
    except WorkdeskError as exc:
        show_service_error(form, exc, aliases)
        return render_task(task_id, exc.status, **{form_name: form})
    message = result if isinstance(result, str) else done
    if message:
        flash(message)
    return redirect(url_for("web.task_page", task_id=task_id) + anchor)


def _change(user: User, task_id: int, change: Callable[[], Task], done: Callable[[Task], str],
            unchanged: Callable[[Task], str] | None = None) -> Callable[[], str]:
    """An action for :func:`_act` that says what changed, or that nothing did (the service saves nothing
    then and keeps the version: asking for what is already so is not a change)."""
    def action() -> str:
        before = get_visible_task(user, task_id).version
        task = change()
        if task.version != before:
            return done(task)
        return unchanged(task) if unchanged is not None else _("Nothing changed.")
    return action


@web.route("/tasks/<int:task_id>/status", methods=["POST"])
@login_required
def task_transition(task_id: int):
    user = current_user()
    form = TransitionForm()
    return _act(task_id, "transition_form", form, _change(
        user, task_id, lambda: transition(user, task_id, form.status.data, _version(form)),
        done=lambda task: _("Status changed to %(status)s.", status=status_label(task.status)),
        unchanged=lambda task: _("Nothing changed: the task is already %(status)s.", status=status_label(task.status))))


@web.route("/tasks/<int:task_id>/assign", methods=["POST"])
@login_required
def task_assign(task_id: int):
    user = current_user()
    form = AssignForm()

    def done(task: Task) -> str:
        if task.assignee_id is None:
            return _("Nobody is assigned to the task now.")
        return _("%(name)s is now assigned to the task.", name=task.assignee.name)

    def unchanged(task: Task) -> str:
        if task.assignee_id is None:
            return _("Nothing changed: nobody was assigned to the task.")
        return _("Nothing changed: %(name)s was already assigned to the task.", name=task.assignee.name)
    return _act(task_id, "assign_form", form, _change(
        user, task_id, lambda: assign(user, task_id, _user_id(form.assignee_id.data), _version(form)), done, unchanged))


@web.route("/tasks/<int:task_id>/take", methods=["POST"])
@login_required
def task_take(task_id: int):
    user = current_user()
    form = TakeForm()
    if not form.validate_on_submit():
        return render_task(task_id, 400, take_form=form)
    try:
        task = assign(user, task_id, user.id, _version(form))
    except NotFound:
        raise
    except WorkdeskError as exc:
        show_service_error(form, exc)
        return render_task(task_id, exc.status, take_form=form)
    flash(_("You took #%(number)s.", number=task.number))
    return redirect(safe_redirect_target(request.args.get("next"), url_for("web.task_page", task_id=task_id)))


@web.route("/tasks/<int:task_id>/watch", methods=["POST"])
@login_required
def task_watch(task_id: int):
    user = current_user()
    form = WatchForm()
    watching = form.watching.data == "1"
    return _act(task_id, "watch_form", form, lambda: set_watching(user, task_id, watching),
                done=_("You are watching this task.") if watching else _("You stopped watching this task."))


@web.route("/tasks/<int:task_id>/comments", methods=["POST"])
@login_required
@allow_large_upload
def task_comment(task_id: int):
    user = current_user()
    form = CommentForm()
    return _act(task_id, "comment_form", form, lambda: add_comment(
        user, task_id, form.body.data, internal=bool(form.internal.data), uploads=uploads_from_request()),
        aliases=FIELD_ALIASES, anchor="#comments")


@web.route("/tasks/<int:task_id>/edit", methods=["POST"])
@login_required
def task_edit(task_id: int):
    user = current_user()
    form = EditTaskForm()

    def action():
        changes = {"title": form.title.data, "description": form.description.data or "",
                   "priority": form.priority.data}
        task = get_visible_task(user, task_id)
        changes["due_at"] = resolve_due(form.due_preset.data, local_to_utc(form.due_at.data, user), task.department,
                                        user.zone)
        # A parent this user may not see was shown as an empty field: empty then means "leave it".
        hidden_parent = task.parent_id is not None and not can_see(user, task.parent)
        if (form.parent.data or "").strip() or not hidden_parent:
            changes["parent_id"] = _parent_id(user, form.parent.data)
        return update_task(user, task_id, changes, _version(form))
    return _act(task_id, "edit_form", form, _change(user, task_id, action, done=lambda task: _("The task is saved.")),
                aliases=FIELD_ALIASES)


# -- the reporter's answer to a resolution ------------------------------------------------------------

@web.route("/tasks/<int:task_id>/confirm", methods=["POST"])
@login_required
def task_confirm(task_id: int):
    user = current_user()
    form = ConfirmForm()
    return _act(task_id, "confirm_form", form, lambda: confirm_resolution(user, task_id, _version(form)),
                done=_("Thank you: the task is closed."))


@web.route("/tasks/<int:task_id>/reopen", methods=["POST"])
@login_required
def task_reopen(task_id: int):
    user = current_user()
    form = ReopenForm()
    return _act(task_id, "reopen_form", form, lambda: reopen_task(user, task_id, form.reason.data, _version(form)),
                done=_("The task is open again; the people working on it are told why."))
