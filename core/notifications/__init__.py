"""In-app notifications: the one path by which the core and every plugin reach a person.

``notify()`` stores the notification in the recipient's inbox inside the caller's transaction and
emits a ``notification.created`` outbox event; delivery plugins (email, webhooks, ...) receive it on a
worker after commit through the ``deliver_notification`` hook and ask :func:`should_deliver` whether
the recipient wants it on their channel now (preferences per kind and channel, quiet digest).

The inbox itself is always written: preferences only choose the extra channels.
"""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from flask import current_app, has_app_context, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import BooleanField, Case, CharField, ForeignKeyField, IntegerField, TextField, fn

from .. import outbox
from ..db import BaseModel, UTCDateTimeField, hot_query, utcnow, write_transaction
from ..errors import NotFound, ValidationFailed
from ..models import Task, User

DIGEST_KIND = "notifications.digest"
DIGEST_MODES = ("off", "hourly", "daily")
# The core's own kinds a user can choose channels for: kind -> label (plugins declare theirs through
# the register_notification_kinds hook).
KINDS: dict[str, object] = {}


class _ShownText:
    """``note.subject`` / ``note.body``: the words rendered now for whoever reads them (see
    :mod:`.messages`); on the class, the stored column, so queries filter the text as stored."""

    def __init__(self, part: str, stored: str) -> None:
        self.part, self.stored = part, stored

    def __get__(self, note, owner=None):
        if note is None:
            return getattr(owner, self.stored)
        return note.rendered(self.part)

    def __set__(self, note, value) -> None:
        setattr(note, self.stored, value)


class Notification(BaseModel):
    recipient = ForeignKeyField(User, backref="notifications", on_delete="CASCADE")
    kind = CharField(max_length=64)
    # The text as it read when stored, in the recipient's language then: what a row written before
    # ``message`` existed shows, and what a query filters on.
    stored_subject = CharField(max_length=300, column_name="subject")
    stored_body = TextField(default="", column_name="body")
    # The subject and body as message ids with their values (JSON, see .messages), rendered each time
    # the note is shown or sent, in the reader's current language and time zone. None: plain text only.
    message = TextField(null=True)
    task_id = IntegerField(null=True, index=True)  # plain column: the note outlives a deleted task
    created_at = UTCDateTimeField(default=utcnow, index=True)
    read_at = UTCDateTimeField(null=True)
    is_read = BooleanField(default=False, index=True)
    # Set by callers that may run twice for one cause (event handlers): a repeat finds the first note.
    dedupe_key = CharField(max_length=100, null=True)
    # Decided when the note is stored: the recipient had a quiet digest, so channels wait for it.
    held_for_digest = BooleanField(default=False)
    # The digest notification that summarised this held note (None while it waits).
    digest_id = IntegerField(null=True, index=True)

    class Meta:
        table_name = "core_notification"
        indexes = ((("recipient", "dedupe_key"), True),)

    subject = _ShownText("subject", "stored_subject")
    body = _ShownText("body", "stored_body")

    def rendered(self, part: str) -> str:
        """``part`` (subject or body) in its reader's words now: the language of the request when its user
        is the recipient (what the page around it is in), else the recipient's; their time zone."""
        stored = self.stored_subject if part == "subject" else self.stored_body
        if self.kind == DIGEST_KIND and part == "body" and self.message:
            return "\n".join(f"- {item.subject}" for item in digest_items(self))
        if not self.message:
            return stored
        from .messages import thaw_part
        reader = _request_user()
        if reader is not None and reader.id == self.recipient_id:  # no query per note for the inbox's own reader
            text = thaw_part(self.message, part, reader.zone)
        else:
            recipient = self.recipient
            with in_language_of(recipient):
                text = thaw_part(self.message, part, recipient.zone)
        if text is None:
            return stored
        return text[:300] if part == "subject" else text

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "subject": self.subject, "body": self.body,
                "task_id": self.task_id, "created_at": self.created_at.isoformat(),
                "is_read": self.is_read, "read_at": self.read_at.isoformat() if self.read_at else None}


class NotificationPreference(BaseModel):
    """A user's choice for one kind on one delivery channel; no row means the channel is on."""
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    kind = CharField(max_length=64)
    channel = CharField(max_length=100)
    enabled = BooleanField(default=True)

    class Meta:
        table_name = "core_notification_preference"
        indexes = ((("user", "kind", "channel"), True),)


class NotificationSettings(BaseModel):
    """Per-user delivery settings: ``digest`` is off, hourly or daily."""
    user = ForeignKeyField(User, unique=True, backref="+", on_delete="CASCADE")
    digest = CharField(max_length=16, default="off")

    class Meta:
        table_name = "core_notification_settings"


MODELS = [Notification, NotificationPreference, NotificationSettings]


def register_kind(kind: str, label) -> None:
    """Offer the core's ``kind`` in everyone's notification preferences under ``label`` (a lazy string)."""
    KINDS[kind] = label


def notification_kinds() -> dict[str, object]:
    """Every kind a person can choose channels for: the core's, then each enabled plugin's."""
    from ..registry import get_registry
    kinds = dict(KINDS)
    for plugin, pair in get_registry().collect("register_notification_kinds"):
        if isinstance(pair, (tuple, list)) and len(pair) == 2 and str(pair[0]).startswith(f"{plugin}."):
            kinds.setdefault(str(pair[0]), pair[1])
        else:
            from ..registry import record_error
            record_error(plugin, f"register_notification_kinds returned {pair!r}: expected "
                                 f"('{plugin}.<kind>', label)")
    return kinds


# -- storing ----------------------------------------------------------------------------------

def notify(recipient: User, kind: str, subject: str, body: str = "", task: Task | None = None, *,
           dedupe_key: str | None = None) -> Notification | None:
    """Put a notification in ``recipient``'s inbox and hand it to every enabled delivery plugin after commit.

    ``subject`` and ``body`` are rendered in the recipient's language: pass lazy strings
    (``lazy_gettext("... %(task)s", task=...)``, labels such as ``STATUS_LABELS[key]`` as values) and
    each recipient, the delegate too, reads them in their own language.

    When the recipient is away (``workdesk.absences``) and their absence names a delegate, the delegate
    is told too, through this same path and so under the delegate's own preferences: the same kind, the
    subject saying for whom. Only when the delegate may see the task, and only one hop (a delegate's own
    delegate is not told).

    :param kind: a dotted name (``task.assigned``, ``recurring.failed``) that preferences refer to.
    :param dedupe_key: when given, a second call with the same key for the same recipient returns the
        first notification instead of storing another (handlers that may run twice use the event id).
    :return: the stored notification, or None when the recipient is inactive.
    """
    return _store(recipient, kind, subject, body, task, dedupe_key, inform_delegate=True)


def _store(recipient: User, kind: str, subject: str, body: str, task: Task | None, dedupe_key: str | None,
           inform_delegate: bool) -> Notification | None:
    if recipient is None or not recipient.is_active:
        return None
    from .messages import freeze_parts
    with in_language_of(recipient):
        text_subject, text_body = str(subject), str(body or "")
    message = freeze_parts(subject=subject, body=body or "")
    with write_transaction():
        if dedupe_key is not None:
            existing = next(iter(hot_query(Notification, "notification_by_dedupe_key", lambda: Notification.select()
                                           .where((Notification.recipient == 0) & (Notification.dedupe_key == "")),
                                           recipient.id, dedupe_key)), None)
            if existing is not None:
                return existing
        note = Notification.create(recipient=recipient, kind=kind, subject=text_subject[:300], body=text_body,
                                   message=message,
                                   task_id=task.id if task is not None else None, dedupe_key=dedupe_key,
                                   held_for_digest=digest_mode(recipient) != "off")
        outbox.emit("notification.created", {"notification_id": note.id})
        if inform_delegate and kind != DIGEST_KIND:
            _inform_delegate(recipient, kind, subject, body, task, dedupe_key)
    return note


def _request_user() -> User | None:
    """The user of the current request, if any (their page's language is the one to render in)."""
    if not has_request_context():
        return None
    from ..auth import current_user
    return current_user()


_messages_app = None


def _worker_messages_app():
    """A bare Flask app holding only the catalogs (the core's and the usable plugins'), made once: a worker
    runs without the web app, yet writes notifications that must be in their readers' languages."""
    global _messages_app
    if _messages_app is None:
        from flask import Flask

        from ..app import translation_directories
        from ..extensions import babel
        from ..registry import get_registry
        app = Flask("workdesk-messages")
        app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_directories(get_registry()))
        babel.init_app(app)
        _messages_app = app
    return _messages_app


@contextmanager
def in_language_of(user: User | None) -> Iterator[None]:
    """Render what follows in ``user``'s language (their account's choice, else the site's
    ``default_locale``), for text stored for them to read later: a notification's subject is written
    once, in its reader's words, never in the actor's. Works in the web app and in a worker alike."""
    from ..extensions import LANGUAGES
    chosen = user.locale if user is not None and user.locale in LANGUAGES else None
    if has_app_context():  # the web app, or the worker's messages app when calls nest
        with force_locale(chosen or _site_setting("default_locale")):
            yield
        return
    with _worker_messages_app().app_context(), force_locale(chosen or _default_locale):
        yield


def _site_setting(name: str) -> str:
    """``base_url`` or ``default_locale``: the web app's settings, or in a worker (whose messages app has
    none) what :func:`configure` was given."""
    settings = current_app.config.get("WORKDESK") if has_app_context() else None
    return settings[name] if settings else {"base_url": _base_url, "default_locale": _default_locale}[name]


def _inform_delegate(recipient: User, kind: str, subject: str, body: str, task: Task | None,
                     dedupe_key: str | None) -> None:
    from ..access import can_see
    from ..services.absences import delegate_for
    delegate = delegate_for(recipient)
    if delegate is None or delegate.id == recipient.id or (task is not None and not can_see(delegate, task)):
        return
    key = None
    if dedupe_key is not None:
        key = f"for:{recipient.id}:{dedupe_key}"
        if len(key) > 100:
            key = f"for:{recipient.id}:" + hashlib.sha256(dedupe_key.encode()).hexdigest()[:64]
    _store(delegate, kind, _l("For %(name)s, who is away: %(subject)s", name=recipient.name, subject=subject), body,
           task, key, inform_delegate=False)


def _delivery_kwargs(event) -> dict | None:
    # The recipient is read with it: every delivery channel asks who it is and whether they are active.
    note = (Notification.select(Notification, User).join(User, on=(Notification.recipient == User.id))
            .where(Notification.id == event.payload["notification_id"]).first())
    return {"notification": note} if note is not None else None


outbox.register_event_kind("notification.created", "deliver_notification", _delivery_kwargs)


# -- the inbox --------------------------------------------------------------------------------

def inbox_query(user: User, unread_only: bool = False):
    """The user's inbox, newest first. Digest summaries are left out: their items are listed themselves."""
    query = (Notification.select().where((Notification.recipient == user) & (Notification.kind != DIGEST_KIND))
             .order_by(Notification.id.desc()))
    return query.where(Notification.is_read == False) if unread_only else query  # noqa: E712


def unread_count(user: User) -> int:
    return inbox_query(user, unread_only=True).count()


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of the user's own notifications read; someone else's is NotFound (no existence leak)."""
    try:
        notification_id = int(notification_id)
    except (TypeError, ValueError):
        raise NotFound(_("No such notification.")) from None
    with write_transaction():
        note = Notification.get_or_none((Notification.id == notification_id) & (Notification.recipient == user))
        if note is None:
            raise NotFound(_("No such notification."))
        if not note.is_read:
            note.is_read, note.read_at = True, utcnow()
            note.save(only=[Notification.is_read, Notification.read_at])
    return note


def mark_task_read(user: User, task_id: int) -> int:
    """Mark the user's unread notifications about one task read (opening the task reads them); returns how
    many changed. Writes nothing when none is unread, so showing a task stays a read."""
    unread = ((Notification.recipient == user) & (Notification.task_id == task_id)
              & (Notification.is_read == False))  # noqa: E712
    if not Notification.select(Notification.id).where(unread).exists():
        return 0
    with write_transaction():
        return Notification.update(is_read=True, read_at=utcnow()).where(unread).execute()


@dataclass
class InboxLine:
    """One line of the inbox: every notification about one task (or a notification about none), the
    newest standing for them."""
    latest: Notification
    count: int
    unread: int
    task: Task | None  # the task as it is now, when the reader may still see it


def inbox_lines(user: User, before: int | None = None, limit: int = 50) -> tuple[list[InboxLine], int | None]:
    """The inbox grouped per task, the line with the newest notification first; ``before`` continues after
    a line whose newest notification had that id. Returns the lines and the ``before`` of the next page.

    Counted in SQL (one grouped query, then one query for the newest notifications and one for the tasks).
    """
    from ..access import visible_tasks
    key = fn.COALESCE(Notification.task_id, Notification.id * -1)  # a note about no task is a line of its own
    newest = fn.MAX(Notification.id)
    query = (Notification.select(newest.alias("latest"), fn.COUNT(Notification.id).alias("n"),
                                 fn.SUM(Case(None, [(Notification.is_read == False, 1)], 0)).alias("unread"))  # noqa: E712
             .where((Notification.recipient == user) & (Notification.kind != DIGEST_KIND))
             .group_by(key).order_by(newest.desc()).limit(limit + 1))
    if before:
        query = query.having(newest < before)
    rows = list(query.tuples())
    more = len(rows) > limit
    rows = rows[:limit]
    notes = {n.id: n for n in Notification.select().where(Notification.id.in_([r[0] for r in rows]))} if rows else {}
    task_ids = {n.task_id for n in notes.values() if n.task_id is not None}
    tasks = {t.id: t for t in visible_tasks(user).where(Task.id.in_(task_ids))} if task_ids else {}
    lines = [InboxLine(notes[latest], int(count), int(unread or 0), tasks.get(notes[latest].task_id))
             for latest, count, unread in rows]
    return lines, (rows[-1][0] if more else None)


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    with write_transaction():
        return (Notification.update(is_read=True, read_at=utcnow())
                .where((Notification.recipient == user) & (Notification.is_read == False))  # noqa: E712
                .execute())


# -- preferences ------------------------------------------------------------------------------

def delivery_channels() -> list[tuple[str, str]]:
    """``(plugin name, title)`` of every enabled plugin that delivers notifications."""
    from ..registry import get_registry
    registry = get_registry()
    return [(name, type(registry.get(name)).title()) for name in registry.implementers("deliver_notification")]


def preference_kinds(user: User) -> list[tuple[str, object]]:
    """Registered kinds plus any other kind the user has received, as ``(kind, label)``."""
    kinds = notification_kinds()
    received = (Notification.select(Notification.kind).distinct()
                .where((Notification.recipient == user) & (Notification.kind != DIGEST_KIND)))
    for row in received:
        kinds.setdefault(row.kind, row.kind)
    return sorted(kinds.items(), key=lambda pair: pair[0])


def digest_mode(user: User) -> str:
    row = next(iter(hot_query(NotificationSettings, "notification_settings_of_user", lambda: NotificationSettings
                              .select().where(NotificationSettings.user == 0), user.id)), None)  # per notification
    return row.digest if row else "off"


def channel_enabled(user: User, kind: str, channel: str) -> bool:
    # Asked by every delivery channel for every notification: the SQL is generated once.
    row = next(iter(hot_query(NotificationPreference, "notification_preference", lambda: NotificationPreference
                              .select(NotificationPreference.enabled)
                              .where((NotificationPreference.user == 0) & (NotificationPreference.kind == "")
                                     & (NotificationPreference.channel == "")), user.id, kind, channel)), None)
    return True if row is None else bool(row.enabled)


def get_preferences(user: User) -> dict:
    """``{"digest": mode, "channels": {kind: {channel: bool}}}`` for the known kinds and enabled channels."""
    channels = [name for name, _title in delivery_channels()]
    return {"digest": digest_mode(user),
            "channels": {kind: {ch: channel_enabled(user, kind, ch) for ch in channels}
                         for kind, _label in preference_kinds(user)}}


def set_preferences(user: User, digest: str | None = None,
                    channels: dict[str, dict[str, bool]] | None = None) -> dict:
    """Change the user's digest mode and/or per-kind channel choices (only the ones given)."""
    if digest is not None and digest not in DIGEST_MODES:
        raise ValidationFailed(_("Invalid value."), {"digest": [_("One of: %(modes)s.", modes=", ".join(DIGEST_MODES))]})
    errors: dict[str, list[str]] = {}
    for kind, choices in (channels or {}).items():
        if not isinstance(kind, str) or not kind or len(kind) > 64 or not isinstance(choices, dict):
            errors.setdefault("channels", []).append(_("%(kind)s: expected {channel: true or false}.", kind=kind))
            continue
        for channel, enabled in choices.items():
            if not isinstance(channel, str) or not channel or len(channel) > 100 or not isinstance(enabled, bool):
                errors.setdefault("channels", []).append(_("%(kind)s.%(channel)s: expected true or false.",
                                                                       kind=kind, channel=channel))
    if errors:
        raise ValidationFailed(_("Invalid value."), errors)
    with write_transaction():
        if digest is not None:
            (NotificationSettings.insert(user=user, digest=digest)
             .on_conflict(conflict_target=[NotificationSettings.user],
                          update={NotificationSettings.digest: digest}).execute())
        for kind, choices in (channels or {}).items():
            for channel, enabled in choices.items():
                (NotificationPreference.insert(user=user, kind=kind, channel=channel, enabled=enabled)
                 .on_conflict(conflict_target=[NotificationPreference.user, NotificationPreference.kind,
                                               NotificationPreference.channel],
                              update={NotificationPreference.enabled: enabled}).execute())
    return get_preferences(user)


# -- what delivery plugins ask ------------------------------------------------------------------

def digest_items(notification: Notification, channel: str | None = None) -> list[Notification]:
    """The notes a digest summarises, oldest first; with ``channel``, only those the user wants there."""
    items = list(Notification.select().where(Notification.digest_id == notification.id)
                 .order_by(Notification.created_at, Notification.id))
    if channel is None:
        return items
    return [item for item in items if channel_enabled(notification.recipient, item.kind, channel)]


def should_deliver(notification: Notification, channel: str) -> bool:
    """Whether delivery plugin ``channel`` should send ``notification`` now.

    False when the recipient switched this kind off for the channel, when the note waits for the
    recipient's digest, or (for a digest) when none of its items is wanted on the channel.
    """
    if not notification.recipient.is_active:
        return False
    if notification.kind == DIGEST_KIND:
        return bool(digest_items(notification, channel))
    if notification.held_for_digest:
        return False
    return channel_enabled(notification.recipient, notification.kind, channel)


_base_url = "http://127.0.0.1:5000"


_default_locale = "en"


def configure(settings: dict) -> None:
    """Called by ``init_runtime``: a worker has no Flask app to read ``base_url`` from."""
    global _base_url, _default_locale
    _base_url, _default_locale = settings["base_url"], settings["default_locale"]


def reply_address(task: Task, user: User) -> str | None:
    """Where replies to a notification about ``task`` for ``user`` go, as the first enabled plugin that
    takes replies in says (``reply_address`` hook), or None."""
    from ..registry import PluginFailed, get_registry
    for _plugin, answer in get_registry().decide("reply_address", task=task, user=user):
        if isinstance(answer, str) and answer and not isinstance(answer, PluginFailed):
            return answer
    return None


def report_bounce(message_id: str, reason: str) -> bool:
    """Tell the plugin that sent ``message_id`` that it bounced (``delivery_bounced`` hook); returns
    whether a plugin recognised it."""
    from ..registry import PluginFailed, get_registry
    for _plugin, answer in get_registry().decide("delivery_bounced", message_id=message_id, reason=reason):
        if answer is True and not isinstance(answer, PluginFailed):
            return True
    return False


def base_url() -> str:
    """The instance's public address (setting ``base_url``), without a trailing slash."""
    return _site_setting("base_url").rstrip("/")


def task_path(task_id: int) -> str:
    return f"/tasks/{task_id}"


def task_url(task_id: int | None) -> str | None:
    """Absolute link to a task page for messages sent out of the app (email, chat)."""
    return f"{base_url()}{task_path(task_id)}" if task_id is not None else None


def inbox_url() -> str:
    return f"{base_url()}/notifications"


from . import delivery, digest, events  # noqa: E402,F401  (subscribe the built-in handlers, register the digest job)

__all__ = ["Notification", "NotificationPreference", "NotificationSettings", "notify", "register_kind",
           "inbox_query", "unread_count", "mark_read", "mark_all_read", "mark_task_read", "inbox_lines", "InboxLine",
           "in_language_of", "delivery_channels", "get_preferences",
           "set_preferences", "should_deliver", "digest_items", "task_url", "inbox_url", "base_url",
           "DIGEST_KIND", "DIGEST_MODES", "delivery"]
