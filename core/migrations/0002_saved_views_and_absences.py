"""Saved task views and absences (out-of-office periods); managers may share views with their departments."""
from workdesk.models import Absence, Role, SavedView


def upgrade(migrator, database):
    database.create_tables([SavedView, Absence], safe=True)
    # The seeded manager role gains the new permission; a role an admin renamed or edited away is left alone.
    manager = Role.get_or_none(Role.name == "manager")
    if manager is not None and "view.share" not in manager.permissions and "*" not in manager.permissions:
        manager.permissions = [*manager.permissions, "view.share"]
        manager.save()
