"""Create the discussions tables: spaces, threads, posts, files, read marks, moderation log."""
from ..models import MODELS


def upgrade(migrator, database):
    database.create_tables(MODELS, safe=True)
