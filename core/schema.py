"""Bring a database to the current schema: the core's migrations, then each plugin's, then seed data."""
from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l

from . import migrate
from .db import db, write_transaction
from .models import Role, Sequence

log = logging.getLogger("workdesk.schema")

# The descriptions are what people read: in the role form, and when their role lacks one.
CORE_PERMISSIONS: dict[str, str] = {
    "task.create": _l("File new tasks"),
    "task.view_department": _l("See every task of the departments one belongs to"),
    "task.view_all": _l("See every task"),
    "task.edit": _l("Edit the fields of tasks one can see"),
    "task.assign": _l("Assign tasks to people"),
    "task.transition": _l("Move tasks through the workflow"),
    "task.comment": _l("Comment on tasks one can see"),
    "task.delete": _l("Delete tasks (the audit trail is kept)"),
    "user.manage": _l("Create, change and deactivate users"),
    "department.manage": _l("Create and change departments"),
    "plugin.manage": _l("Enable, disable and configure plugins"),
    "admin.access": _l("Open the admin panel"),
    "view.share": _l("Share saved task views with one's departments"),
    "task.bulk_edit": _l("Change many tasks at once from the team pages"),
}

SEED_ROLES: dict[str, list[str]] = {
    "admin": ["*"],
    "manager": ["task.create", "task.view_department", "task.edit", "task.assign", "task.transition",
                "task.comment", "view.share", "task.bulk_edit"],
    "agent": ["task.create", "task.view_department", "task.edit", "task.assign", "task.transition",
              "task.comment"],
    "reviewer": ["task.create", "task.view_department", "task.transition", "task.comment"],
    "requester": ["task.create", "task.comment"],
}


def seed() -> None:
    """Create the seeded roles and counters if missing; never overwrites an admin's edits."""
    with write_transaction():
        for name, perms in SEED_ROLES.items():
            Role.get_or_create(name=name, defaults={"permissions": perms, "description": f"Seeded {name} role"})
        Sequence.get_or_create(name="task", defaults={"value": 0})


# The core's schema components, each with its own migration history: (owner, package).
CORE_COMPONENTS: list[tuple[str, str]] = [
    ("core", "workdesk.migrations"),
    ("core.notifications", "workdesk.notifications.migrations"),
    ("core.api", "workdesk.api.migrations"),
]


def upgrade_core() -> dict[str, tuple[int, int]]:
    results = {owner: migrate.upgrade(owner, package) for owner, package in CORE_COMPONENTS}
    seed()
    return results


def upgrade_plugin(plugin) -> tuple[int, int]:
    """Apply a plugin's migrations newer than its recorded version; return (old, new).

    A plugin that owns tables must bring them with migrations: without a migrations package its
    tables would silently never change, so it is refused.
    """
    from .registry import PluginError, get_registry
    package = plugin.migrations_package()
    if migrate.discover(package):
        return migrate.upgrade(plugin.name, package)
    models = get_registry().call_plugin(plugin.name, "register_models") or []
    if models:
        tables = ", ".join(model._meta.table_name for model in models)
        raise PluginError(f"Plugin '{plugin.name}' owns tables ({tables}) but has no migrations package "
                          f"'{package}': add {package.replace('.', '/')}/0001_initial.py (see docs/writing-plugins.md).")
    return (0, 0)


def schema_status(plugin) -> tuple[int, int]:
    """(applied, latest) migration numbers of a plugin, for ``plugins list`` and the admin panel."""
    return migrate.current_version(plugin.name), migrate.latest_version(plugin.migrations_package())


def upgrade_all(registry=None) -> dict[str, tuple[int, int]]:
    """``workdesk db upgrade``: the core, then every loadable plugin (enabled or not, so data stays consistent)."""
    results = upgrade_core()
    if registry is not None:
        for info in registry.usable():
            results[info.name] = upgrade_plugin(info.plugin)
    return results


def all_permissions(registry=None) -> dict[str, str]:
    """Core permissions plus those every usable plugin contributes."""
    perms = dict(CORE_PERMISSIONS)
    if registry is not None:
        for _plugin, (perm, description) in registry.collect("register_permissions", enabled_only=False):
            perms[perm] = description
    return perms
