"""The web server of ``workdesk run``: gunicorn where it runs (POSIX), one process per web worker forked from
a master that loaded the app first, so the processes share its memory; waitress in one process elsewhere.

The listening socket is bound here, before anything starts, so that both servers refuse a busy port or a
bad host the same way (``ListenError``), and before the background worker exists.
"""
from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import sys
from typing import Callable

log = logging.getLogger("workdesk.run")

GUNICORN = os.name == "posix"  # gunicorn needs fork() and fcntl: the one place the server is chosen


class ListenError(Exception):
    """The socket cannot be bound; the message says why and what to do."""


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host``:``port``, or ListenError naming what is wrong and the fix."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError):
        raise ListenError(f"--host {host!r} is not a host name or IP address this machine can resolve. Use e.g. "
                          "--host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface).") from None
    sock = socket.socket(family, kind, proto)
    try:
        if os.name == "posix":  # a restart may bind while old connections linger in TIME_WAIT
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ListenError(f"Port {port} on {host} is already in use: another process is listening there. Stop "
                              f"it, or choose a free port with --port (e.g. --port {port + 1 if port < 65535 else 8000})."
                              ) from None
        if exc.errno == errno.EACCES:
            raise ListenError(f"Not allowed to listen on port {port} of {host}: ports below 1024 need administrator "
                              "rights. Choose a port from 1024 up with --port, e.g. --port 5000.") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ListenError(f"Cannot listen on {host}: it is not an address of this machine. Use --host 127.0.0.1 "
                              "(this machine only), --host 0.0.0.0 (every interface) or one of its own addresses."
                              ) from None
        raise ListenError(f"Cannot listen on {host} port {port}: {exc.strerror or exc}. Choose another --host or "
                          "--port.") from None
    return sock


def serve(app, sock: socket.socket, workers: int, threads: int, on_fork: Callable[[], None]) -> None:
    """Serve ``app`` on ``sock`` until SIGTERM or Ctrl-C. ``on_fork`` runs in each new web worker process."""
    if GUNICORN:
        _serve_gunicorn(app, sock, workers, threads, on_fork)
    else:
        _serve_waitress(app, sock, threads)


def _web_worker_started(master: int, on_fork: Callable[[], None]) -> None:
    from .supervisor import die_with_parent
    # Gunicorn's workers notice a dead master only at their next poll; the kernel's signal stops them at once.
    die_now = die_with_parent(master)
    if die_now is not None:
        die_now()
    on_fork()


def _serve_waitress(app, sock: socket.socket, threads: int) -> None:
    from waitress import create_server
    server = create_server(app, sockets=[sock], threads=threads, ident="workdesk")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # unwinds through the caller's `finally`
    try:
        server.run()
    finally:
        server.close()


def _serve_gunicorn(app, sock: socket.socket, workers: int, threads: int, on_fork: Callable[[], None]) -> None:
    from gunicorn import sock as gunicorn_sock
    from gunicorn.app.base import BaseApplication
    from gunicorn.arbiter import Arbiter
    from gunicorn.errors import HaltServer

    host, port = sock.getsockname()[:2]
    master = os.getpid()
    options = {
        "bind": f"[{host}]:{port}" if sock.family == socket.AF_INET6 else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "preload_app": True,  # the app is loaded once, in the master; workers share its memory
        "graceful_timeout": 10,
        "proc_name": "workdesk",
        "control_socket_disable": True,  # a management socket in $HOME, shared by every server of the user
        "post_fork": lambda arbiter, worker: _web_worker_started(master, on_fork),
    }

    class WorkdeskApplication(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    class WorkdeskArbiter(Arbiter):
        def reap_workers(self) -> None:
            """Reap the web workers by pid. Gunicorn's own waitpid(-1) would also reap the background worker, a
            child of this process too, and its supervisor could then no longer tell how it died."""
            for pid, worker in list(self.WORKERS.items()):
                try:
                    reaped, status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    reaped, status = pid, 0
                if not reaped:
                    continue
                self.WORKERS.pop(pid)
                worker.tmp.close()
                self.cfg.child_exit(self, worker)
                code = os.waitstatus_to_exitcode(status)
                if code == self.WORKER_BOOT_ERROR:
                    raise HaltServer("Worker failed to boot.", self.WORKER_BOOT_ERROR)
                if code == self.APP_LOAD_ERROR:
                    raise HaltServer("App failed to load.", self.APP_LOAD_ERROR)
                if code:
                    from .supervisor import describe_exit
                    # SIGTERM is how gunicorn stops its workers; anything else is worth a look.
                    log.log(logging.INFO if code == -signal.SIGTERM else logging.WARNING, "the web worker (pid %s) %s",
                            pid, describe_exit(code))

    arbiter = WorkdeskArbiter(WorkdeskApplication())
    family = gunicorn_sock.TCP6Socket if sock.family == socket.AF_INET6 else gunicorn_sock.TCPSocket
    # Gunicorn binds only when it has no listeners: it gets the one bound above (it closes the duplicate fd).
    arbiter.LISTENERS = [family(options["bind"], arbiter.cfg, arbiter.log, fd=os.dup(sock.fileno()))]
    sock.close()
    from .worker import freeze_loaded_objects
    freeze_loaded_objects()  # before the web processes fork: they share the loaded app's pages
    arbiter.run()
