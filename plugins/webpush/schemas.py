"""Settings of the webpush plugin and the schemas of its API."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import Schema
from marshmallow import fields as mf

from workdesk import RetrySettings, Text

DEFAULT_PUSH_HOSTS = ["fcm.googleapis.com", "updates.push.services.mozilla.com", "push.services.mozilla.com",
                      "web.push.apple.com", "notify.windows.com"]


class WebPushSettings(RetrySettings):
    vapid_private_key = mf.String(load_default="", metadata={
        "secret": True, "description": "The VAPID private key (PEM), generated when the plugin is enabled"})
    vapid_public_key = mf.String(load_default="", metadata={
        "description": "The VAPID public key (base64url, uncompressed P-256 point) browsers subscribe with"})
    subject = mf.String(load_default="mailto:admin@example.com", validate=ma.validate.Regexp(
        r"^(mailto:[^@\s]+@[^@\s]+|https://\S+)$", error="A mailto: address or an https:// URL."),
        metadata={"description": "Who push services may contact about these messages (the VAPID `sub`)"})
    push_hosts = mf.List(mf.String(validate=ma.validate.Length(1, 253)), load_default=lambda: list(DEFAULT_PUSH_HOSTS),
                         metadata={"description": "Push service hosts (and their subdomains) subscriptions may "
                                                  "point to; anything else is refused"})
    allow_private_destinations = mf.Boolean(load_default=False, metadata={
        "description": "Allow subscription endpoints on loopback, link-local or private addresses (and plain http)"})
    ttl_seconds = mf.Integer(load_default=86400, validate=ma.validate.Range(0, 2419200),
                             metadata={"description": "How long a push service keeps an undelivered message"})
    timeout_seconds = mf.Float(load_default=10.0, validate=ma.validate.Range(0.1, 120),
                               metadata={"description": "Give up on an unresponsive push service after this long"})
    max_attempts = mf.Integer(load_default=8, validate=ma.validate.Range(1, 20),
                              metadata={"description": RetrySettings.AT_LEAST_ONCE_HELP})


class KeysInput(Schema):
    p256dh = Text(required=True, min_length=1, max_length=100, metadata={"description": "base64url P-256 point"})
    auth = Text(required=True, min_length=1, max_length=30, metadata={"description": "base64url 16 bytes"})


class SubscriptionInput(Schema):
    endpoint = Text(required=True, min_length=10, max_length=2000)
    keys = mf.Nested(KeysInput, required=True)
    device = Text(max_length=100, metadata={"description": "A name to recognise the device by"})


class SubscriptionOutput(Schema):
    id = mf.Integer()
    device = mf.String()
    endpoint_host = mf.String()
    created_at = mf.String()


class SubscriptionList(Schema):
    items = mf.List(mf.Nested(SubscriptionOutput))


class KeyOutput(Schema):
    public_key = mf.String(metadata={"description": "applicationServerKey for PushManager.subscribe"})
