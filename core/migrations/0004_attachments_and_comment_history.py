"""Attachments on tasks and comments; internal notes and the edit history of comments."""
from playhouse.migrate import migrate
from peewee import BooleanField

from workdesk.migrate import has_column
from workdesk.models import Attachment, CommentRevision, UTCDateTimeField


def upgrade(migrator, database):
    # 0001 creates core_comment from the current model on a new install: add only what is missing.
    if not has_column(database, "core_comment", "internal"):
        migrate(migrator.add_column("core_comment", "internal", BooleanField(default=False)))
    if not has_column(database, "core_comment", "edited_at"):
        migrate(migrator.add_column("core_comment", "edited_at", UTCDateTimeField(null=True)))
    database.create_tables([CommentRevision, Attachment], safe=True)
