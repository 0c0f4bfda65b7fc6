"""Web Push

Notifications on phones and desktops as Web Push messages: VAPID-signed (RFC 8292), payloads encrypted
per RFC 8291 (pywebpush, http-ece), delivered through the core's notification path with its preferences,
digests, retries and dead letters; devices subscribe through the API and are removed when the push
service reports them gone.
"""
from __future__ import annotations

from workdesk import Plugin, hookimpl

from .schemas import WebPushSettings


class WebPushPlugin(Plugin):
    """Web Push notifications

    Notifications delivered to subscribed browsers and phones as encrypted, VAPID-signed Web Push
    messages, with retries and dead letters; a service worker shows them and opens the task when tapped.
    """

    name = "webpush"
    version = "0.1.0"
    requires_workdesk = ">=1.2,<2"
    settings_schema = WebPushSettings

    @hookimpl
    def register_models(self):
        from .models import MODELS
        return list(MODELS)

    @hookimpl
    def register_jobs(self):
        from .jobs import JOBS
        return list(JOBS)

    @hookimpl
    def register_blueprints(self, app):
        from .api import blueprint, files
        return [blueprint, files]

    @hookimpl
    def register_admin_views(self):
        from .admin import admin_views
        return admin_views()

    @hookimpl
    def on_plugin_enabled(self):
        from .services import ensure_vapid_keys
        ensure_vapid_keys()

    @hookimpl
    def extra_head(self, user):
        # Every page carries the manifest and registers the service worker: the app installs from anywhere.
        from flask import render_template
        from markupsafe import Markup
        return Markup(render_template("webpush/head.html"))

    @hookimpl
    def account_page_panels(self, user):
        from .api import account_panel
        return [account_panel(user)]

    @hookimpl
    def deliver_notification(self, notification):
        from .services import deliver
        deliver(notification)
