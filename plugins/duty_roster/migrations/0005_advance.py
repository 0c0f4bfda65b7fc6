"""A rotation's ``advance``: with restrictions, a turn passes only at hand-offs that open restricted time
("windows", the default for new rotations). Rotations made before keep the calendar advance they were
published with, so no roster, feed or hand-over of theirs moves."""
from peewee import CharField
from playhouse.migrate import migrate

from workdesk import has_column


def upgrade(migrator, database):
    if not has_column(database, "duty_roster_rotation", "advance"):  # 0001 creates it on new installs
        migrate(migrator.add_column("duty_roster_rotation", "advance", CharField(max_length=8, default="calendar")))
