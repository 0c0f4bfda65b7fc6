"""Create the templates tables."""
from ..models import MODELS


def upgrade(migrator, database):
    database.create_tables(MODELS, safe=True)
