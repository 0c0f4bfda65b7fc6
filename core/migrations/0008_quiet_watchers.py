"""Quiet watchers: people a plugin makes watch a task so that they can see it, whom the core does not tell of
its comments and status changes (``services.tasks.add_watchers(..., quiet=True)``)."""
from peewee import BooleanField
from playhouse.migrate import migrate

from workdesk.migrate import has_column


def upgrade(migrator, database):
    if not has_column(database, "core_task_watcher", "quiet"):  # 0001 creates it on new installs
        migrate(migrator.add_column("core_task_watcher", "quiet", BooleanField(default=False)))
