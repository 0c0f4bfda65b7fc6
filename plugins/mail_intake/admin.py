"""Admin views: the intake log (every message and what became of it) and each mailbox's read position."""
from __future__ import annotations

from flask import flash, redirect, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.peewee import ModelView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from workdesk import WorkdeskForm

from . import services
from .models import IntakeMessage, MailboxCursor


class IntakeLogView(ModelView):
    """Every message taken in, read-only: accepted, threaded, ignored, refused or throttled, and why."""
    form_base_class = WorkdeskForm
    can_create = can_edit = can_delete = False
    can_view_details = True
    can_export = True
    column_list = ("id", "mailbox", "received_at", "sender", "subject", "status", "reason", "verified", "task_id",
                   "comment_id")
    column_labels = {"mailbox": _l("Mailbox"), "received_at": _l("Taken in (UTC)"), "sender": _l("Sender"),
                     "subject": _l("Subject"), "status": _l("Outcome"), "reason": _l("Why"),
                     "verified": _l("Sender verified"), "task_id": _l("Task id"), "comment_id": _l("Comment id")}
    column_filters = (IntakeMessage.status, IntakeMessage.mailbox, IntakeMessage.sender)
    column_searchable_list = (IntakeMessage.sender, IntakeMessage.subject)
    column_sortable_list = ("id", "received_at", "status", "sender")
    column_default_sort = ("id", True)
    page_size = 50


class FailedView(IntakeLogView):
    """Dead letters: messages that could not be taken in (an unexpected error), with a retry."""
    can_export = False
    column_list = ("id", "mailbox", "received_at", "uid", "message_id", "reason")

    def get_query(self):
        return self.model.select().where(self.model.status == "failed")

    def get_count_query(self):
        return self.get_query().count()

    def get_one(self, id):
        return self.model.get_or_none((self.model.id == id) & (self.model.status == "failed"))

    @action("retry", _l("Retry"), _l("Take the selected messages in again?"))
    def action_retry(self, ids):
        count = services.retry_failed(int(i) for i in ids)
        flash(ngettext("%(num)d message will be taken in again by the next run (within a minute).",
                       "%(num)d messages will be taken in again by the next run (within a minute).", count))


def _check_button(view, context, model, name):
    return Markup('<form method="post" action="{}" class="inline"><input type="hidden" name="csrf_token" '
                  'value="{}"><button class="btn btn-sm btn-secondary" type="submit">{}</button></form>').format(
        url_for(".check", mailbox=model.mailbox), generate_csrf(), _("Test connection"))


class CursorView(ModelView):
    """Where each mailbox stands: its UIDVALIDITY, the last UID taken in, the last check and error; and
    a "test connection" button that logs in and selects the folder."""
    form_base_class = WorkdeskForm
    can_create = can_edit = can_delete = False
    column_list = ("mailbox", "uidvalidity", "last_uid", "checked_at", "last_error", "check")
    column_labels = {"mailbox": _l("Mailbox"), "last_uid": _l("Last UID taken in"),
                     "checked_at": _l("Last checked (UTC)"), "last_error": _l("Last error"), "check": ""}
    column_formatters = {"check": _check_button}

    def get_query(self):
        # Every configured mailbox is listed, also one that was never read yet.
        for mailbox in services.settings()["mailboxes"]:
            services.ensure_cursor(mailbox["name"])
        return super().get_query()

    @expose("/check/<mailbox>", methods=["POST"])
    def check(self, mailbox: str):
        # (Flask-Admin passes the view's own "name" to its handlers: the route variable has another.)
        name, mailbox = mailbox, services.mailbox_named(mailbox)
        if mailbox is None:
            flash(_("No such mailbox."), "error")
        else:
            problem = services.check_connection(mailbox)
            if problem:
                flash(_("The mailbox %(name)s cannot be read: %(problem)s", name=name, problem=problem), "error")
            else:
                flash(_("The mailbox %(name)s can be read.", name=name))
        return redirect(url_for(".index_view"))


def admin_views() -> list:
    return [IntakeLogView(IntakeMessage, name=_l("Intake log"), endpoint="mail_intake_log",
                          url="/admin/mail-intake/log"),
            FailedView(IntakeMessage, name=_l("Failed messages"), endpoint="mail_intake_failed",
                       url="/admin/mail-intake/failed"),
            CursorView(MailboxCursor, name=_l("Mailboxes"), endpoint="mail_intake_mailboxes",
                       url="/admin/mail-intake/mailboxes")]
