"""Create the hello tables."""
from workdesk_hello.models import DailyCount, Greeting


def upgrade(migrator, database):
    database.create_tables([Greeting, DailyCount], safe=True)
