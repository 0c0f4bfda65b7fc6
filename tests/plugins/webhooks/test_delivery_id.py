"""At-least-once webhooks: a POST the receiver kept but whose answer was lost is sent again, with the
same ``X-Workdesk-Delivery`` id for the receiver to drop the repeat."""
from __future__ import annotations

import datetime as dt

from workdesk.notifications import notify
from workdesk.plugins.webhooks.models import WebhookDelivery
from workdesk.plugins.webhooks.services import deliver_due

from .conftest import endpoint


def test_a_retried_post_carries_the_same_delivery_id(http_receiver, enable_plugin, make_user, drain_events):
    receiver = http_receiver(lost_replies=1)
    enable_plugin("webhooks", endpoints=[endpoint(receiver)], allow_private_destinations=True, timeout_seconds=2,
                  retry_base_seconds=10)
    note = notify(make_user(), "x.test", "Twice at most")
    drain_events()
    row = WebhookDelivery.get()
    assert row.status == "retry" and len(receiver.received) == 1
    assert deliver_due(row.next_attempt_at) == 1

    ids = [headers["X-Workdesk-Delivery"] for _path, headers, _body in receiver.received]
    assert ids == [f"{note.id}:ops"] * 2
    assert [body["notification"]["id"] for body in receiver.bodies()] == [note.id] * 2
    assert deliver_due(row.next_attempt_at + dt.timedelta(days=1)) == 0 and len(receiver.received) == 2


def test_docs_and_settings_promise_at_least_once_with_the_ids(workdesk_app):
    from pathlib import Path

    from workdesk.registry import get_registry
    root = Path(__file__).resolve().parents[3]
    for doc in ("README.md", "docs/notifications.md"):
        text = (root / doc).read_text()
        assert "at most once per notification" not in text and "at least once" in text, doc
        assert "Message-ID" in text and "X-Workdesk-Delivery" in text, doc
    for name in ("email", "webhooks"):
        plugin = get_registry().get(name)
        assert "at least once" in plugin.settings_schema().fields["max_attempts"].metadata["description"]
        assert "at least once" in type(plugin).__doc__
