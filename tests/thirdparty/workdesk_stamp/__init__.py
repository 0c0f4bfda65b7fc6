"""Stamp: a third-party plugin written for the tests from docs/writing-plugins.md alone.

It stamps overdue tasks once a day, shows the stamps in a task-page panel (its own template, its own
static file, its own German catalog), keeps a stamped task's title from changing, answers its stamps
on the JSON API, and counts them on the command line (``workdesk stamp count``).
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from workdesk import PeriodicJob, Plugin, hookimpl


class StampPlugin(Plugin):
    """Stamp

    Stamps overdue tasks once a day; a stamped task keeps its title.
    """

    name = "stamp"
    version = "1.0.0"
    requires_workdesk = ">=1.1,<2"

    @hookimpl
    def register_models(self):
        from .models import MODELS
        return MODELS

    @hookimpl
    def register_jobs(self):
        from .services import stamp_overdue
        return [PeriodicJob("stamp_overdue", stamp_overdue, every=dt.timedelta(days=1))]

    @hookimpl
    def register_blueprints(self, app):
        from .api import blueprint
        return [blueprint]

    @hookimpl
    def register_commands(self):
        from .cli import count
        return [count]

    @hookimpl
    def register_notification_kinds(self):
        return [("stamp.stamped", _l("A task of mine was stamped overdue"))]

    @hookimpl
    def on_plugin_enabled(self):
        from .services import log_lifecycle
        log_lifecycle("enabled")

    @hookimpl
    def on_plugin_disabled(self):
        from .services import log_lifecycle
        log_lifecycle("disabled")

    @hookimpl
    def on_task_deleted(self, task_id):
        from .services import forget
        forget(task_id)

    @hookimpl
    def veto_task_change(self, task, changes):
        from .services import title_refusal
        return title_refusal(task, changes)

    @hookimpl
    def task_page_panels(self, task, user):
        from .services import panel
        return panel(task)
