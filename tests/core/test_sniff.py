"""What an upload is comes from its bytes (workdesk.sniff), never from its name."""
from __future__ import annotations

import io
import zipfile

import pytest

from workdesk.services.attachments import clean_filename
from workdesk.sniff import sniff


def zipped(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    return out.getvalue()


@pytest.mark.parametrize("data, expected", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    (b"GIF89a\x01\x00", "image/gif"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"%PDF-1.7\n", "application/pdf"),
    (b"  \n<!DOCTYPE html><p>hi", "text/html"),
    (b"<HTML><body>", "text/html"),
    (b"\xef\xbb\xbf<script>alert(1)</script>", "text/html"),
    (b"<!-- x --><p>", "text/html"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="x">', "image/svg+xml"),
    (b'<?xml version="1.0"?><note/>', "text/xml"),
    (zipped("word/document.xml", "[Content_Types].xml"),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (zipped("xl/workbook.xml"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (zipped("readme.txt"), "application/zip"),
    (b"plain words, \xc3\xa9t\xc3\xa9 \xe2\x82\xac\n", "text/plain"),
    (b"name,amount\nAna,3\n", "text/plain"),
    (b"\x00\x01\x02\x03binary", "application/octet-stream"),
    (b"\xff\xfe\xfd not utf-8 at all \xff\xfe", "application/octet-stream"),
])
def test_sniffed_types(data, expected):
    assert sniff(data) == expected


@pytest.mark.parametrize("raw, clean", [
    ("C:\\Users\\ana\\report.pdf", "report.pdf"),
    ("../../etc/passwd", "passwd"),
    ("a\x00b\x1f.txt", "ab.txt"),
    ("", "file"),
    ("..", "file"),
    ("x" * 300 + ".tar.gz", "x" * 252 + ".gz"),
])
def test_file_names_are_cleaned(raw, clean):
    assert clean_filename(raw) == clean
