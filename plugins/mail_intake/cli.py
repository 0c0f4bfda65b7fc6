"""``workdesk mail_intake serve``: the inbound SMTP/LMTP listener, in the foreground until stopped."""
from __future__ import annotations

import signal
import threading

import click


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: the listen_host setting, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port to listen on (default: the listen_port setting, 2525).")
@click.option("--lmtp/--smtp", default=None, help="Speak LMTP or SMTP (default: the listen_lmtp setting).")
def serve_command(host: str | None, port: int | None, lmtp: bool | None) -> None:
    """Take mail in over SMTP (or LMTP) for the mailboxes whose source is "listener"; runs until
    interrupted (Ctrl-C or SIGTERM)."""
    from . import listener, services
    current = services.settings()
    host = host or current["listen_host"]
    port = port or current["listen_port"]
    lmtp = current["listen_lmtp"] if lmtp is None else lmtp
    if not any(m["source"] == "listener" and m["enabled"] for m in current["mailboxes"]):
        click.echo("No enabled mailbox has the source \"listener\": every recipient will be refused "
                   "until one is configured.", err=True)
    try:
        controller = listener.start(None, host, port, lmtp=lmtp)  # the runtime the command line set up
    except OSError as exc:
        error = click.ClickException(f"cannot listen on {host}:{port}: {exc}")
        error.exit_code = 2
        raise error from None
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"Listening for {'LMTP' if lmtp else 'SMTP'} on {host}:{port}", err=True)
    try:
        while not stop.wait(1.0):  # woken each second, so that the signal handler runs promptly
            pass
    finally:
        controller.stop()
        controller.handler.executor.shutdown(wait=True)
    click.echo("Stopped", err=True)


@click.command("watch")
@click.option("--poll-seconds", type=click.FloatRange(1, 3600), default=60.0, show_default=True,
              help="How long to wait between reads of a mailbox whose server does not offer IDLE (and after an error).")
@click.option("--idle-seconds", type=click.FloatRange(5, 1740), default=600.0, show_default=True,
              help="How long one IDLE lasts before it is renewed (servers end it after 30 minutes).")
def watch_command(poll_seconds: float, idle_seconds: float) -> None:
    """Read every enabled IMAP mailbox continuously: new mail is taken in as soon as the server reports
    it (IMAP IDLE), or every --poll-seconds where it cannot; runs until interrupted (Ctrl-C or SIGTERM)."""
    from . import watch
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    threads = watch.start(None, stop, poll_seconds=poll_seconds,
                          idle_seconds=idle_seconds)
    if not threads:
        error = click.ClickException("No enabled mailbox reads from IMAP: nothing to watch.")
        error.exit_code = 2
        raise error
    click.echo(f"Watching {len(threads)} mailbox(es)", err=True)
    while not stop.wait(1.0):
        if not any(thread.is_alive() for thread in threads):
            break
    stop.set()
    for thread in threads:
        thread.join(timeout=idle_seconds + 30)
    click.echo("Stopped", err=True)


COMMANDS = [serve_command, watch_command]
