"""Workdesk's admin panel at ``/admin``: Flask-Admin on the core's models and on what plugins register.

Only people whose role grants ``admin.access`` get in; everyone else is sent to the login page
(anonymous) or answered 403 by the application's own error page. Every form carries the CSRF
token of the global ``CSRFProtect``; data changes go through ``workdesk.services``.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, request
from flask_admin import Admin, BaseView
from flask_admin.model import BaseModelView
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from workdesk.extensions import csp_nonce
from workdesk.models import Absence, Comment, Department, Role, Task, TaskEvent, User
from workdesk.registry import PluginRegistry
from workdesk.web.forms import WorkdeskForm

from .absences import AbsenceView
from .base import AdminForm, admin_user, export_csv, refuse_bad_list_arguments, refuse_unless_admin
from .pages import HealthView, HomeView
from .people import DepartmentView, RoleView, UserView
from .plugins import PluginsView
from .site_settings import SiteSettingsView
from .tasks import AuditView, CommentView, TaskView

log = logging.getLogger("workdesk.admin")
BLUEPRINTS_KEY = "workdesk_admin_blueprints"


def init_admin(app: Flask) -> Admin:
    """Build the admin panel on ``app``: core views, the plugins and health pages, plugin views."""
    registry: PluginRegistry = app.extensions["workdesk_registry"]
    app.register_blueprint(Blueprint("workdesk_admin", __name__, template_folder="templates",
                                     static_folder="static", static_url_path="/static/workdesk-admin"))
    admin = Admin(app, name="Workdesk", url="/admin",
                  index_view=HomeView(name=_l("Home"), url="/admin", endpoint="admin"),
                  theme=Bootstrap4Theme(base_template="workdesk_admin/master.html", fluid=True),
                  csp_nonce_generator=csp_nonce)  # Flask-Admin's few inline blocks carry the page's nonce
    people = str(_l("People"))
    work = str(_l("Work"))
    admin.add_view(TaskView(Task, name=_l("Tasks"), category=work, endpoint="admin_tasks", url="/admin/tasks"))
    admin.add_view(CommentView(Comment, name=_l("Comments"), category=work, endpoint="admin_comments",
                               url="/admin/comments"))
    admin.add_view(AuditView(TaskEvent, name=_l("Audit trail"), category=work, endpoint="admin_audit",
                             url="/admin/audit"))
    admin.add_view(UserView(User, name=_l("Users"), category=people, endpoint="admin_users", url="/admin/users"))
    admin.add_view(DepartmentView(Department, name=_l("Departments"), category=people,
                                  endpoint="admin_departments", url="/admin/departments"))
    admin.add_view(RoleView(Role, name=_l("Roles"), category=people, endpoint="admin_roles", url="/admin/roles"))
    admin.add_view(AbsenceView(Absence, name=_l("Absences"), category=people, endpoint="admin_absences",
                               url="/admin/absences"))
    admin.add_view(PluginsView(name=_l("Plugins"), endpoint="admin_plugins", url="/admin/plugins"))
    admin.add_view(SiteSettingsView(name=_l("Settings"), endpoint="admin_settings", url="/admin/settings"))
    admin.add_view(HealthView(name=_l("Health"), endpoint="admin_health", url="/admin/health"))
    _add_plugin_views(app, admin, registry)

    app.extensions[BLUEPRINTS_KEY] = {view.blueprint.name: view for view in admin._views if view.blueprint}

    @app.before_request
    def _admin_gate():
        view = app.extensions[BLUEPRINTS_KEY].get(request.blueprint)
        if view is None:
            return None
        refused = refuse_unless_admin()
        if refused is None:
            refuse_bad_list_arguments(view)
        return refused

    return admin


def _add_plugin_views(app: Flask, admin: Admin, registry: PluginRegistry) -> None:
    """Mount each plugin's views in a menu section of its own, shown only while the plugin is enabled.

    A disabled plugin's views answer 404 through the core's blueprint gate (the same one that
    guards its other routes).
    """
    owners = app.extensions.setdefault("workdesk_blueprint_owner", {})
    for plugin_name, view in registry.collect("register_admin_views", enabled_only=False):
        info = registry.plugins[plugin_name]
        if not isinstance(view, BaseView):
            info.error = f"register_admin_views returned {view!r}, which is not a flask_admin view"
            log.error("plugin %s: %s", plugin_name, info.error)
            continue
        view.category = info.plugin.title()
        _guard_plugin_view(view, plugin_name, registry)
        try:
            admin.add_view(view)
        except Exception as exc:  # e.g. an endpoint name another view already uses
            info.error = f"admin view {view.endpoint!r} could not be added: {exc}"
            log.error("plugin %s: %s", plugin_name, info.error)
            continue
        owners[view.blueprint.name] = plugin_name


def _guard_plugin_view(view: BaseView, plugin_name: str, registry: PluginRegistry) -> None:
    plugin_visible, plugin_accessible = view.is_visible, view.is_accessible
    view.is_visible = lambda: registry.is_enabled(plugin_name) and plugin_visible()
    view.is_accessible = lambda: admin_user() is not None and plugin_accessible()
    # A plugin's model views get the panel's CSRF form base even when they did not ask for it, and export
    # only CSV, through the core's one writer (Flask-Admin's would write formulas verbatim).
    if isinstance(view, BaseModelView):
        view.export_types = ["csv"]
        view._export_csv = lambda return_url: export_csv(view)
        if not issubclass(view.form_base_class, WorkdeskForm):
            view.form_base_class = AdminForm
            view._refresh_cache()


__all__ = ["init_admin"]
