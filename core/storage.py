"""Where attachment bytes live: a small storage interface and its local backend.

The database keeps each attachment's row (name, sniffed type, size, checksum) and a storage key; the
bytes are kept by an :class:`AttachmentStorage`. The default, :class:`LocalStorage`, writes them under
``<instance>/attachments/`` as private files (mode 0600 in 0700 folders). Another backend (an
S3-compatible bucket) implements the same four methods and is installed with :func:`set_storage`.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import BinaryIO, Protocol

from .files import make_private_folder, write_private_bytes

log = logging.getLogger("workdesk.storage")

# Keys are made by the core (random hex, optionally with a suffix): nothing a user typed reaches a path.
KEY = re.compile(r"^[0-9a-f]{32}(?:\.[a-z]{1,10})?$")


class AttachmentStorage(Protocol):
    """What the attachment service needs of a storage backend."""

    def save(self, key: str, data: bytes) -> None:
        """Store ``data`` under the new ``key`` (never overwrites)."""

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the bytes under ``key``; FileNotFoundError when there are none."""

    def delete(self, key: str) -> None:
        """Remove ``key``'s bytes; a key already gone is not an error."""

    def exists(self, key: str) -> bool:
        """Whether bytes are stored under ``key``."""


class LocalStorage:
    """Files in a folder of this machine, two levels of subfolders by key prefix."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        for folder in (self.root, path.parent.parent, path.parent):
            make_private_folder(folder)
        write_private_bytes(path, data)

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


_storage: AttachmentStorage | None = None


def configure(instance_path: str | Path) -> None:
    """Use the local backend under the instance folder (called at start-up)."""
    global _storage
    _storage = LocalStorage(Path(instance_path) / "attachments")


def set_storage(storage: AttachmentStorage) -> None:
    """Install another backend (e.g. an S3-compatible bucket) for every attachment from now on."""
    global _storage
    _storage = storage


def get_storage() -> AttachmentStorage:
    if _storage is None:
        raise RuntimeError("attachment storage is not configured (workdesk.storage.configure)")
    return _storage


def delete_quietly(keys: list[str]) -> None:
    """Remove stored bytes whose rows are gone; a failure is logged, never raised (the rows decide)."""
    storage = get_storage()
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # a backend outage must not undo a committed deletion
            log.exception("could not delete stored attachment %s", key)


__all__ = ["AttachmentStorage", "LocalStorage", "configure", "set_storage", "get_storage", "delete_quietly"]
