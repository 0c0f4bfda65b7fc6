"""The core tables as of Workdesk 1.0."""
from workdesk.models import CORE_MODELS


def upgrade(migrator, database):
    database.create_tables(CORE_MODELS, safe=True)
