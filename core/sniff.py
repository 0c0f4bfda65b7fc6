"""What a file is, read from its bytes: the uploader's extension and declared type are never trusted.

The signatures follow the WHATWG MIME Sniffing standard (images, audio and video, archives, PDF,
PostScript, and the HTML and XML openings of "text/html" and "text/xml"), plus SVG, the Office formats
(ZIP files with their known first entries) and plain text (valid UTF-8 without control bytes).
Anything else is ``application/octet-stream``.
"""
from __future__ import annotations

import io
import re
import zipfile

OCTET_STREAM = "application/octet-stream"

# (prefix, mask or None, type): the byte patterns of the standard's image, media and archive tables.
_SIGNATURES: tuple[tuple[bytes, bytes | None, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", None, "image/png"),
    (b"\xff\xd8\xff", None, "image/jpeg"),
    (b"GIF87a", None, "image/gif"),
    (b"GIF89a", None, "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP", b"\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff", "image/webp"),
    (b"BM", None, "image/bmp"),
    (b"\x00\x00\x01\x00", None, "image/x-icon"),
    (b"%PDF-", None, "application/pdf"),
    (b"%!PS-Adobe-", None, "application/postscript"),
    (b"\x1f\x8b\x08", None, "application/gzip"),
    (b"Rar!\x1a\x07", None, "application/x-rar-compressed"),
    (b"7z\xbc\xaf\x27\x1c", None, "application/x-7z-compressed"),
    (b"OggS\x00", None, "application/ogg"),
    (b"ID3", None, "audio/mpeg"),
    (b"RIFF\x00\x00\x00\x00WAVE", b"\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff", "audio/wave"),
    (b"\x1a\x45\xdf\xa3", None, "video/webm"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", None, "application/x-ole-storage"),  # old .doc/.xls/.msg
)
# The standard's "tag-terminated" HTML openings, after leading whitespace, case-insensitive.
_HTML = re.compile(rb"^[\t\n\x0c\r ]*<(?:!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|"
                   rb"body|br|p|!--)[ >]", re.IGNORECASE)
_XML = re.compile(rb"^[\t\n\x0c\r ]*<\?xml", re.IGNORECASE)
_SVG = re.compile(rb"<svg[\s>/]", re.IGNORECASE)
_OFFICE = {"word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}
_ODF = re.compile(rb"^PK\x03\x04.{26}mimetypeapplication/vnd\.oasis\.opendocument\.([a-z]+)", re.DOTALL)
# Bytes that never occur in text (the standard's "binary data bytes").
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")

# Types a browser would run or render as a document: never served inline, never with their own type.
ACTIVE_TYPES = frozenset({"text/html", "image/svg+xml", "text/xml", "application/xml", "application/xhtml+xml",
                          "application/postscript"})
# Pictures Pillow can make a thumbnail of and a browser shows as an image (never runs).
RASTER_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})

SNIFF_BYTES = 4096


def _matches(data: bytes, prefix: bytes, mask: bytes | None) -> bool:
    if len(data) < len(prefix):
        return False
    if mask is None:
        return data.startswith(prefix)
    return all((data[i] & mask[i]) == (prefix[i] & mask[i]) for i in range(len(prefix)))


def _zip_type(data: bytes) -> str:
    odf = _ODF.match(data[:200])
    if odf:
        return f"application/vnd.oasis.opendocument.{odf.group(1).decode()}"
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return "application/zip"
    for prefix, kind in _OFFICE.items():
        if any(name.startswith(prefix) for name in names):
            return kind
    return "application/zip"


def sniff(data: bytes) -> str:
    """The content type of ``data`` as its bytes show it."""
    head = data[:SNIFF_BYTES]
    for prefix, mask, kind in _SIGNATURES:
        if _matches(head, prefix, mask):
            return kind
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(data)
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith((b"\xef\xbb\xbf", b"\xfe\xff", b"\xff\xfe")):
        head = head[3:] if head.startswith(b"\xef\xbb\xbf") else head  # a UTF-8 byte order mark
    if _HTML.match(head):
        return "text/html"
    if _SVG.search(head) and (_XML.match(head) or head.lstrip()[:1] == b"<"):
        return "image/svg+xml"
    if _XML.match(head):
        return "text/xml"
    if not _BINARY.search(head):
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut at the sniffing window's end
                return OCTET_STREAM
        return "text/plain"
    return OCTET_STREAM


__all__ = ["sniff", "OCTET_STREAM", "ACTIVE_TYPES", "RASTER_IMAGES"]
