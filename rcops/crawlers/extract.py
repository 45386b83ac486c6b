"""Automatic article extraction (title, publish time, author, body) for detail pages of
sources that configure no detail selectors, by trafilatura plus a thin layer of ours:

* **title** — the longest ``<h1>``/``<h2>`` that the page's ``<title>`` contains (what
  sites put in both is the headline; ``<title>`` alone carries "- 网易新闻" and the like),
  else trafilatura's title, else ``<title>`` cut at its last separator;
* **publish time** — trafilatura's (htmldate, without its slow dateparser search) with
  hours and minutes; when it only knows the day, the first time of that day written in
  the page (``2019-09-09 21:38``, ``2019年09月07日 08:05``) refines it; when it knows
  nothing, the first date and time written in the page;
* **body** — trafilatura's main text (comments excluded), paragraphs as lines.

The extraction benchmark (``bench/extraction_bench.py``) compares it with GNE's output.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import html as lxml_html

from .textutil import clean_text
from .timeparse import SHANGHAI, parse_published

logger = logging.getLogger(__name__)

_TITLE_SEPARATORS = re.compile(r"\s*(?:[_|｜]|--?|—+|–)\s*")
_DATETIME_IN_TEXT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?"
)
#: htmldate's answer with hours; "00:00:00" means it only knew the day
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass
class Article:
    title: str
    text: str
    author: str
    published_at: datetime | None
    published_raw: str


def _headings(tree: Any) -> list[str]:
    found = []
    for node in tree.xpath("//h1|//h2"):
        text = clean_text(node.text_content() or "", keep_newlines=False)
        if 4 <= len(text) <= 200:
            found.append(text)
    return found


def _title(tree: Any, extracted: str | None) -> str:
    page_title = clean_text(" ".join(tree.xpath("//title//text()")), keep_newlines=False)
    inside = [h for h in _headings(tree) if h in page_title]
    if inside:
        return max(inside, key=len)
    if extracted:
        return clean_text(extracted, keep_newlines=False)
    parts = [p for p in _TITLE_SEPARATORS.split(page_title) if p]
    return max(parts, key=len) if parts else page_title


def _datetimes(page_text: str) -> Iterator[tuple[datetime, str]]:
    """Full dates with a time of day written in the page (Shanghai time), with their text."""
    for m in _DATETIME_IN_TEXT.finditer(page_text):
        y, mo, d, hh, mi, ss = (int(g) if g else 0 for g in m.groups())
        try:
            yield datetime(y, mo, d, hh, mi, ss, tzinfo=SHANGHAI), m.group(0)
        except ValueError:
            continue


def _first_datetime(page_text: str) -> tuple[datetime, str] | None:
    return next(_datetimes(page_text), None)


def _refine_time(day: datetime, page_text: str) -> tuple[datetime, str] | None:
    """The first time written in the page on ``day`` (a Shanghai date), with its text."""
    return next((found for found in _datetimes(page_text) if found[0].date() == day.date()), None)


def extract_article(page: str, url: str, now: datetime) -> Article:
    """Title, body, author and publish time of the article in ``page`` (decoded HTML).

    ``now`` is the crawl time (relative times, and the upper bound of plausible ones).
    Never raises on a bad page: what cannot be found comes back empty.
    """
    import trafilatura

    try:
        tree = lxml_html.fromstring(page)
    except (ValueError, lxml_html.etree.ParserError):
        return Article("", "", "", None, "")
    try:
        doc = trafilatura.bare_extraction(
            page,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            # no extensive search: it falls back to dateparser, which loads every locale (~6 s a
            # process); a date written in the page is found by our own layer below instead
            date_extraction_params={"outputformat": _DATE_FORMAT, "extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # noqa: BLE001 - a page that trips the extractor is still a page
        logger.warning("自动抽取失败 %s：%s", url, exc)
        doc = None
    data: dict[str, Any] = doc.as_dict() if doc is not None and hasattr(doc, "as_dict") else dict(doc or {})
    title = _title(tree, data.get("title"))
    text = clean_text(data.get("text") or "")
    author = clean_text(data.get("author") or "", keep_newlines=False)[:200]

    published_raw = str(data.get("date") or "")
    published: datetime | None = None
    page_text = " ".join(tree.xpath("//body//text()"))
    if not published_raw:  # htmldate found none: the first full date and time written in the page
        found = _first_datetime(page_text)
        if found is not None:
            published, published_raw = parse_published(found[0].isoformat(), now), found[1]
    if published_raw and published is None:
        try:
            local = datetime.strptime(published_raw, _DATE_FORMAT).replace(tzinfo=SHANGHAI)
        except ValueError:
            local = None
        if local is not None:
            if (local.hour, local.minute, local.second) == (0, 0, 0):
                refined = _refine_time(local, page_text)
                if refined is not None:
                    local, published_raw = refined
            published = parse_published(local.isoformat(), now)
    return Article(title=title, text=text, author=author, published_at=published, published_raw=published_raw)


__all__ = ["extract_article", "Article"]
