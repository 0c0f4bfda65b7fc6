"""The CSV connector: no remote system; customers come and go as files (1C exports, spreadsheets).

Import and export live in :mod:`..csvio`; this class only names the connector, so CSV customers are
linked by the file's ``external_id`` like any CRM record.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask_babel import lazy_gettext as _l

from . import Connector, Page


class CsvConnector(Connector):
    """CSV files"""
    name = "csv"
    label = _l("CSV import/export")
    can_push = False

    def pull(self, resource: str, cursor: str | None) -> Page:
        return Page([], cursor, False, 0)  # nothing to pull: files are imported by a person

    def __init__(self, settings: Mapping[str, Any]):
        super().__init__(settings)
