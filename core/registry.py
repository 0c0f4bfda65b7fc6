"""Plugin discovery, compatibility, enable/disable state, and every hook call.

Each hook family has one error policy, applied here and nowhere else (``docs/hooks.md``):

- **Event hooks** (``on_*``, ``deliver_notification``): the outbox calls one plugin at a time with
  :meth:`PluginRegistry.call_plugin` and records a raising plugin against that plugin; the event is
  retried for it alone.
- **Decision hooks** (``veto_*``, ``adjust_*``, ``propose_*``): :meth:`PluginRegistry.decide`. A raising
  plugin is recorded and counts as having no opinion, unless the plugin declares that it fails closed
  for that hook (:attr:`Plugin.fails_closed`), in which case the change is refused.
- **Display and registration hooks** (``extra_*``, ``task_page_panels``, ``account_page_panels``,
  ``describe_task_event``, ``register_*``): :meth:`PluginRegistry.collect`, :meth:`PluginRegistry.gather` and
  :meth:`PluginRegistry.ask`. A raising plugin is recorded and
  left out; the page, the list or the start-up goes on without it.

Every call goes through pluggy's own hook caller, one plugin at a time (``subset_hook_caller``), so
that pluggy's argument handling, ``firstresult``, the plugin's wrappers and hook tracing apply, and
each answer or error is attributed to the plugin that gave it.
"""
from __future__ import annotations

import copy
import difflib
import importlib
import importlib.metadata
import inspect
import logging
import re
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import marshmallow
import pluggy
from flask_babel import gettext
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from . import hookspecs
from .db import TRANSACTION_END_CALLBACKS, db, utcnow, write_transaction
from .models import PluginState
from .secret_settings import keep_secrets, mask_secrets

# The version is declared once, in pyproject.toml; the installed metadata carries it here.
__version__ = importlib.metadata.version("workdesk")
ENTRY_POINT_GROUP = "workdesk.plugins"
hookimpl = pluggy.HookimplMarker("workdesk")
log = logging.getLogger("workdesk.plugins")

PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9_]{1,49}$")
# Names the core uses for itself: errors of the core are filed under "core".
RESERVED_NAMES = frozenset({"core", "workdesk", "admin", "api", "static", "plugins"})
CORE = "core"


class PluginError(Exception):
    """A plugin cannot be enabled or configured; the message says why."""


class PluginNotConfigured(PluginError):
    """A plugin cannot be enabled before these settings are filled in (``missing``, by name)."""

    def __init__(self, message: str, missing: list[str]):
        super().__init__(message)
        self.missing = missing


class Plugin:
    """Base class of every Workdesk plugin, first-party or third-party.

    The first line of the subclass's docstring is its title, the rest its description. Hook
    implementations are methods marked with ``@hookimpl``.

    Folders beside the plugin's module are picked up by convention: ``templates/`` (put yours under
    ``templates/<plugin name>/``), ``static/`` (served at ``/static/plugins/<plugin name>/``),
    ``translations/`` (a gettext catalog per language, merged with the core's) and ``migrations/``
    (numbered ``NNNN_description.py`` modules).

    :cvar name: unique short name (``recurring``); prefixes the plugin's tables, permissions,
        task names, settings, notification kinds and CLI commands.
    :cvar version: the plugin's own version.
    :cvar requires_workdesk: PEP 440 specifier of the Workdesk versions it supports.
    :cvar settings_schema: a marshmallow Schema class for its settings, or None. A field with
        ``metadata={"required_to_enable": True}`` must be filled in before the plugin can be enabled
        (see :meth:`missing_configuration`). A field with ``metadata={"secret": True}`` (a password,
        a signing key) is write-only: masked wherever settings are shown, kept when they are saved
        without a new value (see ``workdesk.secret_settings``).
    :cvar fails_closed: names of decision hooks (``veto_transition``, ``veto_task_change``,
        ``adjust_task_change``) for which an exception of this plugin refuses the change instead of
        counting as "no opinion". Declare it when letting a change through unchecked is worse than
        blocking it (a review plugin); leave it empty when the plugin only adds convenience.
    :cvar migrations: the dotted name of the migrations package; None means ``<plugin package>.migrations``.
    :cvar assignment_rank: where the plugin stands when the core asks for an assignee (``propose_assignee``):
        lower ranks are asked first and the first proposal wins. The precedence is defined here, once:
        an explicit assignee always wins (nobody is asked); then rules that pick a person for the work
        (``dispatch``, rank 10); then whoever is on duty (``duty_roster``, rank 90); other plugins 50.
    """

    name: str = ""
    version: str = "0.0.0"
    requires_workdesk: str = ">=1.0,<2"
    settings_schema: type[marshmallow.Schema] | None = None
    fails_closed: frozenset[str] = frozenset()
    migrations: str | None = None
    assignment_rank: int = 50

    @classmethod
    def title(cls) -> str:
        doc = inspect.getdoc(cls) or cls.name
        return doc.splitlines()[0]

    @classmethod
    def description(cls) -> str:
        doc = inspect.getdoc(cls) or ""
        return "\n".join(doc.splitlines()[1:]).strip()

    @classmethod
    def package_name(cls) -> str:
        """The package the plugin class lives in (the module itself when it is a package)."""
        module = sys.modules[cls.__module__]
        if hasattr(module, "__path__"):
            return module.__name__
        return cls.__module__.rpartition(".")[0] or cls.__module__

    @classmethod
    def package_path(cls) -> Path:
        """The folder of the plugin's package: where ``templates/``, ``static/`` and ``translations/`` are."""
        return Path(inspect.getfile(cls)).resolve().parent

    @classmethod
    def migrations_package(cls) -> str:
        """Where the plugin's numbered migrations live: ``<plugin package>.migrations`` unless declared."""
        return cls.migrations or f"{cls.package_name()}.migrations"

    def settings(self) -> dict[str, Any]:
        """The plugin's current validated settings (defaults filled in)."""
        return plugin_settings(self.name)

    def missing_configuration(self, settings: dict[str, Any]) -> list[str]:
        """The names of the settings that must be filled in before the plugin can work (empty: ready).

        Enabling is refused while this is not empty, and so is saving such settings while enabled.
        The default lists the ``settings_schema`` fields marked ``metadata={"required_to_enable": True}``
        whose value in ``settings`` is empty; override it for a rule that spans several settings.
        """
        if self.settings_schema is None:
            return []
        return [name for name, field in self.settings_schema().fields.items()
                if field.metadata.get("required_to_enable") and settings.get(name) in (None, "", [], {})]


@dataclass
class PluginInfo:
    name: str
    source: str  # entry point "dist: module:Class" or "config: module:Class"
    plugin: Plugin | None = None
    error: str | None = None
    incompatible: str | None = None

    @property
    def loaded(self) -> bool:
        return self.plugin is not None

    @property
    def usable(self) -> bool:
        return self.plugin is not None and self.incompatible is None


def _check_compatible(cls: type[Plugin]) -> str | None:
    try:
        spec = SpecifierSet(cls.requires_workdesk)
    except InvalidSpecifier:
        return f"its requires_workdesk {cls.requires_workdesk!r} is not a valid version specifier"
    if Version(__version__) not in spec:
        return f"it supports Workdesk {cls.requires_workdesk}, this is Workdesk {__version__}"
    return None


@dataclass(frozen=True)
class PluginFailed:
    """The answer of a decision hook whose plugin raised and fails closed for that hook."""
    plugin: str
    error: str


@dataclass
class PluginRegistry:
    """Every discovered plugin, the pluggy manager they are registered in, and who is enabled."""

    refresh_seconds: float = 2.0
    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    manager: pluggy.PluginManager = field(default_factory=lambda: pluggy.PluginManager("workdesk"))
    _enabled: set[str] = field(default_factory=set)
    _settings: dict[str, dict] = field(default_factory=dict)
    # Settings loaded through each plugin's schema, kept until the next refresh: a worker asks for
    # them several times per event, and marshmallow's load costs more than the event's own queries.
    _loaded_settings: dict[str, dict] = field(default_factory=dict)
    _loaded_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _callers: dict[tuple[str, str], Any] = field(default_factory=dict)
    _implementer_names: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.manager.add_hookspecs(hookspecs)

    # -- discovery -------------------------------------------------------------------------

    def discover(self, extra: list[str] | tuple[str, ...] = ()) -> None:
        """Load plugins from the ``workdesk.plugins`` entry points and from ``extra`` import paths."""
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist else "?"
            self._load(ep.name, f"{dist}: {ep.value}", ep.load)
        for path in extra:
            module_name, _, attr = path.partition(":")

            def load(module_name=module_name, attr=attr):
                return getattr(importlib.import_module(module_name), attr)
            self._load(None, f"config: {path}", load)
        # Every implementation left has a specification: the refusals above make this hold.
        self.manager.check_pending()

    def _load(self, name: str | None, source: str, load: Callable[[], Any]) -> None:
        try:
            obj = load()
            plugin = obj() if isinstance(obj, type) else obj
            if not isinstance(plugin, Plugin):
                raise PluginError(f"{source} is not a workdesk Plugin subclass")
            name = plugin.name or name
            if not name:
                raise PluginError(f"{source} has no name")
            if not PLUGIN_NAME.match(name) or name in RESERVED_NAMES:
                raise PluginError(f"its name {name!r} is not allowed: use 2-50 lower-case letters, digits and "
                                  f"underscores, not one of {', '.join(sorted(RESERVED_NAMES))}")
        except Exception as exc:  # a broken plugin must not take the platform down
            key = name or source
            log.error("plugin %s failed to load: %s", key, exc)
            self.plugins[key] = PluginInfo(key, source, error=f"failed to load: {exc!r}\n"
                                           + traceback.format_exc(limit=5))
            return
        if name in self.plugins:
            return  # the same plugin reachable twice (entry point and extra_plugins)
        info = PluginInfo(name, source, plugin=plugin, incompatible=_check_compatible(type(plugin)))
        self.plugins[name] = info
        if info.incompatible:
            log.warning("plugin %s is incompatible: %s", name, info.incompatible)
            return
        refusal = self._unknown_hooks(plugin)
        if refusal is None:
            try:
                self.manager.register(plugin, name=name)
                self._callers.clear()  # both caches describe the registered plugins
                self._implementer_names.clear()
            except Exception as exc:  # pluggy refuses an implementation whose arguments the spec lacks
                refusal = f"refused: {exc}"
        if refusal is not None:
            info.plugin = None
            info.error = refusal
            log.error("plugin %s %s", name, refusal)

    def _unknown_hooks(self, plugin: Plugin) -> str | None:
        """Why ``plugin`` is refused for its hook methods, or None: a marked method must name a hook,
        and a method named like a hook must be marked (either mistake would never run)."""
        specs = {name for name in dir(self.manager.hook) if not name.startswith("_")}
        for attr in sorted(dir(type(plugin))):
            if attr.startswith("_"):
                continue
            marked = self.manager.parse_hookimpl_opts(plugin, attr) is not None
            if marked and attr not in specs:
                close = difflib.get_close_matches(attr, specs, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                return (f"refused: plugin {plugin.name!r} implements {attr!r}, which is not a Workdesk hook{hint}; "
                        f"see docs/hooks.md")
            if not marked and attr in specs and callable(getattr(type(plugin), attr)):
                return (f"refused: plugin {plugin.name!r} defines {attr!r} without @hookimpl, so it would never "
                        f"be called; mark it with @hookimpl")
        return None

    def usable(self) -> list[PluginInfo]:
        return [info for info in self.plugins.values() if info.usable]

    def get(self, name: str) -> Plugin | None:
        info = self.plugins.get(name)
        return info.plugin if info and info.usable else None

    # -- enabled state ---------------------------------------------------------------------

    def refresh(self, force: bool = False) -> None:
        """Re-read enabled flags and settings from the database if they are older than the refresh period."""
        now = time.monotonic()
        if not force and now - self._loaded_at < self.refresh_seconds:
            return
        with self._lock:
            rows = list(PluginState.select())
            self._enabled = {r.name for r in rows if r.enabled}
            self._settings = {r.name: dict(r.settings or {}) for r in rows}
            self._loaded_settings = {}
            self._loaded_at = now

    def is_enabled(self, name: str) -> bool:
        self.refresh()
        return name in self._enabled and name in self.plugins and self.plugins[name].usable

    def enabled(self) -> list[Plugin]:
        self.refresh()
        return [info.plugin for info in self.usable() if info.name in self._enabled]

    def stored_settings(self, name: str) -> dict:
        self.refresh()
        return dict(self._settings.get(name, {}))

    # -- hook calls ------------------------------------------------------------------------

    def implementers(self, hook_name: str, enabled_only: bool = True) -> list[str]:
        """Names of the plugins implementing ``hook_name``, in pluggy's call order."""
        if enabled_only:
            self.refresh()
        names = self._implementer_names.get(hook_name)
        if names is None:  # asked per task in bulk creation: read pluggy's list once per hook
            names = self._implementer_names[hook_name] = [
                impl.plugin_name for impl in reversed(getattr(self.manager.hook, hook_name).get_hookimpls())]
        return [n for n in names if n in self._enabled] if enabled_only else list(names)

    def caller(self, plugin_name: str, hook_name: str):
        """pluggy's hook caller for ``hook_name`` limited to one plugin (cached)."""
        key = (hook_name, plugin_name)
        caller = self._callers.get(key)
        if caller is None:
            others = [plugin for name, plugin in self.manager.list_name_plugin() if name != plugin_name]
            caller = self._callers[key] = self.manager.subset_hook_caller(hook_name, remove_plugins=others)
        return caller

    def call_plugin(self, plugin_name: str, hook_name: str, **kwargs) -> Any:
        """Call one plugin's implementation of ``hook_name`` through pluggy; its exception propagates.

        Returns the plugin's answer: the value itself (None when it had none).
        """
        result = self.caller(plugin_name, hook_name)(**kwargs)
        if getattr(self.manager.hook, hook_name).spec.opts.get("firstresult"):
            return result
        return result[0] if result else None

    def _isolated(self, hook_name: str, plugin_name: str, kwargs: dict[str, Any]) -> tuple[bool, Any]:
        try:
            return True, self.call_plugin(plugin_name, hook_name, **kwargs)
        except Exception as exc:
            record_error(plugin_name, f"{hook_name} raised {exc!r}\n{traceback.format_exc(limit=4)}")
            return False, exc

    def gather(self, hook_name: str, enabled_only: bool = True, **kwargs) -> list[tuple[str, Any]]:
        """Display hooks with one answer per plugin: ``(plugin, answer)`` for each answer that is not None.
        A raising plugin is recorded and left out."""
        out = []
        for name in self.implementers(hook_name, enabled_only):
            ok, value = self._isolated(hook_name, name, kwargs)
            if ok and value is not None:
                out.append((name, value))
        return out

    def collect(self, hook_name: str, enabled_only: bool = True, **kwargs) -> list[tuple[str, Any]]:
        """``register_*`` and list-returning display hooks: ``(plugin, item)`` for every item of every
        plugin's list. A raising plugin is recorded and left out."""
        return [(name, item) for name, items in self.gather(hook_name, enabled_only, **kwargs)
                for item in (items or [])]

    def ask(self, plugin_name: str, hook_name: str, **kwargs) -> Any:
        """A display hook of one plugin: its answer, or None when it is disabled, does not implement the
        hook, or raised (recorded, like any display hook)."""
        if plugin_name not in self.implementers(hook_name):
            return None
        ok, value = self._isolated(hook_name, plugin_name, kwargs)
        return value if ok else None

    def decide(self, hook_name: str, **kwargs) -> Iterator[tuple[str, Any]]:
        """Decision hooks: ``(plugin, answer)`` for each enabled plugin, in call order, lazily (a caller
        stops at the first answer that decides). A raising plugin is recorded; it yields
        :class:`PluginFailed` when it fails closed for this hook, and nothing otherwise."""
        names = self.implementers(hook_name)
        if hook_name == "propose_assignee":  # the precedence of assignment, defined once (assignment_rank)
            names.sort(key=lambda name: self.plugins[name].plugin.assignment_rank)
        for name in names:
            ok, value = self._isolated(hook_name, name, kwargs)
            if ok:
                yield name, value
            elif hook_name in self.plugins[name].plugin.fails_closed:
                yield name, PluginFailed(name, repr(value))

    def call_lifecycle(self, plugin_name: str, hook_name: str, **kwargs) -> Any:
        """``on_plugin_enabled`` / ``on_plugin_disabled`` on one plugin, enabled or not; errors propagate."""
        if plugin_name not in self.implementers(hook_name, enabled_only=False):
            return None
        return self.call_plugin(plugin_name, hook_name, **kwargs)


_registry: PluginRegistry | None = None


def get_registry() -> PluginRegistry:
    """The process-wide registry (created by ``create_app`` or ``init_runtime``)."""
    if _registry is None:
        raise RuntimeError("Workdesk is not initialised: call workdesk.create_app() first")
    return _registry


def set_registry(registry: PluginRegistry | None) -> None:
    global _registry
    _registry = registry


# -- errors -------------------------------------------------------------------------------

_pending_errors = threading.local()


def record_error(owner: str, message: str) -> None:
    """Log a failure of plugin ``owner`` (or of the core: ``"core"``) and keep it where
    ``workdesk plugins list``, the admin panel and the health panel show it.

    Inside a transaction the record waits until the transaction ends, committed or rolled back, so a
    refused change does not take the record of its cause with it.
    """
    log.error("%s: %s", owner, message.splitlines()[0] if message else message)
    if db.obj is not None and not db.is_closed() and db.transaction_depth() > 0:
        pending = getattr(_pending_errors, "items", None)
        if pending is None:
            pending = _pending_errors.items = []
        pending.append((owner, message))
        return
    _store_error(owner, message)


def flush_errors() -> None:
    """Store the errors recorded during the transaction that just ended (``write_transaction`` calls it)."""
    pending = getattr(_pending_errors, "items", None)
    if not pending:
        return
    _pending_errors.items = []
    for owner, message in pending:
        _store_error(owner, message)


TRANSACTION_END_CALLBACKS.append(flush_errors)


def _store_error(owner: str, message: str) -> None:
    try:
        with db.atomic():
            PluginState.insert(name=owner, last_error=message[:4000], last_error_at=utcnow()).on_conflict(
                conflict_target=[PluginState.name],
                update={PluginState.last_error: message[:4000], PluginState.last_error_at: utcnow()},
            ).execute()
    except Exception:  # recording the error must never fail the caller
        log.exception("could not record the error of %s", owner)


# -- settings -----------------------------------------------------------------------------

def validate_settings(plugin: Plugin, data: dict) -> dict:
    """Validate ``data`` with the plugin's schema; raise marshmallow.ValidationError with per-field messages.

    Secret settings left empty, masked or out keep their stored value (see ``workdesk.secret_settings``).
    """
    if plugin.settings_schema is None:
        if data:
            raise marshmallow.ValidationError({"_schema": ["this plugin has no settings"]})
        return {}
    schema = plugin.settings_schema()
    state = PluginState.get_or_none(PluginState.name == plugin.name)  # not the cache: another process may have saved
    loaded = schema.load(keep_secrets(schema, data, dict(state.settings or {}) if state else {}))
    return schema.dump(loaded)


def plugin_settings(name: str) -> dict[str, Any]:
    """Settings of plugin ``name`` as stored, loaded through its schema so defaults are filled in."""
    registry = get_registry()
    plugin = registry.get(name)
    stored = registry.stored_settings(name)  # refreshes, which empties the cache of loaded settings
    if plugin is None or plugin.settings_schema is None:
        return stored
    loaded = registry._loaded_settings.get(name)
    if loaded is None:
        schema = plugin.settings_schema()
        try:
            loaded = schema.load(stored)
        except marshmallow.ValidationError as exc:
            # Settings saved by an older plugin version (or naming what is gone, a connector of an
            # uninstalled plugin): keep what still validates, defaults for the rest.
            kept = {k: v for k, v in stored.items() if k in schema.fields and k not in exc.messages}
            try:
                loaded = schema.load(kept)
            except marshmallow.ValidationError:  # a required setting is missing: leave it out
                loaded = schema.load(kept, partial=True)
        registry._loaded_settings[name] = loaded
    return copy.deepcopy(loaded)  # a caller may change its copy


def shown_plugin_settings(name: str) -> dict[str, Any]:
    """Settings of plugin ``name`` as people and API clients may read them: secrets masked."""
    plugin = get_registry().get(name)
    settings = plugin_settings(name)
    if plugin is None or plugin.settings_schema is None:
        return settings
    return mask_secrets(plugin.settings_schema(), settings)


def set_plugin_enabled(name: str, enabled: bool) -> PluginState:
    """Enable or disable a plugin for every process.

    Enabling applies its migrations, then marks it enabled and calls its ``on_plugin_enabled`` in one
    transaction: if the hook raises, the plugin stays disabled and the error is raised as PluginError.
    Disabling always succeeds; a raising ``on_plugin_disabled`` is recorded against the plugin.
    """
    registry = get_registry()
    info = registry.plugins.get(name)
    if info is None:
        raise PluginError(f"No plugin named '{name}'. Installed plugins: {', '.join(sorted(registry.plugins)) or 'none'}.")
    if enabled and info.incompatible:
        raise PluginError(f"Plugin '{name}' cannot be enabled: {info.incompatible}.")
    if enabled and not info.loaded:
        raise PluginError(f"Plugin '{name}' cannot be enabled: it {info.error.splitlines()[0] if info.error else 'did not load'}.")
    missing = info.plugin.missing_configuration(plugin_settings(name)) if enabled else []
    if missing:
        raise PluginNotConfigured(gettext(
            "%(title)s cannot be enabled before these settings are filled in: %(settings)s. Set them on the "
            "plugin's settings page in the admin panel or with PATCH /api/v1/plugins/%(name)s.",
            title=info.plugin.title(), name=name, settings=", ".join(missing)), missing)
    if enabled:
        from .schema import upgrade_plugin
        upgrade_plugin(info.plugin)
    try:
        with write_transaction():
            state, _ = PluginState.get_or_create(name=name)
            was_enabled = state.enabled
            state.enabled = enabled
            state.updated_at = utcnow()
            if enabled:
                state.last_error = None
            state.save()
            if enabled and not was_enabled:
                registry.call_lifecycle(name, "on_plugin_enabled")
    except PluginError:
        raise
    except Exception as exc:
        record_error(name, f"on_plugin_enabled raised {exc!r}\n{traceback.format_exc(limit=4)}")
        raise PluginError(f"Plugin '{name}' could not be enabled: its on_plugin_enabled failed: {exc}") from None
    if not enabled and was_enabled:
        try:
            with write_transaction():
                registry.call_lifecycle(name, "on_plugin_disabled")
        except Exception as exc:
            record_error(name, f"on_plugin_disabled raised {exc!r}\n{traceback.format_exc(limit=4)}")
    registry.refresh(force=True)
    return state


def save_plugin_settings(name: str, data: dict) -> dict:
    """Validate and store a plugin's settings; raise marshmallow.ValidationError and store nothing on bad input."""
    registry = get_registry()
    plugin = registry.get(name)
    if plugin is None:
        raise PluginError(f"No usable plugin named '{name}'.")
    clean = validate_settings(plugin, data)
    missing = plugin.missing_configuration(clean) if registry.is_enabled(name) else []
    if missing:
        raise marshmallow.ValidationError({setting: [gettext("Required while the plugin is enabled.")]
                                           for setting in missing})
    with write_transaction():
        state, _ = PluginState.get_or_create(name=name)
        state.settings = clean
        state.updated_at = utcnow()
        state.save()
    registry.refresh(force=True)
    return clean
