"""Managers may edit many tasks at once in the team pages (``task.bulk_edit``)."""
from workdesk.models import Role


def upgrade(migrator, database):
    # The seeded manager role gains the new permission; a role an admin renamed or edited away is left alone.
    manager = Role.get_or_none(Role.name == "manager")
    if manager is not None and "task.bulk_edit" not in manager.permissions and "*" not in manager.permissions:
        manager.permissions = [*manager.permissions, "task.bulk_edit"]
        manager.save()
