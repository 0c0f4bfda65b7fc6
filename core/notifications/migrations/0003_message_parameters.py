"""Notifications keep their message ids and values (``message``), so they are rendered when read."""
from peewee import TextField
from playhouse.migrate import migrate

from workdesk.migrate import has_column


def upgrade(migrator, database):
    # Rows written before keep only their stored text (shown as it is); new rows carry both.
    if not has_column(database, "core_notification", "message"):
        migrate(migrator.add_column("core_notification", "message", TextField(null=True)))
