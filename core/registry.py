"""Plugin discovery, compatibility, enable/disable state and safe hook calls."""
from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Iterator

import marshmallow
import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from . import hookspecs
from .db import db, utcnow, write_transaction
from .models import PluginState

# The version is declared once, in pyproject.toml; the installed metadata carries it here.
__version__ = importlib.metadata.version("workdesk")
ENTRY_POINT_GROUP = "workdesk.plugins"
hookimpl = pluggy.HookimplMarker("workdesk")
log = logging.getLogger("workdesk.plugins")


class PluginError(Exception):
    """A plugin cannot be enabled or configured; the message says why."""


class Plugin:
    """Base class of every Workdesk plugin, first-party or third-party.

    The first line of the subclass's docstring is its title, the rest its description. Hook
    implementations are methods marked with ``@hookimpl``.

    :cvar name: unique short name (``recurring``); prefixes the plugin's tables, permissions,
        task names and settings.
    :cvar version: the plugin's own version.
    :cvar requires_workdesk: PEP 440 specifier of the Workdesk versions it supports.
    :cvar settings_schema: a marshmallow Schema class for its settings, or None.
    :cvar needs_configuration: True when the plugin can do nothing useful until an admin fills in its
        settings (a mail server, a webhook URL); ``workdesk init --demo`` leaves such plugins disabled.
    """

    name: str = ""
    version: str = "0.0.0"
    requires_workdesk: str = ">=1.0,<2"
    settings_schema: type[marshmallow.Schema] | None = None
    needs_configuration: bool = False

    @classmethod
    def title(cls) -> str:
        doc = inspect.getdoc(cls) or cls.name
        return doc.splitlines()[0]

    @classmethod
    def description(cls) -> str:
        doc = inspect.getdoc(cls) or ""
        return "\n".join(doc.splitlines()[1:]).strip()

    @classmethod
    def migrations_package(cls) -> str:
        """Where the plugin's numbered migrations live: ``<plugin package>.migrations``."""
        return cls.__module__.rsplit(".", 1)[0] + ".migrations" if "." in cls.__module__ \
            else cls.__module__ + ".migrations"

    def settings(self) -> dict[str, Any]:
        """The plugin's current validated settings (defaults filled in)."""
        return plugin_settings(self.name)


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


@dataclass
class PluginRegistry:
    """Every discovered plugin, the pluggy manager they are registered in, and who is enabled."""

    refresh_seconds: float = 2.0
    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    manager: pluggy.PluginManager = field(default_factory=lambda: pluggy.PluginManager("workdesk"))
    _enabled: set[str] = field(default_factory=set)
    _settings: dict[str, dict] = field(default_factory=dict)
    _loaded_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

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

    def _load(self, name: str | None, source: str, load) -> None:
        try:
            obj = load()
            plugin = obj() if isinstance(obj, type) else obj
            if not isinstance(plugin, Plugin):
                raise PluginError(f"{source} is not a workdesk Plugin subclass")
            name = plugin.name or name
            if not name:
                raise PluginError(f"{source} has no name")
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
        try:
            self.manager.register(plugin, name=name)
        except Exception as exc:
            info.plugin = None
            info.error = f"failed to register hooks: {exc}"
            log.error("plugin %s failed to register: %s", name, exc)

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

    def hook(self, name: str):
        """A pluggy hook caller limited to enabled plugins (disabled ones are simply skipped)."""
        self.refresh()
        disabled = [info.plugin for info in self.usable() if info.name not in self._enabled]
        caller = getattr(self.manager.hook, name)
        return self.manager.subset_hook_caller(name, disabled) if disabled else caller

    def call_each(self, hook_name: str, **kwargs) -> Iterator[tuple[str, Any]]:
        """Call ``hook_name`` on each enabled plugin separately, yielding ``(plugin, result)``.

        Errors are raised to the caller, who decides whether they are isolated or fatal.
        """
        self.refresh()
        caller = getattr(self.manager.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):
            if impl.plugin_name not in self._enabled:
                continue
            args = {k: kwargs[k] for k in impl.argnames if k in kwargs}
            yield impl.plugin_name, impl.function(**args)

    def collect(self, hook_name: str, **kwargs) -> list[tuple[str, Any]]:
        """Call a ``register_*`` hook on each enabled plugin, flattening lists; a raising plugin is logged and skipped."""
        out = []
        self.refresh()
        caller = getattr(self.manager.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):
            if impl.plugin_name not in self._enabled:
                continue
            try:
                result = impl.function(**{k: kwargs[k] for k in impl.argnames if k in kwargs})
            except Exception as exc:
                record_plugin_error(impl.plugin_name, f"{hook_name} raised {exc!r}")
                continue
            out.extend((impl.plugin_name, item) for item in (result or []))
        return out

    def collect_all(self, hook_name: str, **kwargs) -> list[tuple[str, Any]]:
        """Like :meth:`collect` but over every usable plugin, enabled or not (registration at start-up)."""
        out = []
        caller = getattr(self.manager.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):
            try:
                result = impl.function(**{k: kwargs[k] for k in impl.argnames if k in kwargs})
            except Exception as exc:
                log.error("plugin %s: %s raised %r", impl.plugin_name, hook_name, exc)
                info = self.plugins.get(impl.plugin_name)
                if info:
                    info.error = f"{hook_name} raised {exc!r}"
                continue
            out.extend((impl.plugin_name, item) for item in (result or []))
        return out


_registry: PluginRegistry | None = None


def get_registry() -> PluginRegistry:
    """The process-wide registry (created by ``create_app``)."""
    if _registry is None:
        raise RuntimeError("Workdesk is not initialised: call workdesk.create_app() first")
    return _registry


def set_registry(registry: PluginRegistry | None) -> None:
    global _registry
    _registry = registry


def record_plugin_error(name: str, message: str) -> None:
    """Log a plugin's failure and keep it where ``workdesk plugins list`` and the admin panel show it."""
    log.error("plugin %s: %s", name, message)
    try:
        with db.atomic():
            PluginState.insert(name=name, last_error=message[:4000], last_error_at=utcnow()).on_conflict(
                conflict_target=[PluginState.name],
                update={PluginState.last_error: message[:4000], PluginState.last_error_at: utcnow()},
            ).execute()
    except Exception:  # recording the error must never fail the caller
        log.exception("could not record error of plugin %s", name)


# -- settings -----------------------------------------------------------------------------

def validate_settings(plugin: Plugin, data: dict) -> dict:
    """Validate ``data`` with the plugin's schema; raise marshmallow.ValidationError with per-field messages."""
    if plugin.settings_schema is None:
        if data:
            raise marshmallow.ValidationError({"_schema": ["this plugin has no settings"]})
        return {}
    schema = plugin.settings_schema()
    loaded = schema.load(data)
    return schema.dump(loaded)


def plugin_settings(name: str) -> dict[str, Any]:
    """Settings of plugin ``name`` as stored, loaded through its schema so defaults are filled in."""
    registry = get_registry()
    plugin = registry.get(name)
    stored = registry.stored_settings(name)
    if plugin is None or plugin.settings_schema is None:
        return stored
    schema = plugin.settings_schema()
    try:
        return schema.load(stored)
    except marshmallow.ValidationError:
        # Settings saved by an older plugin version: keep what still validates, defaults for the rest.
        return schema.load({k: v for k, v in stored.items() if k in schema.fields}, partial=True)


def set_plugin_enabled(name: str, enabled: bool) -> PluginState:
    """Enable or disable a plugin for every process; enabling creates or upgrades its tables."""
    registry = get_registry()
    info = registry.plugins.get(name)
    if info is None:
        raise PluginError(f"No plugin named '{name}'. Installed plugins: {', '.join(sorted(registry.plugins)) or 'none'}.")
    if enabled and info.incompatible:
        raise PluginError(f"Plugin '{name}' cannot be enabled: {info.incompatible}.")
    if enabled and not info.loaded:
        raise PluginError(f"Plugin '{name}' cannot be enabled: it {info.error.splitlines()[0] if info.error else 'did not load'}.")
    if enabled:
        from .schema import upgrade_plugin
        upgrade_plugin(info.plugin)
    with write_transaction():
        state, _ = PluginState.get_or_create(name=name)
        state.enabled = enabled
        state.updated_at = utcnow()
        if enabled:
            state.last_error = None
        state.save()
    registry.refresh(force=True)
    return state


def save_plugin_settings(name: str, data: dict) -> dict:
    """Validate and store a plugin's settings; raise marshmallow.ValidationError and store nothing on bad input."""
    registry = get_registry()
    plugin = registry.get(name)
    if plugin is None:
        raise PluginError(f"No usable plugin named '{name}'.")
    clean = validate_settings(plugin, data)
    with write_transaction():
        state, _ = PluginState.get_or_create(name=name)
        state.settings = clean
        state.updated_at = utcnow()
        state.save()
    registry.refresh(force=True)
    return clean
