import click

from .models import Stamp


@click.command("count")
@click.option("--day", default=None, help="Only the stamps of this day (YYYY-MM-DD).")
def count(day):
    """How many stamps there are."""
    query = Stamp.select()
    if day is not None:
        query = query.where(Stamp.day == day)
    click.echo(f"{query.count()} stamp(s)")
