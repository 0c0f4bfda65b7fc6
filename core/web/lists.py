"""Lists of tasks: my work (the start page), the department queue and search, each paged by a cursor.

Their filters and sorts are the task-list catalogue's (``workdesk.task_filters``), the same the API
takes: a list's URL reads like ``GET /api/v1/tasks``'s query (``?due=overdue&sort=-priority``).
Parameters a list cannot use (a disabled plugin's, a bad value) are left out. Each list shows its
tasks as cards or, with ``layout=table``, as a compact table; the choice is remembered.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Collection

from flask import render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import Case

from .. import task_filters
from ..access import require, visible_tasks, works_tasks
from ..auth import current_user, login_required
from ..models import OPEN_STATUSES, PRIORITIES, Task, TaskWatcher, User, overdue_condition
from ..task_filters import ACTIVE, FilterContext, ListQuery
from . import web
from .forms import QuickCreateForm, TakeForm
from .helpers import my_departments, status_counts, with_people
from .paging import CURSOR_PARAMETERS, InvalidCursor, Page, PagedList, SortKey, keyset_list_page, \
    requested_position

# Short labels: the three tabs share one line of a 360 px screen.
MY_WORK_VIEWS = {"assigned": _l("Assigned"), "reported": _l("Reported"), "watching": _l("Watching")}
# Tasks per page of every list (tests make it small).
PAGE_SIZE = 50
LAYOUTS = ("cards", "table")
# Filters shown at once; the others wait behind "More filters" (a phone has room for few).
PROMINENT_FILTERS = ("q", "status", "priority", "due")


# Each list's own order, as the keys its cursor records (see ``paging``). ``as_of`` is the moment the
# list's first page was shown. ``?sort=`` replaces it with one of the catalogue's sorts.

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


# -- the catalogue's filters on a page ----------------------------------------------------------

@dataclass(frozen=True)
class FilterField:
    """One control of a list's filter form: a select of ``options``, or a text box when None."""
    name: str
    label: str
    value: str
    options: list[tuple[str, str]] | None
    prominent: bool


@dataclass
class TaskList:
    """A list as a page shows it: the filters in force, one page of tasks, the form and the layout."""
    listing: ListQuery
    page: Page
    form: list[FilterField]
    sort_options: list[tuple[str, str]]
    layout: str
    keep: dict[str, str]  # parameters of the page (not filters) that the filter form carries along
    notices: list[str]

    @property
    def tasks(self) -> list[Task]:
        return self.page.rows

    @property
    def more_filters_open(self) -> bool:
        return any(f.value and not f.prominent for f in self.form)


def list_layout() -> str:
    """Cards or table: the request's ``layout`` if it names one (and then remembered), else the last choice."""
    asked = request.args.get("layout")
    if asked in LAYOUTS:
        session["list_layout"] = asked
        return asked
    remembered = session.get("list_layout")
    return remembered if remembered in LAYOUTS else "cards"


def read_listing(exclude: Collection[str] = (), ignore: Collection[str] = (),
                 args: dict[str, str] | None = None) -> tuple[ListQuery, dict[str, list[str]]]:
    """The list's filters and sort from the request (or ``args``), without what this list does not take."""
    names = [name for name in task_filters.catalogue().filters if name not in exclude]
    args = request.args.to_dict(flat=True) if args is None else args
    return task_filters.parse(args, ignore={*CURSOR_PARAMETERS, "layout", *ignore}, names=names)


def filter_form(listing: ListQuery, viewer: User, exclude: Collection[str] = (),
                restrict: dict[str, Collection[str]] | None = None) -> list[FilterField]:
    """The form controls of the catalogue's filters, current values filled in, prominent ones first."""
    restrict = restrict or {}
    out = []
    for task_filter in listing.catalogue.shown(exclude):
        options = task_filter.options(viewer) if (task_filter.choices or task_filter.field is None) else None
        if options is not None and task_filter.name in restrict:
            options = [(v, label) for v, label in options if v in restrict[task_filter.name]]
        out.append(FilterField(task_filter.name, str(task_filter.label), listing.params.get(task_filter.name, ""),
                               options, task_filter.name in PROMINENT_FILTERS))
    return sorted(out, key=lambda f: (not f.prominent, PROMINENT_FILTERS.index(f.name) if f.prominent else 0))


def sorted_list(paged: PagedList, listing: ListQuery, query) -> tuple[PagedList, Any]:
    """The list in the chosen sort (its cursor names the sort, so a cursor of another is refused), or
    in its own order."""
    sorted_by = listing.sorted_by(query)
    if sorted_by is None:
        return paged, query
    query, keys = sorted_by
    return PagedList(f"{paged.name}:{listing.sort}", paged.endpoint, lambda as_of: keys,
                     paged.endpoint_values), query


def task_list(paged: PagedList, listing: ListQuery, query, viewer: User, *, exclude: Collection[str] = (),
              restrict: dict[str, Collection[str]] | None = None, keep: dict[str, str] | None = None,
              notices: list[str] | None = None) -> TaskList:
    """One page of ``query`` (visible tasks, already narrowed by the list) filtered by ``listing``."""
    query = listing.apply(query, FilterContext.of(viewer))
    paged, query = sorted_list(paged, listing, query)
    page = keyset_list_page(with_people(query), paged, PAGE_SIZE, requested_position(paged))
    return TaskList(listing=listing, page=page, form=filter_form(listing, viewer, exclude, restrict),
                    sort_options=listing.catalogue.sort_options(), layout=list_layout(), keep=keep or {},
                    notices=notices or [])


def left_out_notices(listing: ListQuery) -> list[str]:
    """What to tell about filters left out because they are not available (now); other bad parameters
    of a URL pass silently."""
    notices = []
    for name, plugin in listing.left_out.items():
        if plugin:
            notices.append(_("The filter “%(name)s” is left out: its plugin %(plugin)s is disabled.",
                             name=name, plugin=plugin))
        else:
            notices.append(_("The filter “%(name)s” is left out: it is no longer available.", name=name))
    return notices


@web.app_template_global()
def list_url(**changes: Any) -> str:
    """This list's URL with some parameters changed (None removes one), starting again at its first page."""
    args = {k: v for k, v in request.args.items() if k not in CURSOR_PARAMETERS}
    args.update(changes)
    return url_for(request.endpoint, **(request.view_args or {}),
                   **{k: v for k, v in args.items() if v is not None})


# -- my work -----------------------------------------------------------------------------------

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
    if works_tasks(user):
        return ["assigned", "reported", "watching"]
    return ["reported", "watching"] + (["assigned"] if assigned_open else [])


def default_view(user: User, views: list[str], open_counts: dict[str, int]) -> str:
    """The tab "my work" opens on: the first one with open tasks, else the first holding any task at all,
    so a requester whose reported tasks are all done, or who only watches, never lands on an empty tab."""
    for view in views:
        if open_counts.get(view):
            return view
    for view in views:
        if my_work_query(user, view).exists():
            return view
    return views[0]


def render_my_work():
    user = current_user()
    open_counts = {name: my_work_query(user, name).where(Task.status.in_(OPEN_STATUSES)).count()
                   for name in MY_WORK_VIEWS}
    views = my_work_views(user, open_counts["assigned"])
    view = request.args.get("view") or default_view(user, views, open_counts)
    view = view if view in MY_WORK_VIEWS else views[0]
    if view not in views:  # asked for by its address: shown, with its tab
        views.append(view)
    listing, _errors = read_listing(ignore={"view"})
    status = listing.params.get("status", "")
    base = my_work_query(user, view)
    # Without a status chip the list shows what is still to do.
    shown = listing if status else listing.with_value("status", ACTIVE)
    tasks = task_list(MY_WORK, shown, base, user, exclude={"status"}, keep={"view": view, "status": status},
                      notices=left_out_notices(listing))
    # The chips count the tab's tasks per status under the other filters chosen.
    others = listing.without("status")
    counted = others.apply(base, FilterContext.of(user))
    return render_template("core/home.html", page=tasks.page, tasks=tasks.tasks, task_list=tasks,
                           views={v: MY_WORK_VIEWS[v] for v in views},
                           view=view, status=status, counts=status_counts(counted), open_counts=open_counts,
                           chip_args=others.params, quick_form=QuickCreateForm(formdata=None),
                           awaiting=my_work_query(user, "reported").where(Task.status == "resolved").count())


@web.route("/")
@login_required
def home():
    return render_my_work()


# -- the queue ---------------------------------------------------------------------------------

@web.route("/queue")
@login_required
def queue():
    user = current_user()
    require(user, "task.view_department", _("Only members of a department's staff have a queue."))
    departments = my_departments(user)
    listing, _errors = read_listing(exclude={"assignee", "assignee_id"})
    if listing.values.get("status") not in (None, ACTIVE, *OPEN_STATUSES):
        listing = listing.without("status")  # the queue holds work still to do
    query = visible_tasks(user).where(Task.department.in_([d.id for d in departments]) & Task.assignee.is_null())
    if "status" not in listing.values:
        query = query.where(Task.status.in_(OPEN_STATUSES))
    department_choices = {str(d.id) for d in departments}
    tasks = task_list(QUEUE, listing, query, user, exclude={"assignee"}, notices=left_out_notices(listing),
                      restrict={"status": {ACTIVE, *OPEN_STATUSES}, "department": department_choices})
    return render_template("core/queue.html", page=tasks.page, tasks=tasks.tasks, task_list=tasks,
                           take_form=TakeForm(formdata=None),
                           can_take=user.has_permission("task.assign"), has_departments=bool(departments))


# -- search: every task one may see, by any filter; saved views ----------------------------------------

def render_search(listing: ListQuery, paged: PagedList = SEARCH, *, keep: dict[str, str] | None = None,
                  status_code: int = 200, **context):
    """The search page: the filter form, and the matching tasks once any filter or sort is chosen (a saved
    view always shows its tasks)."""
    user = current_user()
    searched = bool(listing.values or listing.sort or context.get("saved_view"))
    notices = left_out_notices(listing)
    if searched:
        query = visible_tasks(user)
        total = listing.apply(query, FilterContext.of(user)).count()  # every match, not just this page's
        tasks = task_list(paged, listing, query, user, keep=keep, notices=notices)
    else:
        total = 0
        tasks = TaskList(listing=listing, page=Page(rows=[]), form=filter_form(listing, user),
                         sort_options=listing.catalogue.sort_options(), layout=list_layout(), keep=keep or {},
                         notices=notices)
    return render_template("core/search.html", task_list=tasks, searched=searched, total=total,
                           **context), status_code


@web.route("/search")
@login_required
def search():
    from .saved_views import editing_context
    listing, _errors = read_listing(ignore={"saved"})
    context = editing_context(listing)
    return render_search(listing, keep={"saved": request.args.get("saved", "")} if context["editing"] else None,
                         **context)
