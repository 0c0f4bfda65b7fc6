"""Create the mail_intake tables."""
from ..models import IntakeMessage, MailboxCursor


def upgrade(migrator, database):
    database.create_tables([MailboxCursor, IntakeMessage], safe=True)
