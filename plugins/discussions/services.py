"""The discussions service layer: the API, the team pages and the admin panel all call these functions,
so the same visibility (a space one may not see is a 404), moderation rules and audit trail apply."""
from __future__ import annotations

import secrets
from typing import Any, Iterable

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from peewee import JOIN, fn

from workdesk import (Department, Forbidden, errors, NotFound, User, ValidationFailed, department_ids, get_storage,
                      mentioned_users, notify, parse_id, services, sniff, text_problem, utcnow, write_transaction)

from .models import ModerationEntry, Post, PostFile, ReadMark, Space, Thread

MODERATE = "discussions.moderate"
EXCERPT = 500


# -- spaces and who sees them ------------------------------------------------------------------

def ensure_department_spaces() -> None:
    """Give every department its space (one SQL insert of the missing ones; a race loses quietly)."""
    missing = (Department.select(Department.id, Department.name)
               .join(Space, JOIN.LEFT_OUTER, on=(Space.department == Department.id)).where(Space.id.is_null()))
    rows = [{"department": d.id, "name": d.name, "created_at": utcnow()} for d in missing]
    if rows:
        with write_transaction():
            Space.insert_many(rows).on_conflict_ignore().execute()


def is_moderator(user: User) -> bool:
    return bool(user.is_active and user.has_permission(MODERATE))


def can_see_space(user: User, space: Space) -> bool:
    """Instance-wide spaces are everyone's; a department's space is its members' (and moderators')."""
    if not user.is_active:
        return False
    return space.department_id is None or is_moderator(user) or space.department_id in department_ids(user)


def can_moderate(user: User, space: Space) -> bool:
    """Admins (``discussions.moderate``) everywhere; a department head in the department's space."""
    if is_moderator(user):
        return True
    return space.department_id is not None and space.department.head_id == user.id


def visible_space_query(user: User):
    ensure_department_spaces()
    query = Space.select()
    if not is_moderator(user):
        query = query.where(Space.department.is_null() | Space.department.in_(department_ids(user) or [0]))
    return query


def get_space(user: User, space_id: Any) -> Space:
    number = parse_id(space_id)
    space = Space.get_or_none(Space.id == number) if number is not None else None
    if space is None or not can_see_space(user, space):
        raise NotFound(_("No such discussion space."))
    return space


def create_space(actor: User, name: str, description: str = "") -> Space:
    """An instance-wide space (department spaces are made for every department automatically)."""
    if not is_moderator(actor):
        raise Forbidden(_("Only an administrator can create instance-wide spaces."), permission=MODERATE)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("A space needs a name."), {"name": [_("A space needs a name.")]})
    with write_transaction():
        return Space.create(name=name[:200], description=description or "")


def _unread(user: User, group, ids: Iterable[int]) -> dict[int, int]:
    """Per ``group`` (Post.space or Post.thread) among ``ids``: visible posts by others newer than the
    reader's read mark of their thread (one SQL query)."""
    ids = list(ids)
    if not ids:
        return {}
    query = (Post.select(group.alias("key"), fn.COUNT(Post.id).alias("n"))
             .join(ReadMark, JOIN.LEFT_OUTER, on=((ReadMark.thread == Post.thread) & (ReadMark.user == user.id)))
             .where(group.in_(ids), Post.hidden_at.is_null(), (Post.author.is_null()) | (Post.author != user.id),
                    Post.id > fn.COALESCE(ReadMark.last_post_id, 0))
             .group_by(group))
    return {row["key"]: row["n"] for row in query.dicts()}


def unread_counts(user: User, space_ids: Iterable[int]) -> dict[int, int]:
    """Unread posts per space."""
    return _unread(user, Post.space, space_ids)


def list_spaces(user: User) -> list[dict[str, Any]]:
    spaces = list(visible_space_query(user).order_by(Space.department.is_null(False), Space.name))
    unread = unread_counts(user, [s.id for s in spaces])
    return [{**space_to_dict(s), "unread": unread.get(s.id, 0)} for s in spaces]


def space_to_dict(space: Space) -> dict[str, Any]:
    return {"id": space.id, "name": space.name, "description": space.description,
            "department_id": space.department_id}


# -- threads -------------------------------------------------------------------------------------

def thread_unread(user: User, thread_ids: list[int]) -> dict[int, int]:
    """Unread posts per thread."""
    return _unread(user, Post.thread, thread_ids)


def list_threads(user: User, space_id: Any, limit: int = 100) -> tuple[Space, list[dict[str, Any]]]:
    space = get_space(user, space_id)
    threads = list(Thread.select().where(Thread.space == space).order_by(Thread.last_post_at.desc()).limit(limit))
    unread = thread_unread(user, [t.id for t in threads])
    return space, [{**thread_to_dict(t), "unread": unread.get(t.id, 0)} for t in threads]


def thread_to_dict(thread: Thread) -> dict[str, Any]:
    return {"id": thread.id, "space_id": thread.space_id, "title": thread.title,
            "author_id": thread.author_id, "created_at": thread.created_at.isoformat(),
            "last_post_at": thread.last_post_at.isoformat()}


def get_thread(user: User, thread_id: Any) -> Thread:
    number = parse_id(thread_id)
    thread = Thread.get_or_none(Thread.id == number) if number is not None else None
    if thread is None or not can_see_space(user, thread.space):
        raise NotFound(_("No such thread."))
    return thread


def _clean_text(value: str | None, field: str, message: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(message, {field: [message]})
    if text_problem(value):  # PostgreSQL cannot store (or search for) a NUL or a lone surrogate
        problem = _("Must not contain NUL characters.") if "\x00" in value else _("Must be valid Unicode text.")
        raise ValidationFailed(problem, {field: [problem]})
    if len(value) > limit:
        too_long = _("At most %(limit)d characters.", limit=limit)
        raise ValidationFailed(too_long, {field: [too_long]})
    return value


def create_thread(actor: User, space_id: Any, title: str, body: str,
                  uploads: Iterable[services.attachments.Upload] = ()) -> Thread:
    """A new thread with its first post (mentions in it notify)."""
    space = get_space(actor, space_id)
    title = _clean_text(title, "title", _("A thread needs a title."), 200)
    body = _clean_text(body, "body", _("A post cannot be empty."), 50000)
    uploads = list(uploads)
    if uploads:
        check_uploads(uploads)
    with write_transaction():
        thread = Thread.create(space=space, title=title, author=actor)
        _write_post(actor, thread, body, uploads)
    return thread


# -- posts ---------------------------------------------------------------------------------------

def check_uploads(uploads: list) -> None:
    """The core's checks (count, empty files, size limit, quota of task files), and the instance's quota
    counted with the files already on posts, which the core's sum does not see."""
    attachments = services.attachments
    attachments.check_uploads(uploads)
    quota = attachments.limits()[1]
    on_posts = int(PostFile.select(fn.COALESCE(fn.SUM(PostFile.size), 0)).scalar() or 0)
    if quota and attachments.used_bytes() + on_posts + sum(len(u.data) for u in uploads) > quota:
        message = _("The attachment space of this Workdesk (%(quota)s) is full: the files were not added. "
                    "Ask an administrator to remove old files or raise the quota.", quota=attachments.human_size(quota))
        raise errors.QuotaExceeded(message, {"files": [message]})


def _store_files(post: Post, uploads: list) -> list[PostFile]:
    """Bytes to the core attachment storage, then the rows; written bytes go again when a row fails."""
    storage, rows, written = get_storage(), [], []
    try:
        for upload in uploads:
            key = secrets.token_hex(16)
            storage.save(key, upload.data)
            written.append(key)
            rows.append(PostFile.create(post=post, filename=services.attachments.clean_filename(upload.filename),
                                        content_type=sniff(upload.data), size=len(upload.data), storage_key=key))
    except BaseException:
        for key in written:
            storage.delete(key)
        raise
    return rows


def _write_post(actor: User, thread: Thread, body: str, uploads: list) -> Post:
    now = utcnow()
    post = Post.create(thread=thread, space=thread.space_id, author=actor, body=body, created_at=now)
    Thread.update(last_post_at=now).where(Thread.id == thread.id).execute()
    _store_files(post, uploads)
    _mark_read(actor, thread, post.id)
    _notify_post(actor, thread, post)
    return post


def add_post(actor: User, thread_id: Any, body: str, uploads: Iterable = ()) -> Post:
    """A reply in a thread of a space one sees; mentioned people and the thread's participants are told."""
    thread = get_thread(actor, thread_id)
    body = _clean_text(body, "body", _("A post cannot be empty."), 50000)
    uploads = list(uploads)
    if uploads:
        check_uploads(uploads)
    with write_transaction():
        return _write_post(actor, thread, body, uploads)


def _language(user: User) -> str:
    """The recipient's language (the instance's default when they chose none): notes are read by them."""
    return user.locale or current_app.config["WORKDESK"]["default_locale"]


def _notify_post(actor: User, thread: Thread, post: Post) -> None:
    """Mentions first (``discussions.mention``), then earlier authors of the thread (``discussions.reply``)."""
    space = thread.space
    excerpt = post.body if len(post.body) <= EXCERPT else post.body[:EXCERPT - 1] + "…"
    mentioned = {u.id: u for u in mentioned_users(post.body) if u.id != actor.id and can_see_space(u, space)}
    for user in mentioned.values():
        with force_locale(_language(user)):
            subject = _("%(who)s mentioned you in “%(thread)s”", who=actor.name, thread=thread.title)
        notify(user, "discussions.mention", subject, excerpt, dedupe_key=f"discussions.post.{post.id}")
    authors = (User.select().join(Post, on=(Post.author == User.id))
               .where(Post.thread == thread.id, User.id != actor.id).distinct())
    for user in authors:
        if user.id in mentioned or not can_see_space(user, space):
            continue
        with force_locale(_language(user)):
            subject = _("%(who)s replied in “%(thread)s”", who=actor.name, thread=thread.title)
        notify(user, "discussions.reply", subject, excerpt, dedupe_key=f"discussions.post.{post.id}")


def attach_files(actor: User, post_id: Any, uploads: Iterable) -> Post:
    """Files on one's own post, checked like task attachments (size limit, quota, sniffed type)."""
    post = get_post(actor, post_id)
    if post.author_id != actor.id or post.hidden_at is not None:
        raise Forbidden(_("Only the author can add files to a post."))
    uploads = list(uploads)
    check_uploads(uploads)
    with write_transaction():
        _store_files(post, uploads)
    return post


def get_post(user: User, post_id: Any) -> Post:
    number = parse_id(post_id)
    post = Post.get_or_none(Post.id == number) if number is not None else None
    if post is None or not can_see_space(user, post.thread.space):
        raise NotFound(_("No such post."))
    return post


def thread_posts(user: User, thread: Thread) -> list[Post]:
    """The posts of a thread, oldest first, and the thread marked read up to the newest."""
    posts = list(Post.select().where(Post.thread == thread).order_by(Post.id))
    if posts:
        with write_transaction():
            _mark_read(user, thread, posts[-1].id)
    return posts


def _mark_read(user: User, thread: Thread, post_id: int) -> None:
    """Move the reader's mark forward (never back: an older page load must not make posts unread)."""
    ReadMark.insert(user=user.id, thread=thread.id, last_post_id=0).on_conflict_ignore().execute()
    (ReadMark.update(last_post_id=post_id)
     .where(ReadMark.user == user.id, ReadMark.thread == thread.id, ReadMark.last_post_id < post_id).execute())


def _audit(post: Post, actor: User, action: str, reason: str = "", before: str = "") -> None:
    ModerationEntry.create(post_id=post.id, space_id=post.space_id, actor=actor, action=action, reason=reason,
                           before=before, at=utcnow())


def edit_post(actor: User, post_id: Any, body: str) -> Post:
    """Authors edit their own posts; the text before is kept in the audit trail."""
    post = get_post(actor, post_id)
    if post.author_id != actor.id:
        raise Forbidden(_("Only the author can edit a post."))
    if post.hidden_at is not None:
        raise Forbidden(_("A hidden post cannot be edited."))
    body = _clean_text(body, "body", _("A post cannot be empty."), 50000)
    with write_transaction():
        _audit(post, actor, "edited", before=post.body)
        post.body, post.edited_at = body, utcnow()
        post.save()
    return post


def hide_post(actor: User, post_id: Any, reason: str) -> Post:
    """The department head or an admin hides a post, with a reason the audit trail keeps."""
    post = get_post(actor, post_id)
    if not can_moderate(actor, post.thread.space):
        raise Forbidden(_("Only the department head or an administrator can hide posts."))
    reason = _clean_text(reason, "reason", _("Say why the post is hidden."), 2000)
    with write_transaction():
        post.hidden_at, post.hidden_by, post.hidden_reason = utcnow(), actor, reason
        post.save()
        _audit(post, actor, "hidden", reason=reason)
    return post


def set_pinned(actor: User, post_id: Any, pinned: bool) -> Post:
    """Members pin materials and links; the audit trail says who."""
    post = get_post(actor, post_id)
    if post.hidden_at is not None:
        raise Forbidden(_("A hidden post cannot be pinned."))
    with write_transaction():
        post.pinned = bool(pinned)
        post.save()
        _audit(post, actor, "pinned" if pinned else "unpinned")
    return post


def pinned_posts(user: User, space: Space) -> list[Post]:
    return list(Post.select().where(Post.space == space, Post.pinned == True, Post.hidden_at.is_null())  # noqa: E712
                .order_by(Post.id.desc()))


def post_url(post: Post) -> str:
    return f"/discussions/threads/{post.thread_id}#post-{post.id}"


def post_to_task(actor: User, post_id: Any, title: str | None = None, department_id: Any = None) -> Any:
    """A task filed from a post: its description quotes the post and links back, and the post shows the
    task. A department space files in its department; an instance-wide one needs ``department_id``."""
    post = get_post(actor, post_id)
    if post.hidden_at is not None:
        raise Forbidden(_("A hidden post cannot become a task."))
    if post.task_id is not None:
        message = _("This post is already task %(id)s.", id=post.task_id)
        raise ValidationFailed(message, {"post_id": [message]})
    target = post.space.department_id or parse_id(department_id)
    if target is None:
        message = _("Choose the department the task is for.")
        raise ValidationFailed(message, {"department_id": [message]})
    title = (title or "").strip() or post.thread.title
    quoted = "\n".join("> " + line for line in post.body.splitlines())
    link_text = _("From the discussion")
    description = f"{quoted}\n\n[{link_text}]({post_url(post)})"
    with write_transaction():
        task = services.tasks.create_task(actor, title=title[:200], department_id=target, description=description)
        post.task_id = task.id
        post.save()
        _audit(post, actor, "task", reason=str(task.number))
    return task


def post_for_task(user: User, task_id: int) -> Post | None:
    """The post a task was filed from, when the reader may see its space."""
    post = Post.get_or_none(Post.task_id == task_id)
    return post if post is not None and can_see_space(user, post.thread.space) else None


def post_to_dict(post: Post, viewer: User) -> dict[str, Any]:
    hidden = post.hidden_at is not None
    return {"id": post.id, "thread_id": post.thread_id, "author_id": post.author_id,
            "body": "" if hidden else post.body, "created_at": post.created_at.isoformat(),
            "edited_at": post.edited_at.isoformat() if post.edited_at else None,
            "pinned": post.pinned, "hidden": hidden, "hidden_reason": post.hidden_reason if hidden else None,
            "task_id": post.task_id,
            "files": [] if hidden else [{"id": f.id, "filename": f.filename, "content_type": f.content_type,
                                         "size": f.size} for f in post.files]}


def moderation_log(actor: User, space_id: Any) -> list[ModerationEntry]:
    space = get_space(actor, space_id)
    if not can_moderate(actor, space):
        raise NotFound(_("No such discussion space."))
    return list(ModerationEntry.select().where(ModerationEntry.space_id == space.id).order_by(ModerationEntry.id))


def get_file(user: User, file_id: Any) -> PostFile:
    number = parse_id(file_id)
    row = PostFile.get_or_none(PostFile.id == number) if number is not None else None
    if row is None or not can_see_space(user, row.post.thread.space) or row.post.hidden_at is not None:
        raise NotFound(_("No such file."))
    return row


def search(user: User, text: str, limit: int = 50) -> list[Post]:
    """Visible, not hidden posts whose text or thread title contains ``text`` in the spaces one sees."""
    text = _clean_text(text, "q", _("Type something to search for."), 200)
    space_ids = visible_space_query(user).select(Space.id)
    return list(Post.select().join(Thread).where(
        Post.space.in_(space_ids), Post.hidden_at.is_null(), Post.body.contains(text) | Thread.title.contains(text))
        .order_by(Post.id.desc()).limit(limit))
