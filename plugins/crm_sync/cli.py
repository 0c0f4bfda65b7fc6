"""``workdesk crm_sync ...``: pull from the CRM with a progress bar, import and export CSV files."""
from __future__ import annotations

import sys

import click

from workdesk import utcnow

from .connectors import CrmError, PermanentCrmError


def _failure(message: str) -> click.ClickException:
    error = click.ClickException(message)
    error.exit_code = 2  # the house rule for a command that could not do its work
    return error


@click.command("pull")
@click.option("--full", is_flag=True, help="A full reconcile: read everything, and follow what the CRM deleted.")
def pull_command(full: bool) -> None:
    """Pull the CRM's changes since the committed cursor (resumes after a crash)."""
    from .sync import pull
    with click.progressbar(length=0, label="Pulling", show_pos=True, file=sys.stderr) as bar:
        def progress(count: int, total: int | None) -> None:
            if total:
                bar.length = total
            bar.update(count)
        try:
            counts = pull(utcnow(), full=full, progress=progress)
        except PermanentCrmError as exc:
            raise _failure(str(exc)) from None
        except CrmError as exc:
            raise _failure(f"the CRM failed: {exc}; run again to resume from the last cursor") from None
    click.echo(", ".join(f"{key} {value}" for key, value in counts.items()))


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--apply", "apply_", is_flag=True, help="Apply the changes (without it: a dry run).")
def import_command(path: str, apply_: bool) -> None:
    """Import customers from a CSV file (a dry run unless --apply)."""
    from .csvio import import_csv
    with open(path, "rb") as handle:
        plan = import_csv(handle.read(), dry_run=not apply_)
    for item in plan.refused:
        click.echo(f"line {item['line']}: refused: {item['reason']}", err=True)
    click.echo(", ".join(f"{key} {value}" for key, value in plan.summary().items()))


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def export_command(path: str) -> None:
    """Export every customer to a CSV file (UTF-8 with a byte order mark, formula-escaped)."""
    from .csvio import export_lines
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for line in export_lines():
            handle.write(line)
    click.echo(path)


COMMANDS = [pull_command, import_command, export_command]
