"""JSON API under /api/v1/discussions: spaces, threads, posts, files, search and moderation.
A space (thread, post, file) one may not see answers 404, as tasks do."""
from __future__ import annotations

from flask import request, send_file

from workdesk import api_blueprint, api_operation, load_json, load_query, require_api_user, services as core

from . import services
from .schemas import (HideInput, ModerationList, PinInput, PostInput, PostList, PostOutput, SearchQuery, SpaceInput,
                      SpaceList, SpaceOutput, TaskInput, TaskOutput, ThreadDetail, ThreadInput, ThreadList,
                      ThreadOutput)

blueprint = api_blueprint("discussions_api", __name__, url_prefix="/api/v1/discussions")
TAGS = ("discussions",)
# A downloaded file never runs as a page of ours, whatever it contains.
FILE_CSP = "default-src 'none'; sandbox"


def uploads_from_request(field: str = "files") -> list:
    """The files posted under ``field`` (a part without a name is an empty file input)."""
    return [core.attachments.Upload(part.filename, part.read()) for part in request.files.getlist(field)
            if (part.filename or "") != ""]


@blueprint.get("/spaces")
@api_operation("List discussion spaces", tags=TAGS, response=SpaceList)
def list_spaces():
    """Your departments' spaces and the instance-wide ones, each with its unread count."""
    return {"items": services.list_spaces(require_api_user())}


@blueprint.post("/spaces")
@api_operation("Create an instance-wide space", tags=TAGS, request=SpaceInput, response=SpaceOutput, status=201)
def create_space():
    """Administrators only (``discussions.moderate``); departments get their spaces automatically."""
    data = load_json(SpaceInput)
    space = services.create_space(require_api_user(), data["name"], data.get("description", ""))
    return {**services.space_to_dict(space), "unread": 0}, 201


@blueprint.get("/spaces/<id:space_id>/threads")
@api_operation("List a space's threads", tags=TAGS, response=ThreadList)
def list_threads(space_id: int):
    """Newest activity first, each with its unread count."""
    _space, threads = services.list_threads(require_api_user(), space_id)
    return {"items": threads}


@blueprint.post("/spaces/<id:space_id>/threads")
@api_operation("Start a thread", tags=TAGS, request=ThreadInput, response=ThreadOutput, status=201)
def create_thread(space_id: int):
    """A title and the first post (Markdown; mentions notify)."""
    data = load_json(ThreadInput)
    thread = services.create_thread(require_api_user(), space_id, data["title"], data["body"])
    return {**services.thread_to_dict(thread), "unread": 0}, 201


@blueprint.get("/spaces/<id:space_id>/pinned")
@api_operation("Pinned posts of a space", tags=TAGS, response=PostList)
def pinned(space_id: int):
    user = require_api_user()
    space = services.get_space(user, space_id)
    return {"items": [services.post_to_dict(p, user) for p in services.pinned_posts(user, space)]}


@blueprint.get("/threads/<id:thread_id>")
@api_operation("Read a thread", tags=TAGS, response=ThreadDetail)
def show_thread(thread_id: int):
    """The thread and its posts, oldest first; reading marks them read."""
    user = require_api_user()
    thread = services.get_thread(user, thread_id)
    posts = services.thread_posts(user, thread)
    return {**services.thread_to_dict(thread), "unread": 0, "posts": [services.post_to_dict(p, user) for p in posts]}


@blueprint.post("/threads/<id:thread_id>/posts")
@api_operation("Reply in a thread", tags=TAGS, request=PostInput, response=PostOutput, status=201)
def add_post(thread_id: int):
    """Markdown; ``@email`` or ``@Full Name`` mentions notify those people if they see the space; the
    thread's earlier authors are told of the reply."""
    user = require_api_user()
    return services.post_to_dict(services.add_post(user, thread_id, load_json(PostInput)["body"]), user), 201


@blueprint.post("/posts/<id:post_id>/files")
@api_operation("Attach files to your post", tags=TAGS, files="files", response=PostOutput, status=201)
def attach_files(post_id: int):
    """``multipart/form-data`` with one or more ``files`` parts (at most 10), checked against the same
    size limit and quota as task attachments (413 naming the file); the author only."""
    user = require_api_user()
    return services.post_to_dict(services.attach_files(user, post_id, uploads_from_request()), user), 201


attach_files.__workdesk_upload__ = True  # its body may be as large as the attachment limits allow


@blueprint.patch("/posts/<id:post_id>")
@api_operation("Edit your post", tags=TAGS, request=PostInput, response=PostOutput)
def edit_post(post_id: int):
    """The author only; the previous text is kept in the moderation trail."""
    user = require_api_user()
    return services.post_to_dict(services.edit_post(user, post_id, load_json(PostInput)["body"]), user)


@blueprint.post("/posts/<id:post_id>/hide")
@api_operation("Hide a post", tags=TAGS, request=HideInput, response=PostOutput)
def hide_post(post_id: int):
    """The department head or an administrator, with a reason the moderation trail keeps."""
    user = require_api_user()
    return services.post_to_dict(services.hide_post(user, post_id, load_json(HideInput)["reason"]), user)


@blueprint.post("/posts/<id:post_id>/pin")
@api_operation("Pin or unpin a post", tags=TAGS, request=PinInput, response=PostOutput)
def pin_post(post_id: int):
    user = require_api_user()
    return services.post_to_dict(services.set_pinned(user, post_id, load_json(PinInput)["pinned"]), user)


@blueprint.post("/posts/<id:post_id>/task")
@api_operation("Turn a post into a task", tags=TAGS, request=TaskInput, response=TaskOutput, status=201)
def post_to_task(post_id: int):
    """The task quotes the post and links back to it; the post shows the task (``task_id``)."""
    data = load_json(TaskInput)
    task = services.post_to_task(require_api_user(), post_id, data.get("title"), data.get("department_id"))
    return {"task_id": task.id, "number": task.number}, 201


@blueprint.get("/files/<id:file_id>")
@api_operation("Download a post's file", tags=TAGS, response_media="application/octet-stream",
               headers={"Content-Disposition": "attachment; filename=...", "X-Content-Type-Options": "nosniff"})
def download(file_id: int):
    """Always as an attachment, as ``application/octet-stream`` with ``nosniff``."""
    return file_response(services.get_file(require_api_user(), file_id))


def file_response(row):
    from workdesk import get_storage
    response = send_file(get_storage().open(row.storage_key), mimetype="application/octet-stream",
                         as_attachment=True, download_name=row.filename, max_age=0, conditional=False, etag=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.file_policy = FILE_CSP
    return response


@blueprint.get("/search")
@api_operation("Search the spaces you see", tags=TAGS, query=SearchQuery, response=PostList)
def search():
    """Posts (not hidden) whose text or thread title contains ``q``, newest first, at most 50."""
    user = require_api_user()
    return {"items": [services.post_to_dict(p, user) for p in services.search(user, load_query(SearchQuery)["q"])]}


@blueprint.get("/spaces/<id:space_id>/moderation")
@api_operation("A space's moderation trail", tags=TAGS, response=ModerationList)
def moderation(space_id: int):
    """Edits, hidden posts with their reasons, pins and tasks; for the department head and administrators."""
    entries = services.moderation_log(require_api_user(), space_id)
    return {"items": [{"id": e.id, "post_id": e.post_id, "actor_id": e.actor_id, "action": e.action,
                       "reason": e.reason, "at": e.at.isoformat()} for e in entries]}
