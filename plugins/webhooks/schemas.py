"""The webhooks plugin's settings: the endpoints, the private-network switch, timeouts and retries."""
from __future__ import annotations

import marshmallow as ma

from workdesk import RetrySettings

FORMATS = ("raw", "slack", "mattermost")


class Endpoint(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Regexp(
        r"^[a-z0-9][a-z0-9_-]{0,63}$", error="Lower-case letters, digits, - and _ (at most 64)."),
        metadata={"key": True})  # a saved endpoint keeps its secret by name
    url = ma.fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    format = ma.fields.String(load_default="raw", validate=ma.validate.OneOf(FORMATS))
    secret = ma.fields.String(required=True, validate=ma.validate.Length(16, 256),
                              metadata={"description": "HMAC-SHA256 key shared with the receiver", "secret": True})
    kinds = ma.fields.List(ma.fields.String(validate=ma.validate.Length(1, 64)), load_default=list,
                           metadata={"description": "Notification kinds to send; empty: all"})


class WebhooksSettings(RetrySettings):
    endpoints = ma.fields.Nested(Endpoint, many=True, load_default=list, metadata={
        "description": 'JSON list, e.g. [{"name": "ops-chat", "url": "https://chat.example.com/hooks/abc", '
                       '"format": "mattermost", "secret": "at least 16 characters", "kinds": []}] '
                       '(at least one is needed to enable the plugin; a secret reads "********": leave it so '
                       'to keep the stored one)',
        "required_to_enable": True})
    allow_private_destinations = ma.fields.Boolean(load_default=False, metadata={
        "description": "Allow URLs that resolve to addresses that are not globally routable: loopback, "
                       "link-local, private, site-local, unique-local, and IPv6 forms carrying one (off: refused)"})
    timeout_seconds = ma.fields.Float(load_default=10.0, validate=ma.validate.Range(0.1, 120),
                                      metadata={"description": "Give up on an unresponsive receiver after this long"})
    max_attempts = ma.fields.Integer(load_default=8, validate=ma.validate.Range(1, 20),
                                     metadata={"description": RetrySettings.AT_LEAST_ONCE_HELP})

    @ma.validates_schema
    def _unique_names(self, data, **kwargs):
        names = [endpoint["name"] for endpoint in data.get("endpoints") or []]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ma.ValidationError(f"Endpoint names must be unique: {', '.join(duplicates)}.", "endpoints")
