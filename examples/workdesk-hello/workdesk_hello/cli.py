"""``workdesk hello ...``: the plugin's commands (mounted by the core under the plugin's name)."""
from __future__ import annotations

import click

from workdesk import plugin_settings, write_transaction

from .models import DailyCount
from .services import greet_waiting_tasks


class UsageError(click.ClickException):
    exit_code = 2  # the house rule for errors a user caused


@click.command("counts")
@click.option("--days", default=7, show_default=True, help="How many of the latest days to show.")
def counts(days: int) -> None:
    """Show the latest daily counts of open tasks."""
    if not 1 <= days <= 366:
        raise UsageError(f"--days {days} is out of range: give a number from 1 to 366.")
    rows = list(DailyCount.select().order_by(DailyCount.day.desc()).limit(days))
    if not rows:
        click.echo("No counts yet: the count_open job runs once a day (or run `workdesk tick`).")
    for row in rows:
        click.echo(f"{row.day:%Y-%m-%d}  {row.open_tasks}")


@click.command("greet-waiting")
def greet_waiting() -> None:
    """Greet every open task that has no greeting yet."""
    with write_transaction():
        greeted = greet_waiting_tasks(plugin_settings("hello")["greeting"])
    click.echo(f"Greeted {greeted} task(s).")


COMMANDS = [counts, greet_waiting]
