"""External requesters of tasks filed from mail, and the mail sent to them."""
from ..models import OutgoingMail, Requester


def upgrade(migrator, database):
    database.create_tables([Requester, OutgoingMail], safe=True)
