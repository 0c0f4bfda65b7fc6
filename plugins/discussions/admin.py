"""Admin panel views: discussion spaces (instance-wide ones are created here) and the moderation trail.
Forms derive from ``WorkdeskForm`` so they carry the CSRF token."""
from __future__ import annotations

from flask_admin.contrib.peewee import ModelView
from flask_babel import lazy_gettext as _l

from workdesk import PermissionRequired, WorkdeskForm

from .models import ModerationEntry, Space
from .services import MODERATE


class ModeratorsOnly(PermissionRequired):
    permission = MODERATE


class SpaceView(ModeratorsOnly, ModelView):
    """Spaces: a department's is made automatically; instance-wide ones (no department) are made here."""

    form_base_class = WorkdeskForm
    can_view_details = False
    column_list = ("name", "department", "created_at")
    column_labels = {"name": _l("Name"), "department": _l("Department"), "created_at": _l("Created"),
                     "description": _l("Description")}
    form_columns = ("name", "description")
    column_searchable_list = ("name",)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("name", _l("Discussion spaces"))
        kwargs.setdefault("category", _l("Discussions"))
        kwargs.setdefault("endpoint", "discussions_spaces")
        super().__init__(Space, *args, **kwargs)


class ModerationView(ModeratorsOnly, ModelView):
    """The append-only trail of edits, hidden posts, pins and tasks: read only."""

    can_create = can_edit = can_delete = False
    can_view_details = True
    column_list = ("at", "space_id", "post_id", "actor", "action", "reason")
    column_labels = {"at": _l("When"), "space_id": _l("Space"), "post_id": _l("Post"), "actor": _l("Who"),
                     "action": _l("Action"), "reason": _l("Reason")}
    column_default_sort = ("id", True)
    column_filters = ("action",)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("name", _l("Moderation trail"))
        kwargs.setdefault("category", _l("Discussions"))
        kwargs.setdefault("endpoint", "discussions_moderation")
        super().__init__(ModerationEntry, *args, **kwargs)


def admin_views() -> list:
    return [SpaceView(), ModerationView()]
