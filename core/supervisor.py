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
PR_SET_NAME = 15
WORKER_PROCESS_NAME = b"workdesk-worker"  # what ps, top and /proc/<pid>/comm show for a forked worker (15 bytes at most)


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


class ForkedChild:
    """The part of :class:`subprocess.Popen` the supervisor uses, for a child made by ``os.fork``.

    As in Popen, one thread at a time reaps it: the supervisor thread blocks in :meth:`wait` while another
    thread's :meth:`poll` answers None, so the status is never taken by one call and lost to the other.
    """

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        self._reaping = threading.Lock()

    def poll(self) -> int | None:
        if self.returncode is None and self._reaping.acquire(blocking=False):
            try:
                if self.returncode is None:
                    pid, status = os.waitpid(self.pid, os.WNOHANG)
                    if pid:
                        self.returncode = os.waitstatus_to_exitcode(status)
            finally:
                self._reaping.release()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            with self._reaping:
                if self.returncode is None:
                    self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
            return self.returncode
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout)
            time.sleep(0.05)
        return self.returncode

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, number: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, number)
            except ProcessLookupError:
                pass


# What gunicorn's arbiter (the master's main thread) handles: a forked worker starts with the defaults.
_MASTER_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGCHLD", "SIGUSR1", "SIGUSR2", "SIGTTIN", "SIGTTOU",
                   "SIGWINCH")


class WorkerSupervisor:
    """Runs the background worker as one child at a time and restarts it when it dies, until :meth:`stop`.
    A new child starts only after the previous one was reaped, so two never run.

    The child is ``target(read_fd)`` in a fork of this process where ``os.fork`` exists: the worker then
    shares the loaded application's memory with the master and the web processes instead of loading its own
    copy (about 60 MB less in all). Elsewhere it is ``command`` (a ``workdesk worker`` command line) with
    ``--parent-fd``. Either way the child stops when the pipe's read end reaches EOF.
    """

    def __init__(self, command: list[str], target: Callable[[int], None] | None = None):
        self.command = command
        self.target = target if hasattr(os, "fork") else None
        self.child: subprocess.Popen | ForkedChild | None = None
        # Non-inheritable by default (PEP 446): the child receives only the read end, through pass_fds.
        self._read_fd, self._write_fd = os.pipe()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._first_started = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="worker-supervisor", daemon=True)

    def start(self) -> subprocess.Popen | ForkedChild | None:
        """Start supervising; returns the first child once it is started (None if it could not start)."""
        self._thread.start()
        self._first_started.wait(timeout=30)
        return self.child

    def _spawn(self) -> subprocess.Popen | ForkedChild | None:
        with self._lock:
            if self._stopping.is_set():
                return None
            try:
                if self.target is not None:
                    self.child = self._fork()
                else:
                    # Its own process group: a Ctrl-C in the terminal reaches the server, which stops the worker.
                    self.child = subprocess.Popen([*self.command, "--parent-fd", str(self._read_fd)],
                                                  pass_fds=(self._read_fd,), preexec_fn=die_with_parent(os.getpid()),
                                                  process_group=0)
            except OSError:
                log.exception("could not start the worker")
                self.child = None
            return self.child

    def _fork(self) -> ForkedChild:
        parent = os.getpid()
        die_now = die_with_parent(parent)
        pid = os.fork()
        if pid:
            return ForkedChild(pid)
        code = 1
        try:  # the child: never returns into the master's code
            if die_now is not None:
                die_now()
            os.setpgid(0, 0)  # its own process group, as the command's child has
            if sys.platform.startswith("linux"):  # its command line is the master's: the name tells them apart
                ctypes.CDLL(None).prctl(PR_SET_NAME, ctypes.c_char_p(WORKER_PROCESS_NAME), 0, 0, 0)
            for name in _MASTER_SIGNALS:
                if hasattr(signal, name):
                    signal.signal(getattr(signal, name), signal.SIG_DFL)
            os.close(self._write_fd)  # only the master holds it: EOF on the read end means the master is gone
            self.target(self._read_fd)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            log.exception("the worker failed")
        finally:
            logging.shutdown()
            os._exit(code)

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
