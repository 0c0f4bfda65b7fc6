"""Preferences per kind and channel, and the hourly and daily digest run with an explicit ``now``."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk.errors import ValidationFailed
from workdesk.jobs import enabled_jobs, run_due_jobs
from workdesk.models import OutboxEvent
from workdesk.notifications import (DIGEST_KIND, Notification, digest_items, get_preferences, inbox_query, notify,
                                set_preferences, should_deliver, unread_count)
from workdesk.notifications.digest import last_boundary, send_digests

UTC = dt.timezone.utc


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def stored_at(note: Notification, instant: dt.datetime) -> Notification:
    Notification.update(created_at=instant).where(Notification.id == note.id).execute()
    return Notification.get_by_id(note.id)


def test_channels_default_on_and_follow_the_users_choice(make_user):
    user = make_user()
    note = notify(user, "task.assigned", "Assigned")
    assert should_deliver(note, "email") and should_deliver(note, "webhooks")
    set_preferences(user, channels={"task.assigned": {"email": False}})
    assert not should_deliver(note, "email") and should_deliver(note, "webhooks")
    other = notify(user, "task.commented", "Commented")
    assert should_deliver(other, "email")
    # The inbox is always written: preferences only choose the extra channels.
    assert unread_count(user) == 2


def test_preferences_are_validated_and_listed(make_user):
    user = make_user()
    with pytest.raises(ValidationFailed) as exc:
        set_preferences(user, digest="weekly")
    assert exc.value.fields == {"digest": ["One of: off, hourly, daily."]}
    with pytest.raises(ValidationFailed) as exc:
        set_preferences(user, channels={"task.assigned": {"email": "yes"}})
    assert exc.value.fields == {"channels": ["task.assigned.email: expected true or false."]}
    notify(user, "recurring.failed", "A plugin's kind")
    prefs = set_preferences(user, digest="daily")
    assert prefs["digest"] == "daily"
    # Registered kinds, plus any other kind the user has received.
    assert {"task.assigned", "task.commented", "task.status_changed", "task.mentioned",
            "recurring.failed"} <= set(prefs["channels"])
    assert get_preferences(user)["digest"] == "daily"


def test_hourly_digest_waits_for_the_top_of_the_hour_and_summarises_once(make_user):
    user = make_user()
    set_preferences(user, digest="hourly")
    first = stored_at(notify(user, "task.assigned", "Assigned: #1 Boiler"), at("2026-03-02T10:25:00"))
    second = stored_at(notify(user, "task.commented", "Ann commented on #1 Boiler"), at("2026-03-02T10:40:00"))
    assert first.held_for_digest and not should_deliver(first, "email")

    assert send_digests(at("2026-03-02T10:59:59")) == 0
    assert send_digests(at("2026-03-02T11:00:30")) == 1
    assert send_digests(at("2026-03-02T11:01:00")) == 0  # each note belongs to one digest only

    digest = Notification.get(Notification.kind == DIGEST_KIND)
    assert digest.recipient_id == user.id and digest.is_read
    assert digest.subject == "2 notifications since 3/2/2026, 10:25\u202fAM"
    assert digest.body == "- Assigned: #1 Boiler\n- Ann commented on #1 Boiler"
    assert [n.id for n in digest_items(digest)] == [first.id, second.id]
    assert should_deliver(digest, "email")
    assert [e.payload["notification_id"] for e in OutboxEvent.select()].count(digest.id) == 1
    # The summary is not an inbox entry of its own: its items are.
    assert [n.id for n in inbox_query(user)] == [second.id, first.id]


def test_a_digest_carries_only_the_kinds_wanted_on_each_channel(make_user):
    user = make_user()
    set_preferences(user, digest="hourly", channels={"task.commented": {"email": False}})
    stored_at(notify(user, "task.commented", "Comment"), at("2026-03-02T10:10:00"))
    send_digests(at("2026-03-02T11:00:00"))
    digest = Notification.get(Notification.kind == DIGEST_KIND)
    assert digest_items(digest, "email") == [] and not should_deliver(digest, "email")
    assert [n.subject for n in digest_items(digest, "webhooks")] == ["Comment"]
    assert should_deliver(digest, "webhooks")


def test_daily_digest_goes_out_at_eight_in_the_users_time_zone(make_user):
    user = make_user(timezone="Europe/Sofia")  # UTC+2 in March before the DST change
    set_preferences(user, digest="daily")
    stored_at(notify(user, "task.assigned", "One"), at("2026-03-02T09:00:00"))
    stored_at(notify(user, "task.assigned", "Two"), at("2026-03-02T21:00:00"))
    assert send_digests(at("2026-03-03T05:59:00")) == 0   # 07:59 in Sofia
    assert send_digests(at("2026-03-03T06:00:00")) == 1   # 08:00 in Sofia
    assert Notification.get(Notification.kind == DIGEST_KIND).body == "- One\n- Two"


def test_daily_boundary_keeps_local_eight_across_a_dst_change(make_user):
    user = make_user(timezone="Europe/Sofia")
    # Sofia moves to UTC+3 on 2026-03-29: 08:00 local is 06:00 UTC before and 05:00 UTC after.
    assert last_boundary(at("2026-03-28T12:00:00"), "daily", user) == at("2026-03-28T06:00:00")
    assert last_boundary(at("2026-03-30T12:00:00"), "daily", user) == at("2026-03-30T05:00:00")
    assert last_boundary(at("2026-03-30T04:00:00"), "daily", user) == at("2026-03-29T05:00:00")
    assert last_boundary(at("2026-03-30T04:59:00"), "hourly", user) == at("2026-03-30T04:00:00")


def test_turning_the_digest_off_releases_what_was_held(make_user):
    user = make_user()
    set_preferences(user, digest="daily")
    stored_at(notify(user, "task.assigned", "Held"), at("2026-03-02T10:00:00"))
    set_preferences(user, digest="off")
    later = notify(user, "task.assigned", "Immediate")
    assert not later.held_for_digest and should_deliver(later, "email")
    assert send_digests(at("2026-03-02T10:05:00")) == 1


def test_the_digest_is_a_core_periodic_job(make_user):
    assert "core.notification_digest" in enabled_jobs()
    user = make_user()
    set_preferences(user, digest="hourly")
    stored_at(notify(user, "task.assigned", "Held"), at("2026-03-02T10:00:00"))
    assert run_due_jobs(now=at("2026-03-02T11:00:00"))["core.notification_digest"] == "ran"
    assert Notification.select().where(Notification.kind == DIGEST_KIND).count() == 1
