"""The board: a department's tasks, or a saved view's, in one column per status.

Each card carries a button per status the workflow lets it move to; pressing one goes through
``workdesk.services.tasks.transition`` like the task page's buttons (workflow, plugins' vetoes, audit
trail, events), and a refusal comes back with its reason. Dragging a card onto a column
(``static/board.js``, a static file under the CSP) presses the same button: progressive enhancement.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from peewee import Case

from ..access import require, visible_tasks
from ..auth import current_user, login_required
from ..errors import NotFound, WorkdeskError
from ..models import DONE_STATUSES, PRIORITIES, STATUSES, Department, Task, User
from ..redirects import safe_redirect_target
from ..schemas import parse_id
from ..services import saved_views
from ..services.tasks import allowed_transitions, transition
from ..task_filters import FilterContext
from . import web
from .forms import BoardMoveForm
from .helpers import USUAL_NEXT, my_departments, status_counts, status_label, transition_label, with_people
from .lists import left_out_notices

# Cards shown per column; the column's count always covers all of its tasks, and the rest is a link away.
COLUMN_SIZE = 40
# Finished work only needs its latest cards on a board (a department's closed column grows for ever).
DONE_COLUMN_SIZE = 10


@dataclass
class Column:
    status: str
    label: str
    count: int
    tasks: list[Task]
    more_url: str | None = None  # the list of all of the column's tasks, when the board shows only some


def board_columns(query, user: User, list_params: dict | None = None) -> list[Column]:
    """One column per status of ``query``'s tasks. Open work: the most urgent first, then the soonest due, then
    the oldest. Finished work (resolved, closed): the most recently changed first, fewer cards. Counted in one
    grouped query; each column's cards in one query. ``list_params``: the list filters that select ``query``'s
    tasks, for the link from a column to all of its tasks."""
    counts = status_counts(query)
    urgency = Case(Task.priority, [(p, i) for i, p in enumerate(reversed(PRIORITIES))], len(PRIORITIES))
    columns = []
    for status in STATUSES:
        done = status in DONE_STATUSES
        order = (Task.updated_at.desc(), Task.id.desc()) if done else \
            (urgency, Task.due_at.is_null(), Task.due_at, Task.created_at, Task.id)
        cards = list(with_people(query.where(Task.status == status)).order_by(*order)
                     .limit(DONE_COLUMN_SIZE if done else COLUMN_SIZE)) if counts[status] else []
        more_url = None
        if counts[status] > len(cards) and list_params is not None:
            more_url = url_for("web.search", **{**list_params, "status": status,
                                                "sort": "-updated" if done else "-priority"})
        columns.append(Column(status, status_label(status), counts[status], cards, more_url))
    return columns


def card_moves(task: Task, user: User) -> list[tuple[str, str, bool]]:
    """The buttons of a card: ``(status, label, usual)`` for each status it may move to."""
    if not user.has_permission("task.transition"):
        return []
    usual = USUAL_NEXT.get(task.status)
    return [(s, transition_label(task.status, s), s == usual)
            for s in sorted(allowed_transitions(task.status), key=lambda s: s != usual)]


def _render(query, *, title: str, list_params: dict, department: Department | None = None, view=None,
            notices=None):
    """The board page; ``query`` None is a board with nothing to show (a user of no department)."""
    user = current_user()
    columns = board_columns(query, user, list_params) if query is not None else []
    return render_template("core/board.html", columns=columns,
                           moves=card_moves,
                           move_form=BoardMoveForm(formdata=None), board_title=title, department=department,
                           departments=my_departments(user) if user.has_permission("task.view_department") else [],
                           view=view, notices=notices or [], here=request.full_path.rstrip("?"))


@web.route("/board")
@login_required
def board():
    """A department's board (``?department=<id>``, else the user's first department)."""
    user = current_user()
    require(user, "task.view_department", _("Only members of a department's staff have a board."))
    departments = my_departments(user)
    wanted = parse_id(request.args.get("department"))
    department = next((d for d in departments if d.id == wanted), None) if wanted else None
    if department is None and wanted is not None and user.has_permission("task.view_all"):
        department = Department.get_or_none(Department.id == wanted)
    if department is None and wanted is not None:
        raise NotFound(_("No such department."))
    department = department or (departments[0] if departments else None)
    if department is None:
        return _render(None, title=_("Board"), list_params={})
    query = visible_tasks(user).where(Task.department == department)
    return _render(query, title=_("Board of %(department)s", department=department.name),
                   list_params={"department": department.id}, department=department)


@web.route("/views/<int:view_id>/board")
@login_required
def saved_view_board(view_id: int):
    """A saved view's tasks on the board (its sort aside: a column has its own order)."""
    user = current_user()
    view = saved_views.get_visible_view(user, view_id)
    listing = saved_views.listing_of(view)
    query = listing.apply(visible_tasks(user), FilterContext.of(user))
    params = {name: value for name, value in listing.params.items() if name != "sort"}
    return _render(query, title=view.name, list_params=params, view=view, notices=left_out_notices(listing))


@web.route("/board/tasks/<int:task_id>/move", methods=["POST"])
@login_required
def board_move(task_id: int):
    """Move one card: the task service decides (workflow, vetoes); a refusal is shown with its reason."""
    user = current_user()
    back = safe_redirect_target(request.args.get("next"), url_for("web.board"))
    form = BoardMoveForm()
    if not form.validate_on_submit():
        flash(_("The form expired or did not come from this site. Reload the page and try again."), "error")
        return redirect(back)
    try:
        task = transition(user, task_id, form.status.data, parse_id(form.version.data))
    except NotFound:
        raise
    except WorkdeskError as exc:
        number = Task.select(Task.number).where(Task.id == task_id).scalar()
        flash(_("#%(number)s was not moved: %(reason)s", number=number, reason=exc.message), "error")
        return redirect(f"{back}#card-{task_id}")
    flash(_("#%(number)s is now %(status)s.", number=task.number, status=status_label(task.status)))
    return redirect(f"{back}#card-{task_id}")
