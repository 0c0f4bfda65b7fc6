"""``workdesk run``'s worker child: restarted with backoff when it dies, and never outliving the server.

The child dies with its parent in two ways. On Linux the kernel sends it SIGTERM when the parent dies
(``prctl(PR_SET_PDEATHSIG)``, set between fork and exec). Everywhere, the parent keeps the only write end
of a pipe whose read end the worker watches (``workdesk worker --parent-fd``): the worker stops when it
reads EOF, which happens however the parent died, SIGKILL included.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Callable

log = logging.getLogger("workdesk.run")

FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 60.0
STABLE_SECONDS = 60.0  # a worker that stayed up this long starts the backoff afresh
PR_SET_PDEATHSIG = 1


def restart_delay(previous: float | None, uptime: float) -> float:
    """Seconds to wait before restarting a worker that ran ``uptime`` seconds: 1 s, doubling up to 60 s while
    it keeps dying young, 1 s again once it stayed up for a minute."""
    if previous is None or uptime >= STABLE_SECONDS:
        return FIRST_DELAY_SECONDS
    return min(previous * 2, MAX_DELAY_SECONDS)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


def die_with_parent(parent_pid: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when its parent dies (None elsewhere: the pipe
    alone covers it). The kernel ties the signal to the forking thread, so the supervisor thread, which
    lives as long as it supervises, is the one that forks."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork: the child only calls it

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before the request took effect
            os._exit(1)
    return preexec


class WorkerSupervisor:
    """Runs ``command`` (a ``workdesk worker`` command line) as one child at a time and restarts it when it
    dies, until :meth:`stop`. A new child starts only after the previous one was reaped, so two never run."""

    def __init__(self, command: list[str]):
        self.command = command
        self.child: subprocess.Popen | None = None
        # Non-inheritable by default (PEP 446): the child receives only the read end, through pass_fds.
        self._read_fd, self._write_fd = os.pipe()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._first_started = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="worker-supervisor", daemon=True)

    def start(self) -> subprocess.Popen | None:
        """Start supervising; returns the first child once it is started (None if it could not start)."""
        self._thread.start()
        self._first_started.wait(timeout=30)
        return self.child

    def _spawn(self) -> subprocess.Popen | None:
        with self._lock:
            if self._stopping.is_set():
                return None
            try:
                # Its own process group: a Ctrl-C in the terminal reaches the server, which stops the worker.
                self.child = subprocess.Popen([*self.command, "--parent-fd", str(self._read_fd)],
                                              pass_fds=(self._read_fd,), preexec_fn=die_with_parent(os.getpid()),
                                              process_group=0)
            except OSError:
                log.exception("could not start the worker")
                self.child = None
            return self.child

    def _supervise(self) -> None:
        delay = None
        while True:
            child = self._spawn()
            self._first_started.set()
            if self._stopping.is_set():
                return
            started = time.monotonic()
            if child is not None:
                log.info("worker started (pid %s)", child.pid)
                outcome = describe_exit(child.wait())
            else:
                outcome = "could not start"
            if self._stopping.is_set():
                return
            delay = restart_delay(delay, time.monotonic() - started)
            log.warning("the worker%s %s; restarting it in %g s", f" (pid {child.pid})" if child else "", outcome,
                        delay)
            if self._stopping.wait(delay):
                return

    def forget_in_fork(self) -> None:
        """In a process forked from the parent (a web worker): close the pipe, so that only the parent holds its
        write end and the worker still sees EOF as soon as the parent dies."""
        os.close(self._write_fd)
        os.close(self._read_fd)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop supervising and the current child (SIGTERM, then SIGKILL after ``timeout`` seconds)."""
        with self._lock:
            self._stopping.set()
            child = self.child
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self._thread.join(timeout=5)
        os.close(self._write_fd)
        os.close(self._read_fd)


def stop_when_parent_exits(fd: int, grace_seconds: float = 10.0) -> threading.Thread:
    """In the worker: SIGTERM this process once the pipe ``fd`` from the parent reaches EOF (the parent is
    gone), and exit outright if it has not stopped ``grace_seconds`` later."""
    def watch() -> None:
        while os.read(fd, 1):  # the parent never writes; b"" is EOF
            pass
        log.warning("the parent process is gone: the worker stops")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace_seconds)
        os._exit(1)
    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread
