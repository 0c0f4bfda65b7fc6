"""The webhooks plugin's table: one row per notification and endpoint (delivery log and dead letters)."""
from __future__ import annotations

from peewee import CharField, IntegerField

from workdesk import notifications


class WebhookDelivery(notifications.delivery.DeliveryRecord):
    """One POST of one notification to one endpoint (``destination`` is the endpoint's name)."""
    url = CharField(max_length=2000, default="")
    response_status = IntegerField(null=True)

    class Meta:
        table_name = "webhooks_delivery"


MODELS = [WebhookDelivery]
