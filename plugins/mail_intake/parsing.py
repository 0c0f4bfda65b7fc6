"""Reading one received message with the standard library's ``email`` package (``policy.default``):
who sent it, what it answers, whether a machine wrote it, its text (HTML turned into Markdown) and its
files."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from html.parser import HTMLParser

from workdesk import sanitise_html

# Message-IDs of the email plugin's notifications: <delivery-ROW.NOTIFICATION@domain>.
WORKDESK_MESSAGE_ID = re.compile(r"<delivery-(\d{1,18})\.(\d{1,18})@[^>]+>")
# The mail_intake plugin's own messages to external requesters: <mail-intake-ROW@domain>.
OWN_MESSAGE_ID = re.compile(r"<mail-intake-(\d{1,18})@[^>]+>")
# The stable thread root of a task that the email plugin's messages answer: <workdesk-task-ID@domain>.
WORKDESK_TASK_ROOT = re.compile(r"<workdesk-task-(\d{1,18})@[^>]+>")
TASK_TAG = re.compile(r"\[#(\d{1,9})\]")
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")


@dataclass
class ParsedMessage:
    message_id: str
    sender: str
    subject: str
    body: str
    references: list[str]
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    automatic: str = ""  # why a machine wrote it (no task, no acknowledgement), or ""
    bounce: bool = False
    raw: bytes = b""
    recipients: list[str] = field(default_factory=list)  # To, Cc and the delivery headers' addresses
    bounced_ids: list[str] = field(default_factory=list)  # a bounce: the Message-IDs of what bounced
    bounce_status: str = ""  # a bounce: its Status and Diagnostic-Code


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` without what databases cannot store: NUL, and the lone surrogates that undecodable
    bytes in a header or body become (surrogateescape) — each replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
        return storable(" ".join(str(value).split())) if value is not None else ""
    except (ValueError, TypeError, IndexError):  # a malformed header: treat it as absent
        return ""


def _sender(message: EmailMessage) -> str:
    addresses = [address for _, address in getaddresses([_header(message, "From")]) if "@" in address]
    return addresses[0].strip().lower()[:254] if addresses else ""


RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


def _recipients(message: EmailMessage) -> list[str]:
    """Every address the message was sent to, as far as its headers say (where a reply token may be)."""
    values = []
    for name in RECIPIENT_HEADERS:
        try:
            values += [storable(str(value)) for value in message.get_all(name) or ()]
        except (ValueError, TypeError, IndexError):
            continue
    return [address.strip().lower()[:254] for _, address in getaddresses(values) if "@" in address][:50]


def automatic_reason(message: EmailMessage, own_addresses: set[str]) -> str:
    """Why ``message`` must not become a task (a machine wrote it, or it is our own), or ""."""
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"[:300]
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if _header(message, name):
            return f"{name} present"
    if _sender(message) in own_addresses:
        return "sent from this mailbox's own address"
    own_id = _header(message, "Message-ID")
    if WORKDESK_MESSAGE_ID.fullmatch(own_id) or OWN_MESSAGE_ID.fullmatch(own_id):
        return "one of Workdesk's own messages"
    return ""


def is_bounce(message: EmailMessage) -> bool:
    """A delivery status notification (RFC 3464), or a classic mailer-daemon bounce."""
    if message.get_content_type() == "multipart/report" and \
            message.get_param("report-type", "").lower() == "delivery-status":
        return True
    sender = _sender(message)
    return sender.startswith(("mailer-daemon@", "postmaster@")) or not _header(message, "Return-Path").strip("<> ") \
        and "Return-Path" in message


class _MarkdownWriter(HTMLParser):
    """Sanitised HTML to the Markdown the app renders: paragraphs, line breaks, lists, links, emphasis."""
    BLOCKS = {"p", "div", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "pre"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.links: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.out.append("\n\n")
        elif tag == "br":
            self.out.append("  \n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append(href if href.startswith(("http://", "https://", "mailto:")) else None)
            self.out.append("[" if self.links[-1] else "")

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.out.append("\n\n")
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")
        elif tag == "a" and self.links:
            href = self.links.pop()
            self.out.append(f"]({href})" if href else "")

    def handle_data(self, data):
        self.out.append(re.sub(r"\s+", " ", data))

    def markdown(self) -> str:
        text = "".join(self.out)
        lines = [line.strip() if not line.endswith("  ") else line.lstrip() for line in text.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# Mail clients write <b>, <i> and <div> where the app's allow-list has <strong>, <em> and <p>: renamed
# before sanitising so that their meaning survives (the sanitiser, not this, is what makes it safe).
_SYNONYMS = re.compile(r"<(/?)(b|i|div)(?=[\s/>])", re.IGNORECASE)
_SYNONYM_OF = {"b": "strong", "i": "em", "div": "p"}


def html_to_markdown(html: str) -> str:
    """``html`` cleaned by the core's sanitiser (nh3, the app's allow-list), then written as Markdown."""
    writer = _MarkdownWriter()
    renamed = _SYNONYMS.sub(lambda m: f"<{m.group(1)}{_SYNONYM_OF[m.group(2).lower()]}", html)
    writer.feed(sanitise_html(renamed))
    writer.close()
    return writer.markdown()


_QUOTE_HEADER = re.compile(r"^(On .{1,200} wrote:|Am .{1,200} schrieb .{1,100}:|Le .{1,200} a écrit ?:|"
                           r"-----\s*Original Message\s*-----)\s*$", re.IGNORECASE)


def trim_reply(text: str) -> str:
    """The new part of a reply: quoted lines (``>``), the "On … wrote:" line above them and a signature
    after the standard ``-- `` separator are dropped; the text is kept whole if nothing would remain."""
    kept: list[str] = []
    for line in text.splitlines():
        if line in ("-- ", "--") or _QUOTE_HEADER.match(line.strip()):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    trimmed = "\n".join(kept).strip()
    return trimmed or text.strip()


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # an unknown charset: decode what can be decoded
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if not isinstance(content, str):
        return ""
    content = storable(content)
    if part.get_content_type() == "text/html":
        return html_to_markdown(content)
    return content.replace("\r\n", "\n").strip()


def _attachments(message: EmailMessage) -> list[tuple[str, bytes]]:
    files = []
    for part in message.iter_attachments():
        if part.is_multipart():
            continue
        try:
            data = part.get_payload(decode=True) or b""
        except (ValueError, TypeError):
            continue
        if data:
            files.append((storable(part.get_filename() or "attachment"), data))
    return files


def bounce_details(message: EmailMessage) -> tuple[list[str], str]:
    """What a bounce says: the Message-IDs of the returned message (its ``message/rfc822`` or
    ``text/rfc822-headers`` part, RFC 3464) and of In-Reply-To/References, and the status of each
    failed recipient (``Status`` and ``Diagnostic-Code`` of the ``message/delivery-status`` part)."""
    ids: list[str] = []
    statuses: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        try:
            if kind == "message/delivery-status":
                for block in part.get_payload() or ():
                    status = " ".join(str(block.get("Status") or "").split())
                    diagnostic = " ".join(str(block.get("Diagnostic-Code") or "").split())
                    if status or diagnostic:
                        statuses.append(" ".join(filter(None, (status, diagnostic))))
            elif kind == "message/rfc822":
                for returned in part.get_payload() or ():
                    ids += MESSAGE_ID.findall(str(returned.get("Message-ID") or ""))
            elif kind == "text/rfc822-headers":
                returned = message_from_bytes((part.get_payload(decode=True) or b""), policy=policy.default)
                ids += MESSAGE_ID.findall(_header(returned, "Message-ID"))
        except (ValueError, TypeError, IndexError, AttributeError):  # a malformed report: use what was read
            continue
    ids += MESSAGE_ID.findall(_header(message, "In-Reply-To") + " " + _header(message, "References"))
    return list(dict.fromkeys(storable(i) for i in ids))[:20], storable("; ".join(statuses))[:250]


def parse(raw: bytes, own_addresses: set[str], fallback_id: str) -> ParsedMessage:
    """Read ``raw``; ``fallback_id`` stands in for a missing or malformed Message-ID."""
    message = message_from_bytes(raw, policy=policy.default)
    found = MESSAGE_ID.search(_header(message, "Message-ID"))
    references = MESSAGE_ID.findall(_header(message, "In-Reply-To") + " " + _header(message, "References"))
    bounce = is_bounce(message)
    bounced_ids, bounce_status = bounce_details(message) if bounce else ([], "")
    automatic = "delivery status notification (bounce)" if bounce else automatic_reason(message, own_addresses)
    return ParsedMessage(
        message_id=found.group(0) if found else fallback_id, sender=_sender(message),
        subject=_header(message, "Subject")[:300], body=_body(message), references=references,
        attachments=_attachments(message), automatic=automatic, bounce=bounce, raw=raw,
        recipients=_recipients(message), bounced_ids=bounced_ids, bounce_status=bounce_status)
