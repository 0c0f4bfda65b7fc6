"""Create the webpush tables: subscriptions and deliveries."""
from ..models import MODELS


def upgrade(migrator, database):
    database.create_tables(MODELS, safe=True)
