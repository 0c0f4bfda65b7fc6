"""The task page's content: rendered Markdown, internal notes, comment edits and attachments.

Files are served only through these routes, after the same visibility check as the task page (a
file one may not see is a 404). A download always carries ``Content-Disposition: attachment``,
``X-Content-Type-Options: nosniff`` and a sandboxing Content-Security-Policy, and a file sniffed as
HTML, SVG or XML goes out as ``application/octet-stream``: no upload ever renders as a page of this
site. Only raster images (and their Pillow-made thumbnails) are shown inline.
"""
from __future__ import annotations

from typing import Any

from flask import jsonify, request, send_file
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.datastructures import FileStorage

from ..access import get_visible_task, visible_users, works_tasks
from ..auth import current_user, login_required
from ..models import Attachment, CommentRevision, Task, User
from ..services import attachments as attachment_service
from ..services.tasks import edit_comment, may_edit_comment, visible_comments
from ..sniff import ACTIVE_TYPES, OCTET_STREAM, RASTER_IMAGES
from . import web
from .forms import AttachmentForm, CommentEditForm, DeleteForm

# Answers carrying an uploaded file: no script, plugin, form or frame of it can run even if a browser
# ignored the download header (old ones did, for some types).
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def uploads_from_request(field: str = "files") -> list[attachment_service.Upload]:
    """The files posted under ``field`` (``<input type=file multiple>`` sends one part per file; a part
    without a name is the empty input of a form sent with no file chosen)."""
    uploads = []
    for part in request.files.getlist(field):
        if isinstance(part, FileStorage) and (part.filename or "") != "":
            uploads.append(attachment_service.Upload(part.filename, part.read()))
    return uploads


def allow_large_upload(view):
    """Mark a view that receives files: its request body may be as large as the attachment limits allow
    (checked before the form, and so the CSRF token, is read; see :func:`raise_upload_limit`)."""
    view.__workdesk_upload__ = True
    return view


def raise_upload_limit() -> None:
    """Before every other request hook: an upload view's body limit follows the site settings."""
    from flask import current_app
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "__workdesk_upload__", False):
        request.max_content_length = max(current_app.config.get("MAX_CONTENT_LENGTH") or 0,
                                         attachment_service.request_size_limit())


def content_context(task: Task, user: User) -> dict[str, Any]:
    """What the task page's description, comments and attachments areas need."""
    comments = list(visible_comments(user, task))
    files = attachment_service.visible_attachments(user, task)
    on_comment: dict[int, list[Attachment]] = {}
    for attachment in files:
        if attachment.comment_id is not None:
            on_comment.setdefault(attachment.comment_id, []).append(attachment)
    editable = {c.id for c in comments if may_edit_comment(user, c)}
    edited = [c.id for c in comments if c.edited_at is not None]
    history: dict[int, list] = {cid: [] for cid in edited}
    if edited:
        revisions = CommentRevision.select().where(CommentRevision.comment.in_(edited)).order_by(CommentRevision.id)
        for revision in revisions:
            history[revision.comment_id].append(revision)
    largest, _quota = attachment_service.limits()
    return {"comments": comments, "task_files": [a for a in files if a.comment_id is None],
            "comment_files": on_comment, "editable_comments": editable, "comment_history": history,
            "can_write_internal": works_tasks(user), "attachment_form": AttachmentForm(formdata=None),
            "comment_edit_form": CommentEditForm(formdata=None), "delete_form": DeleteForm(formdata=None),
            "max_files": attachment_service.MAX_FILES_PER_UPLOAD,
            "largest_file": attachment_service.human_size(largest),
            "may_delete_file": lambda a: attachment_service.may_delete(user, a),
            "human_size": attachment_service.human_size}


def may_see_event(viewer: User, event) -> bool:
    """Audit entries about an internal note (``internal`` among their changes) are for people who work tasks."""
    return "internal" not in (event.changes or {}) or works_tasks(viewer)


def content_event_phrase(event) -> str:
    """The task page's words for an ``attached``, ``detached`` or ``comment_edited`` audit entry."""
    if event.kind == "comment_edited":
        return _("edited a comment")
    old, new = (event.changes or {}).get("attachments", [None, None])
    names = ", ".join(str(item.get("filename", "?")) for item in (new if event.kind == "attached" else old) or []
                      if isinstance(item, dict))
    if event.kind == "attached":
        return _("attached %(files)s", files=names)
    return _("removed the file %(files)s", files=names)


# -- attachments ------------------------------------------------------------------------------------

@web.route("/tasks/<int:task_id>/attachments", methods=["POST"])
@login_required
@allow_large_upload
def task_attach(task_id: int):
    from .task_pages import _act
    user = current_user()

    def action() -> str:
        added = attachment_service.add_attachments(user, task_id, uploads_from_request())
        return ngettext("%(num)d file attached.", "%(num)d files attached.", len(added))
    return _act(task_id, "attachment_form", AttachmentForm(), action, anchor="#attachments")


def file_response(attachment: Attachment, inline: bool = False, thumbnail: bool = False):
    stream = attachment_service.open_file(attachment, thumbnail=thumbnail)
    if thumbnail:
        mimetype = "image/png"
    elif attachment.content_type in ACTIVE_TYPES:
        mimetype = OCTET_STREAM  # never a type a browser would render as a page
    elif attachment.content_type == "text/plain":
        mimetype = "text/plain; charset=utf-8"
    else:
        mimetype = attachment.content_type
    download_name = f"thumbnail-{attachment.id}.png" if thumbnail else attachment.filename
    response = send_file(stream, mimetype=mimetype, as_attachment=not inline, download_name=download_name,
                         max_age=0, conditional=False, etag=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.file_policy = FILE_CSP  # the app's security headers keep it instead of the pages' policy
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@web.route("/tasks/<int:task_id>/attachments/<int:attachment_id>")
@login_required
def task_attachment(task_id: int, attachment_id: int):
    """Download a file (always as an attachment)."""
    return file_response(attachment_service.get_visible_attachment(current_user(), attachment_id, task_id))


@web.route("/tasks/<int:task_id>/attachments/<int:attachment_id>/view")
@login_required
def task_attachment_view(task_id: int, attachment_id: int):
    """Open a picture in the browser; any other file is downloaded instead."""
    attachment = attachment_service.get_visible_attachment(current_user(), attachment_id, task_id)
    return file_response(attachment, inline=attachment.content_type in RASTER_IMAGES)


@web.route("/tasks/<int:task_id>/attachments/<int:attachment_id>/thumbnail")
@login_required
def task_attachment_thumbnail(task_id: int, attachment_id: int):
    attachment = attachment_service.get_visible_attachment(current_user(), attachment_id, task_id)
    return file_response(attachment, inline=True, thumbnail=True)


@web.route("/tasks/<int:task_id>/attachments/<int:attachment_id>/delete", methods=["POST"])
@login_required
def task_attachment_delete(task_id: int, attachment_id: int):
    from .task_pages import _act
    user = current_user()

    def action() -> str:
        name = attachment_service.get_visible_attachment(user, attachment_id, task_id).filename
        attachment_service.delete_attachment(user, attachment_id, task_id)
        return _("%(name)s is removed.", name=name)
    return _act(task_id, "delete_form", DeleteForm(), action, anchor="#attachments")


# -- comments ---------------------------------------------------------------------------------------

@web.route("/tasks/<int:task_id>/comments/<int:comment_id>/edit", methods=["POST"])
@login_required
def task_comment_edit(task_id: int, comment_id: int):
    from .task_pages import _act
    user = current_user()
    form = CommentEditForm()
    return _act(task_id, "comment_edit_form", form, lambda: edit_comment(user, task_id, comment_id, form.body.data),
                done=_("Your comment is saved."), anchor=f"#comment-{comment_id}")


@web.route("/tasks/<int:task_id>/mentions")
@login_required
def task_mentions(task_id: int):
    """Who ``@`` may name on this task, for the comment box's suggestions: people the author may look up
    whose name or email starts with ``q``, at most 8 (JSON)."""
    user = current_user()
    get_visible_task(user, task_id)
    prefix = (request.args.get("q") or "").strip()[:100].replace("\x00", "")
    if not prefix:
        return jsonify({"items": []})
    from peewee import fn
    lowered = prefix.lower()
    people = (visible_users(user).where(fn.LOWER(User.name).startswith(lowered) | User.email.startswith(lowered))
              .order_by(User.name).limit(8))
    return jsonify({"items": [{"name": p.name, "email": p.email} for p in people]})


__all__ = ["content_context", "file_response", "uploads_from_request", "allow_large_upload", "raise_upload_limit"]
