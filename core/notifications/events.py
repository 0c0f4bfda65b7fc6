"""The built-in notifications: what the core tells people about tasks they take part in.

Each handler is an outbox subscriber, so it runs on a worker after the change committed and at
least once; ``dedupe_key`` ties each note to its event, so a repeat stores nothing new. The person
who made a change is never notified about it.
"""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from peewee import fn

from .. import outbox
from ..access import can_see, works_tasks
from ..labels import STATUS_LABELS
from ..models import Comment, Task, TaskWatcher, User
from . import notify, register_kind

ASSIGNED, COMMENTED, STATUS_CHANGED, MENTIONED = "task.assigned", "task.commented", "task.status_changed", "task.mentioned"
register_kind(ASSIGNED, _l("A task is assigned to me"))
register_kind(COMMENTED, _l("Comments on tasks I report, work on or watch"))
register_kind(STATUS_CHANGED, _l("Status changes of tasks I report, work on or watch"))
register_kind(MENTIONED, _l("I am mentioned in a comment or a description"))

# "@" at the start of the text or after a space or opening punctuation; an address like a@b.c
# inside a word is not a mention.
MENTION_START = re.compile(r"(?:^|(?<=[\s(\[{,;:]))@")
EMAIL_AFTER_AT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
WORD = re.compile(r"[^\s@]+")


def participants(task: Task) -> list[User]:
    """Reporter, assignee and watchers (not quiet ones) of ``task`` who are active, each once, by id."""
    ids = {task.reporter_id, task.assignee_id}
    told = TaskWatcher.select(TaskWatcher.user).where((TaskWatcher.task == task) & ~TaskWatcher.quiet)
    ids.update(w.user_id for w in told)
    ids.discard(None)
    return list(User.select().where(User.id.in_(ids) & (User.is_active == True)).order_by(User.id))  # noqa: E712


def mentioned_users(text: str) -> list[User]:
    """Active users named in ``text`` as ``@email`` or ``@Full Name`` (case-insensitive, longest name wins)."""
    found: dict[int, User] = {}
    lowered = text.lower()
    for match in MENTION_START.finditer(text):
        rest = text[match.end():]
        email = EMAIL_AFTER_AT.match(rest)
        if email:
            user = User.get_or_none(User.email == email.group(0).lower())
            if user is not None:
                found[user.id] = user
                continue
        first = WORD.match(rest)
        if not first:
            continue
        candidates = User.select().where(fn.LOWER(User.name).startswith(first.group(0).lower().rstrip(".,;:!?)")))
        best = None
        for user in candidates:
            name = user.name.lower()
            start = match.end()
            end = start + len(name)
            if not lowered.startswith(name, start):
                continue
            if end < len(text) and (lowered[end].isalnum() or lowered[end] == "_"):
                continue  # "@Ann" must not match inside "@Anna"
            if best is None or len(name) > len(best.name):
                best = user
        if best is not None:
            found[best.id] = best
    return [user for user in found.values() if user.is_active]


def _label(task: Task) -> str:
    return f"#{task.number} {task.title}"


def _key(event: dict) -> str:
    return f"outbox:{event['id']}"


def on_assigned(task: Task, assignee: User | None, actor: User | None, event: dict, **_ignored) -> None:
    if assignee is None or (actor is not None and assignee.id == actor.id):
        return
    who = actor.name if actor is not None else _l("Workdesk")
    notify(assignee, ASSIGNED, _l("Assigned to you: %(task)s", task=_label(task)),
           _l("%(who)s assigned %(task)s to you.", who=who, task=_label(task)), task=task, dedupe_key=_key(event))


def on_commented(task: Task, comment: Comment, actor: User | None, event: dict, **_ignored) -> None:
    author = comment.author

    def may_read(user: User) -> bool:  # an internal note reaches only people who work tasks
        return can_see(user, task) and (not comment.internal or works_tasks(user))
    mentioned = {u.id: u for u in mentioned_users(comment.body) if u.id != author.id and may_read(u)}
    excerpt = _excerpt(comment.body)
    for user in mentioned.values():
        notify(user, MENTIONED, _l("%(who)s mentioned you on %(task)s", who=author.name, task=_label(task)),
               excerpt, task=task, dedupe_key=_key(event))
    for user in participants(task):
        if user.id == author.id or user.id in mentioned or (comment.internal and not works_tasks(user)):
            continue
        notify(user, COMMENTED, _l("%(who)s commented on %(task)s", who=author.name, task=_label(task)),
               excerpt, task=task, dedupe_key=_key(event))


def _excerpt(text: str) -> str:
    return text if len(text) <= 500 else text[:499] + "…"


def notify_description_mentions(task: Task, actor: User | None, text: str, event: dict, before: str = "") -> None:
    """Tell the people ``text`` (a task's description) mentions who may see the task, except its author and
    whoever ``before`` (the description it replaced) already mentioned: an edit does not ping them again."""
    if "@" not in (text or ""):
        return
    already = {u.id for u in mentioned_users(before)} if "@" in (before or "") else set()
    who = actor.name if actor is not None else _l("Workdesk")
    for user in mentioned_users(text):
        if user.id in already or (actor is not None and user.id == actor.id) or not can_see(user, task):
            continue
        notify(user, MENTIONED, _l("%(who)s mentioned you on %(task)s", who=who, task=_label(task)),
               _excerpt(text), task=task, dedupe_key=_key(event))


def on_created(task: Task, actor: User | None, event: dict, **_ignored) -> None:
    notify_description_mentions(task, actor, task.description, event)


def on_updated(task: Task, actor: User | None, changes: dict, event: dict, **_ignored) -> None:
    if "description" in changes:
        old, new = changes["description"]
        notify_description_mentions(task, actor, new or "", event, before=old or "")
    if "status" not in changes:
        return
    old, new = changes["status"]
    who = actor.name if actor is not None else _l("Workdesk")
    reason = event.get("payload", {}).get("reason") if isinstance(event, dict) else None
    # Lazy labels: each recipient reads the statuses in their own language, never as keys.
    old_label, new_label = STATUS_LABELS.get(old, old), STATUS_LABELS.get(new, new)
    for user in participants(task):
        if actor is not None and user.id == actor.id:
            continue
        if reason:  # a reopening's reason (services.tasks.reopen_task) travels with the move
            body = _l("%(who)s moved %(task)s from %(old)s to %(new)s. Reason: %(reason)s", who=who,
                      task=_label(task), old=old_label, new=new_label, reason=reason)
        else:
            body = _l("%(who)s moved %(task)s from %(old)s to %(new)s.", who=who, task=_label(task),
                      old=old_label, new=new_label)
        notify(user, STATUS_CHANGED, _l("%(task)s is now %(status)s", task=_label(task), status=new_label), body,
               task=task, dedupe_key=_key(event))


outbox.subscribe("task.created", "core.notifications", on_created)
outbox.subscribe("task.assigned", "core.notifications", on_assigned)
outbox.subscribe("task.commented", "core.notifications", on_commented)
outbox.subscribe("task.updated", "core.notifications", on_updated)
