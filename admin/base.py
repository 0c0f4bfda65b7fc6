"""What every admin view shares: who may enter, the CSRF-carrying form base, safe return targets and CSV export."""
from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict
from typing import Any, Callable

import flask_admin.actions
import flask_admin.model.base
from flask import Response, abort, has_request_context, redirect, request, url_for
from flask_admin import BaseView
from flask_admin.contrib.peewee import ModelView
from flask_admin.model import BaseModelView, typefmt
from flask_admin.model.filters import BaseFloatFilter, BaseFloatListFilter, BaseIntFilter, BaseIntListFilter
from peewee import ForeignKeyField, IntegerField
from wtforms import Form

from workdesk import csv_export
from workdesk.auth import current_user
from workdesk.dates import format_instant
from workdesk.errors import WorkdeskError
from workdesk.models import User
from workdesk.redirects import safe_redirect_target
from workdesk.schemas import parse_id, text_problem
from workdesk.web.forms import WorkdeskForm, show_service_error

ADMIN_PERMISSION = "admin.access"


class AdminForm(WorkdeskForm):
    """The base of every admin form, delete and bulk-action forms included.

    Flask-Admin's own ``SecureForm`` signs tokens with WTForms' session scheme, which the app's global
    ``CSRFProtect`` does not accept; a Flask-WTF form carries the one token both check.
    """


def admin_user() -> User | None:
    """The current user when they may use the admin panel, else None."""
    user = current_user()
    if user is not None and user.is_active and user.has_permission(ADMIN_PERMISSION):
        return user
    return None


def refuse_unless_admin():
    """Anonymous visitors go to the login page; signed-in people without ``admin.access`` get 403.

    Runs before every request to an admin blueprint (core views and plugin views alike), so no
    Flask-Admin page is ever rendered for someone who may not see it.
    """
    user = current_user()
    if user is None:
        target = request.full_path if request.query_string else request.path
        return redirect(url_for("web.login", next=target))
    if admin_user() is None:
        abort(403)
    return None


def return_url(param_name: str = "url") -> str | None:
    """Flask-Admin's ``?url=`` return target, through the core's one redirect check (None: none given or refused)."""
    return safe_redirect_target(request.values.get(param_name), "") or None


# Flask-Admin checks its return URL itself but hands back the raw value, so a CR/LF in it reached the
# Location header (a 500); every model view and bulk action looks the check up in these two modules.
flask_admin.model.base.get_redirect_target = return_url
flask_admin.actions.get_redirect_target = return_url


MAX_LIST_PAGE = 100_000  # 5 million rows at the largest page size: beyond any real list
_INTEGER_FILTER_VALUE = re.compile(r"-?[0-9]{1,18}")  # within 64 bits, ASCII digits only


def _integer_filter(flt: Any) -> bool:
    """A Flask-Admin filter that hands its value to an integer column unchecked (the panel's own filters,
    such as the task catalogue's, check their values themselves)."""
    if not type(flt).__module__.startswith("flask_admin."):
        return False
    column = getattr(flt, "column", None)
    return isinstance(flt, (BaseIntFilter, BaseIntListFilter, BaseFloatFilter, BaseFloatListFilter)) \
        or isinstance(column, (IntegerField, ForeignKeyField))


def refuse_bad_list_arguments(view: BaseView) -> None:
    """Answer 404 or 400 for arguments a model view would hand the database in a form it cannot take.

    Flask-Admin reads ``?id=``, ``?page=``, ``?sort=`` and the integer filters' ``?flt…=`` with ``int()``
    and no bounds (``?page=99999999999999999999`` overflows SQLite's integers, ``?page=-1`` is a negative
    OFFSET for PostgreSQL), and sorts by a listed column that is not sortable with a KeyError. Bulk
    actions parse their ``rowid`` values themselves, with ``workdesk.parse_id``. Runs before every
    request to a model view, the plugins' included.
    """
    if not isinstance(view, BaseModelView):
        return
    # ``?search=`` and the text filters go to the database as they are: PostgreSQL cannot take a NUL.
    # (``?url=`` never does: return_url reads it.)
    if any(text_problem(name) or (name != "url" and text_problem(value))
           for name, value in request.args.items(multi=True)):
        abort(400)
    ids = request.args.getlist("id") + (request.form.getlist("id") if request.method == "POST" else [])
    primary_key = getattr(getattr(view.model, "_meta", None), "primary_key", None)
    if isinstance(primary_key, IntegerField) and any(parse_id(value) is None for value in ids):
        abort(404)
    page = request.args.get("page")
    if page is not None and not (page.isascii() and page.isdigit() and len(page) <= 6 and int(page) <= MAX_LIST_PAGE):
        abort(404)
    sort = request.args.get("sort")
    if sort is not None:
        column = view._get_column_by_idx(int(sort)) if sort.isascii() and sort.isdigit() and len(sort) <= 4 else None
        if column is None or column[0] not in (view._sortable_columns or {}):
            abort(400)
    for name, value in request.args.items(multi=True):
        if not (name.startswith("flt") and "_" in name and view._filter_args):
            continue
        _index, flt = view._filter_args.get(name[3:].split("_", 1)[1], (None, None))
        if flt is not None and _integer_filter(flt) \
                and not all(_INTEGER_FILTER_VALUE.fullmatch(part.strip()) for part in value.split(",")):
            abort(400)


def flash_service_error(exc: WorkdeskError, form: Form | None = None) -> None:
    """Show a service's refusal: field messages on the form's fields, the rest as a flash message."""
    show_service_error(exc, form, _FORM_FIELD_FOR)


# Service field names that forms call differently.
_FORM_FIELD_FOR = {"head_id": "head", "parent_id": "parent", "assignee_id": "assignee",
                   "department_id": "department"}


class AdminAccessMixin:
    """Menu entries and views only for admins (the request gate enforces it; this hides the menu)."""

    def is_accessible(self) -> bool:
        return admin_user() is not None

    def inaccessible_callback(self, name, **kwargs):
        return refuse_unless_admin() or abort(403)


class WorkdeskBaseView(AdminAccessMixin, BaseView):
    """A hand-written admin page."""


def _local_time(view, value: dt.datetime, name: str) -> str:
    return format_instant(value)  # in the admin's own time zone


def _iso_time(view, value: dt.datetime, name: str) -> str:
    return value.isoformat()


def person_name(view, context, model, name) -> str:
    """A user column shown by name (``User.__str__`` adds the email, too long for a list)."""
    person = getattr(model, name)
    return person.name if person is not None else ""


def live_options(query: Callable[[], list[tuple[str, str]]]) -> Callable[[], list[tuple[str, str]]]:
    """Filter options read from the database on each request (people and departments change)."""
    def options() -> list[tuple[str, str]]:
        return query() if has_request_context() else []
    return options


def export_csv(view: BaseModelView) -> Response:
    """A model view's CSV export, written by the core's one CSV writer (``workdesk.csv_export``).

    Flask-Admin's own writer puts cells in verbatim, a related object (the audit trail's actor, a task's
    department) unescaped; the core's panel views and every plugin's model view export through this.
    """
    _count, data = view._export_data()
    header = [title for _name, title in view._export_columns]
    rows = [[view.get_export_value(row, name) for name, _title in view._export_columns] for row in data]
    return csv_export.csv_response(header, rows, view.get_export_name(export_type="csv"))


class WorkdeskModelView(AdminAccessMixin, ModelView):
    """A model list/form view whose forms carry CSRF tokens and whose CSV export is formula-safe."""

    form_base_class = AdminForm
    page_size = 50
    can_set_page_size = True
    export_max_rows = 10000
    column_type_formatters = {**typefmt.BASE_FORMATTERS, dt.datetime: _local_time}
    column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS, dt.datetime: _local_time}
    column_type_formatters_export = {**typefmt.EXPORT_FORMATTERS, dt.datetime: _iso_time}

    export_types = ["csv"]  # only the core's writer escapes cells; Flask-Admin's tablib formats would not

    def _export_csv(self, return_url):
        return export_csv(self)

    def _get_filter_groups(self):
        # Flask-Admin computes filter options once at start-up; ours are re-read per request.
        if not self._filters:
            return None
        groups: OrderedDict[str, list[dict]] = OrderedDict()
        for index, flt in enumerate(self._filters):
            options = flt.get_options(self)
            groups.setdefault(str(flt.name), []).append({
                "index": index, "arg": self.get_filter_arg(index, flt), "operation": str(flt.operation()),
                "options": [(key, str(label)) for key, label in options] if options else None,
                "type": flt.data_type})
        return groups
