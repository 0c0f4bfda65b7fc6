"""Preferences per kind and channel, the quiet digest, and idempotent notes for event handlers."""
from peewee import BooleanField, CharField, IntegerField
from playhouse.migrate import migrate

from workdesk.notifications import NotificationPreference, NotificationSettings


def upgrade(migrator, database):
    migrate(
        migrator.add_column("core_notification", "dedupe_key", CharField(max_length=100, null=True)),
        migrator.add_column("core_notification", "held_for_digest", BooleanField(default=False)),
        migrator.add_column("core_notification", "digest_id", IntegerField(null=True)),
        migrator.add_index("core_notification", ("recipient_id", "dedupe_key"), unique=True),
        migrator.add_index("core_notification", ("digest_id",), unique=False),
    )
    database.create_tables([NotificationPreference, NotificationSettings], safe=True)
