"""Saved views in the pages: open one, save the list on screen as one, change or delete it, and the
navigation entry with each view's count."""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from ..auth import current_user, login_required
from ..errors import NotFound, WorkdeskError
from ..models import SavedView, User
from ..services import saved_views
from ..task_filters import ListQuery
from ..schemas import parse_id
from . import web
from .forms import DeleteForm, SavedViewForm
from .helpers import show_service_error
from .lists import PagedList, read_listing, render_search, search_order


def _share_choices(user: User) -> list[tuple[str, str]]:
    return [("", _("Only me"))] + [(str(d.id), _("Everyone in %(department)s", department=d.name))
                                   for d in saved_views.shareable_departments(user)]


def save_form(listing: ListQuery, user: User, form: SavedViewForm | None = None,
              view: SavedView | None = None) -> SavedViewForm:
    """The form saving ``listing`` (as a new view, or into ``view``)."""
    if form is None:
        form = SavedViewForm(formdata=None, name=view.name if view else "",
                             share=str(view.department_id or "") if view else "")
    form.params.data = urlencode(listing.params)
    form.share.choices = _share_choices(user)
    if view is not None and view.department_id and str(view.department_id) not in {c for c, _l in form.share.choices}:
        form.share.choices.append((str(view.department_id), view.department.name))  # shared by someone else
    return form


def editing_context(listing: ListQuery, form: SavedViewForm | None = None) -> dict[str, Any]:
    """What the search page needs to save its list: a new view's form, and (with ``?saved=<id>``) the view
    being changed, when the user may change it."""
    user = current_user()
    editing = None
    view_id = parse_id(request.args.get("saved"))
    if view_id is not None:
        try:
            view = saved_views.get_visible_view(user, view_id)
        except NotFound:
            view = None
        editing = view if view is not None and saved_views.can_change(user, view) else None
    return {"editing": editing, "save_form": save_form(listing, user, form),
            "update_form": save_form(listing, user, view=editing) if editing else None}


def _paged(view: SavedView) -> PagedList:
    # A view lists in its sort, or most recently changed first like search.
    return PagedList(f"view{view.id}", "web.saved_view", search_order, {"view_id": view.id})


@web.route("/views/<int:view_id>")
@login_required
def saved_view(view_id: int):
    user = current_user()
    view = saved_views.get_visible_view(user, view_id)
    listing = saved_views.listing_of(view)
    return render_search(listing, _paged(view), saved_view=view, can_change=saved_views.can_change(user, view),
                         editing=None, save_form=None, update_form=None,
                         edit_url=url_for("web.search", saved=view.id, **listing.params))


def _params(form: SavedViewForm) -> dict[str, str]:
    return dict(parse_qsl(form.params.data or "", keep_blank_values=False))


def _department_id(form: SavedViewForm) -> int | None:
    return parse_id(form.share.data)


def _failed(form: SavedViewForm, exc: WorkdeskError | None = None):
    """Back to the search page with the list as it was and the form's errors."""
    if exc is not None:
        show_service_error(form, exc, aliases={"department_id": "share"})
    args = {k: v for k, v in _params(form).items()}
    listing, _errors = read_listing(args=args)
    context = editing_context(listing, form)
    return render_search(listing, **context, status_code=exc.status if exc is not None else 400)


@web.route("/views", methods=["POST"])
@login_required
def saved_view_create():
    user = current_user()
    form = SavedViewForm()
    if not form.validate_on_submit():
        return _failed(form)
    try:
        view = saved_views.create_view(user, name=form.name.data, params=_params(form),
                                       department_id=_department_id(form))
    except NotFound:
        raise
    except WorkdeskError as exc:
        return _failed(form, exc)
    flash(_("The view “%(name)s” is saved.", name=view.name))
    return redirect(url_for("web.saved_view", view_id=view.id))


@web.route("/views/<int:view_id>", methods=["POST"])
@login_required
def saved_view_update(view_id: int):
    user = current_user()
    form = SavedViewForm()
    if not form.validate_on_submit():
        return _failed(form)
    try:
        view = saved_views.update_view(user, view_id, {"name": form.name.data, "params": _params(form),
                                                       "department_id": _department_id(form)})
    except NotFound:
        raise
    except WorkdeskError as exc:
        return _failed(form, exc)
    flash(_("The view “%(name)s” is saved.", name=view.name))
    return redirect(url_for("web.saved_view", view_id=view.id))


@web.route("/views/<int:view_id>/delete", methods=["POST"])
@login_required
def saved_view_delete(view_id: int):
    user = current_user()
    view = saved_views.get_visible_view(user, view_id)
    if not DeleteForm().validate_on_submit():
        flash(_("The form expired or did not come from this site. Reload the page and try again."), "error")
        return redirect(url_for("web.saved_view", view_id=view.id))
    saved_views.delete_view(user, view_id)
    flash(_("The view “%(name)s” is deleted.", name=view.name))
    return redirect(url_for("web.search"))


@web.app_context_processor
def _navigation():
    def saved_view_links() -> list[saved_views.NavEntry]:
        user = current_user()
        return saved_views.navigation(user) if user is not None else []

    def plugin_navigation_links() -> list[dict[str, str]]:
        from .helpers import navigation_links
        user = current_user()
        return navigation_links(user) if user is not None else []
    def plugin_head() -> Markup:
        from .helpers import head_extras
        return head_extras(current_user())
    return {"saved_view_links": saved_view_links, "plugin_navigation_links": plugin_navigation_links,
            "plugin_head": plugin_head}
