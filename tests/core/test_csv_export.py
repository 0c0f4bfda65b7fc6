"""The one CSV writer (workdesk.csv_export): every cell turned into text, then formula-escaped."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from workdesk import csv_export
from workdesk.csv_export import csv_cell


class Related:
    """Stands for a related object (a user, a department) whose text is what a spreadsheet sees."""

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text


@pytest.mark.parametrize("value, escaped", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("\nx", "'\nx"), ("  =1", "'  =1"), ("a=1", "a=1"), ("", ""), ("plain", "plain"),
    (Related('=HYPERLINK("http://x","y")'), '\'=HYPERLINK("http://x","y")'), (Related("@SUM(A1)"), "'@SUM(A1)"),
    (Related("Support"), "Support"), ("'=already", "'=already"),
])
def test_every_text_cell_is_escaped(value, escaped):
    assert csv_cell(value) == escaped


def test_values_that_are_not_text():
    assert csv_cell(None) == "" and csv_cell(True) == "true" and csv_cell(False) == "false"
    assert csv_cell(-5) == "-5" and csv_cell(-1.5) == "-1.5" and csv_cell(Decimal("-2.50")) == "-2.50"
    sofia = dt.timezone(dt.timedelta(hours=2))
    assert csv_cell(dt.datetime(2026, 3, 1, 12, 0, tzinfo=sofia)) == "2026-03-01T10:00:00+00:00"
    assert csv_cell(dt.date(2026, 3, 1)) == "2026-03-01"


def test_the_file_has_a_bom_a_header_and_escaped_rows():
    text = "".join(csv_export.csv_lines(["Name", "=Total"], [[Related("=cmd|' /C calc'!A0"), 3], ["a,\"b\"", None]]))
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text[1:]))) == [["Name", "'=Total"], ["'=cmd|' /C calc'!A0", "3"],
                                                       ['a,"b"', ""]]
