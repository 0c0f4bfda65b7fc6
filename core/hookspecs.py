"""Workdesk's plugin hooks.

Every hook is one function whose body is its documentation. Families:

- ``register_*`` hooks return a list; the core concatenates the lists of every enabled plugin.
- ``on_task_*`` hooks are events. They run on a worker, after the change has committed, once per
  event per plugin (at least once: write handlers so that a repeat does no harm). An exception is
  logged and shown against the plugin; it never undoes the change or stops other plugins.
- ``extra_*`` hooks add data; the core files what a plugin returns under the plugin's name.
- One-answer hooks (``firstresult``) stop at the first plugin that answers something other than None.

Implementations may accept fewer arguments than the specification names, so adding an argument
never breaks an older plugin. Metadata (title, version, supported Workdesk versions, settings
schema) is declared on the :class:`workdesk.registry.Plugin` class, not through a hook.

HOOK_API_VERSION names this contract; a plugin states which Workdesk versions it supports with
``Plugin.requires_workdesk``.
"""
from __future__ import annotations

import pluggy

HOOK_API_VERSION = "1.0"

hookspec = pluggy.HookspecMarker("workdesk")


# ---------------------------------------------------------------------------------------------
# Registration: called when a process starts (models, blueprints, admin views, jobs) or when the
# permission catalogue is built. A disabled plugin's registrations stay in place but are inert:
# its routes answer 404, its admin views are hidden, its jobs and tasks do not run.
# ---------------------------------------------------------------------------------------------

@hookspec
def register_models():
    """Return the peewee model classes (tables) this plugin owns.

    Called when the schema is brought up to date and by tools that list tables. Table names
    must start with the plugin's name (``recurring_rule``). The tables themselves are created by
    the plugin's migrations (``<plugin package>.migrations``); a plugin without a migrations
    package has its models created by the core when it is first enabled.

    :return: list of model classes, or None.
    """


@hookspec
def register_blueprints(app):
    """Return Flask blueprints (API endpoints and pages) to mount on ``app``.

    Called once per process when the app is created. Every request to a blueprint of a disabled
    plugin answers 404. API blueprints should use the URL prefix ``/api/v1/<plugin>``.

    :param app: the Flask application.
    :return: list of ``flask.Blueprint``, or None.
    """


@hookspec
def register_admin_views():
    """Return Flask-Admin views for the admin panel.

    Called once per process when the admin panel is built, for every installed plugin (enabled
    or not). Views sit in a menu section named after the plugin's title; while the plugin is
    disabled they are hidden from the menu and their URLs answer 404. Only admins reach them,
    whatever the view's own ``is_accessible`` says. Model views are given the panel's CSRF form
    base (a Flask-WTF form) when theirs is not one. Give each view a unique ``endpoint`` that
    starts with the plugin's name (``recurring_rules``) and a URL under ``/admin/<plugin>/``.

    :return: list of ``flask_admin.BaseView`` instances, or None.
    """


@hookspec
def register_jobs():
    """Return the periodic jobs of this plugin as :class:`workdesk.jobs.PeriodicJob` objects.

    Called when a worker starts and by ``workdesk tick``. A job is called as ``func(now, since)``
    where ``now`` is the instant it runs for (real time on the worker, ``--at`` on ``tick``) and
    ``since`` the instant of its last completed run, or None on the first run, so that it can catch
    up on what it missed. One job never runs twice at once, across any number of workers.

    :return: list of PeriodicJob, or None.
    """


@hookspec
def register_permissions():
    """Return the permission strings this plugin adds, as ``(permission, description)`` pairs.

    Called when roles are edited and when ``workdesk db upgrade`` seeds roles. Permission
    strings should start with the plugin's name (``recurring.manage``).

    :return: list of (str, str), or None.
    """


# ---------------------------------------------------------------------------------------------
# Task representation
# ---------------------------------------------------------------------------------------------

@hookspec
def extra_task_data(task, user):
    """Return JSON-serialisable data this plugin adds to a task's representation.

    Called whenever a task is shown through the API or the web pages, synchronously; keep it
    cheap. The core stores the result under ``plugins.<plugin name>``; None adds nothing.

    :param task: the :class:`workdesk.models.Task`.
    :param user: the :class:`workdesk.models.User` looking at it (None for system use).
    :return: dict or None.
    """


# ---------------------------------------------------------------------------------------------
# Events (run on a worker after commit)
# ---------------------------------------------------------------------------------------------

@hookspec
def on_task_created(task, actor, event):
    """A task was created.

    :param task: the task, loaded fresh after commit.
    :param actor: the user who created it, or None when the system did.
    :param event: dict with ``id`` (the outbox event id, stable across redeliveries), ``kind`` and
        ``payload``; use ``id`` to make the handler idempotent.
    """


@hookspec
def on_task_updated(task, actor, changes, event):
    """Fields of a task changed (status included).

    :param changes: ``{field: [old, new]}`` as recorded in the audit trail.
    """


@hookspec
def on_task_commented(task, comment, actor, event):
    """A comment was added to a task.

    :param comment: the :class:`workdesk.models.Comment`.
    """


@hookspec
def on_task_assigned(task, assignee, previous_assignee, actor, event):
    """A task's assignee changed (also fired on creation with an assignee).

    :param assignee: the new assignee or None when unassigned.
    :param previous_assignee: the former assignee or None.
    """


# ---------------------------------------------------------------------------------------------
# Decisions (run synchronously inside the change's transaction)
# ---------------------------------------------------------------------------------------------

@hookspec
def veto_transition(task, old_status, new_status, actor):
    """Refuse a status change by returning the reason as a string.

    Called before a workflow-allowed transition is saved. Every enabled plugin is asked; the
    first reason refuses the change and reaches the user together with the plugin's name.

    :return: a human-readable reason (str) to refuse, or None to allow.
    """


@hookspec(firstresult=True)
def propose_assignee(task, candidates):
    """Propose who should work on a new task that was created without an assignee.

    Called synchronously while the task is created; the first non-None answer wins.

    :param task: the unsaved-yet-numbered task (department, type, priority, fields are set).
    :param candidates: active users who belong to the task's department.
    :return: a :class:`workdesk.models.User` or None to let the next plugin decide.
    """


# ---------------------------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------------------------

@hookspec
def deliver_notification(notification, event):
    """Deliver a stored notification through this plugin's channel (email, chat, ...).

    Called on a worker after the transaction that created the notification committed, once per
    notification per enabled delivery plugin (at least once: use ``notification.id`` to stay
    idempotent). Raise to have the delivery retried with backoff.

    Every notification reaches this hook, including those the recipient does not want on this
    channel and those held for their digest; ask ``workdesk.notifications.should_deliver(notification,
    "<plugin name>")`` first. A digest arrives as a notification of kind ``notifications.digest``
    whose items ``workdesk.notifications.digest_items(notification, "<plugin name>")`` lists. The
    ledger in ``workdesk.notifications.delivery`` (one row per notification and destination, retries
    with backoff, dead letters, admin views in ``workdesk.notifications.admin``) is what the email and
    webhooks plugins use to send each message once.

    :param notification: the :class:`workdesk.notifications.Notification`.
    """


# ---------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------

@hookspec
def task_page_panels(task, user):
    """Return panels this plugin adds to the task page, as ``(title, html)`` pairs.

    Called synchronously each time the task page is shown to someone who may see the task; keep
    it cheap. Render ``html`` with the plugin's own template (``flask.render_template``, which
    autoescapes) and return it as :class:`markupsafe.Markup`; a plain string is shown as text,
    escaped. A raising plugin is logged and shown against the plugin; the page renders without
    its panels.

    :param task: the :class:`workdesk.models.Task` being shown.
    :param user: the :class:`workdesk.models.User` looking at it.
    :return: list of (str, markupsafe.Markup), or None.
    """
