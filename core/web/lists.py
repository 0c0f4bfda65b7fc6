"""Lists of tasks: my work (the start page), the department queue and search."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import Case

from ..access import require, visible_tasks
from ..auth import current_user, login_required
from ..db import utcnow
from ..models import PRIORITIES, Task, TaskWatcher, User
from . import web
from .forms import QueueFilterForm, QuickCreateForm, SearchForm, TakeForm
from .helpers import (ACTIVE_STATUSES, LIST_LIMIT, STATUS_LABELS, my_departments, overdue_first, search_tasks,
                      status_counts, with_people)

# Short labels: the three tabs share one line of a 360 px screen.
MY_WORK_VIEWS = {"assigned": _l("Assigned"), "reported": _l("Reported"), "watching": _l("Watching")}


def my_work_query(user: User, view: str):
    """Tasks of one "my work" list, any status, narrowed to what the user may see."""
    query = visible_tasks(user)
    if view == "reported":
        return query.where(Task.reporter == user)
    if view == "watching":
        return query.where(Task.id.in_(TaskWatcher.select(TaskWatcher.task).where(TaskWatcher.user == user)))
    return query.where(Task.assignee == user)


def render_my_work(quick_form: QuickCreateForm | None = None, status_code: int = 200):
    user = current_user()
    view = request.args.get("view", "assigned")
    view = view if view in MY_WORK_VIEWS else "assigned"
    status = request.args.get("status", "")
    status = status if status in STATUS_LABELS else ""
    base = my_work_query(user, view)
    shown = base.where(Task.status == status) if status else base.where(Task.status.in_(ACTIVE_STATUSES))
    tasks = list(overdue_first(with_people(shown), utcnow()).limit(LIST_LIMIT))
    open_counts = {name: my_work_query(user, name).where(Task.status.in_(ACTIVE_STATUSES)).count()
                   for name in MY_WORK_VIEWS}
    return render_template("core/home.html", tasks=tasks, views=MY_WORK_VIEWS, view=view, status=status,
                           counts=status_counts(base), open_counts=open_counts,
                           quick_form=quick_form or QuickCreateForm(formdata=None)), status_code


@web.route("/")
@login_required
def home():
    return render_my_work()


@web.route("/queue")
@login_required
def queue():
    user = current_user()
    require(user, "task.view_department", _("Only members of a department's staff have a queue."))
    form = QueueFilterForm(formdata=request.args)
    departments = my_departments(user)
    form.department.choices = [("", _("All"))] + [(str(d.id), d.name) for d in departments]
    department_ids = [d.id for d in departments]
    if form.department.data in {str(i) for i in department_ids}:
        department_ids = [int(form.department.data)]
    query = visible_tasks(user).where(Task.department.in_(department_ids) & Task.assignee.is_null())
    if form.status.data in ACTIVE_STATUSES:
        query = query.where(Task.status == form.status.data)
    else:
        query = query.where(Task.status.in_(ACTIVE_STATUSES))
    if form.priority.data in PRIORITIES:
        query = query.where(Task.priority == form.priority.data)
    text = (form.q.data or "").strip()[:200]
    if text:
        query = query.where(Task.title.contains(text) | Task.description.contains(text))
    # A queue is worked oldest first, but overdue and urgent work jumps ahead.
    urgency = Case(Task.priority, [(p, i) for i, p in enumerate(reversed(PRIORITIES))], len(PRIORITIES))
    overdue = Case(None, [((Task.due_at < utcnow()), 0)], 1)
    tasks = list(with_people(query).order_by(overdue, urgency, Task.created_at, Task.id).limit(LIST_LIMIT))
    return render_template("core/queue.html", form=form, tasks=tasks, take_form=TakeForm(formdata=None),
                           can_take=user.has_permission("task.assign"), has_departments=bool(departments))


@web.route("/search")
@login_required
def search():
    user = current_user()
    form = SearchForm(formdata=request.args)
    tasks = None
    if "q" in request.args and form.validate():
        query = search_tasks(user, form.q.data)
        if form.status.data in STATUS_LABELS:
            query = query.where(Task.status == form.status.data)
        tasks = list(with_people(query).order_by(Task.updated_at.desc(), Task.id.desc()).limit(LIST_LIMIT))
    return render_template("core/search.html", form=form, tasks=tasks, limit=LIST_LIMIT)
