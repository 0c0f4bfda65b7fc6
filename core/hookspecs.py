"""Workdesk's plugin hooks.

Every hook is one function whose body is its documentation. Each belongs to a family, and each family
has one error policy, applied by the core for every plugin alike:

- **Registration** (``register_*``): return a list; the core concatenates the lists of every plugin.
  Called when a process starts (models, blueprints, admin views, jobs, commands) or when a catalogue
  is built (permissions, notification kinds, task-list filters). A raising plugin is recorded against it and its
  registrations are left out; the process starts without them.
- **Events** (``on_task_*``, ``on_absence_*``, ``on_user_deactivated``, ``deliver_notification``): run on a worker, after the change has
  committed, once per event per plugin, at least once (write handlers so that a repeat does no
  harm: the ``event["id"]`` is stable across redeliveries). A raising handler is recorded against its
  plugin and retried with backoff for that plugin alone (five attempts); it never undoes the change
  or delays other plugins. Handlers run outside any transaction: wrap writes in
  ``workdesk.write_transaction()``.
- **Decisions** (``veto_*``, ``adjust_*``, ``validate_*``, ``propose_*``): run synchronously inside the transaction
  of the change they decide on. A raising plugin is recorded (shown in ``workdesk plugins list``,
  the admin panel and the health panel) and counts as having **no opinion** (fail open), unless the
  plugin lists the hook in :attr:`workdesk.Plugin.fails_closed`: then its error refuses the change
  (fail closed), with a message naming the plugin. Their answers are about one task, so bulk
  creation (``services.tasks.create_tasks``) asks ``adjust_task_change``, ``validate_task_change``,
  ``propose_assignee`` and ``veto_task_change`` once per task, as a single create does; one refusal refuses the whole batch.
- **Lifecycle** (``on_plugin_enabled``, ``on_plugin_disabled``): run synchronously on the one plugin
  being switched, in the process that switched it.
- **Display** (``extra_*``, ``task_page_panels``, ``task_filing_panels``, ``account_page_panels``,
  ``describe_task_event``, ``navigation_links``): run synchronously while a task, the form filing one,
  or a page is shown. A raising plugin is recorded and left out; the page or the JSON still renders.

One-answer hooks (``firstresult``) stop at the first plugin that answers something other than None.
Implementations may accept fewer arguments than the specification names, so adding an argument
never breaks an older plugin. A method marked ``@hookimpl`` whose name is not a hook below (a
misspelling), or a method named like a hook but not marked, makes the plugin refused at load, with
both names shown in ``workdesk plugins list`` and the admin panel. Metadata (title, version,
supported Workdesk versions, settings schema, ``fails_closed``) is declared on the
:class:`workdesk.Plugin` class, not through a hook.

HOOK_API_VERSION names this contract; a plugin states which Workdesk versions it supports with
``Plugin.requires_workdesk``. A hook's description says in which version it was added when that is after
1.1; a plugin implementing such a hook should require at least that version (``">=1.2,<2"``), since an
older Workdesk refuses a plugin whose hook it does not know.

Version 1.2 added ``on_user_deactivated``, ``validate_task_change``, ``register_task_inputs``, ``register_report_metrics``,
``register_crm_connectors``, ``delivery_bounced``, ``reply_address``, ``navigation_links``,
``task_filing_panels``, ``account_page_panels`` and ``extra_head``. Nothing was removed or changed
incompatibly.
"""
from __future__ import annotations

import pluggy

HOOK_API_VERSION = "1.2"

hookspec = pluggy.HookspecMarker("workdesk")


class _Unassigned:
    """The type of :data:`UNASSIGNED` (one instance)."""

    def __repr__(self) -> str:
        return "workdesk.UNASSIGNED"


#: A ``propose_assignee`` answer meaning "this plugin decided, and nobody fits": the task is filed
#: unassigned and later plugins are not asked (a dispatch rule that matched but found nobody available
#: must not fall through to a weaker rule).
UNASSIGNED = _Unassigned()


# ---------------------------------------------------------------------------------------------
# Registration. A disabled plugin's registrations stay in place but are inert: its routes answer
# 404, its admin views are hidden, its jobs, tasks and commands do not run.
# ---------------------------------------------------------------------------------------------

@hookspec
def register_models():
    """Return the peewee model classes (tables) this plugin owns.

    Called by tools that list tables. Table names must start with the plugin's name
    (``recurring_rule``). The tables themselves are created and changed by the plugin's numbered
    migrations (``<plugin package>/migrations/NNNN_description.py``), applied when the plugin is
    enabled and by ``workdesk db upgrade``; a plugin that returns models but has no migrations
    package cannot be enabled.

    :return: list of model classes, or None.
    """


@hookspec
def register_blueprints(app):
    """Return Flask blueprints (API endpoints and pages) to mount on ``app``.

    Called once per process when the app is created. Every request to a blueprint of a disabled
    plugin answers 404. API blueprints should use the URL prefix ``/api/v1/<plugin>``. The plugin's
    ``templates/`` and ``static/`` folders need no blueprint: the core mounts them by convention.

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
    """Return the periodic jobs of this plugin as :class:`workdesk.PeriodicJob` objects.

    Called when a worker starts and by ``workdesk tick``. A job is called as ``func(now, since)``
    where ``now`` is the instant it runs for (real time on the worker, ``--at`` on ``tick``) and
    ``since`` the instant of its last completed run, or None on the first run, so that it can catch
    up on what it missed. ``since`` is also None when the recorded run lies after ``now`` (a clock
    set back): the job then runs at once. So a job may run again for an instant it has seen; make
    it idempotent through its own data (a unique key, a status, a per-row cursor), never through
    ``since``. A ``tick --at`` replay gets the latest of its earlier replays and live runs before
    ``--at`` as ``since``, and never delays the live runs. One job never runs twice at once, across
    any number of workers. A job
    runs outside any transaction: read what it iterates first (``list(query)``), then make each unit
    of work its own ``workdesk.write_transaction()`` (or use ``workdesk.for_each_in_transaction``).
    A raising job is recorded against its plugin and runs again when next due.

    :return: list of PeriodicJob, or None.
    """


@hookspec
def register_permissions():
    """Return the permission strings this plugin adds, as ``(permission, description)`` pairs.

    Called when roles are edited and when ``workdesk db upgrade`` seeds roles. Permission
    strings should start with the plugin's name (``recurring.manage``).

    :return: list of (str, str), or None.
    """


@hookspec
def register_notification_kinds():
    """Return the notification kinds this plugin sends, as ``(kind, label)`` pairs.

    Called whenever someone's notification preferences are shown or saved, for enabled plugins.
    ``kind`` is a dotted name starting with the plugin's name (``recurring.failed``), the same
    string the plugin passes to ``workdesk.notify(...)``; ``label`` says in a few words when the
    notification is sent ("A recurring rule failed") and should be a lazy gettext string so that
    each reader sees it in their language. A kind that is not registered is still delivered, but
    nobody can switch its channels off.

    :return: list of (str, str), or None.
    """


@hookspec
def register_task_filters():
    """Return the filters and sorts this plugin adds to every task list.

    Called whenever a task list is built (``GET /api/v1/tasks`` and its OpenAPI document, the team
    pages' lists and filter forms, saved views and their counts, the admin panel's task list), for
    every installed plugin: the filters of enabled plugins are offered, those of a disabled plugin
    only named, so that a request still using one is answered "belongs to a disabled plugin" (422
    in the API; left out, with a notice, in pages and saved views). Keep it cheap and free of
    queries. A raising plugin, or an item that is not a valid :class:`workdesk.TaskFilter` or
    :class:`workdesk.TaskSort` (or whose name is taken), is recorded against the plugin and left
    out; the list works without it. A filter whose ``apply`` raises is recorded and left out of that
    list.

    A filter names its query parameter, its allowed values with labels and how it narrows the
    query; a sort names a column, of the task or of a table of the plugin's that it joins, and is
    walked in keyset pages with the task id as tie-breaker::

        TaskFilter("sla", _l("SLA"), apply=sla_condition,
                   choices=[("at_risk", _l("At risk")), ("breached", _l("Breached"))])
        TaskSort("sla_deadline", _l("SLA deadline"), expression=Clock.next_deadline,
                 join=lambda q: q.join_from(Task, Clock, JOIN.LEFT_OUTER, on=(Clock.task_id == Task.id)),
                 ascending_label=_l("Nearest deadline first"))

    :return: list of :class:`workdesk.TaskFilter` and :class:`workdesk.TaskSort`, or None.
    """


@hookspec
def register_task_inputs():
    """Return extra inputs that filing a task accepts, as ``(name, marshmallow field)`` pairs.
    *Added in 1.2.*

    Called whenever a task is filed (``services.tasks.create_task`` / ``create_tasks``) and when the
    API's ``POST /api/v1/tasks`` body schema (and its OpenAPI document) is built, for enabled plugins.
    An input is not a column of the task: its value reaches the ``adjust_task_change`` hooks among the
    creation's ``changes`` (``task`` None), where the plugin turns it into the task's values (a
    ``template_id`` filling in a template's defaults), and is then dropped. The API validates it with
    the field; a Python caller's value arrives as given, so check it in ``validate_task_change``. The
    name must be 1–40 lower-case letters, digits and underscores and must not be a field of the task;
    a raising plugin, a bad item or a taken name is recorded against the plugin and left out. While
    the plugin is disabled its inputs are unknown fields (422).

    :return: list of ``(str, marshmallow.fields.Field)``, or None.
    """


@hookspec
def register_report_metrics():
    """Return the metrics this plugin contributes to the ``reports`` plugin's dashboard.
    *Added in 1.2.*

    Called by the reports plugin whenever it builds its catalogue of metrics (each dashboard, CSV
    export, API call and scheduled report), on enabled plugins only, so a metric is shown only while
    its plugin is on. Registration family: a raising plugin, or an item that is not a valid
    :class:`workdesk.ReportMetric` (its key must be ``<plugin>.<name>``), is recorded against the
    plugin and left out; the reports work without it. Keep it cheap and free of queries: the work is
    done by each metric's ``compute(scope)``, which queries in SQL (grouped on indexed columns) and
    returns a :class:`workdesk.ReportTable`::

        ReportMetric("escalation.sla_compliance", _l("SLA compliance"), compute=sla_compliance,
                     description=_l("Share of SLA targets met, per target, team and person."))

    :return: list of :class:`workdesk.ReportMetric`, or None.
    """


@hookspec
def register_crm_connectors():
    """Return connector classes for the ``crm_sync`` plugin: how it talks to one CRM.
    *Added in 1.2.*

    Called by the ``crm_sync`` plugin whenever it needs a connector (a pull, a push, a webhook, the
    settings form), on enabled plugins only. Each item is a subclass of
    ``workdesk.plugins.crm_sync.connectors.Connector`` with a unique ``name`` (the value of the
    ``connector`` setting) that pulls changes since a cursor with pagination, pushes an activity with
    an idempotency key, looks a contact up by email or phone and verifies an inbound delivery; the
    sync does the rest (matching by remote id, field ownership, merges, deletions, retries). See
    ``docs/plugins/crm_sync.md``. Registration family: a raising plugin is recorded and left out;
    an item that is not a connector class, or whose name is taken, is ignored.

    :return: list of connector classes, or None.
    """


@hookspec
def register_commands():
    """Return ``click`` commands this plugin adds to the ``workdesk`` command line.

    Called when ``workdesk`` starts. The commands are grouped under the plugin's name:
    ``workdesk <plugin> <command> ...``. Before a command runs, the core has loaded the settings,
    connected the database and checked the schema; a command of a disabled plugin refuses to run
    and says how to enable it. Raise ``click.ClickException`` (exit code 2 is the house rule for
    usage errors: set ``exit_code = 2``) for errors a user caused.

    :return: list of ``click.Command``, or None.
    """


# ---------------------------------------------------------------------------------------------
# Lifecycle
# ---------------------------------------------------------------------------------------------

@hookspec
def on_plugin_enabled():
    """This plugin was just enabled (its migrations are applied).

    Called on this plugin only, synchronously, in the process that enabled it (admin panel, API
    or ``workdesk plugins enable``), inside the transaction that marks it enabled: seed the rows it
    needs here. If it raises, the plugin stays disabled and the person enabling it sees the error.
    """


@hookspec
def on_plugin_disabled():
    """This plugin was just disabled; its tables and rows are kept.

    Called on this plugin only, synchronously, in the process that disabled it, after it is marked
    disabled. Stop what must not go on (cancel pending work, mark remote subscriptions paused). An
    exception is recorded against the plugin; the plugin is disabled anyway.
    """


# ---------------------------------------------------------------------------------------------
# Task representation
# ---------------------------------------------------------------------------------------------

@hookspec
def extra_task_data(task, user):
    """Return JSON-serialisable data this plugin adds to a task's representation.

    Called whenever a task is shown through the API or the web pages, synchronously; keep it
    cheap. The core stores the result under ``plugins.<plugin name>``; None adds nothing. A raising
    plugin is recorded and left out of the representation.

    :param task: the :class:`workdesk.Task`.
    :param user: the :class:`workdesk.User` looking at it (None for system use).
    :return: dict or None.
    """


# ---------------------------------------------------------------------------------------------
# Events (run on a worker after commit)
# ---------------------------------------------------------------------------------------------

@hookspec
def on_task_created(task, actor, event):
    """A task was created.

    Called on a worker after the creating transaction committed, at least once per plugin.

    :param task: the task, loaded fresh after commit.
    :param actor: the user who created it, or None when the system did.
    :param event: dict with ``id`` (the outbox event id, stable across redeliveries), ``kind`` and
        ``payload``; use ``id`` to make the handler idempotent.
    """


@hookspec
def on_task_updated(task, actor, changes, event):
    """Fields of a task changed (status included).

    Called on a worker after commit, at least once per plugin.

    :param changes: ``{field: [old, new]}`` as recorded in the audit trail.
    """


@hookspec
def on_task_commented(task, comment, actor, event):
    """A comment was added to a task.

    Called on a worker after commit, at least once per plugin.

    :param comment: the :class:`workdesk.Comment`; ``comment.internal`` marks a note for people who
        work tasks, which must not be passed on to requesters.
    """


@hookspec
def on_task_assigned(task, assignee, previous_assignee, actor, event):
    """A task's assignee changed (also fired on creation with an assignee).

    Called on a worker after commit, at least once per plugin.

    :param assignee: the new assignee or None when unassigned.
    :param previous_assignee: the former assignee or None.
    """


@hookspec
def on_task_deleted(task_id, snapshot, actor, event):
    """A task was deleted; delete or detach the rows this plugin keeps for it.

    Called on a worker after the deleting transaction committed, at least once per plugin. The task
    no longer exists; its audit trail does.

    :param task_id: the deleted task's id (what plugin rows refer to).
    :param snapshot: dict of the task as it was: ``id``, ``number``, ``title``, ``status``,
        ``department_id``, ``reporter_id``, ``assignee_id``.
    :param actor: the user who deleted it, or None.
    """


@hookspec
def on_absence_changed(absence, user, actor, change, event):
    """An absence was recorded, changed or deleted.

    Called on a worker after commit, at least once per plugin. For the moments a period begins and
    ends, see ``on_absence_started`` and ``on_absence_ended``.

    :param absence: the :class:`workdesk.Absence` as it is now (for ``deleted``, an unsaved copy of the
        deleted row, with its id).
    :param user: the :class:`workdesk.User` who is away.
    :param actor: who made the change (the person, a head of their department, an administrator).
    :param change: ``"created"``, ``"updated"`` or ``"deleted"``.
    """


@hookspec
def on_absence_started(absence, user, event):
    """A person's absence began: from now on they are away.

    Called on a worker after commit, at least once per plugin, once per period: when the core's job
    ``core.absence_events`` (every minute; ``workdesk tick --at`` runs it too) sees ``starts_at`` has
    passed, or at once when an absence is recorded that has already begun. A period moved back into
    the future and begun again is announced again; one recorded wholly in the past never is. Hand
    the person's open work on here (a dispatcher), or tell their team.

    :param absence: the :class:`workdesk.Absence` (``starts_at``, ``ends_at``, ``delegate``, ``note``).
    :param user: the :class:`workdesk.User` who is away.
    """


@hookspec
def on_absence_ended(absence, user, event):
    """A person's absence is over: they are back (its end passed, it was deleted or cut short while in
    progress, or moved into the future).

    Called on a worker after commit, at least once per plugin, once after each ``on_absence_started``.

    :param absence: the :class:`workdesk.Absence` (an unsaved copy when it was deleted).
    :param user: the :class:`workdesk.User` who is back.
    """


@hookspec
def on_user_deactivated(user, actor, event):
    """A person was deactivated: they can no longer sign in, and nobody may give them work.
    *Added in 1.2.*

    Called on a worker after commit, at least once per plugin, once each time an active person is
    deactivated (``services.users.update_user`` with ``is_active`` false, which the API, the admin
    panel and the command line use). Hand their open work on here (a dispatcher), or tell their team.

    :param user: the :class:`workdesk.User` as they are when the event is handled (inactive, unless
        reactivated since).
    :param actor: who deactivated them, or None for the system.
    """


# ---------------------------------------------------------------------------------------------
# Decisions (run synchronously inside the change's transaction)
# ---------------------------------------------------------------------------------------------

@hookspec
def adjust_task_change(task, changes, actor):
    """Adjust the values of a task change before it is validated and saved.

    Called when a task is created (``task`` is None) and when one is updated, after the actor's
    permissions for the fields they asked to change were checked and before any value is
    validated. Plugins are asked in turn; each sees the changes with the earlier plugins'
    adjustments applied. The adjusted values are validated like the actor's own; a plugin may set
    fields the actor could not (it acts with the system's authority) and the audit trail records
    the result under the actor's name.

    :param task: the :class:`workdesk.Task` before the change, or None on creation.
    :param changes: ``{field: new value}`` as requested (read it; do not modify it).
    :param actor: the user making the change, or None for the system.
    :return: ``{field: value}`` to set or override, or None to leave the change as it is.
    """


@hookspec
def validate_task_change(task, changes, actor):
    """Check the values of a task change and name what is wrong, field by field.
    *Added in 1.2.*

    Called when a task is created (``task`` None) and when one is updated, after the
    ``adjust_task_change`` answers were applied and before the change is saved, inside its
    transaction. Every enabled plugin is asked; their messages are merged and refuse the change with
    422 ``validation_error`` naming each field (``{"fields.cost": ["Must be a number."]}``), in the
    API, the pages and the admin panel alike. For a rule that is not about a field's value (a state of
    the task), use ``veto_task_change``.

    :param task: the :class:`workdesk.Task` before the change, or None on creation.
    :param changes: ``{field: new value}`` after adjustment: every field on creation, the requested
        ones on update (read it; do not modify it).
    :param actor: the user making the change, or None for the system.
    :return: ``{field: [message, ...]}`` (messages in the reader's language), or None when all is well.
    """


@hookspec
def veto_task_change(task, changes, actor):
    """Refuse a change of a task's fields by returning the reason as a string.

    Called after the change was validated and before it is saved: on creation (every field set,
    old values None) and on every update (status included; for status changes ``veto_transition``
    is asked too). Every enabled plugin is asked; the first reason refuses the change with
    409 ``change_blocked``, and the reason reaches the user together with the plugin's title.

    :param task: the :class:`workdesk.Task` with the new values set, not yet saved (on creation it
        has no id yet).
    :param changes: ``{field: [old, new]}``, as the audit trail will record it.
    :param actor: the user making the change, or None for the system.
    :return: a human-readable reason (str) to refuse, or None to allow.
    """


@hookspec
def veto_transition(task, old_status, new_status, actor):
    """Refuse a status change by returning the reason as a string.

    Called before a workflow-allowed transition is saved. Every enabled plugin is asked; the
    first reason refuses the change with 409 ``transition_blocked``, and the reason reaches the
    user together with the plugin's title.

    :return: a human-readable reason (str) to refuse, or None to allow.
    """


@hookspec(firstresult=True)
def propose_assignee(task, candidates):
    """Propose who should work on a new task that was created without an assignee.

    Called synchronously while the task is created; the first non-None answer wins. An explicit
    assignee given by the person filing the task always wins over every proposal: then nobody is
    asked. Plugins are asked in the order of their ``Plugin.assignment_rank`` (lower first): rules
    that choose a person for the work (``dispatch``, 10) before whoever is on duty (``duty_roster``,
    90); others 50. A proposal of someone who may not be the task's assignee is recorded against the
    plugin and ignored. A plugin that decides the task must wait in the queue (its rule matched but
    nobody available fits) answers :data:`workdesk.UNASSIGNED`: the task is filed unassigned and the
    later plugins are not asked.

    :param task: the unsaved-yet-numbered task (department, type, priority, fields are set).
    :param candidates: who may be the task's assignee (``workdesk.access.eligible_assignees``: active
        members of its department whose role works tasks), by id.
    :return: a :class:`workdesk.User`, :data:`workdesk.UNASSIGNED` to leave the task unassigned, or
        None to let the next plugin decide.
    """


@hookspec(firstresult=True)
def people_on_duty(department_id, at):
    """Say who is on duty in a department at an instant (a rota plugin answers it).

    Called synchronously by ``workdesk.people_on_duty(department_id, at)``, which other plugins use
    (``dispatch`` restricts a rule to people on duty). Decision family: a raising plugin is recorded
    and counts as no answer. The first plugin that keeps a roster for the department answers.

    :param department_id: the department's id.
    :param at: an aware UTC datetime.
    :return: a list of :class:`workdesk.User` (empty: deliberately nobody on duty), or None when this
        plugin keeps no roster for that department.
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
    with backoff, dead letters, admin views ``workdesk.delivery_admin_views``) is what the email and
    webhooks plugins use to send each message at least once, with an id receivers deduplicate on.

    :param notification: the :class:`workdesk.Notification`.
    """


@hookspec(firstresult=True)
def delivery_bounced(message_id, reason):
    """Record that a message this plugin sent bounced (a delivery status notification came back).
    *Added in 1.2.*

    Called synchronously by ``workdesk.notifications.report_bounce(message_id, reason)``, which a plugin
    reading mail (``mail_intake``) calls for each Message-ID a bounce refers to, so that it need not
    import the plugin that sent it. The plugin whose Message-ID it is marks its delivery row (for the
    delivery ledger: ``workdesk.notifications.delivery.mark_bounced``) and answers True; the others
    answer None. Decision family: a raising plugin is recorded and counts as no answer.

    :param message_id: the bounced message's ``Message-ID``, with its angle brackets.
    :param reason: what the bounce says (status code and diagnostic), for the delivery log.
    :return: True when the message was this plugin's and is now recorded as bounced, else None.
    """


@hookspec(firstresult=True)
def reply_address(task, user):
    """Say where a reply to a notification about ``task`` sent to ``user`` should go (``Reply-To``).
    *Added in 1.2.*

    Called synchronously by ``workdesk.notifications.reply_address(task, user)``, which delivery plugins
    use (the ``email`` plugin sets the answer as ``Reply-To`` on every message about a task), so that
    they need not import the plugin that takes replies in (``mail_intake`` answers with a plus-address
    carrying a signed reply token). Decision family: a raising plugin is recorded and counts as no
    answer; the first non-None answer wins.

    :param task: the :class:`workdesk.Task` the notification is about.
    :param user: the recipient, a :class:`workdesk.User`.
    :return: an e-mail address (str), or None when this plugin takes no replies.
    """


# ---------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------

@hookspec
def describe_task_event(event):
    """Return a short phrase for an entry this plugin added to a task's audit trail.

    A plugin records what it does to a task as ``workdesk.TaskEvent`` rows whose ``kind`` starts with
    its name (``compliance_review.approve``). Called synchronously while the task page lists the
    trail, once per such entry, on the plugin the kind names only. Build the phrase from the entry's
    ``changes`` with gettext, so each reader sees it in their language; it follows the actor's name
    ("Fay approved the stage “Cost”"). A raising plugin is recorded and the core's generic
    description is shown instead.

    :param event: the :class:`workdesk.TaskEvent`.
    :return: the phrase (str), or None for the core's generic description.
    """


@hookspec
def navigation_links(user):
    """Return links this plugin adds to the team web app's main navigation, as ``(label, url)`` pairs.
    *Added in 1.2.*

    Called synchronously on every page of the team web app for the signed-in person; keep it cheap
    (a permission check, no queries over tasks) and return a link only to people who may open the
    page, so the navigation never offers what would answer 403. A raising plugin, or an item that is
    not a ``(label, url)`` pair with a path on this site, is recorded against the plugin and left out.

    :param user: the :class:`workdesk.User` signed in.
    :return: list of (str, str), or None.
    """


@hookspec
def task_filing_panels(user, form):
    """Return HTML this plugin adds where people file tasks (a picker of ready-made kinds of task).
    *Added in 1.2.*

    Called synchronously each time the quick-create box of *my work* (``form`` is ``"quick"``) or the
    full new-task form (``"full"``) is shown to a signed-in person. Render with the plugin's own
    template and return :class:`markupsafe.Markup` (a plain string is shown as text); forms in it post
    to the plugin's own routes with ``csrf_token()``. A raising plugin is recorded and left out.

    :param user: the :class:`workdesk.User` filing.
    :param form: ``"quick"`` or ``"full"``.
    :return: ``markupsafe.Markup``, or None.
    """


@hookspec
def task_page_panels(task, user):
    """Return panels this plugin adds to the task page, as ``(title, html)`` pairs.

    Called synchronously each time the task page is shown to someone who may see the task; keep
    it cheap. Render ``html`` with the plugin's own template (``flask.render_template``, which
    autoescapes) and return it as :class:`markupsafe.Markup`; a plain string is shown as text,
    escaped. A raising plugin is recorded against the plugin; the page renders without its panels.

    :param task: the :class:`workdesk.Task` being shown.
    :param user: the :class:`workdesk.User` looking at it.
    :return: list of (str, markupsafe.Markup), or None.
    """


@hookspec
def account_page_panels(user):
    """Return sections this plugin adds to the signed-in person's own settings page, as ``(title, html)`` pairs.
    *Added in 1.2.*

    Called synchronously each time ``/account`` is shown, for the person whose page it is (a page only
    ever shows one's own settings); keep it cheap. Render ``html`` with the plugin's own template
    (``flask.render_template``, which autoescapes) and return it as :class:`markupsafe.Markup`; a plain
    string is shown as text, escaped. Forms in it post to the plugin's own routes with ``csrf_token()``
    and may redirect back to ``/account#<plugin name>``, the section's anchor. A raising plugin, or an
    item that is not a ``(title, html)`` pair, is recorded against the plugin; the page renders without it.

    :param user: the :class:`workdesk.User` signed in, whose settings these are.
    :return: list of (str, markupsafe.Markup), or None.
    """


@hookspec
def extra_head(user):
    """Return HTML this plugin adds to the ``<head>`` of every page of the team web app.
    *Added in 1.2.*

    Called synchronously while any page of the team web app is rendered, the login page included
    (``user`` is then None); keep it cheap and the same for every page. Meant for ``<link>``,
    ``<meta>`` and ``<script src=... defer>`` elements pointing at the plugin's own files (a web app
    manifest, a theme colour, a service worker's registration): the pages' Content-Security-Policy
    runs no inline script or style. Return :class:`markupsafe.Markup`; a plain string is escaped
    (shown as text). A raising plugin is recorded and left out; the page renders without it.

    :param user: the :class:`workdesk.User` signed in, or None on pages shown to anyone.
    :return: ``markupsafe.Markup``, or None.
    """
