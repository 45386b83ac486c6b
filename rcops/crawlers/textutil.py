"""Plain text from HTML fragments and page nodes, shared by spiders and pipelines."""

from __future__ import annotations

import html
import re
import unicodedata

import lxml.html
from lxml import etree

_TAG_RE = re.compile(r"<\s*/?\s*[a-zA-Z!][^<>]*>")
_ENTITY_RE = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")
_BLOCK_TAGS = {
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
    "section", "article", "blockquote", "pre", "table", "ul", "ol", "dd", "dt",
}  # fmt: skip
_SKIP_TAGS = {"script", "style", "noscript", "template"}
_INLINE_SPACE_RE = re.compile(r"[^\S\n]+")
_MANY_NEWLINES_RE = re.compile(r"\n{2,}")


def looks_like_html(value: str) -> bool:
    return bool(_TAG_RE.search(value) or _ENTITY_RE.search(value))


def html_to_text(fragment: str) -> str:
    """Text of an HTML fragment: tags removed, entities decoded, blocks on their own lines."""
    if not fragment:
        return ""
    if not looks_like_html(fragment):
        return fragment
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return html.unescape(_TAG_RE.sub(" ", fragment))
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _SKIP_TAGS:
            if node.tail:
                parts.append(node.tail)
            return
        if tag in _BLOCK_TAGS:
            parts.append("\n")
        if node.text and tag:
            parts.append(node.text)
        for child in node:
            walk(child)
        if tag in _BLOCK_TAGS:
            parts.append("\n")
        if node.tail:
            parts.append(node.tail)

    walk(root)
    return "".join(parts)


def clean_text(value: str, *, keep_newlines: bool = True) -> str:
    """Collapse whitespace, drop control and format characters; no NFKC (keeps full-width punctuation)."""
    if not value:
        return ""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if not text.replace("\n", "").replace("\t", "").isprintable():  # else nothing to drop or replace
        text = _drop_invisible(text)
    lines = [_INLINE_SPACE_RE.sub(" ", line).strip() for line in text.split("\n")]
    if not keep_newlines:
        return " ".join(line for line in lines if line)
    return _MANY_NEWLINES_RE.sub("\n", "\n".join(lines)).strip()


def _drop_invisible(value: str) -> str:
    """Control and format characters dropped (the zero-width joiner kept), other spaces made plain."""
    out = []
    for ch in value:
        if ch in "\n\t":
            out.append(ch)
            continue
        cat = unicodedata.category(ch)
        if cat == "Cc" or (cat == "Cf" and ch != "\u200d"):
            continue
        if cat == "Zs":  # no-break space, ideographic space …
            out.append(" ")
            continue
        out.append(ch)
    return "".join(out)


def clean_field(value: str, *, keep_newlines: bool = True) -> str:
    """A title, text or author as stored: HTML (when it looks like HTML) to text, then cleaned."""
    if looks_like_html(value):
        value = html_to_text(value)
    return clean_text(value, keep_newlines=keep_newlines)


#: a title made from the text (an item or hand-entered mention without one) is at most this long
DERIVED_TITLE_CHARS = 60


def derive_title(text: str) -> str:
    """A title for a text that has none: its first line, cut with "…" when long."""
    first = (text or "").split("\n", 1)[0]
    return first[:DERIVED_TITLE_CHARS] + ("…" if len(first) > DERIVED_TITLE_CHARS else "")


__all__ = ["html_to_text", "clean_text", "clean_field", "looks_like_html", "derive_title"]
