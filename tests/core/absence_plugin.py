"""A plugin recording the absence and deactivation events it receives, as a dispatcher handing work back
would."""
from __future__ import annotations

from workdesk import Plugin, hookimpl

RECEIVED: list[tuple] = []  # (hook, absence id, user id, extra), in this process


class AbsenceRecorderPlugin(Plugin):
    """Absence recorder"""
    name = "absencerecorder"

    @hookimpl
    def on_absence_changed(self, absence, user, actor, change, event):
        RECEIVED.append(("changed", absence.id, user.id, change, actor.id if actor else None))

    @hookimpl
    def on_absence_started(self, absence, user, event):
        RECEIVED.append(("started", absence.id, user.id, absence.ends_at, event["id"]))

    @hookimpl
    def on_absence_ended(self, absence, user, event):
        RECEIVED.append(("ended", absence.id, user.id, absence.ends_at, event["id"]))

    @hookimpl
    def on_user_deactivated(self, user, actor, event):
        RECEIVED.append(("deactivated", user.id, actor.id if actor else None, user.is_active))
