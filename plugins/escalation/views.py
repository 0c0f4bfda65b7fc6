"""The task page's SLA panel and the audit trail's phrases for what escalation did."""
from __future__ import annotations

import datetime as dt

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .services import clocks_of

TARGETS = {"first_response": _l("First response"), "update": _l("Update"), "resolution": _l("Resolution"),
           "status_time": _l("Time in status")}
STATES = {"running": _l("running"), "paused": _l("paused"), "met": _l("met"), "breached": _l("breached"),
          "cancelled": _l("no longer applies")}


def _instant(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes = int(seconds // 60)
    return _("%(hours)dh %(minutes)02dm", hours=minutes // 60, minutes=minutes % 60)


def panel(task, user) -> str | None:
    """Every clock of the task (not only the nearest): target, state, deadline, remaining working time."""
    data = clocks_of(task)
    if data["policy"] is None:
        return None
    clocks = [{**clock, "label": str(TARGETS.get(clock["target"], clock["target"])),
               "state_label": str(STATES.get(clock["state"], clock["state"])),
               "due": _instant(clock["due_at"]), "remaining": _duration(clock["remaining_seconds"])}
              for clock in data["clocks"]]
    return render_template("escalation/panel.html", policy=data["policy"], clocks=clocks,
                           firings=len(data["firings"]))


def describe(event) -> str | None:
    """The phrase for an ``escalation.*`` audit-trail entry (it follows the actor's name, here the system)."""
    changes = event.changes or {}

    def value(key: str):
        pair = changes.get(key)
        return pair[1] if isinstance(pair, list) and len(pair) == 2 else None
    if event.kind == "escalation.note":  # written by versions before the core had internal notes
        return _("escalation note: “%(note)s”", note=value("note") or "")
    if event.kind != "escalation.fired":
        return None
    target = str(TARGETS.get(value("target"), value("target") or ""))
    step = value("step") or 0
    if step == 0:
        return _("SLA warning: %(target)s", target=target)
    if step == 1:
        return _("SLA breached: %(target)s", target=target)
    return _("SLA escalation level %(level)s: %(target)s", level=step - 1, target=target)
