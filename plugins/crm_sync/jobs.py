"""The CRM sync's periodic work: the incremental pull, the full reconcile when due, push retries."""
from __future__ import annotations

import datetime as dt
import logging

from workdesk import PeriodicJob, plugin_task, record_error, utcnow

from .connectors import CrmError, ConnectorMissing, missing_connector
from .push import push_due
from .sync import full_reconcile_due, pull, settings

log = logging.getLogger("workdesk.plugins.crm_sync")


def pull_changes(now: dt.datetime, since: dt.datetime | None = None) -> dict | None:
    """The incremental pull from the committed cursor; a full reconcile instead when one is due (it also
    catches what incremental pulls and webhooks missed). A CRM failure is recorded on the sync status
    and retried at the next run, from the same cursor. A chosen connector whose plugin is gone fails the
    job (the health panel and ``workdesk plugins list`` show it): no other connector pulls in its place."""
    missing = missing_connector()
    if missing is not None:
        raise missing
    if settings()["connector"] == "csv":
        return None
    try:
        return pull(now, full=full_reconcile_due(now))
    except CrmError as exc:
        log.warning("CRM pull failed: %s", exc)
        return None


@plugin_task("crm_sync")
def sync_now(full: bool = False) -> None:
    """The admin panel's "sync now" button: a pull on the worker (progress shows in the panel)."""
    try:
        pull(utcnow(), full=full)
    except ConnectorMissing as exc:
        record_error("crm_sync", str(exc))
    except CrmError as exc:
        log.warning("CRM pull failed: %s", exc)


JOBS = [PeriodicJob("pull", pull_changes, dt.timedelta(minutes=5),
                    "Pull the CRM's changes since the last cursor (a full reconcile when due)"),
        PeriodicJob("retry_pushes", push_due, dt.timedelta(minutes=1),
                    "Send the CRM activities whose retry after a failure is due")]
