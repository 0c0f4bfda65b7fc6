"""Email delivery of notifications

Sends each notification, or the recipient's hourly or daily digest, by SMTP (plain, STARTTLS or SSL,
with optional credentials) as a plain-text and HTML message linking back to the task. Failed sends
are retried with exponential backoff; every attempt is in the delivery log of the admin panel.
"""
from __future__ import annotations

from workdesk import Plugin, hookimpl

from .schemas import EmailSettings


class EmailPlugin(Plugin):
    """Email delivery of notifications

    Each notification goes to its recipient's address by SMTP, at least once per notification (a
    repeat carries the same Message-ID to deduplicate on), with retries and a delivery log; people choose per kind whether they want email, and can ask
    for an hourly or daily digest instead.
    """

    name = "email"
    version = "1.0.0"
    requires_workdesk = ">=1.2,<2"
    settings_schema = EmailSettings

    @hookimpl
    def register_models(self):
        from .models import MODELS
        return list(MODELS)

    @hookimpl
    def register_jobs(self):
        from .jobs import JOBS
        return list(JOBS)

    @hookimpl
    def register_admin_views(self):
        from .admin import admin_views
        return admin_views()

    @hookimpl
    def delivery_bounced(self, message_id, reason):
        from .services import mark_bounced
        return mark_bounced(message_id, reason)

    @hookimpl
    def deliver_notification(self, notification):
        from .services import deliver
        deliver(notification)
