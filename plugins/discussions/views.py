"""Team pages: spaces with unread counts, a space's threads and pinned materials, a thread with its
posts and the moderation actions, and search. They read through :mod:`services` like the API, so a
space one may not see answers 404. No inline script or style: the pages live under the strict CSP."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from workdesk import (Department, NotFound, WorkdeskError, current_user, login_required, services as core,
                      show_service_error)

from . import services
from .api import file_response
from .forms import EditForm, HideForm, PinForm, PostForm, TaskForm, ThreadForm

pages = Blueprint("discussions_pages", __name__, url_prefix="/discussions")


def _uploads(form_field: str = "files") -> list:
    return [core.attachments.Upload(part.filename, part.read()) for part in request.files.getlist(form_field)
            if (part.filename or "") != ""]


def _visible(call, *args):
    """A service read that answers 404 for what the reader may not see."""
    try:
        return call(*args)
    except NotFound:
        abort(404)


@pages.get("/")
@login_required
def index():
    return render_template("discussions/index.html", spaces=services.list_spaces(current_user()))


@pages.route("/spaces/<int:space_id>", methods=["GET", "POST"])
@login_required
def space(space_id: int):
    user = current_user()
    space, threads = _visible(services.list_threads, user, space_id)
    form = ThreadForm()
    if form.validate_on_submit():
        try:
            thread = services.create_thread(user, space.id, form.title.data, form.body.data, _uploads())
            return redirect(url_for(".thread", thread_id=thread.id))
        except WorkdeskError as error:
            show_service_error(error, form)
    return render_template("discussions/space.html", space=space, threads=threads, form=form,
                           pinned=services.pinned_posts(user, space))


space.__workdesk_upload__ = True


def _thread_page(user, thread, reply: PostForm, status: int = 200):
    posts = services.thread_posts(user, thread)
    space = thread.space
    departments = [] if space.department_id else list(Department.select().order_by(Department.name))
    return render_template("discussions/thread.html", thread=thread, space=space, posts=posts, reply=reply,
                           hide_form=HideForm(prefix="hide"), pin_form=PinForm(prefix="pin"),
                           task_form=TaskForm(prefix="task"), edit_form=EditForm(prefix="edit"),
                           may_moderate=services.can_moderate(user, space), departments=departments), status


@pages.route("/threads/<int:thread_id>", methods=["GET", "POST"])
@login_required
def thread(thread_id: int):
    user = current_user()
    thread = _visible(services.get_thread, user, thread_id)
    reply = PostForm()
    if reply.validate_on_submit():
        try:
            post = services.add_post(user, thread.id, reply.body.data, _uploads())
            return redirect(url_for(".thread", thread_id=thread.id, _anchor=f"post-{post.id}"))
        except WorkdeskError as error:
            show_service_error(error, reply)
    return _thread_page(user, thread, reply)


thread.__workdesk_upload__ = True


def _post_action(post_id: int, form, action):
    """Run a moderation or edit action from the thread page and go back to the post."""
    user = current_user()
    post = _visible(services.get_post, user, post_id)
    if form.validate_on_submit():
        try:
            message = action(user, post, form)
            flash(message, "success")
        except WorkdeskError as error:
            flash(error.message, "error")
    else:
        flash(_("The form was not complete or has expired; try again."), "error")
    return redirect(url_for(".thread", thread_id=post.thread_id, _anchor=f"post-{post.id}"))


@pages.post("/posts/<int:post_id>/edit")
@login_required
def edit(post_id: int):
    def action(user, post, form):
        services.edit_post(user, post.id, form.body.data)
        return _("Post changed.")
    return _post_action(post_id, EditForm(prefix="edit"), action)


@pages.post("/posts/<int:post_id>/hide")
@login_required
def hide(post_id: int):
    def action(user, post, form):
        services.hide_post(user, post.id, form.reason.data)
        return _("Post hidden.")
    return _post_action(post_id, HideForm(prefix="hide"), action)


@pages.post("/posts/<int:post_id>/pin")
@login_required
def pin(post_id: int):
    def action(user, post, form):
        services.set_pinned(user, post.id, form.pinned.data)
        return _("Post pinned.") if form.pinned.data else _("Post unpinned.")
    return _post_action(post_id, PinForm(prefix="pin"), action)


@pages.post("/posts/<int:post_id>/task")
@login_required
def make_task(post_id: int):
    def action(user, post, form):
        task = services.post_to_task(user, post.id, form.title.data, form.department_id.data)
        return _("Task #%(number)s filed from the post.", number=task.number)
    return _post_action(post_id, TaskForm(prefix="task"), action)


@pages.get("/files/<int:file_id>")
@login_required
def download(file_id: int):
    return file_response(_visible(services.get_file, current_user(), file_id))


@pages.get("/search")
@login_required
def search():
    query = (request.args.get("q") or "").strip()
    results, error = [], None
    if query:
        try:
            results = services.search(current_user(), query)
        except WorkdeskError as exc:
            error = exc.message
    return render_template("discussions/search.html", query=query, results=results, error=error)
