"""The core's JSON endpoints under /api/v1. Every change goes through workdesk.services; every read of a
task through workdesk.access, so a task one may not see is a 404 here exactly as on the pages."""
from __future__ import annotations

from typing import Any

import marshmallow
from flask import Blueprint, current_app, g, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from ..access import get_visible_task, require, visible_users, works_tasks
from ..auth import authenticate, bearer_token, issue_token, revoke_token
from ..db import write_transaction
from ..errors import BadRequest, Forbidden, NotFound, Unauthorized, ValidationFailed
from .. import task_filters
from ..models import Absence, Attachment, Comment, Department, SavedView, Task, TaskEvent, User
from ..registry import (PluginError, PluginNotConfigured, get_registry, save_plugin_settings, set_plugin_enabled,
                       shown_plugin_settings, validate_settings)
from ..schemas import (MAX_ID, Id, Text, AbsenceCreateSchema, AbsencePageSchema, AbsenceQuerySchema, AbsenceSchema,
                       AbsenceUpdateSchema,
                       AttachmentListSchema, AttachmentSchema, CommentCreateSchema, CommentPageSchema,
                       CommentRevisionListSchema, CommentSchema, CommentUpdateSchema, ConfirmResolutionSchema,
                       DepartmentCreateSchema,
                       DepartmentPageSchema, DepartmentSchema, DepartmentUpdateSchema, MeSchema, PageQuerySchema,
                       PluginListSchema, PluginSchema, PluginUpdateSchema, SavedViewCreateSchema, SavedViewPageSchema,
                       ReopenSchema, SavedViewSchema, SavedViewUpdateSchema, TaskCreateSchema, TaskEventPageSchema,
                       TaskPageSchema, TaskSchema, TaskUpdateSchema, TokenRequestSchema,
                       TokenResponseSchema, UserCreateSchema, UserPageSchema, UserSchema, UserUpdateSchema, parse_id)
from ..services import absences as absence_service
from ..services import attachments as attachment_service
from ..services import saved_views as saved_view_service
from ..services import tasks as task_service
from ..services import users as user_service
from .framework import (API_PREFIX, api_blueprint, api_operation, flatten_messages, keyset_page, load_data, load_json,
                        load_query, require_api_user, visible_task_page)
from .openapi import build_openapi
from .representation import (absence_to_dict, attachment_to_dict, comment_to_dict, department_ids_of,
                             department_to_dict, event_to_dict, iso, saved_view_to_dict, task_to_dict, tasks_to_dicts, user_to_dict)

api = api_blueprint("api", __name__, url_prefix=API_PREFIX)
docs = Blueprint("api_docs", __name__, template_folder="templates")


def _created(body: dict[str, Any], location: str):
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = location
    return response


# -- authentication -------------------------------------------------------------------------------

@api.post("/auth/token")
@api_operation("Issue an API token", tags=["auth"], request=TokenRequestSchema, response=TokenResponseSchema,
               status=201, errors=[401, 429], public=True)
def issue_api_token():
    """Exchange email and password for a bearer token. After 10 wrong passwords within a minute for one
    email or from one client address (counted together with the login page and the password change),
    the next attempt answers 429 with ``Retry-After`` until the oldest of them is a minute old."""
    data = load_json(TokenRequestSchema)
    user = authenticate(data["email"], data["password"])
    if user is None:
        raise Unauthorized(_("Wrong email or password, or the account is deactivated."))
    token = issue_token(user, name=(request.user_agent.string or "").replace("\x00", "")[:100])
    return jsonify({"token": token, "user": user_to_dict(user)}), 201


@api.delete("/auth/token")
@api_operation("Revoke the presented token", tags=["auth"], status=204)
def revoke_api_token():
    """Revoke the bearer token this request carries; it answers 401 from then on."""
    token = bearer_token()
    if g.get("auth_method") != "token" or token is None:
        raise BadRequest(_("Send the token to revoke as 'Authorization: Bearer <token>'."))
    revoke_token(token)
    return "", 204


@api.get("/me")
@api_operation("The authenticated user", tags=["users"], response=MeSchema)
def me():
    user = require_api_user()
    return {**user_to_dict(user), "permissions": sorted(user.permissions)}


# -- users ----------------------------------------------------------------------------------------

@api.get("/users")
@api_operation("List users", tags=["users"], query=PageQuerySchema, response=UserPageSchema)
def list_users():
    """Users by id, ascending: the people the caller may look up. Who works tasks sees everyone; a
    requester sees themselves and the people on their tasks (reporters, assignees, watchers) unless an
    admin opened the directory (``open_directory``). Deactivated accounts only for ``user.manage``."""
    actor = require_api_user()
    args = load_query(PageQuerySchema)
    users, next_cursor = keyset_page(visible_users(actor), User.id, args["limit"], args.get("cursor"),
                                     newest_first=False)
    departments = department_ids_of(u.id for u in users)
    away = absence_service.current_absences([u.id for u in users])
    return {"items": [user_to_dict(u, departments[u.id], away) for u in users], "next_cursor": next_cursor}


@api.post("/users")
@api_operation("Create a user", tags=["users"], request=UserCreateSchema, response=UserSchema, status=201,
               headers={"Location": "URL of the new user"})
def create_user():
    """Admins only (``user.manage``). The password is stored hashed and never returned."""
    actor = require_api_user()
    require(actor, "user.manage")
    user = user_service.create_user(actor, **load_json(UserCreateSchema))
    return _created(user_to_dict(user), url_for("api.get_user", user_id=user.id))


def _user_or_404(actor: User, user_id: int) -> User:
    user = visible_users(actor).where(User.id == user_id).first()  # invisible is 404, like missing
    if user is None:
        raise NotFound(_("No such user."))
    return user


@api.get("/users/<id:user_id>")
@api_operation("Get a user", tags=["users"], response=UserSchema)
def get_user(user_id: int):
    return user_to_dict(_user_or_404(require_api_user(), user_id))


@api.patch("/users/<id:user_id>")
@api_operation("Change a user", tags=["users"], request=UserUpdateSchema, response=UserSchema)
def update_user(user_id: int):
    """People may change their own name, timezone and password; everything else (role, departments,
    deactivation, email) needs ``user.manage``. A password change or a deactivation ends every session
    and token of that user at once."""
    actor = require_api_user()
    _user_or_404(actor, user_id)
    changes = load_json(UserUpdateSchema, partial=True)
    user = user_service.update_user(actor, user_id, changes)
    return user_to_dict(user)


# -- departments ----------------------------------------------------------------------------------

@api.get("/departments")
@api_operation("List departments", tags=["departments"], query=PageQuerySchema, response=DepartmentPageSchema)
def list_departments():
    require_api_user()
    args = load_query(PageQuerySchema)
    rows, next_cursor = keyset_page(Department.select(), Department.id, args["limit"], args.get("cursor"),
                                    newest_first=False)
    return {"items": [department_to_dict(d) for d in rows], "next_cursor": next_cursor}


@api.post("/departments")
@api_operation("Create a department", tags=["departments"], request=DepartmentCreateSchema,
               response=DepartmentSchema, status=201, headers={"Location": "URL of the new department"})
def create_department():
    """Needs ``department.manage``."""
    actor = require_api_user()
    require(actor, "department.manage")
    department = user_service.create_department(actor, **load_json(DepartmentCreateSchema))
    return _created(department_to_dict(department), url_for("api.get_department", department_id=department.id))


def _department_or_404(department_id: int) -> Department:
    department = Department.get_or_none(Department.id == department_id)
    if department is None:
        raise NotFound(_("No such department."))
    return department


@api.get("/departments/<id:department_id>")
@api_operation("Get a department", tags=["departments"], response=DepartmentSchema)
def get_department(department_id: int):
    require_api_user()
    return department_to_dict(_department_or_404(department_id))


@api.patch("/departments/<id:department_id>")
@api_operation("Change a department", tags=["departments"], request=DepartmentUpdateSchema,
               response=DepartmentSchema)
def update_department(department_id: int):
    """Needs ``department.manage``."""
    actor = require_api_user()
    _department_or_404(department_id)
    require(actor, "department.manage")
    changes = load_json(DepartmentUpdateSchema, partial=True)
    return department_to_dict(user_service.update_department(actor, department_id, changes))


# -- tasks ----------------------------------------------------------------------------------------

def task_query_schema() -> type[marshmallow.Schema]:
    """The query of ``GET /tasks``: paging, then every filter and sort of the task-list catalogue."""
    return task_filters.query_schema(task_filters.catalogue(), base=PageQuerySchema)


@api.get("/tasks")
@api_operation("List and search tasks", tags=["tasks"], query=task_query_schema, response=TaskPageSchema)
def list_tasks():
    """The tasks you may see, newest first or in the order of ``sort``, filtered. Tasks you may not see
    are absent from every list, filter and search. Filters of enabled plugins are listed here too; a
    filter of a disabled plugin is a 422 saying so. Keyset pagination: pass ``next_cursor`` as
    ``cursor`` (with the same ``sort``)."""
    actor = require_api_user()
    page_args = {name: request.args[name] for name in ("limit", "cursor") if name in request.args}
    # Without a filter or sort the catalogue of filters is not needed: the page is every visible task, newest first.
    unfiltered = len(page_args) == len(request.args)
    listing, errors = (None, {}) if unfiltered else task_filters.parse(request.args, ignore=page_args)
    try:
        page = load_data(PageQuerySchema, page_args)
    except ValidationFailed as exc:
        errors = {**exc.fields, **errors}
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors)
    if listing is None:
        tasks, next_cursor = visible_task_page(actor, None, page["limit"], page.get("cursor"))
        return {"items": tasks_to_dicts(tasks, actor), "next_cursor": next_cursor}
    query = listing.apply(Task.select(), task_filters.FilterContext.of(actor))
    sorted_by = listing.sorted_by(query)
    if sorted_by is None:
        tasks, next_cursor = visible_task_page(actor, query, page["limit"], page.get("cursor"))
    else:
        query, keys = sorted_by
        tasks, next_cursor = visible_task_page(actor, query, page["limit"], page.get("cursor"), keys, listing.sort)
    return {"items": tasks_to_dicts(tasks, actor), "next_cursor": next_cursor}


def task_create_schema() -> type[marshmallow.Schema]:
    """The body of ``POST /tasks``: the task's fields and the inputs enabled plugins add (``register_task_inputs``)."""
    extra = task_service.plugin_task_inputs()
    if not extra:
        return TaskCreateSchema
    declared = {n: f for n, f in TaskCreateSchema._declared_fields.items() if n != "fields"}
    # A plugin input may supply the title and the department (a task template's title pattern and department),
    # so the body may leave them out; the service still refuses a task that ends up without them (422).
    declared["title"] = Text(max_length=200, metadata={
        "description": "Required unless a plugin input supplies it (a task template's title pattern)."})
    declared["department_id"] = Id(metadata={
        "description": "Required unless a plugin input supplies it (a task template's department)."})
    return marshmallow.Schema.from_dict({**declared, **extra, "fields": TaskCreateSchema._declared_fields["fields"]},
                                        name="TaskCreate")


@api.post("/tasks")
@api_operation("Create a task", tags=["tasks"], request=task_create_schema, response=TaskSchema, status=201,
               headers={"Location": "URL of the new task"})
def create_task():
    """Files a task; enabled plugins may accept more inputs (the templates plugin's ``template_id``)."""
    actor = require_api_user()
    data = load_json(task_create_schema())
    task = task_service.create_task(actor, **data)
    # The service stored exactly these watchers (or refused), unless a plugin's adjust_task_change added some
    # (a task template's watchers): only then are they read back.
    adjusted = bool(get_registry().implementers("adjust_task_change"))
    watcher_ids = None if adjusted else sorted(set(data.get("watcher_ids") or ()))
    return _created(task_to_dict(task, actor, watcher_ids), url_for("api.get_task", task_id=task.id))


def _task_response(task: Task, actor: User):
    response = jsonify(task_to_dict(task, actor))
    response.headers["ETag"] = f'"{task.version}"'
    return response


@api.get("/tasks/<id:task_id>")
@api_operation("Get a task", tags=["tasks"], response=TaskSchema, headers={"ETag": "The task's version"})
def get_task(task_id: int):
    actor = require_api_user()
    return _task_response(get_visible_task(actor, task_id), actor)


def _if_match_version() -> int | None:
    header = request.headers.get("If-Match")
    if not header:
        return None
    version = parse_id(header.strip().removeprefix("W/").strip('"'))  # "²" passes isdigit(), not int()
    if version is None:
        raise BadRequest(_("If-Match must be the task's ETag (its version, e.g. \"3\")."))
    return version


@api.patch("/tasks/<id:task_id>")
@api_operation("Change a task", tags=["tasks"], request=TaskUpdateSchema, response=TaskSchema, errors=[409])
def update_task(task_id: int):
    """Changes any editable field, ``status`` included. A stale ``version`` (in the body or an
    ``If-Match`` header) is a 409 ``conflict``; a move outside the workflow a 409
    ``invalid_transition``; a plugin's veto a 409 ``transition_blocked`` naming the plugin and reason."""
    actor = require_api_user()
    get_visible_task(actor, task_id)  # 404 before any validation detail can hint at the task
    changes = load_json(TaskUpdateSchema, partial=True)
    body_version = changes.pop("version", None)
    expected = body_version if body_version is not None else _if_match_version()
    task = task_service.update_task(actor, task_id, changes, expected_version=expected)
    return _task_response(task, actor)


@api.delete("/tasks/<id:task_id>")
@api_operation("Delete a task", tags=["tasks"], status=204)
def delete_task(task_id: int):
    """Admins only (``task.delete``); the task's audit trail is kept and stays readable to admins."""
    actor = require_api_user()
    task_service.delete_task(actor, task_id)
    return "", 204


@api.get("/tasks/<id:task_id>/comments")
@api_operation("List a task's comments", tags=["tasks"], query=PageQuerySchema, response=CommentPageSchema)
def list_comments(task_id: int):
    """Oldest first. Internal notes are listed only to people who work tasks (never to requesters)."""
    actor = require_api_user()
    task = get_visible_task(actor, task_id)
    args = load_query(PageQuerySchema)
    query = Comment.select().where(Comment.task == task)
    if not works_tasks(actor):
        query = query.where(Comment.internal == False)  # noqa: E712
    rows, next_cursor = keyset_page(query, Comment.id, args["limit"], args.get("cursor"), newest_first=False)
    files: dict[int, list[int]] = {c.id: [] for c in rows}
    if rows:
        for attachment_id, comment_id in (Attachment.select(Attachment.id, Attachment.comment)
                                          .where(Attachment.comment.in_(list(files))).order_by(Attachment.id).tuples()):
            files[comment_id].append(attachment_id)
    return {"items": [comment_to_dict(c, files[c.id]) for c in rows], "next_cursor": next_cursor}


@api.post("/tasks/<id:task_id>/comments")
@api_operation("Comment on a task", tags=["tasks"], request=CommentCreateSchema, response=CommentSchema,
               status=201, headers={"Location": "URL of the task's comments"})
def add_comment(task_id: int):
    """The body is Markdown. ``internal``: a note for people who work tasks (403 for a requester)."""
    actor = require_api_user()
    get_visible_task(actor, task_id)
    data = load_json(CommentCreateSchema)
    comment = task_service.add_comment(actor, task_id, data["body"], internal=data["internal"])
    return _created(comment_to_dict(comment, []), url_for("api.list_comments", task_id=task_id))


@api.patch("/tasks/<id:task_id>/comments/<id:comment_id>")
@api_operation("Edit your comment", tags=["tasks"], request=CommentUpdateSchema, response=CommentSchema)
def edit_comment(task_id: int, comment_id: int):
    """Only the author, within the editing window an admin sets (``comment_edit_minutes``, 403 after it);
    the earlier body is kept (``GET .../revisions``)."""
    actor = require_api_user()
    task_service.get_visible_comment(actor, task_id, comment_id)  # 404 before any validation detail
    comment = task_service.edit_comment(actor, task_id, comment_id, load_json(CommentUpdateSchema)["body"])
    return comment_to_dict(comment)


@api.get("/tasks/<id:task_id>/comments/<id:comment_id>/revisions")
@api_operation("A comment's earlier versions", tags=["tasks"], response=CommentRevisionListSchema)
def list_comment_revisions(task_id: int, comment_id: int):
    """Oldest first: each body the comment had before an edit, when it was written and replaced."""
    actor = require_api_user()
    comment = task_service.get_visible_comment(actor, task_id, comment_id)
    return {"items": [{"body": r.body, "written_at": iso(r.written_at), "replaced_at": iso(r.replaced_at),
                       "editor_id": r.editor_id} for r in task_service.comment_revisions(comment)]}


@api.post("/tasks/<id:task_id>/confirm")
@api_operation("Confirm a resolved task is done", tags=["tasks"], request=ConfirmResolutionSchema,
               response=TaskSchema, errors=[409])
def confirm_resolution(task_id: int):
    """For the task's reporter (or anyone with ``task.transition``): a resolved task is closed, through the
    workflow and the plugins' vetoes (409 ``transition_blocked``); another status is a 409 ``invalid_transition``."""
    actor = require_api_user()
    get_visible_task(actor, task_id)
    data = load_json(ConfirmResolutionSchema)
    return _task_response(task_service.confirm_resolution(actor, task_id, data.get("version")), actor)


@api.post("/tasks/<id:task_id>/reopen")
@api_operation("Reopen a resolved or closed task, saying why", tags=["tasks"], request=ReopenSchema,
               response=TaskSchema, errors=[409])
def reopen_task(task_id: int):
    """For the task's reporter (or anyone with ``task.transition``); the reason is kept in the audit trail."""
    actor = require_api_user()
    get_visible_task(actor, task_id)
    data = load_json(ReopenSchema)
    return _task_response(task_service.reopen_task(actor, task_id, data["reason"], data.get("version")), actor)


@api.get("/tasks/<id:task_id>/events")
@api_operation("A task's audit trail", tags=["tasks"], query=PageQuerySchema, response=TaskEventPageSchema)
def list_events(task_id: int):
    """Oldest first. The trail of a deleted task stays readable to those who see every task. Entries about
    internal notes are left out for people who do not work tasks (a page may then hold fewer items)."""
    actor = require_api_user()
    if actor.has_permission("task.view_all"):
        if not TaskEvent.select().where(TaskEvent.task_id == task_id).exists():
            raise NotFound(_("No such task."))
    else:
        get_visible_task(actor, task_id)
    args = load_query(PageQuerySchema)
    rows, next_cursor = keyset_page(TaskEvent.select().where(TaskEvent.task_id == task_id), TaskEvent.id,
                                    args["limit"], args.get("cursor"), newest_first=False)
    hidden = not works_tasks(actor)
    return {"items": [event_to_dict(e) for e in rows if not (hidden and "internal" in (e.changes or {}))],
            "next_cursor": next_cursor}


# -- attachments ----------------------------------------------------------------------------------

@api.get("/tasks/<id:task_id>/attachments")
@api_operation("List a task's files", tags=["attachments"], response=AttachmentListSchema)
def list_attachments(task_id: int):
    """Oldest first, those on its comments included (``comment_id``); files of internal notes only for
    people who work tasks."""
    actor = require_api_user()
    task = get_visible_task(actor, task_id)
    return {"items": [attachment_to_dict(a) for a in attachment_service.visible_attachments(actor, task)]}


@api.post("/tasks/<id:task_id>/attachments")
@api_operation("Attach files to a task", tags=["attachments"], files="files", response=AttachmentListSchema,
               status=201, form_fields={"comment_id": {
                   "type": "integer", "minimum": 1, "maximum": MAX_ID,
                   "description": "Attach the files to this comment of yours on the task instead of the task"}})
def upload_attachments(task_id: int):
    """``multipart/form-data`` with one or more ``files`` parts (at most 10), and ``comment_id`` to attach
    them to one of your comments on the task (403 for someone else's). Each file may be at most the
    size an admin set (``attachment_max_mb``): a larger one is a 413 ``payload_too_large`` naming it; files
    that would fill the instance's quota are a 413 ``quota_exceeded``. The content type is sniffed from
    the bytes, whatever the name or the part's declared type say."""
    from ..web.content import uploads_from_request
    actor = require_api_user()
    get_visible_task(actor, task_id)
    comment_id = None
    if request.form.get("comment_id"):
        comment_id = parse_id(request.form["comment_id"])
        if comment_id is None:
            raise ValidationFailed(_("Some fields are not valid."), {"comment_id": [_("Not a comment id.")]})
    added = attachment_service.add_attachments(actor, task_id, uploads_from_request(), comment_id)
    return {"items": [attachment_to_dict(a) for a in added]}, 201


upload_attachments.__workdesk_upload__ = True  # its body may be as large as the attachment limits allow


@api.get("/tasks/<id:task_id>/attachments/<id:attachment_id>")
@api_operation("Get a file's details", tags=["attachments"], response=AttachmentSchema)
def get_attachment(task_id: int, attachment_id: int):
    actor = require_api_user()
    return attachment_to_dict(attachment_service.get_visible_attachment(actor, attachment_id, task_id))


@api.get("/tasks/<id:task_id>/attachments/<id:attachment_id>/content")
@api_operation("Download a file", tags=["attachments"], response_media="application/octet-stream",
               headers={"Content-Disposition": "attachment; filename=...",
                        "X-Content-Type-Options": "nosniff"})
def get_attachment_content(task_id: int, attachment_id: int):
    """The bytes, always as an attachment (``Content-Disposition: attachment``) with ``nosniff``; a file
    sniffed as HTML, SVG or XML is sent as ``application/octet-stream``."""
    from ..web.content import file_response
    actor = require_api_user()
    return file_response(attachment_service.get_visible_attachment(actor, attachment_id, task_id))


@api.delete("/tasks/<id:task_id>/attachments/<id:attachment_id>")
@api_operation("Remove a file", tags=["attachments"], status=204)
def delete_attachment(task_id: int, attachment_id: int):
    """Its uploader, or someone who may edit tasks (``task.edit``); recorded in the audit trail."""
    actor = require_api_user()
    attachment_service.delete_attachment(actor, attachment_id, task_id)
    return "", 204


# -- absences -------------------------------------------------------------------------------------

@api.get("/absences")
@api_operation("List absences", tags=["absences"], query=AbsenceQuerySchema, response=AbsencePageSchema)
def list_absences():
    """A person's current and upcoming absences (``include_past=true``: every one), in the order they were
    recorded. Yours, or, as a head of one of their departments or with ``user.manage``, someone else's
    (403 otherwise)."""
    actor = require_api_user()
    args = load_query(AbsenceQuerySchema)
    person = actor
    if "user_id" in args:
        person = visible_users(actor).where(User.id == args["user_id"]).first()  # invisible reads as missing
        if person is None:
            raise ValidationFailed(_("Invalid reference."), {"user_id": [
                _("No such record (id %(id)s).", id=args["user_id"])]})
    if not absence_service.can_manage(actor, person):
        raise Forbidden(_("Only the person, a head of one of their departments or an administrator can see "
                          "their absences."), permission="user.manage")
    query = absence_service.absences_of(person, include_past=args["include_past"]).order_by()
    rows, next_cursor = keyset_page(query, Absence.id, args["limit"], args.get("cursor"), newest_first=False)
    return {"items": [absence_to_dict(a) for a in rows], "next_cursor": next_cursor}


@api.post("/absences")
@api_operation("Record an absence", tags=["absences"], request=AbsenceCreateSchema, response=AbsenceSchema,
               status=201, headers={"Location": "URL of the new absence"})
def create_absence():
    """Your own, or (as a head of one of their departments, or with ``user.manage``) someone else's. The end
    comes after the start; the delegate is an active user other than the person; periods of one person
    never overlap (422 naming the field)."""
    actor = require_api_user()
    absence = absence_service.create_absence(actor, **load_json(AbsenceCreateSchema))
    return _created(absence_to_dict(absence), url_for("api.get_absence", absence_id=absence.id))


@api.get("/absences/<id:absence_id>")
@api_operation("Get an absence", tags=["absences"], response=AbsenceSchema)
def get_absence(absence_id: int):
    return absence_to_dict(absence_service.get_manageable_absence(require_api_user(), absence_id))


@api.patch("/absences/<id:absence_id>")
@api_operation("Change an absence", tags=["absences"], request=AbsenceUpdateSchema, response=AbsenceSchema)
def update_absence(absence_id: int):
    actor = require_api_user()
    absence_service.get_manageable_absence(actor, absence_id)
    return absence_to_dict(absence_service.update_absence(actor, absence_id,
                                                          load_json(AbsenceUpdateSchema, partial=True)))


@api.delete("/absences/<id:absence_id>")
@api_operation("Delete an absence", tags=["absences"], status=204)
def delete_absence(absence_id: int):
    """An absence in progress ends now."""
    absence_service.delete_absence(require_api_user(), absence_id)
    return "", 204


# -- saved views ----------------------------------------------------------------------------------

@api.get("/saved-views")
@api_operation("List your saved views", tags=["saved views"], query=PageQuerySchema, response=SavedViewPageSchema)
def list_saved_views():
    """Your own views and those shared with your departments, by id, each with its count (one COUNT per
    view). List their tasks with ``GET /tasks`` and the view's ``params``."""
    actor = require_api_user()
    args = load_query(PageQuerySchema)
    rows, next_cursor = keyset_page(saved_view_service.visible_views(actor).order_by(), SavedView.id, args["limit"],
                                    args.get("cursor"), newest_first=False)
    return {"items": [saved_view_to_dict(v, actor) for v in rows], "next_cursor": next_cursor}


@api.post("/saved-views")
@api_operation("Save a view", tags=["saved views"], request=SavedViewCreateSchema, response=SavedViewSchema,
               status=201, headers={"Location": "URL of the new view"})
def create_saved_view():
    """``params`` are validated like ``GET /tasks``'s query (422 naming ``params.<name>``). Sharing with a
    department (``department_id``) takes being its head, or ``view.share`` and membership (403)."""
    actor = require_api_user()
    view = saved_view_service.create_view(actor, **load_json(SavedViewCreateSchema))
    return _created(saved_view_to_dict(view, actor), url_for("api.get_saved_view", view_id=view.id))


@api.get("/saved-views/<id:view_id>")
@api_operation("Get a saved view", tags=["saved views"], response=SavedViewSchema)
def get_saved_view(view_id: int):
    actor = require_api_user()
    return saved_view_to_dict(saved_view_service.get_visible_view(actor, view_id), actor)


@api.patch("/saved-views/<id:view_id>")
@api_operation("Change a saved view", tags=["saved views"], request=SavedViewUpdateSchema, response=SavedViewSchema)
def update_saved_view(view_id: int):
    """Its owner, or whoever may share views with its department (403 for others who see it)."""
    actor = require_api_user()
    saved_view_service.get_visible_view(actor, view_id)
    view = saved_view_service.update_view(actor, view_id, load_json(SavedViewUpdateSchema, partial=True))
    return saved_view_to_dict(view, actor)


@api.delete("/saved-views/<id:view_id>")
@api_operation("Delete a saved view", tags=["saved views"], status=204)
def delete_saved_view(view_id: int):
    actor = require_api_user()
    saved_view_service.delete_view(actor, view_id)
    return "", 204


# -- plugins --------------------------------------------------------------------------------------

def _plugin_to_dict(name: str) -> dict[str, Any]:
    registry = get_registry()
    info = registry.plugins[name]
    plugin = info.plugin
    return {
        "name": name,
        "title": plugin.title() if plugin else name,
        "description": plugin.description() if plugin else "",
        "version": plugin.version if plugin else None,
        "enabled": registry.is_enabled(name),
        "usable": info.usable,
        "error": info.incompatible or info.error,
        "settings": shown_plugin_settings(name) if info.usable else {},
    }


@api.get("/plugins")
@api_operation("List installed plugins", tags=["plugins"], response=PluginListSchema)
def list_plugins():
    """Needs ``plugin.manage``."""
    require(require_api_user(), "plugin.manage")
    return {"items": [_plugin_to_dict(name) for name in sorted(get_registry().plugins)]}


@api.patch("/plugins/<name>")
@api_operation("Enable, disable or configure a plugin", tags=["plugins"], request=PluginUpdateSchema,
               response=PluginSchema)
def update_plugin(name: str):
    """Needs ``plugin.manage``. ``settings`` are validated by the plugin's own schema (422 with a message
    per field, named ``settings.<field>``) before anything is stored; enabling creates its tables."""
    require(require_api_user(), "plugin.manage")
    registry = get_registry()
    if name not in registry.plugins:
        raise NotFound(_("No plugin named %(name)s.", name=name))
    changes = load_json(PluginUpdateSchema)
    if "settings" in changes:
        plugin = registry.get(name)
        if plugin is None:
            raise ValidationFailed(_("This plugin cannot be configured."),
                                   {"settings": [_("The plugin did not load or is incompatible.")]})
        try:
            validate_settings(plugin, changes["settings"])
        except marshmallow.ValidationError as exc:
            raise ValidationFailed(_("Some settings are not valid."),
                                   flatten_messages({"settings": exc.messages})) from None
    steps = []
    if "settings" in changes:
        steps.append(lambda: save_plugin_settings(name, changes["settings"]))
    if "enabled" in changes:
        toggle = lambda: set_plugin_enabled(name, changes["enabled"])  # noqa: E731
        # Enabling checks the new settings, so they are saved first; disabling comes first so that
        # settings an enabled plugin could not run with may be saved along with it.
        steps.insert(len(steps) if changes["enabled"] else 0, toggle)
    try:
        with write_transaction():  # all of the request or none of it
            for step in steps:
                step()
    except PluginNotConfigured as exc:
        registry.refresh(force=True)
        raise ValidationFailed(str(exc), {"enabled": [str(exc)], **{
            f"settings.{setting}": [_("Required to enable the plugin.")] for setting in exc.missing}}) from None
    except PluginError as exc:
        registry.refresh(force=True)
        raise ValidationFailed(str(exc), {"enabled": [str(exc)]}) from None
    except marshmallow.ValidationError as exc:
        registry.refresh(force=True)
        raise ValidationFailed(_("Some settings are not valid."),
                               flatten_messages({"settings": exc.messages})) from None
    return _plugin_to_dict(name)


# -- the document and its page ---------------------------------------------------------------------

@api.get("/openapi.json")
@api_operation("This API's OpenAPI document", tags=["meta"], public=True)
def openapi_document():
    """Describes every endpoint under /api/v1, including those of enabled plugins."""
    return jsonify(build_openapi(current_app))


@docs.get("/api/docs")
def docs_page():
    """Human-readable reference rendered on the server from the OpenAPI document (no external assets)."""
    return render_template("api/docs.html", spec=build_openapi(current_app))
