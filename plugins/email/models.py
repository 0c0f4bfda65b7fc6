"""The email plugin's table: one row per notification and address (its delivery log)."""
from __future__ import annotations

from workdesk import notifications


class EmailDelivery(notifications.delivery.DeliveryRecord):
    """One message to one address; unique per notification and address, so it is sent once."""

    class Meta:
        table_name = "email_delivery"


MODELS = [EmailDelivery]
