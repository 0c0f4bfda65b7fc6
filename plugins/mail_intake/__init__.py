"""Mail intake

Requests by e-mail become tasks, and replies become comments: IMAP mailboxes read by a periodic job
(or continuously with IDLE, ``workdesk mail_intake watch``), or mail delivered to the plugin's own
SMTP/LMTP listener (``workdesk mail_intake serve``); each message handled exactly once.
"""
from __future__ import annotations

from workdesk import Plugin, hookimpl

from .models import MODELS
from .schemas import MailIntakeSettings


class MailIntakePlugin(Plugin):
    """Mail intake

    Reads IMAP mailboxes, or takes mail delivered to its SMTP/LMTP listener: each new message becomes a
    task in the mailbox's department, each reply (by the signed reply token in the Reply-To of Workdesk's
    notifications, by Workdesk's Message-IDs, or [#number] in its subject) a comment on its task.
    External requesters are acknowledged and told of comments by e-mail. Auto-replies and loops create
    nothing, bounces are recorded against the delivery that bounced; each sender is throttled; every
    message is logged once.
    """

    name = "mail_intake"
    version = "0.1.0"
    requires_workdesk = ">=1.2,<2"
    settings_schema = MailIntakeSettings

    @hookimpl
    def register_models(self):
        return list(MODELS)

    @hookimpl
    def register_permissions(self):
        return [("mail_intake.manage", "See the mail intake log and check mailboxes")]

    @hookimpl
    def register_jobs(self):
        from .jobs import JOBS
        return list(JOBS)

    @hookimpl
    def register_commands(self):
        from .cli import COMMANDS
        return list(COMMANDS)

    @hookimpl
    def register_notification_kinds(self):
        from flask_babel import lazy_gettext as _l
        return [("mail_intake.throttled", _l("A sender is flooding a mailbox and is being throttled"))]

    @hookimpl
    def register_blueprints(self, app):
        from .api import blueprint
        return [blueprint]

    @hookimpl
    def register_admin_views(self):
        from .admin import admin_views
        return admin_views()

    @hookimpl
    def on_task_created(self, task):
        from .outgoing import acknowledge
        acknowledge(task)

    @hookimpl
    def on_task_commented(self, task, comment):
        from .outgoing import comment_added
        comment_added(task, comment)

    @hookimpl
    def reply_address(self, task, user):
        from .services import reply_address
        return reply_address(task, user)

    @hookimpl
    def task_page_panels(self, task, user):
        from flask import render_template
        from flask_babel import gettext as _
        from markupsafe import Markup

        from .services import mail_items
        items = mail_items(task, user)
        if not items:
            return None
        return [(_("By e-mail"), Markup(render_template("mail_intake/panel.html", task=task, items=items)))]
