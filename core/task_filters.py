"""The filters and sorts of task lists, defined once.

``GET /api/v1/tasks`` (its query schema and OpenAPI parameters), the team pages' lists (my work, the
queue, search, saved views), saved views themselves and the admin panel's task list all read their
filters and sorts from :func:`catalogue`: the core's below, plus those enabled plugins return from
the ``register_task_filters`` hook. A filter is one query parameter with its allowed values and a
function narrowing a query; a sort is a column (the task's, or one of a table the plugin joins),
walked in keyset pages with the task id as tie-breaker. ``?sort=due`` sorts ascending, ``?sort=-due``
descending; NULLs (no due date) come last either way.

The text search stays :func:`workdesk.search.matching_tasks`; overdue stays
:func:`workdesk.models.overdue_condition`.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Collection, Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo

import marshmallow
import peewee
from flask import has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate
from peewee import Case

from .access import department_ids, visible_users
from .db import utcnow
from .keyset import SortKey
from .labels import PRIORITY_LABELS, STATUS_LABELS
from .models import DONE_STATUSES, OPEN_STATUSES, PRIORITIES, Department, Membership, Task, User, overdue_condition
from .schemas import MAX_ID, Text, _aware
from .search import matching_tasks, sorted_by_name

FILTER_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Query parameters of lists that are not filters: no filter or sort may take these names.
RESERVED_NAMES = frozenset({"sort", "limit", "cursor", "after", "before", "layout", "view", "page", "format"})

ME, NOBODY = "me", "none"
ACTIVE, DONE = "active", "done"


@dataclass(frozen=True)
class FilterContext:
    """Who is looking, and when: what "me", "today" and "overdue" mean for one list.

    :param viewer: the person the list is for.
    :param now: the instant the list is built for (aware UTC).
    :param zone: the viewer's time zone ("today" and "this week" are theirs).
    :param locale: the viewer's language (default: the one the list is shown in): "this week" starts on
        its first day of the week (Sunday in American English, Monday in German).
    """
    viewer: User
    now: dt.datetime
    zone: ZoneInfo
    locale: str | None = None

    @classmethod
    def of(cls, viewer: User, now: dt.datetime | None = None) -> FilterContext:
        return cls(viewer=viewer, now=now or utcnow(), zone=viewer.zone)


Choices = Sequence[tuple[str, Any]]


@dataclass(frozen=True)
class TaskFilter:
    """One filter of task lists: a query parameter, its values, and how it narrows a query.

    :param name: the query parameter (``sla``): lower-case letters, digits and underscores, not one
        of :data:`RESERVED_NAMES` nor another filter's name.
    :param label: what the filter is called in forms (a lazy gettext string).
    :param apply: ``apply(query, value, context) -> query``: the ``peewee`` query of tasks narrowed to
        ``value`` (one of ``choices``, or what ``field`` loaded) for the :class:`FilterContext`. Add
        conditions with ``.where(...)``; to look into a table of your own, use a subquery
        (``Task.id.in_(MyRow.select(MyRow.task_id).where(...))``) rather than a join, which could
        repeat a task. Build the query only; never run it here.
    :param choices: the allowed values with their labels (lazy strings), in the order forms offer
        them: ``[("at_risk", _l("At risk")), ("breached", _l("Breached"))]``. A callable
        ``choices(viewer)`` gives them per person (the core's department and people filters).
    :param field: for values that are not a fixed list (ids, text): a function returning the
        marshmallow field that loads and validates the parameter's text. Without it the value must
        be one of ``choices``.
    :param description: one sentence for the API's OpenAPI document.
    :param hidden: accepted by the API but not offered in forms (kept for older API clients).
    :param plugin: the plugin the filter comes from (set by the core).
    """
    name: str
    label: Any
    apply: Callable[[peewee.ModelSelect, Any, FilterContext], peewee.ModelSelect]
    choices: Choices | Callable[[User], Choices] = ()
    field: Callable[[], fields.Field] | None = None
    description: Any = ""
    hidden: bool = False
    plugin: str | None = None

    def options(self, viewer: User) -> list[tuple[str, str]]:
        """The values forms offer to ``viewer``, as ``(value, label)`` text pairs."""
        choices = self.choices(viewer) if callable(self.choices) else self.choices
        return [(str(value), str(label)) for value, label in choices]

    def schema_field(self) -> fields.Field:
        """The marshmallow field that loads this parameter (the API's query schema is built from these)."""
        metadata = {"description": str(self.description or self.label)}
        if self.field is not None:
            loaded = self.field()
            loaded.metadata = {**metadata, **loaded.metadata}
            return loaded
        values = [str(value) for value, _label in (self.choices if not callable(self.choices) else ())]
        return fields.String(validate=validate.OneOf(values), metadata=metadata)


@dataclass(frozen=True)
class TaskSort:
    """One sort of task lists: ``?sort=<name>`` ascending, ``?sort=-<name>`` descending.

    :param name: the sort's name, under the same rules as a filter's.
    :param label: what the sort is called (a lazy gettext string).
    :param expression: a column of the task, a column of the table ``join`` adds, or an expression
        over the task's columns. Its values must be whole numbers of 0 or more, or instants
        (``kind``); text does not sort the same in every database.
    :param kind: ``datetime.datetime`` (default) or ``int``.
    :param nullable: the expression may be NULL (a task without a row in the joined table): those
        tasks come last in both directions.
    :param join: ``join(query) -> query`` adding the table ``expression`` reads, as a LEFT OUTER JOIN
        giving at most one row per task (``query.join_from(Task, MyRow, JOIN.LEFT_OUTER,
        on=(MyRow.task_id == Task.id))``).
    :param ascending_label: how the ascending direction reads in forms ("Nearest deadline first");
        defaults to "<label>, ascending".
    :param descending_label: the same for the descending direction.
    :param plugin: the plugin the sort comes from (set by the core).
    """
    name: str
    label: Any
    expression: Any
    kind: type = dt.datetime
    nullable: bool = True
    join: Callable[[peewee.ModelSelect], peewee.ModelSelect] | None = None
    ascending_label: Any = None
    descending_label: Any = None
    plugin: str | None = None

    def keys(self, descending: bool) -> tuple[SortKey, ...]:
        """The keyset order: this sort's value, then the task id in the same direction."""
        return (SortKey(self.expression, descending=descending, nullable=self.nullable, kind=self.kind),
                SortKey(Task.id, descending=descending))

    def options(self) -> list[tuple[str, str]]:
        """``(sort parameter, label)`` for both directions."""
        ascending = self.ascending_label or _("%(sort)s, ascending", sort=self.label)
        descending = self.descending_label or _("%(sort)s, descending", sort=self.label)
        return [(self.name, str(ascending)), (f"-{self.name}", str(descending))]


# -- the core's filters ---------------------------------------------------------------------------

class PersonValue(fields.Field):
    """``me``, ``none`` (where allowed) or a user id; an id must belong to a user."""

    def __init__(self, allow_nobody: bool, **kwargs: Any):
        super().__init__(**kwargs)
        self.allow_nobody = allow_nobody

    def _deserialize(self, value, attr, data, **kwargs):
        text = str(value).strip().lower() if isinstance(value, (str, int)) else ""
        if text == ME or (text == NOBODY and self.allow_nobody):
            return text
        if not re.fullmatch(r"[0-9]{1,10}", text) or not 1 <= int(text) <= MAX_ID:
            raise marshmallow.ValidationError(
                _("Use “me”, “none” or a user id.") if self.allow_nobody else _("Use “me” or a user id."))
        if not User.select().where(User.id == int(text)).exists():
            raise marshmallow.ValidationError(_("No such record (id %(id)s).", id=text))
        return int(text)


def _existing_department(value: int) -> None:
    if not 1 <= value <= MAX_ID:
        return  # the range check says so; a number beyond the column must not reach the database
    if not Department.select().where(Department.id == value).exists():
        raise marshmallow.ValidationError(_("No such record (id %(id)s).", id=value))


def DepartmentValue(**kwargs: Any) -> fields.Integer:  # noqa: N802 - a field factory, named like the fields
    """A department id that exists."""
    return fields.Integer(validate=[validate.Range(min=1, max=MAX_ID), _existing_department], **kwargs)


def _person_condition(column, value, context: FilterContext):
    if value == ME:
        return column == context.viewer.id
    if value == NOBODY:
        return column.is_null()
    return column == value


def _colleagues(viewer: User) -> list[tuple[str, str]]:
    ids = department_ids(viewer)
    if not ids:
        return []
    people = (User.select(User.id, User.name).join(Membership, on=(Membership.user == User.id))
              .where(Membership.department.in_(ids) & (User.is_active == True) & (User.id != viewer.id)  # noqa: E712
                     & User.id.in_(visible_users(viewer).select(User.id)))
              .group_by(User.id, User.name).order_by(User.id))
    return [(str(u.id), u.name) for u in sorted_by_name(people)]


def _assignee_choices(viewer: User) -> list[tuple[str, Any]]:
    return [(ME, _l("Me")), (NOBODY, _l("Unassigned")), *_colleagues(viewer)]


def _reporter_choices(viewer: User) -> list[tuple[str, Any]]:
    return [(ME, _l("Me")), *_colleagues(viewer)]


def _department_choices(viewer: User) -> list[tuple[str, Any]]:
    query = Department.select(Department.id, Department.name).order_by(Department.name)
    if not viewer.has_permission("task.view_all"):
        query = query.where(Department.id.in_(department_ids(viewer)))
    return [(str(d.id), d.name) for d in query]


STATUS_CHOICES = [(ACTIVE, _l("Open (any)")), *STATUS_LABELS.items(), (DONE, _l("Done (resolved or closed)"))]
PRIORITY_CHOICES = list(PRIORITY_LABELS.items())
DUE_CHOICES = [("overdue", _l("Overdue")), ("today", _l("Due today")), ("week", _l("Due this week")),
               ("none", _l("Without a due date"))]


def _status(query, value, context):
    if value == ACTIVE:
        return query.where(Task.status.in_(OPEN_STATUSES))
    if value == DONE:
        return query.where(Task.status.in_(DONE_STATUSES))
    return query.where(Task.status == value)


def local_day_start(now: dt.datetime, zone: ZoneInfo, days: int = 0) -> dt.datetime:
    """Midnight (in ``zone``) of the day ``days`` after the one ``now`` falls on, as a UTC instant.

    Built from the wall-clock date, so a day across a DST change has its 23 or 25 hours.
    """
    day = now.astimezone(zone).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.timezone.utc)


def _due(query, value, context: FilterContext):
    if value == "overdue":
        return query.where(overdue_condition(context.now))
    if value == "none":
        return query.where(Task.due_at.is_null())
    if value == "today":
        start, end = local_day_start(context.now, context.zone), local_day_start(context.now, context.zone, 1)
    else:  # this week, from the first day of the viewer's language's week, in the viewer's zone
        from .dates import week_start
        today = context.now.astimezone(context.zone).date()
        since = (today - week_start(today, context.locale)).days
        start = local_day_start(context.now, context.zone, -since)
        end = local_day_start(context.now, context.zone, 7 - since)
    return query.where((Task.due_at >= start) & (Task.due_at < end))


def _equals(column):
    return lambda query, value, context: query.where(column == value)


def _person(column):
    return lambda query, value, context: query.where(_person_condition(column, value, context))


def _overdue(query, value, context):
    condition = overdue_condition(context.now)
    return query.where(condition if value else ~condition)


CORE_FILTERS: tuple[TaskFilter, ...] = (
    TaskFilter("assignee", _l("Assignee"), _person(Task.assignee), _assignee_choices,
               field=lambda: PersonValue(allow_nobody=True),
               description=_l("me, none (unassigned) or a user id.")),
    TaskFilter("department", _l("Department"), _equals(Task.department), _department_choices,
               field=DepartmentValue, description=_l("A department id.")),
    TaskFilter("status", _l("Status"), _status, STATUS_CHOICES,
               description=_l("A status, or active (new, open, in progress, waiting) or done (resolved, closed).")),
    TaskFilter("priority", _l("Priority"), _equals(Task.priority), PRIORITY_CHOICES),
    TaskFilter("type", _l("Type"), _equals(Task.type), field=lambda: Text(min_length=1, max_length=64),
               description=_l("The task type, exactly (e.g. incident).")),
    TaskFilter("impact", _l("Impact"), _equals(Task.impact), field=lambda: Text(min_length=1, max_length=64),
               description=_l("The impact, exactly.")),
    TaskFilter("due", _l("Due"), _due, DUE_CHOICES,
               description=_l("overdue (due before now, not resolved or closed), today or week (in your time "
                              "zone; the week starts on your language's first day of the week), none (no due "
                              "date).")),
    TaskFilter("reporter", _l("Reporter"), _person(Task.reporter), _reporter_choices,
               field=lambda: PersonValue(allow_nobody=False), description=_l("me or a user id.")),
    TaskFilter("q", _l("Text"), lambda query, value, context: matching_tasks(query, value),
               field=lambda: Text(max_length=200), description=_l("Words in the title or description, or a task "
                                                                 "number (case-insensitive).")),
    # The first API's parameters, kept for its clients; forms and saved views use those above.
    TaskFilter("department_id", _l("Department"), _equals(Task.department), field=DepartmentValue, hidden=True,
               description=_l("Deprecated: use department.")),
    TaskFilter("assignee_id", _l("Assignee"), _person(Task.assignee), field=lambda: PersonValue(allow_nobody=True),
               hidden=True, description=_l("Deprecated: use assignee.")),
    TaskFilter("reporter_id", _l("Reporter"), _person(Task.reporter), field=lambda: PersonValue(allow_nobody=False),
               hidden=True, description=_l("Deprecated: use reporter.")),
    TaskFilter("overdue", _l("Overdue"), _overdue, field=fields.Boolean, hidden=True,
               description=_l("Deprecated: use due=overdue. false: every task that is not overdue.")),
    TaskFilter("due_before", _l("Due before"), lambda query, value, context: query.where(Task.due_at < value),
               field=_aware, hidden=True, description=_l("Due before this instant (ISO 8601).")),
)

URGENCY = Case(Task.priority, [(p, rank) for rank, p in enumerate(PRIORITIES)], 0)

CORE_SORTS: tuple[TaskSort, ...] = (
    TaskSort("due", _l("Due date"), Task.due_at, ascending_label=_l("Due soonest first"),
             descending_label=_l("Due latest first")),
    TaskSort("priority", _l("Priority"), URGENCY, kind=int, nullable=False,
             ascending_label=_l("Least urgent first"), descending_label=_l("Most urgent first")),
    TaskSort("created", _l("Created"), Task.created_at, nullable=False, ascending_label=_l("Oldest first"),
             descending_label=_l("Newest first")),
    TaskSort("updated", _l("Updated"), Task.updated_at, nullable=False,
             ascending_label=_l("Least recently updated first"), descending_label=_l("Recently updated first")),
)


# -- the catalogue: the core's and the enabled plugins' ---------------------------------------------

@dataclass
class Catalogue:
    """Every filter and sort task lists offer now, and the names of those whose plugin is disabled."""
    filters: dict[str, TaskFilter] = field(default_factory=dict)
    sorts: dict[str, TaskSort] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)  # name -> title of its disabled plugin

    def shown(self, exclude: Collection[str] = ()) -> list[TaskFilter]:
        """The filters forms offer, in order (hidden ones and ``exclude`` left out)."""
        return [f for f in self.filters.values() if not f.hidden and f.name not in exclude]

    def sort_options(self) -> list[tuple[str, str]]:
        return [option for sort in self.sorts.values() for option in sort.options()]

    def sort_values(self) -> list[str]:
        return [value for sort in self.sorts.values() for value in (sort.name, f"-{sort.name}")]


def _register(catalogue: Catalogue, plugin: str, item: Any, enabled: bool, title: str) -> None:
    from .registry import record_error
    kind = "filter" if isinstance(item, TaskFilter) else "sort" if isinstance(item, TaskSort) else None
    taken = set(catalogue.filters) | set(catalogue.sorts) | RESERVED_NAMES
    if kind is None:
        problem = f"returned {item!r}, which is neither a workdesk.TaskFilter nor a workdesk.TaskSort"
    elif not isinstance(item.name, str) or not FILTER_NAME.match(item.name):
        problem = f"{kind} name {item.name!r} is not 1-40 lower-case letters, digits and underscores"
    elif item.name in taken:
        problem = f"{kind} name {item.name!r} is already taken"
    elif kind == "filter" and not (callable(item.apply) and (item.field is not None or item.choices)):
        problem = f"filter {item.name!r} needs an apply function and choices (or a field)"
    elif kind == "sort" and item.kind not in (int, dt.datetime):
        problem = f"sort {item.name!r} has kind {item.kind!r}; use int or datetime.datetime"
    else:
        if not enabled:
            catalogue.unavailable.setdefault(item.name, title)
        elif kind == "filter":
            catalogue.filters[item.name] = replace(item, plugin=plugin)
        else:
            catalogue.sorts[item.name] = replace(item, plugin=plugin)
        return
    if enabled:
        record_error(plugin, f"register_task_filters {problem}; left out")


def plugin_items(which: str = "enabled") -> Iterator[tuple[str, Any]]:
    """``(plugin, item)`` of the filters and sorts plugins register: the ``enabled`` plugins' (a raising one is
    recorded and left out), or the ``disabled`` ones', or every ``installed`` one's without asking the
    database which are on (what the admin panel offers when it is built); raising ones are skipped there."""
    from .registry import get_registry
    registry = get_registry()
    if which == "enabled":
        yield from registry.collect("register_task_filters")
        return
    for plugin in registry.implementers("register_task_filters", enabled_only=False):
        if which == "disabled" and registry.is_enabled(plugin):
            continue
        try:
            items = registry.call_plugin(plugin, "register_task_filters") or []
        except Exception:  # noqa: BLE001 - recorded when it is asked while enabled
            continue
        for item in items:
            yield plugin, item


def build_catalogue() -> Catalogue:
    """The core's filters and sorts, then each enabled plugin's from ``register_task_filters``.

    Installed but disabled plugins are asked too, only to name their parameters in the answer to a
    request that still uses them.
    """
    from .registry import get_registry
    registry = get_registry()
    catalogue = Catalogue(filters={f.name: f for f in CORE_FILTERS}, sorts={s.name: s for s in CORE_SORTS})
    for plugin, item in plugin_items():
        _register(catalogue, plugin, item, True, "")
    for plugin, item in plugin_items("disabled"):
        _register(catalogue, plugin, item, False, type(registry.plugins[plugin].plugin).title())
    return catalogue


def catalogue() -> Catalogue:
    """The catalogue for this request (built once per request; afresh outside one)."""
    if not has_request_context():
        return build_catalogue()
    cached = request.environ.get("workdesk.task_catalogue")
    if cached is None:
        cached = request.environ["workdesk.task_catalogue"] = build_catalogue()
    return cached


# -- reading a list's parameters -----------------------------------------------------------------

def query_schema(catalogue_: Catalogue, base: type[marshmallow.Schema] | None = None,
                 names: Collection[str] | None = None) -> type[marshmallow.Schema]:
    """A marshmallow schema of the catalogue's parameters (and ``base``'s fields, e.g. paging):
    the API's query schema and its OpenAPI parameters."""
    declared: dict[str, fields.Field] = dict(base._declared_fields) if base is not None else {}
    for name, task_filter in catalogue_.filters.items():
        if names is None or name in names:
            declared[name] = task_filter.schema_field()
    declared["sort"] = fields.String(validate=validate.OneOf(catalogue_.sort_values()), metadata={
        "description": "A sort name for ascending order, or -name for descending: "
                       + ", ".join(catalogue_.sort_values()) + ". Ties are broken by the task id."})
    return marshmallow.Schema.from_dict(declared, name="TaskQuery")


@dataclass(frozen=True)
class ListQuery:
    """What a list shows: the chosen filters (parsed) and sort, and their text for links and saved views.

    :param values: filter name -> loaded value, for the filters given.
    :param params: the same filters and the sort as query-string text.
    :param sort: ``name`` or ``-name``, or None for the list's own order.
    :param left_out: parameters dropped because their plugin is disabled -> the plugin's title.
    """
    values: dict[str, Any]
    params: dict[str, str]
    sort: str | None
    catalogue: Catalogue
    left_out: dict[str, str] = field(default_factory=dict)

    def apply(self, query: peewee.ModelSelect, context: FilterContext) -> peewee.ModelSelect:
        """``query`` narrowed by every chosen filter. A plugin's filter that raises is recorded and left out."""
        from .registry import record_error
        for name, value in self.values.items():
            task_filter = self.catalogue.filters[name]
            try:
                query = task_filter.apply(query, value, context)
            except Exception as exc:
                if task_filter.plugin is None:
                    raise
                record_error(task_filter.plugin, f"task filter {name!r} raised {exc!r}; left out")
        return query

    def chosen_sort(self) -> tuple[TaskSort, bool] | None:
        """The sort asked for and whether it is descending; None for the list's own order."""
        if not self.sort:
            return None
        return self.catalogue.sorts[self.sort.lstrip("-")], self.sort.startswith("-")

    def sorted_by(self, query: peewee.ModelSelect) -> tuple[peewee.ModelSelect, tuple[SortKey, ...]] | None:
        """``query`` with the chosen sort's join, and its keyset order; None for the list's own order."""
        chosen = self.chosen_sort()
        if chosen is None:
            return None
        sort, descending = chosen
        if sort.join is None:
            return query, sort.keys(descending)
        try:
            return sort.join(query), sort.keys(descending)
        except Exception as exc:
            if sort.plugin is None:
                raise
            from .registry import record_error
            record_error(sort.plugin, f"task sort {sort.name!r} raised {exc!r}; the list keeps its own order")
            return None

    def without(self, *names: str) -> ListQuery:
        return replace(self, values={k: v for k, v in self.values.items() if k not in names},
                       params={k: v for k, v in self.params.items() if k not in names})

    def with_value(self, name: str, text: str) -> ListQuery:
        """This list query with filter ``name`` set to ``text`` (a value the filter takes, e.g. a choice)."""
        loaded = self.catalogue.filters[name].schema_field().deserialize(text)
        return replace(self, values={**self.values, name: loaded}, params={**self.params, name: text})


def parse(args: Mapping[str, str], catalogue_: Catalogue | None = None, *, ignore: Collection[str] = (),
          names: Collection[str] | None = None) -> tuple[ListQuery, dict[str, list[str]]]:
    """Read a list's filters and sort from query-string parameters.

    A blank value is no filter (a form's "Any"). Returns the list query made of every parameter that
    is valid, and ``{parameter: [messages]}`` for the rest: unknown parameters, values a filter does
    not take, and parameters of a disabled plugin (named in the message). The API answers the
    messages with a 422; pages leave those parameters out.

    :param ignore: parameters that are not filters here (paging, layout) and pass silently.
    :param names: the filters this list takes (default: every one of the catalogue).
    """
    catalogue_ = catalogue_ or catalogue()
    data = {name: value for name, value in args.items() if name not in ignore and str(value).strip() != ""}
    errors: dict[str, list[str]] = {}
    left_out: dict[str, str] = {}
    for name in list(data):
        if name in catalogue_.unavailable and name not in catalogue_.filters:
            errors[name] = [_("This filter belongs to the plugin %(plugin)s, which is disabled.",
                              plugin=catalogue_.unavailable[name])]
            left_out[name] = catalogue_.unavailable[name]
            del data[name]
        elif name != "sort" and (name not in catalogue_.filters or (names is not None and name not in names)):
            errors[name] = [_("Unknown filter.")]
            del data[name]
    sort = data.get("sort")
    if sort is not None and sort.lstrip("-") in catalogue_.unavailable and sort.lstrip("-") not in catalogue_.sorts:
        errors["sort"] = [_("This sort belongs to the plugin %(plugin)s, which is disabled.",
                            plugin=catalogue_.unavailable[sort.lstrip("-")])]
        left_out["sort"] = catalogue_.unavailable[sort.lstrip("-")]
        del data["sort"]
    schema = query_schema(catalogue_, names=set(data))()
    try:
        loaded = schema.load(data)
    except marshmallow.ValidationError as exc:
        from .api.framework import flatten_messages
        errors.update(flatten_messages(exc.messages))
        loaded = exc.valid_data or {}
    sort = loaded.pop("sort", None)
    values = {name: loaded[name] for name in catalogue_.filters if name in loaded}
    params = {name: str(data[name]) for name in values}
    if sort is not None:
        params["sort"] = sort
    return ListQuery(values=values, params=params, sort=sort, catalogue=catalogue_, left_out=left_out), errors


__all__ = ["TaskFilter", "TaskSort", "FilterContext", "Catalogue", "ListQuery", "catalogue", "build_catalogue",
           "plugin_items",
           "parse", "query_schema", "local_day_start", "CORE_FILTERS", "CORE_SORTS", "RESERVED_NAMES"]
