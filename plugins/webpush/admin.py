"""The webpush plugin's admin views: the delivery log and the dead letters with a retry button."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from workdesk import delivery_admin_views

from .models import PushDelivery


def admin_views() -> list:
    return delivery_admin_views(PushDelivery, "webpush", _l("Web Push"))
