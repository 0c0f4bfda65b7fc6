"""Saved views: named task lists (filters and a sort), personal or shared with a department.

A personal view is its owner's alone. A shared view belongs to a department: its members (and its
head) see it in their navigation, each counting and listing only the tasks they may see. Sharing
with a department takes being its head, or holding ``view.share`` and being one of its members (or
seeing every task). The owner and whoever may share with its department change or delete a shared
view. A view someone may not see is a 404, like a task.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import reduce
from typing import Any, Iterable

from flask_babel import gettext as _

from .. import task_filters
from ..access import department_ids, visible_tasks
from ..db import utcnow, write_transaction
from ..errors import Forbidden, NotFound, ValidationFailed
from ..models import Department, SavedView, User
from ..schemas import MAX_ID
from ..task_filters import FilterContext, ListQuery

SHARE_PERMISSION = "view.share"
MAX_VIEWS_PER_PERSON = 100  # personal ones; far more than a navigation can show


def _shared_with(user: User):
    """Departments whose shared views ``user`` sees: the ones they belong to and the ones they head."""
    headed = Department.select(Department.id).where(Department.head == user)
    return (SavedView.department.in_(department_ids(user))) | SavedView.department.in_(headed)


def visible_views(user: User):
    """The views ``user`` may open: their own (personal or shared) and those shared with their departments;
    personal ones first, then by name."""
    condition = reduce(operator.or_, [SavedView.owner == user, _shared_with(user)])
    return (SavedView.select().where(condition)
            .order_by(SavedView.department.is_null(False), SavedView.name, SavedView.id))


def get_visible_view(user: User, view_id: int) -> SavedView:
    """The view, or NotFound when it is missing or ``user`` may not see it."""
    try:
        view_id = int(view_id)
    except (TypeError, ValueError):
        raise NotFound(_("No such view.")) from None
    view = visible_views(user).where(SavedView.id == view_id).first() if 0 < view_id <= MAX_ID else None
    if view is None:
        raise NotFound(_("No such view."))
    return view


def can_share(user: User, department: Department | int) -> bool:
    """Whether ``user`` may share views with ``department``."""
    department_id = department if isinstance(department, int) else department.id
    if Department.select().where((Department.id == department_id) & (Department.head == user)).exists():
        return user.is_active
    if not (user.is_active and user.has_permission(SHARE_PERMISSION)):
        return False
    return user.has_permission("task.view_all") or department_id in department_ids(user)


def shareable_departments(user: User) -> list[Department]:
    """The departments ``user`` may share views with, by name (what :func:`can_share` allows)."""
    query = Department.select().order_by(Department.name)
    if not user.is_active:
        return []
    if user.has_permission(SHARE_PERMISSION) and user.has_permission("task.view_all"):
        return list(query)
    condition = Department.head == user
    if user.has_permission(SHARE_PERMISSION):
        condition |= Department.id.in_(department_ids(user))
    return list(query.where(condition))


def can_change(user: User, view: SavedView) -> bool:
    """The owner changes their views; a shared one also whoever may share with its department."""
    return view.owner_id == user.id or (view.department_id is not None and can_share(user, view.department_id))


def validate_params(params: Any) -> dict[str, str]:
    """The filters and sort of a view as text, checked against the catalogue; 422 naming ``params.<name>``."""
    if not isinstance(params, dict):
        raise ValidationFailed(_("Invalid value."), {"params": [_("Expected an object of filters.")]})
    text: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name, value in params.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(name, str) or not isinstance(value, (str, int)) or len(str(value)) > 200:
            errors[f"params.{name}"] = [_("Expected text of at most 200 characters.")]
            continue
        text[name] = str(value)
    catalogue = task_filters.catalogue()
    names = [f.name for f in catalogue.shown()]
    listing, problems = task_filters.parse(text, catalogue, names=names)
    errors.update({f"params.{name}": messages for name, messages in problems.items()})
    if errors:
        raise ValidationFailed(_("Some filters are not valid."), errors)
    return listing.params


def listing_of(view: SavedView, catalogue: task_filters.Catalogue | None = None) -> ListQuery:
    """The view's list query. A filter that is no longer available (its plugin is disabled or gone, a
    value it no longer takes) is left out; ``left_out`` names them, with the title of a disabled plugin."""
    catalogue = catalogue or task_filters.catalogue()
    listing, problems = task_filters.parse(view.params or {}, catalogue, names=[f.name for f in catalogue.shown()])
    gone = {name: "" for name in problems if name not in listing.left_out}
    return listing if not gone else ListQuery(listing.values, listing.params, listing.sort, listing.catalogue,
                                              {**listing.left_out, **gone})


def view_tasks(user: User, view: SavedView, listing: ListQuery | None = None):
    """The tasks of ``view`` that ``user`` may see (a query)."""
    listing = listing or listing_of(view)
    return listing.apply(visible_tasks(user), FilterContext.of(user))


def counts(user: User, views: Iterable[SavedView]) -> dict[int, int]:
    """How many tasks each view holds for ``user``: one COUNT per view, no rows loaded."""
    catalogue = task_filters.catalogue()
    return {view.id: view_tasks(user, view, listing_of(view, catalogue)).count() for view in views}


def _name(value: Any) -> str:
    name = (value or "").strip() if isinstance(value, str) else ""
    if not name or len(name) > 100:
        raise ValidationFailed(_("Invalid value."), {"name": [_("Between 1 and 100 characters.")]})
    if "\x00" in name:
        raise ValidationFailed(_("Invalid value."), {"name": [_("Must not contain NUL characters.")]})
    return name


def _department(actor: User, department_id: Any) -> Department | None:
    if department_id is None:
        return None
    department = Department.get_or_none(Department.id == department_id) \
        if isinstance(department_id, int) and 0 < department_id <= MAX_ID else None
    if department is None:
        raise ValidationFailed(_("Invalid reference."), {"department_id": [
            _("No department with id %(id)s.", id=department_id)]})
    if not can_share(actor, department):
        raise Forbidden(_("Only the head of %(department)s, or someone allowed to share views (view.share) who "
                          "belongs to it, can share views with it.", department=department.name),
                        permission=SHARE_PERMISSION)
    return department


def _check_unique(owner: User, name: str, department: Department | None, exclude: int | None = None) -> None:
    same = SavedView.select().where((SavedView.owner == owner) & (SavedView.name == name) & (
        SavedView.department.is_null() if department is None else SavedView.department == department))
    if exclude is not None:
        same = same.where(SavedView.id != exclude)
    if same.exists():
        raise ValidationFailed(_("Invalid value."), {"name": [_("You already have a view with this name.")]})


def create_view(actor: User, *, name: str, params: dict | None = None, department_id: int | None = None) -> SavedView:
    """Save a view for ``actor``, or shared with ``department_id``."""
    if not actor.is_active:
        raise Forbidden(_("Your account is deactivated."))
    name = _name(name)
    clean = validate_params(params or {})
    with write_transaction():
        department = _department(actor, department_id)
        _check_unique(actor, name, department)
        if department is None and SavedView.select().where(
                (SavedView.owner == actor) & SavedView.department.is_null()).count() >= MAX_VIEWS_PER_PERSON:
            raise ValidationFailed(_("Too many views."), {"name": [
                _("You have %(n)s views already; delete some first.", n=MAX_VIEWS_PER_PERSON)]})
        now = utcnow()
        return SavedView.create(owner=actor, department=department, name=name, params=clean, created_at=now,
                                updated_at=now)


def update_view(actor: User, view_id: int, changes: dict[str, Any]) -> SavedView:
    """Rename a view, replace its filters, or change whom it is shared with (``department_id`` None: personal)."""
    unknown = sorted(set(changes) - {"name", "params", "department_id"})
    if unknown:
        raise ValidationFailed(_("Unknown fields."), {k: [_("Unknown field.")] for k in unknown})
    with write_transaction():
        view = get_visible_view(actor, view_id)
        if not can_change(actor, view):
            raise Forbidden(_("Only its owner, or whoever may share views with its department, can change this "
                              "view."), permission=SHARE_PERMISSION)
        if "name" in changes:
            view.name = _name(changes["name"])
        if "params" in changes:
            view.params = validate_params(changes["params"] or {})
        if "department_id" in changes:
            view.department = _department(actor, changes["department_id"])
        _check_unique(view.owner, view.name, view.department, exclude=view.id)
        view.updated_at = utcnow()
        view.save()
    return view


def delete_view(actor: User, view_id: int) -> None:
    with write_transaction():
        view = get_visible_view(actor, view_id)
        if not can_change(actor, view):
            raise Forbidden(_("Only its owner, or whoever may share views with its department, can delete this "
                              "view."), permission=SHARE_PERMISSION)
        view.delete_instance()


@dataclass(frozen=True)
class NavEntry:
    """A view as the navigation shows it."""
    id: int
    name: str
    count: int
    shared: bool


def navigation(user: User, limit: int = 12) -> list[NavEntry]:
    """The first ``limit`` views ``user`` sees, with their counts (one COUNT each)."""
    views = list(visible_views(user).limit(limit))
    found = counts(user, views)
    return [NavEntry(v.id, v.name, found[v.id], v.department_id is not None) for v in views]


__all__ = ["visible_views", "get_visible_view", "can_share", "can_change", "shareable_departments",
           "validate_params", "listing_of", "view_tasks", "counts", "create_view", "update_view", "delete_view",
           "navigation", "NavEntry", "SHARE_PERMISSION"]
