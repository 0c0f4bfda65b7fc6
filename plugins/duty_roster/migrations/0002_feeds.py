"""Secret iCalendar feed URLs (``duty_roster_feed``); 0001 creates it too on new installs."""
from ..models import Feed


def upgrade(migrator, database):
    database.create_tables([Feed], safe=True)
