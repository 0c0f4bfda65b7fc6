"""Lists of tasks: my work (the start page), the department queue and search, each paged by a cursor."""
from __future__ import annotations

import datetime as dt

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import Case

from ..access import require, visible_tasks
from ..auth import current_user, login_required
from ..models import OPEN_STATUSES, PRIORITIES, Task, TaskWatcher, User, overdue_condition
from ..search import matching_tasks
from . import web
from .forms import QueueFilterForm, QuickCreateForm, SearchForm, TakeForm
from .helpers import STATUS_LABELS, my_departments, search_tasks, status_counts, with_people
from .paging import InvalidCursor, PagedList, SortKey, keyset_list_page, requested_position

# Short labels: the three tabs share one line of a 360 px screen.
MY_WORK_VIEWS = {"assigned": _l("Assigned"), "reported": _l("Reported"), "watching": _l("Watching")}
# Tasks per page of every list (tests make it small).
PAGE_SIZE = 50


# Each list's order, as the keys its cursor records (see ``paging``). ``as_of`` is the moment the
# list's first page was shown.

def my_work_order(as_of: dt.datetime) -> tuple[SortKey, ...]:
    """Overdue first, then by due date (undated last), newest first among equals.

    No "is it overdue" term is needed: a list shows either active tasks only, where the overdue ones
    are exactly those due before now and so come first by due date anyway, or one finished status,
    where none is overdue. The order is thus independent of the time, and its cursor of ``as_of``.
    """
    return (SortKey(Task.due_at, nullable=True, kind=dt.datetime), SortKey(Task.id, descending=True))


def queue_order(as_of: dt.datetime) -> tuple[SortKey, ...]:
    """A queue is worked oldest first, but overdue and urgent work jumps ahead."""
    overdue = Case(None, [(overdue_condition(as_of), 0)], 1)
    urgency = Case(Task.priority, [(p, i) for i, p in enumerate(reversed(PRIORITIES))], len(PRIORITIES))
    return (SortKey(overdue), SortKey(urgency), SortKey(Task.created_at, kind=dt.datetime), SortKey(Task.id))


def search_order(as_of: dt.datetime) -> tuple[SortKey, ...]:
    """Most recently changed first."""
    return (SortKey(Task.updated_at, descending=True, kind=dt.datetime), SortKey(Task.id, descending=True))


MY_WORK = PagedList("my_work", "web.home", my_work_order)
QUEUE = PagedList("queue", "web.queue", queue_order)
SEARCH = PagedList("search", "web.search", search_order)


@web.errorhandler(InvalidCursor)
def _invalid_cursor(exc: InvalidCursor):
    return render_template("core/error.html", status=exc.status, message=exc.message,
                           retry_url=exc.first_url, retry_label=_("Go to the first page")), exc.status


def my_work_query(user: User, view: str):
    """Tasks of one "my work" list, any status, narrowed to what the user may see."""
    query = visible_tasks(user)
    if view == "reported":
        return query.where(Task.reporter == user)
    if view == "watching":
        return query.where(Task.id.in_(TaskWatcher.select(TaskWatcher.task).where(TaskWatcher.user == user)))
    return query.where(Task.assignee == user)


def my_work_views(user: User, assigned_open: int) -> list[str]:
    """The tabs of "my work", the first one shown by default. Who works tasks starts on what is
    assigned to them; everyone else (a requester) on what they reported, with no "Assigned" tab
    unless something is assigned to them after all."""
    if user.has_permission("task.transition"):
        return ["assigned", "reported", "watching"]
    return ["reported", "watching"] + (["assigned"] if assigned_open else [])


@web.route("/")
@login_required
def home():
    user = current_user()
    status = request.args.get("status", "")
    status = status if status in STATUS_LABELS else ""
    open_counts = {name: my_work_query(user, name).where(Task.status.in_(OPEN_STATUSES)).count()
                   for name in MY_WORK_VIEWS}
    views = my_work_views(user, open_counts["assigned"])
    view = request.args.get("view", views[0])
    view = view if view in MY_WORK_VIEWS else views[0]
    if view not in views:  # asked for by its address: shown, with its tab
        views.append(view)
    position = requested_position(MY_WORK)
    base = my_work_query(user, view)
    shown = base.where(Task.status == status) if status else base.where(Task.status.in_(OPEN_STATUSES))
    page = keyset_list_page(with_people(shown), MY_WORK, PAGE_SIZE, position)
    return render_template("core/home.html", page=page, tasks=page.rows, views={v: MY_WORK_VIEWS[v] for v in views},
                           view=view, status=status, counts=status_counts(base), open_counts=open_counts,
                           quick_form=QuickCreateForm(formdata=None))


@web.route("/queue")
@login_required
def queue():
    user = current_user()
    require(user, "task.view_department", _("Only members of a department's staff have a queue."))
    position = requested_position(QUEUE)
    form = QueueFilterForm(formdata=request.args)
    departments = my_departments(user)
    form.department.choices = [("", _("All"))] + [(str(d.id), d.name) for d in departments]
    department_ids = [d.id for d in departments]
    if form.department.data in {str(i) for i in department_ids}:
        department_ids = [int(form.department.data)]
    query = visible_tasks(user).where(Task.department.in_(department_ids) & Task.assignee.is_null())
    if form.status.data in OPEN_STATUSES:
        query = query.where(Task.status == form.status.data)
    else:
        query = query.where(Task.status.in_(OPEN_STATUSES))
    if form.priority.data in PRIORITIES:
        query = query.where(Task.priority == form.priority.data)
    query = matching_tasks(query, form.q.data or "")
    page = keyset_list_page(with_people(query), QUEUE, PAGE_SIZE, position)
    return render_template("core/queue.html", form=form, page=page, tasks=page.rows,
                           take_form=TakeForm(formdata=None),
                           can_take=user.has_permission("task.assign"), has_departments=bool(departments))


@web.route("/search")
@login_required
def search():
    user = current_user()
    position = requested_position(SEARCH)
    form = SearchForm(formdata=request.args)
    page, total = None, 0
    if "q" in request.args and form.validate():
        query = search_tasks(user, form.q.data)
        if form.status.data in STATUS_LABELS:
            query = query.where(Task.status == form.status.data)
        total = query.count()  # every match the user may see, not just this page's
        page = keyset_list_page(with_people(query), SEARCH, PAGE_SIZE, position)
    return render_template("core/search.html", form=form, page=page, total=total)
