"""Manual monitoring (人工监测): mentions found by hand, typed in or imported from CSV/Excel.

:func:`import_mentions` reads a ``.csv`` (UTF-8, or GB18030 as Excel saves it on
Chinese Windows) or ``.xlsx`` file whose first row names the columns:

=========  =======================================  ============================
column     also accepted                            rule
=========  =======================================  ============================
标题        title, 题目                                optional (made from the text)
正文        text, body, content, 内容                  required
链接        url, link, 网址, 地址                      optional; http(s) when given
发布时间     published_at, publish_time, time, 时间    optional; any form of timeparse
来源        source, 来源网站, 媒体                      optional; a source key or name
传播量       reach, 转发量, 阅读量                       optional; a whole number ≥ 0
作者        author                                   optional
=========  =======================================  ============================

Every row is checked before anything is written; a file with any bad row is
refused whole, with one Chinese message per problem naming the spreadsheet row
(``第 5 行：缺少正文``). A good file is written in the caller's one transaction:
personal data masked, monitoring schemes matched (recorded, never a reason to
drop: a person chose these), rows already stored (same link; without a link, same
content) or repeated within the file skipped — the same text with another link is
a word-for-word repost and is stored in its story's chain — each new mention audited and put into its
story chain (:mod:`.stories`).

:func:`add_manual_mention` is the same for one mention typed into the console.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rcops.store.access import require
from rcops.store.audit import record
from rcops.store.models import Mention, Source

from .canonical import canonical_url, content_hash
from .exceptions import CrawlerError
from .masking import mask_personal_data
from .schemes import enabled_schemes, match_all
from .stories import StoryIndex, attach
from .textutil import clean_field, derive_title
from .timeparse import SHANGHAI, parse_published

ORIGIN = "manual"
MAX_ROWS = 10_000
TITLE_MAX = 500

#: canonical field → accepted headers (compared casefolded, spaces and *（）() removed)
COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("标题", "title", "题目"),
    "text": ("正文", "text", "body", "content", "内容"),
    "url": ("链接", "url", "link", "网址", "地址"),
    "published_at": ("发布时间", "published_at", "publish_time", "published", "time", "时间", "日期"),
    "source": ("来源", "source", "来源网站", "媒体"),
    "reach": ("传播量", "reach", "转发量", "阅读量"),
    "author": ("作者", "author"),
}
LABELS = {"title": "标题", "text": "正文", "url": "链接", "published_at": "发布时间", "source": "来源", "reach": "传播量", "author": "作者"}


class ManualImportError(CrawlerError, ValueError):
    """A manual mention (or a row of an import file) is invalid; nothing was written.

    ``problems`` lists every problem, one Chinese sentence each (``第 5 行：缺少正文``).
    """

    def __init__(self, summary: str, problems: list[str]) -> None:
        super().__init__(summary + ("：" + "；".join(problems[:20]) if problems else ""))
        self.summary = summary
        self.problems = problems


class DuplicateMention(ManualImportError):
    """The hand-entered mention is already stored."""


def _header_key(value: Any) -> str:
    text = str(value or "").strip().casefold()
    for ch in " \u3000*（）()：:":
        text = text.replace(ch, "")
    return text


_HEADER_INDEX = {_header_key(alias): name for name, aliases in COLUMNS.items() for alias in aliases}


# --------------------------------------------------------------------------- reading files


def _read_csv(path: Path) -> list[list[Any]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly any bytes
        raise ManualImportError(f"无法识别文件编码：{path.name}（请另存为 UTF-8 的 CSV）", [])
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text, newline=""), dialect)]


def _read_xlsx(path: Path) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise ManualImportError(f"无法读取 Excel 文件 {path.name}（{type(exc).__name__}：{exc}）", []) from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def read_table(path: str | Path) -> list[list[Any]]:
    """The rows (header first) of a ``.csv`` or ``.xlsx`` file."""
    path = Path(path)
    if not path.is_file():
        raise ManualImportError(f"找不到文件：{path}", [])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raise ManualImportError(f"不支持的文件类型 {suffix or '（无扩展名）'}：请用 CSV 或 Excel（.xlsx）", [])


# --------------------------------------------------------------------------- validation


@dataclass
class ManualMention:
    """One validated hand-entered mention, not yet masked or stored."""

    text: str
    title: str = ""
    url: str = ""
    published_at: datetime | None = None
    source: str = ""
    reach: int = 0
    author: str = ""
    row: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _published(value: Any, now: datetime) -> datetime | None | str:
    """A datetime, ``None`` for an empty cell, or the unreadable text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):  # an Excel date cell: local time without a zone
        return (value if value.tzinfo else value.replace(tzinfo=SHANGHAI)).astimezone(timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=SHANGHAI).astimezone(timezone.utc)
    text = _cell_text(value)
    parsed = parse_published(text, now)
    return parsed if parsed is not None else text


def _reach(value: Any) -> int | str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value if value >= 0 else str(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else str(value)
    text = _cell_text(value).replace(",", "").replace("，", "")
    multiplier = 1
    if text.endswith("万"):
        text, multiplier = text[:-1], 10_000
    try:
        number = float(text) * multiplier if multiplier != 1 else int(text)
    except ValueError:
        return _cell_text(value)
    if number < 0 or (isinstance(number, float) and not number.is_integer() and multiplier == 1):
        return _cell_text(value)
    return int(number)


def validate_manual(values: Mapping[str, Any], now: datetime, where: str = "") -> tuple[ManualMention | None, list[str]]:
    """Check one mention given as ``{field: value}`` (fields of :data:`COLUMNS`).

    Returns the mention, or ``None`` and the problems, each prefixed by ``where``
    (e.g. ``"第 5 行："``).
    """
    problems: list[str] = []
    text = clean_field(_cell_text(values.get("text")))
    title = clean_field(_cell_text(values.get("title")), keep_newlines=False)
    if not text:
        problems.append(f"{where}缺少正文")
    url = _cell_text(values.get("url"))
    if url and not url.lower().startswith(("http://", "https://")):
        problems.append(f"{where}链接不是 http:// 或 https:// 地址：{url[:80]}")
    elif len(url) > 2000:
        problems.append(f"{where}链接过长（超过 2000 个字符）")
    published = _published(values.get("published_at"), now)
    if isinstance(published, str):
        problems.append(f"{where}发布时间无法识别：{published[:40]}（示例：2024-05-01 08:30、2024年5月1日、昨天 14:03）")
    reach = _reach(values.get("reach"))
    if isinstance(reach, str):
        problems.append(f"{where}传播量必须是不小于 0 的整数：{reach[:40]}")
    source = _cell_text(values.get("source"))[:200]
    author = clean_field(_cell_text(values.get("author")), keep_newlines=False)[:200]
    if problems:
        return None, problems
    if not title:
        title = derive_title(text)
    assert not isinstance(published, str) and not isinstance(reach, str)
    return (
        ManualMention(text=text, title=title[:TITLE_MAX], url=url, published_at=published, source=source,
                      reach=reach, author=author),
        [],
    )


def _header_map(header: list[Any]) -> tuple[dict[int, str], list[str], list[str]]:
    """Column index → field, the ignored headers, and problems (duplicate or missing columns)."""
    mapping: dict[int, str] = {}
    ignored: list[str] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = _HEADER_INDEX.get(_header_key(cell))
        if name is None:
            if _cell_text(cell):
                ignored.append(_cell_text(cell))
            continue
        if name in seen:
            problems.append(f"第 1 行：列“{LABELS[name]}”出现了两次（第 {seen[name] + 1} 列和第 {index + 1} 列）")
            continue
        seen[name] = index
        mapping[index] = name
    if "text" not in seen:
        problems.append("第 1 行：缺少“正文”列（表头应包含：标题、正文、链接、发布时间、来源、传播量）")
    return mapping, ignored, problems


# --------------------------------------------------------------------------- storing


@dataclass
class _Store:
    """What storing manual mentions needs once per transaction."""

    session: Session
    actor: str
    schemes: list[dict[str, Any]]
    sources: dict[str, int]
    stories: StoryIndex
    now: datetime

    @classmethod
    def open(cls, session: Session, actor: str, now: datetime) -> _Store:
        schemes, _problems = enabled_schemes(session)
        sources: dict[str, int] = {}
        for source in session.scalars(select(Source)).all():
            sources.setdefault(source.key, source.id)
            sources.setdefault(source.name, source.id)
        return cls(session, actor, schemes, sources, StoryIndex(), now)

    def keys(self, item: ManualMention, title: str, text: str) -> tuple[str, str]:
        digest = content_hash(title, text)
        url = canonical_url(item.url) if item.url else f"manual:{digest}"
        return url, digest

    def existing(self, item: ManualMention, url: str, digest: str) -> int | None:
        """A stored mention this one repeats: the same link, or (when it has no link) the same text.
        The same text under another link is a repost, not a repeat."""
        same = Mention.canonical_url == url if item.url else or_(Mention.canonical_url == url, Mention.content_hash == digest)
        return self.session.scalar(select(Mention.id).where(same).limit(1))

    def add(self, item: ManualMention, url: str, digest: str, title: str, text: str, author: str, masked: int,
            **audit: Any) -> Mention:
        source_id = self.sources.get(item.source) if item.source else None
        mention = Mention(
            source_id=source_id,
            crawl_run_id=None,
            url=item.url,
            canonical_url=url[:2000],
            content_hash=digest,
            title=title,
            text=text,
            author=author,
            published_at=item.published_at,
            crawled_at=self.now,
            matched=match_all(self.schemes, title, text),
            reach=item.reach,
            masked_count=masked,
            origin=ORIGIN,
            source_name="" if source_id is not None else item.source,
        )
        attach(self.session, mention, self.stories)
        record(self.session, self.actor, "mention", mention.id, "manual_add", title=title, url=item.url,
               source=item.source, **audit)
        return mention


def _masked(item: ManualMention) -> tuple[str, str, str, int]:
    title, a = mask_personal_data(item.title)
    text, b = mask_personal_data(item.text)
    author, c = mask_personal_data(item.author)
    return title, text, author, a + b + c


def add_manual_mention(session: Session, values: Mapping[str, Any], actor: str,
                       now: datetime | None = None) -> Mention:
    """Store one hand-entered mention (the console's form): checked, masked, matched, audited.

    ``values`` uses the fields of :data:`COLUMNS` (``title``, ``text``, ``url``,
    ``published_at``, ``source``, ``reach``, ``author``). Raises
    :class:`ManualImportError` when it is invalid and :class:`DuplicateMention`
    when the same link or content is already stored; nothing is written then.
    """
    now = now or datetime.now(timezone.utc)
    item, problems = validate_manual(values, now)
    if item is None:
        raise ManualImportError("信息有误，未保存", problems)
    store = _Store.open(session, actor, now)
    title, text, author, masked = _masked(item)
    url, digest = store.keys(item, title, text)
    existing = store.existing(item, url, digest)
    if existing is not None:
        why = "链接相同" if item.url else "内容相同（未填链接）"
        raise DuplicateMention("该信息已存在，未重复保存", [f"与已入库的信息 #{existing} {why}"])
    return store.add(item, url, digest, title, text, author, masked)


def import_mentions(session: Session, path: str | Path, actor: str, now: datetime | None = None) -> dict[str, Any]:
    """Import a CSV or Excel file of hand-found mentions: all rows or none (see the module docstring).

    Raises :class:`ManualImportError` (``problems`` lists every bad row) before
    writing anything. Returns counts and the ids of the new mentions.
    """
    require(session, actor, "mentions.import")
    now = now or datetime.now(timezone.utc)
    path = Path(path)
    rows = read_table(path)
    while rows and not any(_cell_text(c) for c in rows[0]):
        rows.pop(0)  # blank lines above the header
    if not rows:
        raise ManualImportError(f"文件 {path.name} 是空的", [])
    if len(rows) - 1 > MAX_ROWS:
        raise ManualImportError(f"文件 {path.name} 超过 {MAX_ROWS} 行，请分批导入", [])
    mapping, ignored, problems = _header_map(rows[0])
    if problems:
        raise ManualImportError(f"文件 {path.name} 的表头有误，未导入任何信息", problems)

    items: list[ManualMention] = []
    blank = 0
    for number, row in enumerate(rows[1:], start=2):
        values = {name: row[i] for i, name in mapping.items() if i < len(row)}
        if not any(_cell_text(v) for v in values.values()):
            blank += 1
            continue
        item, row_problems = validate_manual(values, now, where=f"第 {number} 行：")
        problems.extend(row_problems)
        if item is not None:
            item.row = number
            items.append(item)
    if problems:
        raise ManualImportError(f"文件 {path.name} 有 {len(problems)} 处错误，未导入任何信息", problems)
    if not items:
        raise ManualImportError(f"文件 {path.name} 没有任何信息行", [])

    store = _Store.open(session, actor, now)
    created: list[int] = []
    duplicates = repeated = 0
    first_row: dict[str, int] = {}
    for item in items:
        title, text, author, masked = _masked(item)
        url, digest = store.keys(item, title, text)
        if url in first_row or (not item.url and digest in first_row):
            repeated += 1
            continue
        first_row[url] = first_row[digest] = item.row or 0
        if store.existing(item, url, digest) is not None:
            duplicates += 1
            continue
        mention = store.add(item, url, digest, title, text, author, masked, file=path.name, row=item.row)
        created.append(mention.id)
    record(session, actor, "mention_import", path.name, "import", file=str(path), rows=len(items),
           imported=len(created), duplicates=duplicates, repeated=repeated, mention_ids=created)
    return {
        "file": str(path),
        "rows": len(items),
        "imported": len(created),
        "duplicates": duplicates,
        "repeated": repeated,
        "blank": blank,
        "ignored_columns": ignored,
        "mention_ids": created,
    }


__all__ = [
    "import_mentions",
    "add_manual_mention",
    "validate_manual",
    "read_table",
    "ManualImportError",
    "DuplicateMention",
    "COLUMNS",
]
