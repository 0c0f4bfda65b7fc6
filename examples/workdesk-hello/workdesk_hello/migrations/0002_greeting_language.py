"""Greetings remember the language they were written in."""
from peewee import CharField
from playhouse.migrate import migrate

from workdesk import has_column


def upgrade(migrator, database):
    if not has_column(database, "hello_greeting", "language"):  # 0001 creates it on new installs
        migrate(migrator.add_column("hello_greeting", "language", CharField(max_length=8, default="en")))
