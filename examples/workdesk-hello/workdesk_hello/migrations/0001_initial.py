"""Create the hello tables."""
from workdesk_hello.models import MODELS


def upgrade(migrator, database):
    database.create_tables(MODELS, safe=True)
