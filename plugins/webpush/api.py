"""JSON API under /api/v1/webpush (the VAPID public key, one's own subscribed devices) and the files an
installable web app needs: the manifest and the service worker (served with scope ``/``)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from workdesk import (NotFound, User, WorkdeskForm, api_blueprint, api_operation, current_user, load_json,
                      login_required, require_api_user)

from . import services
from .schemas import KeyOutput, SubscriptionInput, SubscriptionList, SubscriptionOutput

blueprint = api_blueprint("webpush_api", __name__, url_prefix="/api/v1/webpush")
files = Blueprint("webpush_files", __name__, url_prefix="/webpush")
TAGS = ("webpush",)
STATIC = Path(__file__).parent / "static"


@blueprint.get("/key")
@api_operation("The VAPID public key", tags=TAGS, response=KeyOutput)
def vapid_key():
    """Pass it as ``applicationServerKey`` to ``PushManager.subscribe``."""
    require_api_user()
    return {"public_key": services.public_key()}


@blueprint.get("/subscriptions")
@api_operation("My subscribed devices", tags=TAGS, response=SubscriptionList)
def list_subscriptions():
    user = require_api_user()
    return {"items": [services.subscription_to_dict(s) for s in services.my_subscriptions(user)]}


@blueprint.post("/subscriptions")
@api_operation("Subscribe this device", tags=TAGS, request=SubscriptionInput, response=SubscriptionOutput, status=201)
def subscribe():
    """The browser's ``PushSubscription`` as JSON (``endpoint``, ``keys.p256dh``, ``keys.auth``) and a
    device name. The endpoint must be on a configured push service host; loopback, link-local and private
    addresses are refused unless an admin allows them (422 naming ``endpoint``)."""
    user = require_api_user()
    return services.subscription_to_dict(services.subscribe(user, load_json(SubscriptionInput))), 201


@blueprint.delete("/subscriptions/<id:subscription_id>")
@api_operation("Revoke a device", tags=TAGS, status=204)
def unsubscribe(subscription_id: int):
    services.unsubscribe(require_api_user(), subscription_id)
    return "", 204


@files.get("/sw.js")
def service_worker():
    """The service worker, allowed to control the whole app (``Service-Worker-Allowed: /``)."""
    response = send_file(STATIC / "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@files.get("/manifest.webmanifest")
def manifest():
    """The web app manifest: the team app installs with its name, start page and icons."""
    response = current_app.json.response({
        "name": "Workdesk", "short_name": "Workdesk", "start_url": "/", "scope": "/", "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#1f3a5f", "description": _("Tasks and notifications"),
        "icons": [{"src": "/static/plugins/webpush/icon-192.png", "sizes": "192x192", "type": "image/png"},
                  {"src": "/static/plugins/webpush/icon-512.png", "sizes": "512x512", "type": "image/png",
                   "purpose": "any maskable"}]})
    response.mimetype = "application/manifest+json"
    return response


def account_panel(user: User) -> tuple[str, Markup]:
    """The account page's section (``account_page_panels``): turn notifications on or off for this
    browser, see and revoke one's devices."""
    devices = [services.subscription_to_dict(s) | {"created_at": s.created_at, "endpoint_hash": s.endpoint_hash}
               for s in services.my_subscriptions(user)]
    return _("Notifications on your devices"), Markup(render_template(
        "webpush/account_panel.html", public_key=services.public_key(), devices=devices))


def _account_section() -> str:
    return url_for("web.account", _anchor="webpush")


@files.get("/devices")
def devices():
    """The opt-in lives on the account page now; old links and bookmarks land on its section."""
    return redirect(_account_section())


@files.post("/devices/<int:subscription_id>/revoke")
@login_required
def revoke(subscription_id: int):
    if not WorkdeskForm().validate_on_submit():
        abort(400)
    try:
        services.unsubscribe(current_user(), subscription_id)
    except NotFound:
        abort(404)
    flash(_("The device no longer gets notifications."), "success")
    return redirect(_account_section())
