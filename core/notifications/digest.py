"""The quiet digest: notes held for a user go out as one summary per hour or per day.

A held note waits until the first digest boundary after it was stored (the top of the hour, or
08:00 in the recipient's time zone), so a user with an hourly digest hears at most once an hour.
The summary is itself a notification of kind ``notifications.digest`` (already read, not listed in
the inbox since its items are), delivered to the channels through the usual hook.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_ngettext

from .. import outbox
from ..db import write_transaction
from ..jobs import PeriodicJob, register_core_job
from ..models import User
from . import DIGEST_KIND, Notification, digest_mode, in_language_of
from .messages import LocalInstant, freeze, freeze_parts, thaw

DAILY_DIGEST_HOUR = 8


def _zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def last_boundary(now: dt.datetime, mode: str, user: User) -> dt.datetime:
    """The latest digest boundary at or before ``now`` for ``user``: ``now`` itself when digests are off
    (whatever is still held goes out at once)."""
    if mode == "off":
        return now
    local = now.astimezone(_zone(user))
    if mode == "hourly":
        start = local.replace(minute=0, second=0, microsecond=0)
    else:
        start = local.replace(hour=DAILY_DIGEST_HOUR, minute=0, second=0, microsecond=0)
        if start > local:
            start -= dt.timedelta(days=1)
        # Rebuild from the wall-clock date so a DST change between the two days keeps 08:00 local.
        start = dt.datetime.combine(start.date(), dt.time(DAILY_DIGEST_HOUR), tzinfo=_zone(user))
    return start.astimezone(dt.timezone.utc)


def _pending(user_id: int, now: dt.datetime):
    return (Notification.select()
            .where((Notification.recipient == user_id) & (Notification.held_for_digest == True)  # noqa: E712
                   & Notification.digest_id.is_null() & (Notification.created_at <= now))
            .order_by(Notification.created_at, Notification.id))


def send_digests(now: dt.datetime, since: dt.datetime | None = None) -> int:
    """Summarise every user's held notes that are due as of ``now``; returns how many digests were made.

    Safe to run any number of times: a note belongs to exactly one digest, set in the same
    transaction that creates the digest.
    """
    made = 0
    waiting = (Notification.select(Notification.recipient).distinct()
               .where((Notification.held_for_digest == True) & Notification.digest_id.is_null()  # noqa: E712
                      & (Notification.created_at <= now)))
    for row in waiting:
        user = User.get_by_id(row.recipient_id)
        mode = digest_mode(user)
        with write_transaction():
            items = list(_pending(user.id, now))
            if not items or items[0].created_at > last_boundary(now, mode, user) or not user.is_active:
                continue
            # Rendered whenever it is shown or sent: the reader's language, date format and time zone then.
            subject = lazy_ngettext("%(num)d notification since %(start)s", "%(num)d notifications since %(start)s",
                                    len(items), start=LocalInstant(items[0].created_at))
            with in_language_of(user):
                stored_subject = thaw(freeze(subject), _zone(user))
            digest = Notification.create(
                recipient=user, kind=DIGEST_KIND, is_read=True, read_at=now, created_at=now, subject=stored_subject,
                body="\n".join(f"- {item.subject}" for item in items), message=freeze_parts(subject=subject))
            (Notification.update(digest_id=digest.id)
             .where(Notification.id.in_([item.id for item in items])).execute())
            outbox.emit("notification.created", {"notification_id": digest.id})
            made += 1
    return made


register_core_job("core", PeriodicJob("notification_digest", send_digests, dt.timedelta(minutes=1),
                                      "Send hourly and daily notification digests"))
