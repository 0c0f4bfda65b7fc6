"""Attachments: files on a task or on one of its comments.

Who may see a task may see its files, except the files of an internal note, which (like the note)
only people who work tasks see; anyone else gets a 404, as for a missing file. Who may comment may
attach. Each upload is checked against the size limit and the instance's quota (site settings), its
type is sniffed from the bytes, images get a thumbnail made by Pillow, and the audit trail records
each addition and removal. The bytes go to the attachment storage (``workdesk.storage``) before the
rows are written, and are removed again when the rows are not; removed rows' bytes are deleted after
the transaction commits.
"""
from __future__ import annotations

import hashlib
import io
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Iterable

from flask_babel import gettext as _
from flask_babel import ngettext
from peewee import JOIN, fn

from ..access import get_visible_task, require, works_tasks
from ..db import utcnow, write_transaction
from ..errors import Forbidden, NotFound, PayloadTooLarge, QuotaExceeded, ValidationFailed
from ..models import Attachment, Comment, Task, TaskEvent, User
from ..sniff import RASTER_IMAGES, sniff
from ..storage import delete_quietly, get_storage

log = logging.getLogger("workdesk.attachments")

MAX_FILES_PER_UPLOAD = 10
THUMBNAIL_SIZE = (320, 320)
# Pillow refuses to decode more pixels than this (a small file can unpack to gigabytes: a "bomb").
MAX_IMAGE_PIXELS = 40_000_000
MB = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    """One file as received: the name the uploader gave it and its bytes."""
    filename: str
    data: bytes


def limits() -> tuple[int, int]:
    """(largest file, instance quota) in bytes from the site settings; a quota of 0 means none."""
    from ..site_settings import site_settings
    settings = site_settings()
    return settings["attachment_max_mb"] * MB, settings["attachment_quota_mb"] * MB


def request_size_limit() -> int:
    """The largest request body an upload may need: every file at the limit, plus the form around them."""
    return limits()[0] * MAX_FILES_PER_UPLOAD + MB


def used_bytes() -> int:
    """What every stored attachment takes together (one SQL sum)."""
    return int(Attachment.select(fn.COALESCE(fn.SUM(Attachment.size), 0)).scalar() or 0)


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def clean_filename(name: str | None) -> str:
    """A name to show and to offer when downloading: the last part of any path, no control characters,
    at most 255 characters (the extension kept); "file" when nothing is left."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("", "".join(ch for ch in name if not 0xD800 <= ord(ch) <= 0xDFFF)).strip().strip(".")
    if len(name) > 255:
        stem, dot, extension = name.rpartition(".")
        name = (stem[:254 - len(extension)] + dot + extension) if dot and len(extension) <= 20 else name[:255]
    return name or "file"


def human_size(size: int) -> str:
    """``size`` bytes as people read it (1.5 MB, 120 KB, 12 bytes)."""
    if size >= MB:
        return _("%(n)s MB", n=f"{size / MB:.1f}")
    if size >= 1024:
        return _("%(n)s KB", n=size // 1024)
    return ngettext("%(num)d byte", "%(num)d bytes", size)


def check_uploads(uploads: list[Upload]) -> None:
    """Refuse an upload with no file, too many files, an empty file, a file over the limit, or files that
    would take the instance over its quota; the message names the file and the limit."""
    if not uploads:
        raise ValidationFailed(_("Choose at least one file."), {"files": [_("Choose at least one file.")]})
    if len(uploads) > MAX_FILES_PER_UPLOAD:
        message = _("At most %(n)s files at once.", n=MAX_FILES_PER_UPLOAD)
        raise ValidationFailed(message, {"files": [message]})
    largest, quota = limits()
    for upload in uploads:
        if not upload.data:
            message = _("%(name)s is empty.", name=clean_filename(upload.filename))
            raise ValidationFailed(message, {"files": [message]})
        if len(upload.data) > largest:
            message = _("%(name)s is %(size)s; files may be at most %(limit)s.", name=clean_filename(upload.filename),
                        size=human_size(len(upload.data)), limit=human_size(largest))
            raise PayloadTooLarge(message, {"files": [message]})
    if quota and used_bytes() + sum(len(u.data) for u in uploads) > quota:
        message = _("The attachment space of this Workdesk (%(quota)s) is full: the files were not added. "
                    "Ask an administrator to remove old files or raise the quota.", quota=human_size(quota))
        raise QuotaExceeded(message, {"files": [message]})


def _thumbnail(data: bytes) -> bytes | None:
    """A PNG of at most 320×320 pixels of an image, or None when Pillow cannot read it safely."""
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                return None
            image.thumbnail(THUMBNAIL_SIZE)
            if image.mode not in ("RGB", "RGBA"):
                image = image.convert("RGBA")
            out = io.BytesIO()
            image.save(out, "PNG", optimize=True)
            return out.getvalue()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None  # not a picture after all, or a damaged one: it is still attached, without a preview


def store_uploads(actor: User | None, task: Task, uploads: list[Upload], comment: Comment | None = None
                  ) -> list[Attachment]:
    """Write checked uploads' bytes and rows, and one ``attached`` audit entry; inside the caller's
    transaction (their bytes are removed again when it fails)."""
    storage, written, rows = get_storage(), [], []
    try:
        for upload in uploads:
            key = secrets.token_hex(16)
            content_type = sniff(upload.data)
            storage.save(key, upload.data)
            written.append(key)
            thumbnail_key = None
            if content_type in RASTER_IMAGES:
                thumbnail = _thumbnail(upload.data)
                if thumbnail is not None:
                    thumbnail_key = f"{key}.png"
                    storage.save(thumbnail_key, thumbnail)
                    written.append(thumbnail_key)
            rows.append(Attachment.create(
                task=task, comment=comment, uploader=actor, filename=clean_filename(upload.filename),
                content_type=content_type, size=len(upload.data), sha256=hashlib.sha256(upload.data).hexdigest(),
                storage_key=key, thumbnail_key=thumbnail_key, created_at=utcnow()))
        Task.update(updated_at=utcnow()).where(Task.id == task.id).execute()
        TaskEvent.create(task_id=task.id, task_number=task.number, actor=actor, kind="attached", at=utcnow(),
                         changes={"attachments": [None, [{"id": a.id, "filename": a.filename, "size": a.size,
                                                          "content_type": a.content_type} for a in rows]],
                                  **({"comment_id": [None, comment.id]} if comment is not None else {}),
                                  **({"internal": [None, True]} if comment is not None and comment.internal else {})})
    except BaseException:
        delete_quietly(written)
        raise
    return rows


def add_attachments(actor: User, task_id: int, uploads: Iterable[Upload], comment_id: int | None = None
                    ) -> list[Attachment]:
    """Attach files to a task one can see and comment on, or to one's own comment on it (``comment_id``)."""
    from .tasks import get_visible_comment
    uploads = list(uploads)
    task = get_visible_task(actor, task_id)
    require(actor, "task.comment")
    if comment_id is not None and get_visible_comment(actor, task_id, comment_id).author_id != actor.id:
        raise Forbidden(_("Only the author can add files to a comment."))
    check_uploads(uploads)
    rows: list[Attachment] = []
    try:
        with write_transaction():
            task = get_visible_task(actor, task_id)
            comment = get_visible_comment(actor, task_id, comment_id) if comment_id is not None else None
            rows = store_uploads(actor, task, uploads, comment)
    except BaseException:
        delete_quietly(keys_of(rows))  # the commit failed: the rows are gone, so go the bytes
        raise
    return rows


def keys_of(attachments: Iterable[Attachment]) -> list[str]:
    """The storage keys (file and thumbnail) of attachment rows in hand."""
    return [key for a in attachments for key in (a.storage_key, a.thumbnail_key) if key]


def may_see_comment(viewer: User, comment: Comment | None) -> bool:
    """An internal note (and what is attached to it) is for people who work tasks only."""
    return comment is None or not comment.internal or works_tasks(viewer)


def visible_attachments(viewer: User, task: Task) -> list[Attachment]:
    """The files of ``task`` that ``viewer`` (who may see the task) may see, oldest first."""
    query = Attachment.select().where(Attachment.task == task)
    if not works_tasks(viewer):
        query = query.join(Comment, on=(Attachment.comment == Comment.id), join_type=JOIN.LEFT_OUTER).where(
            Attachment.comment.is_null() | (Comment.internal == False))  # noqa: E712
    return list(query.order_by(Attachment.id))


def get_visible_attachment(viewer: User, attachment_id: int, task_id: int | None = None) -> Attachment:
    """The attachment, or NotFound when it is missing, on another task than ``task_id``, or not for
    ``viewer``'s eyes (its existence must not leak)."""
    attachment = Attachment.get_or_none(Attachment.id == attachment_id)
    if attachment is None or (task_id is not None and attachment.task_id != task_id):
        raise NotFound(_("No such file."))
    try:
        get_visible_task(viewer, attachment.task_id)
    except NotFound:
        raise NotFound(_("No such file.")) from None
    if not may_see_comment(viewer, attachment.comment):
        raise NotFound(_("No such file."))
    return attachment


def may_delete(viewer: User, attachment: Attachment) -> bool:
    """The uploader, or someone who may edit the task."""
    return viewer.is_active and (attachment.uploader_id == viewer.id or viewer.has_permission("task.edit"))


def delete_attachment(actor: User, attachment_id: int, task_id: int | None = None) -> None:
    """Remove a file (its uploader, or someone who may edit the task), recorded in the audit trail."""
    with write_transaction():
        attachment = get_visible_attachment(actor, attachment_id, task_id)
        if not may_delete(actor, attachment):
            raise Forbidden(_("Only who added a file, or someone who may edit the task, can remove it."),
                            permission="task.edit")
        task = attachment.task
        keys = keys_of([attachment])
        TaskEvent.create(task_id=task.id, task_number=task.number, actor=actor, kind="detached", at=utcnow(),
                         changes={"attachments": [[{"id": attachment.id, "filename": attachment.filename,
                                                    "size": attachment.size,
                                                    "content_type": attachment.content_type}], None],
                                  **({"internal": [True, None]} if attachment.comment_id is not None
                                     and attachment.comment.internal else {})})
        attachment.delete_instance()
        Task.update(updated_at=utcnow()).where(Task.id == task.id).execute()
    delete_quietly(keys)


def stored_keys(condition) -> list[str]:
    """The storage keys (files and thumbnails) of the attachments ``condition`` selects."""
    keys = []
    for key, thumb in Attachment.select(Attachment.storage_key, Attachment.thumbnail_key).where(condition).tuples():
        keys.append(key)
        if thumb:
            keys.append(thumb)
    return keys


def open_file(attachment: Attachment, thumbnail: bool = False):
    """A binary stream of the attachment's bytes (or of its thumbnail); NotFound when the storage lost them."""
    key = attachment.thumbnail_key if thumbnail else attachment.storage_key
    if not key:
        raise NotFound(_("No such file."))
    try:
        return get_storage().open(key)
    except FileNotFoundError:
        log.error("attachment %s: its bytes (%s) are missing from the storage", attachment.id, key)
        raise NotFound(_("No such file.")) from None


__all__ = ["Upload", "MAX_FILES_PER_UPLOAD", "limits", "request_size_limit", "used_bytes", "clean_filename",
           "human_size", "check_uploads", "store_uploads", "add_attachments", "may_see_comment",
           "visible_attachments", "get_visible_attachment", "may_delete", "delete_attachment", "stored_keys", "keys_of",
           "open_file"]
