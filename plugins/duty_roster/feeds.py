"""iCalendar feeds of shifts behind revocable secret URLs, written with the ``icalendar`` package.

A feed is read by calendar programs without a login, so its URL is the credential: a random token of
which only the SHA-256 is stored (shown once, at creation), checked on every read together with the
owner still being active and still allowed to see the department. Revoking a feed ends its URL.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import icalendar
from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime as babel_format_datetime
from flask import Blueprint, Response, abort, current_app
from flask_babel import get_locale
from flask_babel import gettext as _

from workdesk import NotFound, User, dates, utcnow, write_transaction

from . import services
from .models import Feed

# The period a feed shows: a month back, two months ahead.
PAST, AHEAD = dt.timedelta(days=30), dt.timedelta(days=61)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(token: str) -> str:
    return f"{current_app.config['WORKDESK']['base_url'].rstrip('/')}/duty/feeds/{token}.ics"


def create_feed(actor: User, department_id: int | None = None) -> tuple[Feed, str]:
    """A new feed of the actor's own shifts, or of a department's roster they may see; the token is
    returned this once."""
    department = services.visible_department(actor, department_id) if department_id is not None else None
    token = secrets.token_urlsafe(32)
    with write_transaction():
        feed = Feed.create(user=actor, department=department, token_hash=_hash(token))
    return feed, token


def list_feeds(actor: User) -> list[Feed]:
    return list(Feed.select().where((Feed.user == actor) & Feed.revoked_at.is_null()).order_by(Feed.id))


def revoke_feed(actor: User, feed_id: Any) -> None:
    with write_transaction():
        feed = Feed.get_or_none((Feed.id == feed_id) & (Feed.user == actor) & Feed.revoked_at.is_null())
        if feed is None:
            raise NotFound(_("No such feed."))
        feed.revoked_at = utcnow()
        feed.save()


def feed_to_dict(feed: Feed, token: str | None = None) -> dict[str, Any]:
    answer = {"id": feed.id, "department_id": feed.department_id, "created_at": feed.created_at.isoformat()}
    if token is not None:
        answer["url"] = feed_url(token)
    return answer


def feed_for_token(token: str) -> Feed:
    """The live feed of a token; NotFound for an unknown or revoked one, or one whose owner may no longer
    read it (deactivated, or out of the department)."""
    feed = Feed.get_or_none((Feed.token_hash == _hash(token)) & Feed.revoked_at.is_null())
    if feed is None or not feed.user.is_active or (
            feed.department_id is not None and not services.can_see_department(feed.user, feed.department_id)):
        raise NotFound(_("No such feed."))
    return feed


def _summary(slot: dict[str, Any]) -> str:
    if slot["kind"] == "nobody":
        return _("Nobody on duty (%(rotation)s)", rotation=slot["rotation_name"])
    if slot["kind"] == "absent":
        return _("Uncovered: %(person)s is away (%(rotation)s)", person=slot["user_name"],
                 rotation=slot["rotation_name"])
    return _("On duty: %(person)s (%(rotation)s)", person=slot["user_name"], rotation=slot["rotation_name"])


def _owner_time(instant: dt.datetime, owner: User) -> str:
    """An instant in the feed owner's zone and language's one format, the pages' (``workdesk.dates.instant_pattern``:
    a four-digit year); a feed is read without a session."""
    try:
        locale = Locale.parse(owner.locale) if owner.locale else get_locale()
    except (ValueError, UnknownLocaleError):
        locale = get_locale()
    return babel_format_datetime(instant, dates.instant_pattern(str(locale)), tzinfo=owner.zone, locale=locale)


def calendar(feed: Feed, now: dt.datetime | None = None) -> bytes:
    """The feed's iCalendar document: one event per slot of the roster from a month back to two months
    ahead, in UTC, with UIDs that stay the same for the same slot."""
    now = now or utcnow()
    # From a midnight (UTC): a slot cut at the start keeps its UID through the day's reads.
    start = (now - PAST).replace(hour=0, minute=0, second=0, microsecond=0)
    end = now + AHEAD
    owner = feed.user
    if feed.department_id is not None:
        pieces, _gaps = services.department_roster(feed.department_id, start, end)
        name = _("Duty roster: %(department)s", department=feed.department.name)
    else:
        pieces = [p for department in services.department_ids(owner)
                  for p in services.department_roster(department, start, end)[0] if p.user_id == owner.id]
        name = _("My duty: %(person)s", person=owner.name)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Workdesk//duty_roster//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for piece, slot in zip(pieces, services.pieces_to_dicts(pieces)):
        event = icalendar.Event()
        event.add("uid", f"duty-{piece.rotation_id}-{int(piece.start.timestamp())}-{piece.user_id or 0}"
                         f"-{piece.kind}@workdesk")
        event.add("dtstamp", now)
        event.add("dtstart", piece.start)
        event.add("dtend", piece.end)
        event.add("summary", _summary(slot))
        # Calendars show DTSTART in their own zone; the description says the shift in the owner's.
        event.add("description", _("%(start)s – %(end)s (%(zone)s)", start=_owner_time(piece.start, owner),
                                   end=_owner_time(piece.end, owner), zone=owner.zone.key))
        event.add("categories", [piece.kind])
        cal.add_component(event)
    return cal.to_ical()


def serve(token: str) -> Response:
    """The public answer to a feed URL: the calendar, or 404 for a token that is not (or no longer) live."""
    try:
        feed = feed_for_token(token)
    except NotFound:
        abort(404)
    response = Response(calendar(feed), mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


pages = Blueprint("duty_roster_feeds", __name__)
pages.add_url_rule("/duty/feeds/<token>.ics", "feed", serve)
