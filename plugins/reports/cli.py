"""``workdesk reports ...``: derive the reports' facts again from the audit trail."""
from __future__ import annotations

import time

import click


@click.command("rebuild")
def rebuild_command() -> None:
    """Derive every task's report facts again from the audit trail (safe to run at any time)."""
    from .facts import rebuild
    began = time.perf_counter()
    tasks = rebuild()
    click.echo(f"facts of {tasks} tasks rebuilt in {time.perf_counter() - began:.1f} s")


COMMANDS = [rebuild_command]
