"""Taking mail in: each new message of each mailbox becomes a task, or a comment on the task it answers,
exactly once.

Exactly once rests on the ledger (``IntakeMessage``): its row is the first write of the transaction
that files the task or the comment, and it is unique per mailbox and Message-ID. A worker killed before
the commit leaves nothing, and the message is read again (the cursor and the \\Seen flag move only after
the commit); a worker killed after it, or a second worker reading the same message, runs into the
existing row and files nothing.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import imaplib
import logging

from flask_babel import gettext as _
from peewee import IntegrityError, fn

from workdesk import (DONE_STATUSES, Attachment, Notification, Role, Task, User, WorkdeskError, notifications, notify, outbound,
                      plugin_settings,
                      services, write_transaction)

from . import dkim_check, imap, tokens
from .models import IntakeMessage, MailboxCursor, OutgoingMail, Requester
from .parsing import OWN_MESSAGE_ID, TASK_TAG, WORKDESK_MESSAGE_ID, WORKDESK_TASK_ROOT, ParsedMessage, parse, trim_reply

log = logging.getLogger("workdesk.mail_intake")
THROTTLE_WINDOW = dt.timedelta(hours=1)
# Statuses that count towards a sender's hourly allowance (machine mail and refusals cost nothing).
COUNTED = ("accepted", "threaded")
COMMENT_LIMIT = 20000


def settings() -> dict:
    return plugin_settings("mail_intake")


def mailbox_named(name: str) -> dict | None:
    return next((m for m in settings()["mailboxes"] if m["name"] == name), None)


# -- the periodic run -----------------------------------------------------------------------------

def take_in_all(now: dt.datetime) -> dict[str, int]:
    """Read every enabled mailbox once; a mailbox that fails is recorded on its cursor and the others
    go on. Returns how many messages each mailbox handled."""
    current = settings()
    handled = {}
    for mailbox in current["mailboxes"]:
        if not mailbox["enabled"] or mailbox["source"] != "imap":
            continue  # a listener mailbox's mail is delivered to `workdesk mail_intake serve`
        try:
            handled[mailbox["name"]] = take_in_mailbox(mailbox, current, now)
            _cursor_note(mailbox["name"], now, None)
        except (OSError, imaplib.IMAP4.error, outbound.OutboundError) as exc:
            problem = _problem(mailbox, exc)
            log.warning("mail_intake: mailbox %s: %s", mailbox["name"], problem)
            _cursor_note(mailbox["name"], now, problem)
            handled[mailbox["name"]] = 0
    return handled


def ensure_cursor(name: str) -> MailboxCursor:
    """The cursor row of mailbox ``name``, created at UID 0 when missing."""
    with write_transaction():
        MailboxCursor.insert(mailbox=name).on_conflict_ignore().execute()
    return MailboxCursor.get(MailboxCursor.mailbox == name)


def _problem(mailbox: dict, exc: BaseException) -> str:
    """What went wrong, for the log and the admin: imaplib reports the server's answer, never the
    password, but a server may echo what it was sent, so the password is masked all the same."""
    text = str(exc)
    if mailbox["password"]:
        text = text.replace(mailbox["password"], "********")
    return (text or type(exc).__name__)[:1000]


def _cursor_note(name: str, now: dt.datetime, error: str | None) -> None:
    with write_transaction():
        MailboxCursor.update(checked_at=now, last_error=error).where(MailboxCursor.mailbox == name).execute()


def take_in_mailbox(mailbox: dict, current: dict, now: dt.datetime, client=None) -> int:
    """Take in the messages that arrived in ``mailbox`` since its cursor; returns how many. With
    ``client`` (a connection kept open by the watch loop) that connection is used and left open."""
    cursor = ensure_cursor(mailbox["name"])
    own_client = client is None
    if own_client:
        client = imap.connect(mailbox, current)
    else:
        client.noop()  # brings the folder's state up to date (new messages since the last run)
    count = 0
    try:
        validity = imap.uidvalidity(client)
        # A new UIDVALIDITY renumbered the folder: read it all again; the ledger skips what was taken in.
        after = cursor.last_uid if cursor.uidvalidity == validity else 0
        if mailbox["processed_folder"]:
            imap.ensure_folder(client, mailbox["processed_folder"])
        for uid in imap.new_uids(client, after, current["batch_size"]):
            take_in_uid(client, mailbox, validity, uid, now)
            # Only now, after the commit: a crash before this line reads the message again, and the
            # ledger files nothing twice.
            imap.mark_seen(client, uid)
            if mailbox["processed_folder"]:
                imap.move(client, uid, mailbox["processed_folder"])
            with write_transaction():
                MailboxCursor.update(uidvalidity=validity, last_uid=uid).where(
                    MailboxCursor.mailbox == mailbox["name"]).execute()
            count += 1
    finally:
        if own_client:
            imap._close(client)
    return count


def take_in_uid(client, mailbox: dict, validity: int, uid: int, now: dt.datetime) -> str:
    """Handle one message of the selected folder; returns its ledger status ("duplicate" when an
    earlier run or another worker already handled it, "gone" when it vanished meanwhile)."""
    size = imap.message_size(client, uid)
    if size is None:
        return "gone"
    fallback_id = f"<uid-{validity}-{uid}@{mailbox['name']}.mail-intake.invalid>"
    too_large = size > mailbox["max_message_kb"] * 1024
    raw = imap.fetch(client, uid, header_only=too_large)
    if raw is None:
        return "gone"
    message_id = fallback_id
    try:
        message = parse(raw, {mailbox["address"].lower()}, fallback_id)
        message_id = message.message_id
        return take_in(mailbox, message, validity, uid, size, now, too_large=too_large)
    except (OSError, imaplib.IMAP4.error):
        raise  # the connection failed: the whole mailbox is tried again next run
    except Exception as exc:  # noqa: BLE001 - one unreadable message must not block the mailbox behind it
        log.exception("mail_intake: mailbox %s, UID %s could not be taken in", mailbox["name"], uid)
        return _record({"mailbox": mailbox["name"], "message_id": message_id, "uidvalidity": validity, "uid": uid,
                        "sender": "", "size": size, "received_at": now}, "failed",
                        f"{type(exc).__name__}: {exc}")


def retry_failed(ids) -> int:
    """Take the failed messages ``ids`` in again on the next run: their log rows go, and their
    mailbox's position moves back to just before them (what follows is skipped by the log)."""
    rows = list(IntakeMessage.select().where(IntakeMessage.id.in_(list(ids)), IntakeMessage.status == "failed"))
    for row in rows:
        with write_transaction():
            IntakeMessage.delete().where(IntakeMessage.id == row.id).execute()
            MailboxCursor.update(last_uid=row.uid - 1).where(
                MailboxCursor.mailbox == row.mailbox, MailboxCursor.uidvalidity == row.uidvalidity,
                MailboxCursor.last_uid >= row.uid).execute()
    return len(rows)


def check_connection(mailbox: dict) -> str:
    """Log in to ``mailbox`` and select its folder: "" when that works, else why not (never the password)."""
    if mailbox["source"] != "imap":
        return ""  # nothing to log in to: its mail is delivered to the listener
    try:
        client = imap.connect(mailbox, settings())
    except (OSError, imaplib.IMAP4.error, outbound.OutboundError) as exc:
        return _problem(mailbox, exc)
    imap._close(client)
    return ""


# -- one message ----------------------------------------------------------------------------------

def take_in(mailbox: dict, message: ParsedMessage, validity: int, uid: int, size: int, now: dt.datetime,
            too_large: bool = False, token: str = "") -> str:
    """Decide what ``message`` becomes and write it together with its ledger row. ``token`` is the
    plus-address tag the message was delivered to (the listener's RCPT TO), if any."""
    name = mailbox["name"]
    if IntakeMessage.select().where(IntakeMessage.mailbox == name,
                                    IntakeMessage.message_id == message.message_id).exists():
        return "duplicate"
    row = {"mailbox": name, "message_id": message.message_id, "uidvalidity": validity, "uid": uid,
           "sender": message.sender or "", "subject": message.subject[:300], "size": size, "received_at": now}
    if too_large:
        return _record(row, "refused", f"larger than {mailbox['max_message_kb']} KB ({size // 1024} KB)")
    if message.automatic:
        return _record(row, "ignored", _bounce_reason(message) if message.bounce else message.automatic)
    if not message.sender:
        return _record(row, "refused", "no sender address")
    if _recent_count(name, message.sender, now) >= mailbox["max_per_sender_per_hour"]:
        _tell_admins_of_flood(name, message.sender, now)
        return _record(row, "throttled", f"more than {mailbox['max_per_sender_per_hour']} messages in an hour")
    # 1. A reply token (the plus-address of the Reply-To on our notifications) acts as the person it names.
    by_token = _token_reply(mailbox, message, row, [token] + _address_tags(mailbox, message))
    if by_token is not None:
        return by_token
    # 2. The From names a user: it acts as them only with a valid DKIM signature of a domain the
    # mailbox trusts (the From alone never grants an identity).
    user = User.get_or_none((fn.LOWER(User.email) == message.sender) & (User.is_active == True))  # noqa: E712
    signed = _dkim(mailbox, message) if user is not None else None
    verified = signed is not None and signed.verified
    note = signed.note() if signed is not None else ""
    target = _reply_target(message, user)
    if target is not None and verified:
        outcome = _comment(mailbox, message, row, user, target, reason=note)
        if outcome is not None:
            return outcome
    if user is None and mailbox["sender_policy"] == "users_only":
        return _record(row, "refused", "sender is not an active user (sender policy: users only)")
    # 3. Otherwise a new task: filed as the user when DKIM vouched for them, else by the system and
    # flagged "sender not verified".
    return _new_task(mailbox, message, row, user if verified else None, verified, reason=note)


def _dkim(mailbox: dict, message: ParsedMessage) -> dkim_check.Result:
    """The DKIM verdict on ``message`` for ``mailbox`` (asked only when the mailbox trusts a domain)."""
    if not mailbox["trust_dkim_domains"]:
        return dkim_check.Result(False, reason="the mailbox trusts no DKIM domain")
    current = settings()
    return dkim_check.check(message.raw, message.sender, mailbox["trust_dkim_domains"], current["dns_servers"],
                            current["dns_timeout_seconds"])


def _record(row: dict, status: str, reason: str = "", **extra) -> str:
    with write_transaction():
        IntakeMessage.insert(**row, status=status, reason=reason[:300], **extra).on_conflict_ignore().execute()
    return status


def _bounce_reason(message: ParsedMessage) -> str:
    """Record the bounce against what bounced, and say what that was (the intake log's reason): the
    delivery of the plugin that sent it (asked through the ``delivery_bounced`` hook: the email
    plugin's delivery log), or one of this plugin's own messages to external requesters."""
    why = message.bounce_status or "delivery status notification"
    for reference in message.bounced_ids:
        own = OWN_MESSAGE_ID.fullmatch(reference)
        if own:
            with write_transaction():
                marked = OutgoingMail.update(status="bounced", reason=why[:300]).where(
                    OutgoingMail.id == int(own.group(1))).execute()
            if marked:
                return f"bounce of mail to an external requester ({own.group(1)}): {why}"[:300]
            continue
        if notifications.report_bounce(reference, why):
            found = WORKDESK_MESSAGE_ID.fullmatch(reference)
            what = f"notification {found.group(2)} (email delivery {found.group(1)})" if found else reference
            return f"bounce of {what}, recorded on its delivery: {why}"[:300]
    for reference in message.bounced_ids:
        found = WORKDESK_MESSAGE_ID.fullmatch(reference)
        if found:
            return f"bounce of notification {found.group(2)} (email delivery {found.group(1)})"
    return "delivery status notification (bounce)"


def _recent_count(mailbox: str, sender: str, now: dt.datetime) -> int:
    return IntakeMessage.select().where(
        IntakeMessage.mailbox == mailbox, IntakeMessage.sender == sender, IntakeMessage.status.in_(COUNTED),
        IntakeMessage.received_at > now - THROTTLE_WINDOW).count()


def _tell_admins_of_flood(mailbox: str, sender: str, now: dt.datetime) -> None:
    digest = hashlib.sha256(f"{mailbox}\0{sender}".encode()).hexdigest()[:24]
    key = f"mail_intake.throttled:{digest}:{now:%Y%m%d%H}"
    admins = list(User.select().join(Role, on=(User.role == Role.id)).where(
        Role.name == "admin", User.is_active == True))  # noqa: E712
    for admin in admins:
        with write_transaction():
            notify(admin, "mail_intake.throttled",
                   _("Mail from %(sender)s to the mailbox %(mailbox)s is being throttled", sender=sender,
                     mailbox=mailbox), dedupe_key=key)


def _address_tags(mailbox: dict, message: ParsedMessage) -> list[str]:
    """The plus-address tags of the mailbox's own address among the message's recipients (an IMAP
    mailbox sees the token only there: To, Cc, Delivered-To, X-Original-To)."""
    local, _, domain = mailbox["address"].lower().rpartition("@")
    tags = []
    for address in message.recipients:
        their_local, _, their_domain = address.rpartition("@")
        base, plus, tag = their_local.partition("+")
        if plus and tag and base == local and their_domain == domain and tag not in tags:
            tags.append(tag)
    return tags


def _token_reply(mailbox: dict, message: ParsedMessage, row: dict, candidates: list[str]) -> str | None:
    """Comment as the person a valid reply token names; None when no candidate is a valid token for a
    task they may still comment on (the message then goes through the other rules)."""
    for candidate in candidates:
        token = tokens.read(candidate) if candidate else None
        task = Task.get_or_none(Task.id == token.task_id) if token is not None else None
        if task is None:
            continue
        if token.kind == "c":
            # The task's external requester: the comment is written by whoever filed the task for them
            # (the system's choice, who can see it), saying whom it is from.
            requester = Requester.get_or_none((Requester.id == token.subject_id) & (Requester.task_id == task.id))
            if requester is None or not task.reporter.is_active:
                continue
            outcome = _comment(mailbox, message, row, task.reporter, task, reason=EXTERNAL_REPLY,
                               preface=_("From %(sender)s by e-mail:", sender=requester.email))
        else:
            user = User.get_or_none((User.id == token.subject_id) & (User.is_active == True))  # noqa: E712
            if user is None:
                continue
            outcome = _comment(mailbox, message, row, user, task, reason="reply token")
        if outcome is not None:
            return outcome
    return None


def intake_address() -> str:
    """Where replies to notifications go: the ``reply_to_address`` setting, else the first enabled
    mailbox's address ("" when there is none)."""
    current = settings()
    if current["reply_to_address"]:
        return current["reply_to_address"].lower()
    return next((m["address"].lower() for m in current["mailboxes"] if m["enabled"]), "")


def reply_address(task: Task, user: User) -> str | None:
    """The ``reply_address`` hook: the intake address plus a reply token for ``task`` and ``user``."""
    address = intake_address()
    if not address or task is None or user is None or not user.is_active:
        return None
    return tokens.plus_address(address, tokens.make(task.id, "u", user.id))


def _reply_target(message: ParsedMessage, user: User | None) -> Task | None:
    """The task a reply answers: one of Workdesk's Message-IDs (a notification's, or a task's thread
    root) in In-Reply-To/References first, then a ``[#number]`` in the subject when the sender is the
    task's reporter or a watcher."""
    for reference in reversed(message.references):
        found = WORKDESK_MESSAGE_ID.fullmatch(reference)
        if found:
            note = Notification.get_or_none(Notification.id == int(found.group(2)))
            task = Task.get_or_none(Task.id == note.task_id) if note and note.task_id else None
            if task is not None:
                return task
        root = WORKDESK_TASK_ROOT.fullmatch(reference)
        if root:
            task = Task.get_or_none(Task.id == int(root.group(1)))
            if task is not None:
                return task
    tag = TASK_TAG.search(message.subject)
    if tag and user is not None:
        task = Task.get_or_none(Task.number == int(tag.group(1)))
        if task is not None and (task.reporter_id == user.id or
                                 task.watchers.where(task.watchers.model.user == user.id).exists()):
            return task
    return None


ORIGINAL_NAME = "original-message.eml"


def _uploads(mailbox: dict, message: ParsedMessage) -> tuple[list, str]:
    """The message's files the core will take (count and size limits), the original message last when
    the mailbox keeps it, and a note on what was left out."""
    largest, _quota = services.attachments.limits()
    keep_original = mailbox["keep_original"] and message.raw and len(message.raw) <= largest
    room = min(mailbox["max_attachments"], services.attachments.MAX_FILES_PER_UPLOAD - int(bool(keep_original)))
    taken, left = [], []
    for filename, data in message.attachments:
        if len(taken) < room and len(data) <= largest:
            taken.append(services.attachments.Upload(filename, data))
        else:
            left.append(services.attachments.clean_filename(filename))
    if keep_original:
        taken.append(services.attachments.Upload(ORIGINAL_NAME, message.raw))
    return taken, (f"files left out: {', '.join(left)}"[:300] if left else "")


def _original_id(mailbox: dict, files) -> int | None:
    return files[-1].id if mailbox["keep_original"] and files and files[-1].filename == ORIGINAL_NAME else None


EXTERNAL_REPLY = "reply token (external requester)"


def _comment(mailbox: dict, message: ParsedMessage, row: dict, user: User, task: Task, reason: str = "",
             preface: str = "") -> str | None:
    """Comment on ``task`` as ``user``; None when ``user`` may not (the message then becomes a task)."""
    uploads, note = _uploads(mailbox, message)
    body = trim_reply(message.body) or message.subject or "…"
    if preface:
        body = f"{preface}\n\n{body}"
    if len(body) > COMMENT_LIMIT:  # the core's limit for a comment; the whole message is attached when kept
        body = body[:COMMENT_LIMIT - 100].rstrip() + "\n\n" + _("(shortened)")
    try:
        with write_transaction():
            ledger = IntakeMessage.create(**row, status="threaded", reason="; ".join(filter(None, (reason, note)))[:300],
                                          verified=1, task_id=task.id)
            comment = services.tasks.add_comment(user, task.id, body, uploads=uploads)
            ledger.comment_id = comment.id
            ledger.original_id = _original_id(mailbox, list(comment.attachments.order_by(Attachment.id)))
            ledger.save()
            if task.status in DONE_STATUSES and task.reporter_id == user.id:
                # The requester answered a finished task: it is open again, as the workflow allows.
                services.tasks.system_transition(task.id, "open", reason="reply by e-mail")
    except IntegrityError:
        return "duplicate"
    except WorkdeskError as exc:
        log.info("mail_intake: %s may not comment on task %s: %s", user.email, task.number, exc)
        return None
    return "threaded"


def _new_task(mailbox: dict, message: ParsedMessage, row: dict, actor: User | None, verified: bool,
              reason: str = "") -> str:
    uploads, note = _uploads(mailbox, message)
    note = "; ".join(filter(None, (reason, note)))
    title = " ".join(message.subject.split())[:200] or _("(no subject)")
    description = message.body[:50000]
    if not verified:
        description = _("Sent by e-mail from %(sender)s (sender not verified).", sender=message.sender) + \
            "\n\n" + description
    try:
        with write_transaction():
            ledger = IntakeMessage.create(**row, status="accepted", reason=note[:300], verified=int(verified))
            task = services.tasks.create_task(actor, title=title, department_id=mailbox["department_id"],
                                              description=description, type=mailbox["type"],
                                              priority=mailbox["priority"])
            files = services.attachments.store_uploads(actor, task, uploads) if uploads else []
            if actor is None and User.get_or_none((fn.LOWER(User.email) == message.sender) &
                                                 (User.is_active == True)) is None:  # noqa: E712
                # Not a user: kept as the task's external requester (acknowledged and told of public
                # comments by e-mail, able to reply with the token in those messages).
                Requester.create(task_id=task.id, email=message.sender, mailbox=mailbox["name"],
                                 message_id=message.message_id[:255])
            ledger.task_id = task.id
            ledger.original_id = _original_id(mailbox, files)
            ledger.save()
    except IntegrityError:
        return "duplicate"
    except WorkdeskError as exc:
        return _record(row, "refused", f"the task was refused: {exc}")
    return "accepted"


# -- the task page ----------------------------------------------------------------------------------

def mail_items(task: Task, viewer: User) -> list[dict]:
    """What of ``task`` came by mail and ``viewer`` may see: the task itself and comments (not internal
    notes for people who do not work tasks), each with its sender and the original message's attachment."""
    rows = list(IntakeMessage.select().where(IntakeMessage.task_id == task.id,
                                             IntakeMessage.status.in_(COUNTED)).order_by(IntakeMessage.id))
    visible_comments = {c.id for c in services.tasks.visible_comments(viewer, task)} if rows else set()
    visible_files = {a.id for a in services.attachments.visible_attachments(viewer, task)} if rows else set()
    return [{"comment_id": row.comment_id, "sender": row.sender, "received_at": row.received_at,
             "verified": bool(row.verified), "original_id": row.original_id if row.original_id in visible_files else None}
            for row in rows if row.comment_id is None or row.comment_id in visible_comments]


# -- reading the log -------------------------------------------------------------------------------

def status_counts(mailbox: str | None = None) -> dict[str, int]:
    """How many messages ended in each status (one grouped query)."""
    query = IntakeMessage.select(IntakeMessage.status, fn.COUNT(IntakeMessage.id).alias("n"))
    if mailbox:
        query = query.where(IntakeMessage.mailbox == mailbox)
    return {row.status: row.n for row in query.group_by(IntakeMessage.status)}
