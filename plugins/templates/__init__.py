"""Task templates

Standard kinds of task: a template per department and type sets the title pattern, description, priority,
impact and urgency, assignee, watchers, a due offset in working time, a checklist, typed custom fields and
RACI roles. Priorities follow an impact × urgency matrix; an accountable person accepts the result.
"""
from __future__ import annotations

from workdesk import Plugin, hookimpl

from .models import MODELS
from .schemas import TemplatesSettings


class TemplatesPlugin(Plugin):
    """Task templates

    Every ticket of a kind carries the same fields, checklist and owner: file from a template, check the
    typed fields, derive the priority from impact and urgency, and say who is responsible, accountable,
    consulted and informed.
    """

    name = "templates"
    version = "1.0.0"
    requires_workdesk = ">=1.2,<2"
    settings_schema = TemplatesSettings
    # Fails open (the default): a broken checklist check must not stop every resolution in the company;
    # the error is recorded and shown in the health panel.

    @hookimpl
    def register_models(self):
        return list(MODELS)

    @hookimpl
    def register_permissions(self):
        return [("templates.manage", "Create and change task templates, custom fields, the priority matrix "
                                     "and departments' default roles")]

    @hookimpl
    def register_notification_kinds(self):
        from flask_babel import lazy_gettext as _l
        return [("templates.consulted", _l("A comment on a task I am consulted on")),
                ("templates.informed", _l("The status of a task I am informed about changed")),
                ("templates.acceptance", _l("A result waits for my acceptance")),
                ("templates.returned", _l("The result of my task was returned")),
                ("templates.input_asked", _l("I am made consulted on a task"))]

    @hookimpl
    def register_task_inputs(self):
        from workdesk import Id
        return [("template_id", Id(allow_none=True, metadata={
            "description": "File from this template (templates plugin): its title pattern, description, "
                           "defaults, checklist, custom fields and roles apply."}))]

    @hookimpl
    def register_task_filters(self):
        from .filters import task_filters
        return task_filters()

    @hookimpl
    def register_blueprints(self, app):
        from .api import blueprint
        from .views import pages
        return [blueprint, pages]

    @hookimpl
    def register_admin_views(self):
        from .admin import admin_views
        return admin_views()

    @hookimpl
    def adjust_task_change(self, task, changes, actor):
        from .services import applied
        return applied(task, changes, actor)

    @hookimpl
    def validate_task_change(self, task, changes):
        from .services import validation_errors
        return validation_errors(task, changes)

    @hookimpl
    def veto_transition(self, task, old_status, new_status):
        from .services import transition_refusal
        return transition_refusal(task, old_status, new_status)

    @hookimpl
    def on_task_created(self, task):
        from .services import created_override, ensure_state
        ensure_state(task)
        created_override(task)

    @hookimpl
    def on_task_updated(self, task, actor, changes, event):
        from .services import task_updated
        task_updated(task, actor, changes, event)

    @hookimpl
    def on_task_commented(self, task, comment, actor, event):
        from .services import task_commented
        task_commented(task, comment, actor, event)

    @hookimpl
    def on_task_deleted(self, task_id):
        from .services import task_deleted
        task_deleted(task_id)

    @hookimpl
    def extra_task_data(self, task):
        from .services import task_summary
        return task_summary(task)

    @hookimpl
    def describe_task_event(self, event):
        from .views import describe
        return describe(event)

    @hookimpl
    def task_page_panels(self, task, user):
        from flask_babel import gettext as _
        from markupsafe import Markup

        from .views import panel
        html = panel(task, user)
        return [(_("Template, checklist and roles"), Markup(html))] if html is not None else None

    @hookimpl
    def task_filing_panels(self, user, form):
        from markupsafe import Markup

        from .views import picker
        html = picker(user, form)
        return Markup(html) if html else None
