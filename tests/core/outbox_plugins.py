"""A plugin for the outbox tests: it appends one line per call, so a repeated delivery shows up."""
from __future__ import annotations

import os

from workdesk import Plugin, hookimpl


def _tally(hook: str, event: dict) -> None:
    with open(os.environ["TALLY_FILE"], "a") as fh:  # one short O_APPEND write per call: lines never mix
        fh.write(f"{os.getpid()} {hook} {event['id']}\n")


class TallyPlugin(Plugin):
    """Tally

    Counts every delivery of the task events it receives.
    """
    name = "tally"

    @hookimpl
    def on_task_created(self, event):
        _tally("created", event)

    @hookimpl
    def on_task_assigned(self, event):
        _tally("assigned", event)
