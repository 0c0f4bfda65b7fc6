"""The core's settings an admin changes at run time (admin panel → Settings), kept in the database.

Start-up settings (database, queue, secret key...) live in ``workdesk.toml`` (``workdesk.config``); these
are the ones that change what people may see while Workdesk runs, so every process reads them fresh
(through the plugin registry's cache, refreshed every ``plugin_refresh_seconds``). They are stored like
a plugin's settings, under the reserved name ``core``, and validated by :class:`SiteSettingsSchema`.
"""
from __future__ import annotations

from typing import Any

import marshmallow
from flask_babel import lazy_gettext as _l

from .access import require
from .db import utcnow, write_transaction
from .models import PluginState, User
from .registry import CORE, get_registry
from .schemas import StrictBoolean
from marshmallow import fields, validate


class SiteSettingsSchema(marshmallow.Schema):
    open_directory = StrictBoolean(load_default=False, metadata={
        "title": _l("Open people directory"),
        "description": _l("Off: people who do not work tasks (requesters) see only themselves and the people on "
                          "their tasks in lists of people and through the API. On: everyone sees everyone.")})
    attachment_max_mb = fields.Integer(load_default=10, validate=validate.Range(min=1, max=1024),
                                       metadata={"title": _l("Largest attachment (MB)"),
                                                 "description": _l("A file larger than this is refused on upload.")})
    attachment_quota_mb = fields.Integer(
        load_default=5120, validate=validate.Range(min=0, max=10_000_000),
        metadata={"title": _l("Attachment quota (MB)"),
                  "description": _l("All attachments of this instance together; an upload beyond it is refused. "
                                    "0: no quota.")})
    comment_edit_minutes = fields.Integer(
        load_default=15, validate=validate.Range(min=0, max=10080),
        metadata={"title": _l("Comment editing window (minutes)"),
                  "description": _l("How long authors may edit their own comments after writing them (the "
                                    "earlier wording is kept). 0: comments cannot be edited.")})


# Who may change them: the settings decide who sees people's details.
MANAGE_PERMISSION = "user.manage"


def site_settings() -> dict[str, Any]:
    """The current settings, defaults filled in (an unreadable stored value falls back to its default)."""
    schema = SiteSettingsSchema()
    stored = get_registry().stored_settings(CORE)
    try:
        return schema.load({k: v for k, v in stored.items() if k in schema.fields})
    except marshmallow.ValidationError:
        return schema.load({})


def save_site_settings(actor: User | None, data: dict[str, Any]) -> dict[str, Any]:
    """Validate and store the settings (all of them, defaults for what ``data`` leaves out); raise
    marshmallow.ValidationError with per-field messages and store nothing on bad input."""
    if actor is not None:
        require(actor, MANAGE_PERMISSION)
    schema = SiteSettingsSchema()
    clean = schema.dump(schema.load(data))
    with write_transaction():
        state, _created = PluginState.get_or_create(name=CORE)
        state.settings = {**(state.settings or {}), **clean}
        state.updated_at = utcnow()
        state.save()
    get_registry().refresh(force=True)
    return clean


__all__ = ["SiteSettingsSchema", "site_settings", "save_site_settings", "MANAGE_PERMISSION"]
