"""Files Workdesk creates in the instance folder are private to the account it runs as.

The configuration holds the secret key, the databases hold password hashes and every task: none of
them may be readable by other local users, whatever the umask. Each is created here with mode 0600
from the start (never created first and narrowed afterwards), and SQLite gives a database's ``-wal``
and ``-shm`` files the mode of the database file itself.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700


def create_private_file(path: Path | str) -> bool:
    """Create ``path`` empty with mode 0600 unless it exists; return whether it was created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)  # the umask may have taken bits away, never added: state it exactly
    finally:
        os.close(fd)
    return True


def write_private_file(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path``, which is (or becomes) readable and writable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def write_private_bytes(path: Path | str, data: bytes) -> None:
    """Create ``path`` (which must not exist yet) with mode 0600 and write ``data`` to it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def make_private_folder(path: Path) -> None:
    """Create ``path`` (and missing parents) with mode 0700 when it does not exist; an existing folder
    is left as its owner set it."""
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(PRIVATE_FOLDER_MODE)


def sqlite_file(url: str, strip_leading_slash: bool = True) -> Path | None:
    """The file a ``sqlite://`` URL names, or None for an in-memory database (or another scheme).

    :param strip_leading_slash: peewee reads ``sqlite:///x.db`` as the relative path ``x.db`` (and
        ``sqlite:////abs/x.db`` as ``/abs/x.db``); Huey's storage is handed the URL's path as is.
    """
    parsed = urlparse(url)
    if parsed.scheme != "sqlite":
        return None
    path = parsed.path[1:] if strip_leading_slash else parsed.path
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path)


def prepare_sqlite_file(url: str, strip_leading_slash: bool = True) -> None:
    """Create a new SQLite database file privately before SQLite opens it (SQLite would create it 0644
    under the usual umask, and its ``-wal``/``-shm`` files take the database file's mode)."""
    path = sqlite_file(url, strip_leading_slash)
    if path is not None and path.parent.is_dir():
        create_private_file(path)


__all__ = ["PRIVATE_FILE_MODE", "create_private_file", "write_private_file", "write_private_bytes", "make_private_folder",
           "sqlite_file", "prepare_sqlite_file"]
