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
    from flask import current_app

    from . import listener, services
    current = services.settings()
    host = host or current["listen_host"]
    port = port or current["listen_port"]
    lmtp = current["listen_lmtp"] if lmtp is None else lmtp
    if not any(m["source"] == "listener" and m["enabled"] for m in current["mailboxes"]):
        click.echo("No enabled mailbox has the source \"listener\": every recipient will be refused "
                   "until one is configured.", err=True)
    try:
        controller = listener.start(current_app._get_current_object(), host, port, lmtp=lmtp)
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


COMMANDS = [serve_command]
