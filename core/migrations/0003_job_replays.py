"""Periodic jobs record ``workdesk tick --at`` replays apart from their live runs."""
from playhouse.migrate import migrate

from workdesk.migrate import has_column
from workdesk.models import UTCDateTimeField


def upgrade(migrator, database):
    if not has_column(database, "core_job_run", "last_replay_at"):  # 0001 creates it on new installs
        migrate(migrator.add_column("core_job_run", "last_replay_at", UTCDateTimeField(null=True)))
