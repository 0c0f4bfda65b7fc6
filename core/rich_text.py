"""Markdown for descriptions and comments: the one renderer the pages, the core and plugins share.

Text is parsed by markdown-it-py (CommonMark, raw HTML off, bare URLs linked by linkify-it-py), then the
HTML it produced goes through nh3 (the Ammonia sanitiser) with a short allow-list of tags, attributes
and URL schemes. Neither step is a hand-written escaping rule: markdown-it escapes the text it does not
parse as Markdown, and nh3 removes whatever a parser bug might still let through (``<script>``, event
handlers, ``javascript:`` and ``data:`` URLs, ``style``). Links get ``rel="noopener nofollow"``.

``@mentions`` of people who exist (``@email`` or ``@Full Name``, as the notifications read them) are
wrapped in ``<span class="mention">`` while parsing, so a mention inside a code span or a link stays
as written.
"""
from __future__ import annotations

import re
from typing import Iterable

import nh3
from markupsafe import Markup
from markdown_it import MarkdownIt
from markdown_it.token import Token

# Tags a description or comment may contain after rendering; anything else is dropped (its text kept).
ALLOWED_TAGS = {"p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a",
                "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
MENTION_CLASS = "mention"

_cleaner = nh3.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                       link_rel="noopener nofollow", allowed_classes={"span": {MENTION_CLASS}},
                       clean_content_tags={"script", "style"}, strip_comments=True)


def _parser() -> MarkdownIt:
    # Images are off: a picture from elsewhere would be fetched by every reader's browser (and the
    # Content-Security-Policy refuses it anyway); ``![x](url)`` reads as a link instead.
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable(["linkify", "table", "strikethrough"]).disable("image")
    md.core.ruler.push("workdesk_mentions", _mark_mentions)
    return md


def _mention_pattern(names: Iterable[str]) -> re.Pattern | None:
    """``@name`` for each of ``names`` (longest first, case-insensitive), at the start or after a space or
    opening punctuation, not followed by a letter or digit (``@Ann`` is not inside ``@Anna``)."""
    names = sorted({n for n in names if n}, key=len, reverse=True)
    if not names:
        return None
    return re.compile(r"(?:^|(?<=[\s(\[{,;:]))@(?:" + "|".join(map(re.escape, names)) + r")(?![\w@.-]*\w)",
                      re.IGNORECASE)


def _mark_mentions(state) -> None:
    pattern = state.env.get("mention_pattern")
    if pattern is None:
        return
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children, in_link = [], 0
        for token in block.children:
            if token.type == "link_open":
                in_link += 1
            elif token.type == "link_close":
                in_link -= 1
            if token.type != "text" or in_link or not pattern.search(token.content):
                children.append(token)
                continue
            position = 0
            for match in pattern.finditer(token.content):
                if match.start() > position:
                    children.append(_text(token.content[position:match.start()]))
                opening = Token("mention_open", "span", 1)
                opening.attrSet("class", MENTION_CLASS)
                children.extend([opening, _text(match.group(0)), Token("mention_close", "span", -1)])
                position = match.end()
            if position < len(token.content):
                children.append(_text(token.content[position:]))
        block.children = children


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


_md = _parser()


def sanitise_html(html: str) -> Markup:
    """``html`` with only the allowed tags, attributes and URL schemes left (nh3)."""
    return Markup(_cleaner.clean(html))


def render_markdown(text: str | None, mentions: Iterable[str] | None = None) -> Markup:
    """``text`` (Markdown) as safe HTML for a page or an email.

    :param mentions: the names and email addresses whose ``@`` mentions to highlight; by default the
        people ``text`` mentions are looked up (``@email`` or ``@Full Name`` of an active account).
    """
    text = text or ""
    if not text.strip():
        return Markup("")
    if mentions is None:
        mentions = _mentioned_names(text) if "@" in text else ()
    env = {"mention_pattern": _mention_pattern(mentions)}
    return sanitise_html(_md.render(text, env))


def _mentioned_names(text: str) -> list[str]:
    from .notifications.events import mentioned_users
    return [value for user in mentioned_users(text) for value in (user.email, user.name)]


__all__ = ["render_markdown", "sanitise_html", "ALLOWED_TAGS", "URL_SCHEMES"]
