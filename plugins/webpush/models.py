"""Tables of the webpush plugin: subscribed devices and one delivery row per notification and device."""
from __future__ import annotations

from peewee import CharField, ForeignKeyField, IntegerField, TextField

from workdesk import BaseModel, User, UTCDateTimeField, notifications, utcnow


class Subscription(BaseModel):
    """A browser's push subscription (its endpoint URL and RFC 8291 keys) for one user."""

    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    endpoint = TextField()
    endpoint_hash = CharField(max_length=64, unique=True)  # SHA-256 of the endpoint: one row per browser
    p256dh = CharField(max_length=100)
    auth = CharField(max_length=30)
    device = CharField(max_length=100, default="")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "webpush_subscription"


class PushDelivery(notifications.delivery.DeliveryRecord):
    """One push of one notification to one subscription (``destination`` is the subscription id)."""
    response_status = IntegerField(null=True)

    class Meta:
        table_name = "webpush_delivery"


MODELS = [Subscription, PushDelivery]
