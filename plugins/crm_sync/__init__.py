"""CRM sync

Customers from the CRM on every task, and the team's work back in the CRM: companies and contacts
pulled incrementally from a connector (generic REST/JSON, Bitrix24, CSV files), linked to tasks,
and activities pushed back through the worker with an idempotency key.
"""
from __future__ import annotations

from workdesk import Plugin, hookimpl

from .models import MODELS
from .schemas import CrmSyncSettings


class CrmSyncPlugin(Plugin):
    """CRM sync

    Companies and contacts from your CRM (generic REST/JSON, Bitrix24, or CSV files for 1C and
    spreadsheets), matched by the CRM's ids and linked to tasks; the task page shows the customer and
    their history; created, resolved and commented tasks reach the CRM as activities, at most once per
    event on the CRM side (an idempotency key), with retries and dead letters.
    """

    name = "crm_sync"
    version = "0.1.0"
    requires_workdesk = ">=1.2,<2"
    settings_schema = CrmSyncSettings

    def missing_configuration(self, settings):
        """Also ``connector`` while the chosen connector's plugin is uninstalled or disabled: the plugin
        then shows as needing configuration, and nothing is synced in the meantime."""
        from .connectors import missing_connector
        missing = super().missing_configuration(settings)
        if "connector" not in missing and missing_connector(settings) is not None:
            missing.append("connector")
        return missing

    @hookimpl
    def register_models(self):
        return list(MODELS)

    @hookimpl
    def register_permissions(self):
        return [("crm.view", "See customers and their history"),
                ("crm.manage", "Link customers to tasks, change customers, run and configure the CRM sync")]

    @hookimpl
    def on_plugin_enabled(self):
        from .links import grant_default_permissions
        grant_default_permissions()

    @hookimpl
    def register_crm_connectors(self):
        from .connectors import BUILTIN_CONNECTORS
        return list(BUILTIN_CONNECTORS)

    @hookimpl
    def register_jobs(self):
        from .jobs import JOBS
        return list(JOBS)

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
    def register_commands(self):
        from .cli import COMMANDS
        return list(COMMANDS)

    @hookimpl
    def register_task_filters(self):
        from .links import task_filters
        return task_filters()

    @hookimpl
    def on_task_created(self, task, event):
        from .links import auto_link
        from .push import push_for_event
        auto_link(task)
        push_for_event(task, "created", event)

    @hookimpl
    def on_task_updated(self, task, changes, event):
        from .push import push_for_event
        if "status" in changes and changes["status"][1] == "resolved":
            push_for_event(task, "resolved", event)

    @hookimpl
    def on_task_commented(self, task, comment, event):
        from .push import push_for_event
        if comment.internal:
            return  # a note for the people who work tasks: it never leaves Workdesk
        push_for_event(task, "commented", event, comment=comment)

    @hookimpl
    def on_task_deleted(self, task_id):
        from .links import task_deleted
        task_deleted(task_id)

    @hookimpl
    def extra_task_data(self, task, user):
        from .links import task_customer_data
        return task_customer_data(task, user)

    @hookimpl
    def describe_task_event(self, event):
        from .links import describe
        return describe(event)

    @hookimpl
    def task_page_panels(self, task, user):
        from .views import panel
        return panel(task, user)
