"""Create the mail_intake tables."""
from ..models import MODELS


def upgrade(migrator, database):
    database.create_tables(MODELS, safe=True)
