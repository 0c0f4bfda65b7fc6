"""The plugins page: every discovered plugin, one-click enable/disable, and a settings form per plugin."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_babel import gettext as _

from workdesk.access import require
from workdesk.models import PluginState
from workdesk.schema import schema_status
from workdesk.registry import (PluginError, PluginInfo, get_registry, plugin_settings, save_plugin_settings,
                          set_plugin_enabled, shown_plugin_settings)

from .base import AdminForm, WorkdeskBaseView, admin_user
from .settings_form import form_values, mark_stored_secrets, save_settings_form, settings_form_class

MANAGE_PERMISSION = "plugin.manage"


@dataclass
class PluginRow:
    """One line of the plugins page."""
    name: str
    title: str
    version: str
    description: str
    source: str
    state: str  # enabled | disabled | incompatible | refused | broken
    errors: list[str]
    has_settings: bool
    last_error_at: object = None
    schema: tuple[int, int] | None = None  # (applied, latest) migration numbers
    missing: list[str] = field(default_factory=list)  # settings to fill in before it can be enabled (or work)


def plugin_rows() -> list[PluginRow]:
    registry = get_registry()
    registry.refresh(force=True)
    states = {s.name: s for s in PluginState.select()}
    rows = []
    for name, info in sorted(registry.plugins.items()):
        rows.append(_row(name, info, states.get(name), registry.is_enabled(name)))
    return rows


def _paragraphs(text: str) -> str:
    """A docstring's wrapped lines joined into paragraphs (blank lines stay paragraph breaks)."""
    return re.sub(r"(?<!\n)\n(?!\n)", " ", text)


def _row(name: str, info: PluginInfo, state: PluginState | None, enabled: bool) -> PluginRow:
    plugin = info.plugin
    errors = [e for e in (info.error, info.incompatible and _("Incompatible: %(why)s", why=info.incompatible),
                          state.last_error if state else None) if e]
    if not info.loaded:
        status = "refused" if (info.error or "").startswith("refused") else "broken"
    elif info.incompatible:
        status = "incompatible"
    else:
        status = "enabled" if enabled else "disabled"
    return PluginRow(name=name, title=plugin.title() if plugin else name,
                     version=plugin.version if plugin else "?",
                     description=_paragraphs(plugin.description()) if plugin else "", source=info.source, state=status,
                     errors=errors, has_settings=bool(plugin and plugin.settings_schema),
                     last_error_at=state.last_error_at if state and state.last_error else None,
                     schema=schema_status(plugin) if plugin else None,
                     missing=plugin.missing_configuration(plugin_settings(name)) if info.usable else [])


class PluginsView(WorkdeskBaseView):

    def _manager(self):
        user = admin_user()
        require(user, MANAGE_PERMISSION)
        return user

    def _info(self, plugin_name: str) -> PluginInfo:
        info = get_registry().plugins.get(plugin_name)
        if info is None:
            abort(404)
        return info

    @expose("/")
    def index(self):
        return self.render("workdesk_admin/plugins.html", plugins=plugin_rows(), action_form=AdminForm())

    @expose("/<plugin_name>/enable", methods=("POST",))
    def enable(self, plugin_name: str):
        self._manager()
        info = self._info(plugin_name)
        form = AdminForm()
        if form.validate_on_submit():
            try:
                set_plugin_enabled(plugin_name, True)
                flash(_("%(title)s is enabled.", title=info.plugin.title()), "success")
            except PluginError as exc:
                flash(str(exc), "error")
        return redirect(self.get_url(".index"))

    @expose("/<plugin_name>/disable", methods=("GET", "POST"))
    def disable(self, plugin_name: str):
        """GET asks for confirmation (and says the data stays); POST disables."""
        self._manager()
        info = self._info(plugin_name)
        form = AdminForm()
        if request.method == "POST" and form.validate_on_submit():
            set_plugin_enabled(plugin_name, False)
            flash(_("%(title)s is disabled. Its data is kept; enable it again to use it.",
                    title=info.plugin.title() if info.plugin else plugin_name), "success")
            return redirect(self.get_url(".index"))
        return self.render("workdesk_admin/plugin_disable.html", info=info,
                           title=info.plugin.title() if info.plugin else plugin_name, form=form)

    @expose("/<plugin_name>/settings", methods=("GET", "POST"))
    def settings(self, plugin_name: str):
        self._manager()
        info = self._info(plugin_name)
        plugin = get_registry().get(plugin_name)
        if plugin is None or plugin.settings_schema is None:
            abort(404)
        form_class = settings_form_class(plugin.settings_schema)
        shown = shown_plugin_settings(plugin_name)  # secrets masked: the page never holds them
        if request.method == "POST":
            form = form_class()
            if save_settings_form(form, plugin.settings_schema,
                                  lambda data: save_plugin_settings(plugin_name, data)):
                flash(_("Settings of %(title)s saved.", title=plugin.title()), "success")
                return redirect(self.get_url(".settings", plugin_name=plugin_name))
            flash(_("The settings were not saved: correct the marked fields."), "error")
            status = 400
        else:
            form = form_class(formdata=None, data=form_values(plugin.settings_schema, shown))
            status = 200
        mark_stored_secrets(form, plugin.settings_schema, shown)
        return self.render("workdesk_admin/plugin_settings.html", info=info, plugin=plugin, form=form,
                           enabled=get_registry().is_enabled(plugin_name)), status

