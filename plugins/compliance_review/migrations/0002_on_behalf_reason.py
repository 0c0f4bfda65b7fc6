"""The log says why someone decided on another's behalf: the named approver was absent (their delegate
decided), or a deadline escalated or reassigned the decision to a head."""
from peewee import CharField
from playhouse.migrate import migrate

from workdesk import has_column


def upgrade(migrator, database):
    if not has_column(database, "compliance_review_decision", "on_behalf_reason"):  # 0001 creates it on new installs
        migrate(migrator.add_column("compliance_review_decision", "on_behalf_reason",
                                    CharField(max_length=16, default="")))
