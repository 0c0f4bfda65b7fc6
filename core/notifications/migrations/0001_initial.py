"""The inbox table as first released (frozen here: later migrations add to it)."""
from peewee import BooleanField, CharField, ForeignKeyField, IntegerField, TextField

from workdesk.db import BaseModel, UTCDateTimeField, utcnow
from workdesk.models import User


def upgrade(migrator, database):
    class Notification(BaseModel):
        recipient = ForeignKeyField(User, backref="+", on_delete="CASCADE")
        kind = CharField(max_length=64)
        subject = CharField(max_length=300)
        body = TextField(default="")
        task_id = IntegerField(null=True, index=True)
        created_at = UTCDateTimeField(default=utcnow, index=True)
        read_at = UTCDateTimeField(null=True)
        is_read = BooleanField(default=False, index=True)

        class Meta:
            table_name = "core_notification"

    database.create_tables([Notification], safe=True)
