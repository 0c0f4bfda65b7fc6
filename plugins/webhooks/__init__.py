"""Chat and webhook delivery of notifications

POSTs each notification (or digest) to the configured URLs, as the raw event JSON or as a Slack- or
Mattermost-compatible message, signed with HMAC-SHA256 over the timestamp and the body, retried
with exponential backoff; dead letters are listed in the admin panel with a retry button.
"""
from __future__ import annotations

from workdesk import Plugin, hookimpl

from .schemas import WebhooksSettings


class WebhooksPlugin(Plugin):
    """Chat and webhook delivery of notifications

    Sends notifications to chat channels (Slack, Mattermost) and to any HTTPS endpoint, signed so the
    receiver can check they came from this Workdesk. Each is sent at least once per endpoint (a repeat
    carries the same X-Workdesk-Delivery id to deduplicate on). Destinations on loopback, link-local
    or private networks are refused unless an admin allows them.
    """

    name = "webhooks"
    version = "1.0.0"
    requires_workdesk = ">=1.0,<2"
    settings_schema = WebhooksSettings

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
    def deliver_notification(self, notification):
        from .services import deliver
        deliver(notification)
