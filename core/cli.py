"""The ``workdesk`` command."""
from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click
import marshmallow

from .config import ConfigError, default_instance_path, load_settings, write_instance_config
from .errors import WorkdeskError
from .registry import PluginError, PluginNotConfigured

EXIT_USAGE = 2


class CLIError(click.ClickException):
    exit_code = EXIT_USAGE


def _instance(ctx: click.Context) -> Path:
    return ctx.find_root().obj["instance"]


def _runtime(ctx: click.Context, upgrade: bool = False, check_schema: bool = True):
    """Load settings, connect, discover plugins. Errors become one clear line, never a trace."""
    from .app import init_runtime
    try:
        settings = load_settings(_instance(ctx))
    except ConfigError as exc:
        raise CLIError(str(exc)) from None
    registry = init_runtime(settings)
    if upgrade:
        from .schema import upgrade_all
        upgrade_all(registry)
    elif check_schema:
        _require_schema()
    return settings, registry


def _require_schema() -> None:
    from . import migrate
    if migrate.current_version("core") < migrate.latest_version("workdesk.migrations"):
        raise CLIError("The database schema is not current. Run `workdesk db upgrade` (or `workdesk init` on a "
                       "new install) first.")


INSTANCE_OPTION = "--instance"


def _instance_first(args: list[str]) -> list[str]:
    """``args`` with every ``--instance PATH`` (or ``--instance=PATH``) moved to the front, where the root
    group parses it: the option is accepted after any subcommand too, at any depth, plugin commands
    included, and is known before any subcommand (or plugin discovery) runs. ``--`` ends the search."""
    moved, rest = [], []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg == INSTANCE_OPTION:
            if i + 1 == len(args):
                raise click.BadOptionUsage(INSTANCE_OPTION, f"Option '{INSTANCE_OPTION}' requires an argument: "
                                                            "the instance folder, e.g. --instance ./instance.")
            moved.extend(args[i:i + 2])
            i += 2
            continue
        (moved if arg.startswith(INSTANCE_OPTION + "=") else rest).append(arg)
        i += 1
    return moved + rest


class WorkdeskCLI(click.Group):
    """The ``workdesk`` group: the built-in commands, then one group per plugin that registers commands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _instance_first(args))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return super().list_commands(ctx) + sorted(set(_plugin_groups(ctx)) - set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or _plugin_groups(ctx).get(name)


def _plugin_groups(ctx: click.Context) -> dict[str, click.Group]:
    """``workdesk <plugin> ...`` groups from every installed plugin's ``register_commands`` (found without
    touching the database; the database is connected when one of them runs)."""
    root = ctx.find_root()
    if "plugin_groups" in root.meta:
        return root.meta["plugin_groups"]
    from .registry import PluginRegistry
    extra: list[str] = []
    try:
        extra = load_settings(root.params.get("instance") or default_instance_path())["extra_plugins"]
    except ConfigError:
        pass  # listing commands must not fail on a bad config; running one reports it
    registry = PluginRegistry()
    registry.discover(extra)
    commands: dict[str, list[click.Command]] = {}
    for plugin, command in registry.collect("register_commands", enabled_only=False):
        if isinstance(command, click.Command):
            commands.setdefault(plugin, []).append(command)
    groups = root.meta["plugin_groups"] = {
        name: _plugin_group(name, type(registry.plugins[name].plugin).title(), found)
        for name, found in commands.items()}
    return groups


def _plugin_group(name: str, title: str, commands: list[click.Command]) -> click.Group:
    @click.group(name=name, help=f"Commands of the plugin {name} ({title}).")
    @click.pass_context
    def group(ctx: click.Context) -> None:
        _, registry = _runtime(ctx)
        if not registry.is_enabled(name):
            raise CLIError(f"The plugin '{name}' is disabled, so its commands do not run. Enable it with "
                           f"`workdesk plugins enable {name}` or in the admin panel.")
    for command in commands:
        group.add_command(command)
    return group


@click.group(cls=WorkdeskCLI, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(INSTANCE_OPTION, type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Instance folder (config and SQLite files), before or after the command. "
                   "Default: $WORKDESK_INSTANCE or ./instance.")
@click.pass_context
def cli(ctx: click.Context, instance: Path | None) -> None:
    """Workdesk: tasks and work orders for teams, extended by plugins."""
    ctx.ensure_object(dict)
    ctx.obj["instance"] = (instance.resolve() if instance else default_instance_path())


@cli.command()
@click.option("--admin-email", help="Email of the first admin (prompted if omitted).")
@click.option("--admin-password", help="Password of the first admin (prompted if omitted).")
@click.option("--admin-name", default="Administrator", show_default=True)
@click.option("--demo", is_flag=True, help="Also load the demo company, enable every plugin that needs no "
              "configuration, and print the demo admin's login.")
@click.pass_context
def init(ctx, admin_email, admin_password, admin_name, demo):
    """Create the instance folder, its config, the database and the first admin."""
    instance = _instance(ctx)
    config_file = instance / "workdesk.toml"
    if config_file.exists():
        click.echo(f"{config_file} already exists: nothing changed. Use `workdesk db upgrade` to update the schema.")
        return
    if demo:
        admin_email = admin_email or "admin@example.com"
        admin_password = admin_password or "workdesk-demo"
        admin_name = "Ada Admin"
    if not admin_email:
        admin_email = click.prompt("Admin email")
    if not admin_password:
        admin_password = click.prompt("Admin password", hide_input=True, confirmation_prompt=True)
    from .services import users
    try:
        users.check_new_user(email=admin_email, password=admin_password, name=admin_name)
    except WorkdeskError as exc:
        raise CLIError(_field_message(exc)) from None
    from .demo import INTAKE_DEPARTMENT
    write_instance_config(instance, {"intake_department": INTAKE_DEPARTMENT} if demo else None)
    settings, registry = _runtime(ctx, upgrade=True)
    users.create_user(None, email=admin_email, name=admin_name, password=admin_password, role="admin")
    click.echo(f"Created {config_file} and the database; admin: {admin_email}")
    if demo:
        from .demo import load_demo
        from .registry import set_plugin_enabled
        waiting = []
        for info in registry.usable():
            try:
                set_plugin_enabled(info.name, True)
            except PluginNotConfigured:
                waiting.append(info.name)
        counts = load_demo()
        click.echo(f"Demo company loaded: {counts}. Log in as {admin_email} / {admin_password}")
        if waiting:
            click.echo(f"Left disabled until configured in the admin panel: {', '.join(sorted(waiting))}.")


def _field_message(exc: WorkdeskError) -> str:
    details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.fields.items())
    return f"{exc.message} {details}".strip()


@cli.group()
def db():
    """Database schema commands."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx):
    """Bring the core's and every plugin's tables to the current schema (safe to run again)."""
    _, registry = _runtime(ctx, check_schema=False)
    from .schema import upgrade_all
    for owner, (old, new) in upgrade_all(registry).items():
        click.echo(f"{owner}: {'up to date at' if old == new else f'{old} ->'} {new}")


@cli.group()
def plugins():
    """List, enable and disable plugins."""


@plugins.command("list")
@click.pass_context
def plugins_list(ctx):
    """Every discovered plugin with version, state, schema version and errors."""
    from .models import PluginState
    from .registry import CORE, plugin_settings
    from .schema import schema_status
    _, registry = _runtime(ctx)
    states = {s.name: s for s in PluginState.select()}
    if not registry.plugins:
        click.echo("No plugins installed.")
    for name, info in sorted(registry.plugins.items()):
        state = states.get(name)
        status = "enabled" if state and state.enabled else "disabled"
        if info.incompatible:
            status = f"incompatible: {info.incompatible}"
        elif not info.loaded:
            status = "refused" if (info.error or "").startswith("refused") else "failed to load"
        version = info.plugin.version if info.plugin else "?"
        title = type(info.plugin).title() if info.plugin else ""
        schema = "schema {}/{}".format(*schema_status(info.plugin)) if info.plugin else "schema -"
        click.echo(f"{name:<20} {version:<8} {status:<10} {schema:<11} {title}")
        missing = info.plugin.missing_configuration(plugin_settings(name)) if info.usable else []
        if missing:  # Plugin.missing_configuration: settings to fill in (or fix) before it can work
            click.echo(f"    needs configuration: {', '.join(missing)}")
        error = info.error or (state.last_error if state else None)
        if error:
            click.echo(f"    error: {error.splitlines()[0]}")
    core_state = states.get(CORE)
    if core_state is not None and core_state.last_error:
        click.echo(f"core: last error at {core_state.last_error_at:%Y-%m-%d %H:%M} UTC: "
                   f"{core_state.last_error.splitlines()[0]}")


def _toggle(ctx, name: str, enabled: bool) -> None:
    from .registry import set_plugin_enabled
    _runtime(ctx)
    try:
        set_plugin_enabled(name, enabled)
    except PluginError as exc:
        raise CLIError(str(exc)) from None
    click.echo(f"{name} {'enabled' if enabled else 'disabled (its data is kept)'}.")


@plugins.command("enable")
@click.argument("name")
@click.pass_context
def plugins_enable(ctx, name):
    """Enable plugin NAME in every process (creates or upgrades its tables)."""
    _toggle(ctx, name, True)


@plugins.command("disable")
@click.argument("name")
@click.pass_context
def plugins_disable(ctx, name):
    """Disable plugin NAME; its data is kept."""
    _toggle(ctx, name, False)


@cli.group()
def user():
    """User accounts."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", default="agent", show_default=True, help="admin, manager, agent, reviewer, requester or a custom role.")
@click.option("--password", help="Prompted if omitted.")
@click.option("--department", "departments", multiple=True, help="Department name (repeatable).")
@click.option("--timezone", default=None, help="IANA zone, e.g. Europe/Sofia.")
@click.pass_context
def user_create(ctx, email, name, role, password, departments, timezone):
    """Create a user account."""
    _runtime(ctx)
    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    from .models import Department
    from .services import users
    dept_ids = []
    for dname in departments:
        dept = Department.get_or_none(Department.name == dname)
        if dept is None:
            raise CLIError(f"No department named '{dname}'. Existing: "
                           + ", ".join(d.name for d in Department.select().order_by(Department.name)))
        dept_ids.append(dept.id)
    try:
        created = users.create_user(None, email=email, name=name, password=password, role=role,
                                    department_ids=dept_ids, timezone=timezone)
    except WorkdeskError as exc:
        raise CLIError(_field_message(exc)) from None
    click.echo(f"Created user {created.id}: {created.email} ({role}).")


@cli.command()
@click.option("--at", "at", default=None, help="ISO-8601 instant to run as (default: now), e.g. 2026-03-29T09:00:00+03:00.")
@click.pass_context
def tick(ctx, at):
    """Run every enabled plugin's periodic work once, now or as of --at, and drain pending events.

    A run with --at is a replay: it is recorded apart from the live schedule, which it never delays."""
    now = _parse_instant(at) if at else None
    _runtime(ctx)
    from .jobs import run_due_jobs
    from .outbox import drain
    results = run_due_jobs(now=now, force=True, replay=now is not None)
    handled = drain()
    for name, result in sorted(results.items()):
        click.echo(f"{name}: {result}")
    click.echo(f"events handled: {handled}")
    if any(r == "failed" for r in results.values()):
        ctx.exit(1)


def _parse_instant(value: str) -> dt.datetime:
    try:
        instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CLIError(f"--at {value!r} is not an ISO-8601 instant; use e.g. 2026-03-29T09:00:00+03:00.") from None
    if instant.tzinfo is None:
        raise CLIError(f"--at {value!r} has no UTC offset; add one, e.g. {value}+00:00 or {value}Z.")
    return instant.astimezone(dt.timezone.utc)


@cli.command()
@click.option("--threads", default=2, show_default=True, help="Worker threads.")
@click.option("--no-periodic", is_flag=True, help="Do not schedule periodic jobs from this worker.")
@click.option("--parent-fd", type=int, default=None, hidden=True,
              help="Stop when this pipe reaches EOF (set by `workdesk run` for its worker).")
@click.pass_context
def worker(ctx, threads, no_periodic, parent_fd):
    """Run a background worker (events, plugin tasks, periodic jobs). Run as many as you like."""
    if parent_fd is not None:
        try:
            os.fstat(parent_fd)
        except OSError:
            raise CLIError(f"--parent-fd {parent_fd} is not an open file descriptor; it is set by `workdesk run` "
                           "for its own worker, leave it out.") from None
    settings, _ = _runtime(ctx)
    from .worker import run_worker
    run_worker(settings, workers=threads, periodic=not no_periodic, parent_fd=parent_fd)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--no-worker", is_flag=True, help="Serve only; run `workdesk worker` elsewhere.")
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="Web server processes (default: one per CPU core; one process where gunicorn cannot run).")
@click.option("--threads", default=None, type=click.IntRange(min=1),
              help="Threads per web server process (default: 1; 4 in the one process where gunicorn cannot run).")
@click.pass_context
def run(ctx, host, port, no_worker, workers, threads):
    """Serve the web app and run a worker beside it (the embedded default)."""
    from .app import create_app
    try:
        app = create_app({"instance_path": str(_instance(ctx))})
    except ConfigError as exc:
        raise CLIError(str(exc)) from None
    from .schema import upgrade_all
    upgrade_all(app.extensions["workdesk_registry"])
    from .db import db
    from .queue import queue
    # The web processes and the worker are forked from here: none may share a connection of this process
    # (SQLite's locks are per process). The queue's storage opened one to create its tables.
    db.close()
    queue.storage.close()
    from .webserver import GUNICORN, ListenError, listen, serve
    try:
        sock = listen(host, port)  # before the worker starts: a busy port leaves nothing running
    except ListenError as exc:
        raise CLIError(str(exc)) from None
    master = os.getpid()
    supervisor = child = None
    if not no_worker:
        from .supervisor import WorkerSupervisor
        # -P: the current directory never goes on sys.path, so no folder there can shadow the package.
        from .worker import run_worker
        settings = app.config["WORKDESK"]
        supervisor = WorkerSupervisor([sys.executable, "-P", "-m", "workdesk.cli", "--instance", str(_instance(ctx)),
                                       "worker"], target=lambda read_fd: run_worker(settings, parent_fd=read_fd))
        child = supervisor.start()
    workers = (workers or os.cpu_count() or 1) if GUNICORN else 1
    threads = threads or (1 if GUNICORN else 4)  # one process alone needs threads to serve several clients
    click.echo(f"Workdesk on http://{host}:{port}/ ({workers} web process{'es' if workers > 1 else ''}, worker: "
               f"{'pid ' + str(child.pid) if child else 'none'})")
    try:
        serve(app, sock, workers=workers, threads=threads,
              on_fork=supervisor.forget_in_fork if supervisor else lambda: None)
    finally:
        # Web worker processes leave gunicorn through SystemExit too: only the master stops the worker.
        if supervisor is not None and os.getpid() == master:
            supervisor.stop()


@cli.command()
@click.pass_context
def demo(ctx):
    """Fill the database with a believable demo company (departments, people, a few hundred tasks)."""
    _runtime(ctx)
    from .demo import load_demo
    try:
        counts = load_demo()
    except WorkdeskError as exc:
        raise CLIError(exc.message) from None
    click.echo(f"Demo company loaded: {counts}. Everyone's password is 'workdesk-demo'.")


@cli.command()
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Archive to write (default: <instance>/backups/workdesk-backup-<UTC time>.tar.gz).")
@click.pass_context
def backup(ctx, output):
    """Back up the database, the instance's files (attachments) and its configuration into one archive,
    consistently, while Workdesk keeps running."""
    settings, _registry = _runtime(ctx)
    from .backup import BackupError, default_backup_path, make_backup
    from .db import utcnow
    now = utcnow()
    try:
        result = make_backup(settings, output or default_backup_path(settings, now), now)
    except BackupError as exc:
        raise CLIError(str(exc)) from None
    click.echo(f"Backup written to {result.path}: {result.tables} tables, {result.rows} rows, {result.files} files.")


@cli.command()
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def restore(ctx, archive):
    """Restore a backup made by `workdesk backup` into this instance, whose database must be empty, then
    check the restored data against the backup. Without a workdesk.toml the backup's own is used."""
    from .backup import BackupError, install_config, restore_backup
    try:
        install_config(archive, _instance(ctx))
        settings, _registry = _runtime(ctx, check_schema=False)
        result = restore_backup(settings, archive)
    except BackupError as exc:
        raise CLIError(str(exc)) from None
    if result.problems:
        raise CLIError("The backup was restored but does not check out:\n  - " + "\n  - ".join(result.problems)
                       + "\nRestore it again into an empty database, or restore an earlier backup.")
    click.echo(f"Restored {result.tables} tables, {result.rows} rows and {result.files} files; the data checks out. "
               "Run `workdesk db upgrade` if the backup comes from an older Workdesk.")


@cli.command()
@click.pass_context
def check(ctx):
    """Check the data's own consistency: the database's integrity and every task with its audit trail."""
    _runtime(ctx)
    from .backup import check_data
    problems = check_data()
    if problems:
        raise CLIError("The data does not check out:\n  - " + "\n  - ".join(problems))
    click.echo("The data checks out.")


def main() -> None:
    try:
        cli(obj={}, standalone_mode=True)
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
