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


class SiteSettingsSchema(marshmallow.Schema):
    open_directory = StrictBoolean(load_default=False, metadata={
        "title": _l("Open people directory"),
        "description": _l("Off: people who do not work tasks (requesters) see only themselves and the people on "
                          "their tasks in lists of people and through the API. On: everyone sees everyone.")})


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
