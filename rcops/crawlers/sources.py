"""Source and monitoring-scheme definitions: validate a YAML file (or dict) and upsert it.

Shape of the file::

    sources:
      - key: pbc-news                 # unique, [a-z0-9_.-], ≤ 64 characters
        name: 人民银行新闻
        kind: rss                     # rss | html
        url: https://example.org/feed.xml
        interval_seconds: 600         # optional, ≥ 5, default 600
        cron: "30 8 * * 1-5"          # optional instead of interval_seconds: 分 时 日 月 星期, read in
                                      # Asia/Shanghai, standard cron (1 = Monday; see crawlers.schedule)
        enabled: true                 # optional, default true
        media_level: central          # central | provincial | municipal | industry | self_media
        region: ""                    # optional
        config:                       # optional for rss; html needs list.link, and detail.title with
                                      # detail.body, or neither (the article is then extracted automatically)
          encoding: gbk               # optional override
          list: {link: "ul.news a", next: "a.next"}
          detail: {title: h1, body: "div.article p", published_at: ".time", author: ".author"}
          max_items: 50
          max_pages: 1
          obey_robots: true
          delay: 1.0                  # politeness: seconds between requests (randomised 0.5–1.5×)
          concurrency: 2              # requests at a time to the site (default 8)
          timeout: 20                 # seconds per request (default: RCOPS_DOWNLOAD_TIMEOUT_SECONDS)
          retries: 2                  # retries of a failed request (5xx, 408, 429, timeouts)
    schemes:
      - name: 农信社负面
        subject_words: [农信社, 农商行]   # at least one
        region_words: []
        event_words: [挤兑, 诈骗]
        exclusion_words: [招聘]
        expression: '(农信社 OR 农商行) AND NOT "招聘"'   # optional, see crawlers.expression;
                                      # with it, subject_words may be empty
        enabled: true

Config keys may also be written flat with dots (``"list.link": "ul a"``); they
are stored nested. The whole file is validated before anything is written, and
every created or changed row writes an audit event in the caller's transaction.
"""

from __future__ import annotations

import codecs
import ipaddress
import json
import re
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from cssselect import SelectorError
from lxml import etree
from parsel.csstranslator import HTMLTranslator
from sqlalchemy import select
from sqlalchemy.orm import Session

from rcops.store.access import require
from rcops.store.audit import record
from rcops.store.models import MonitoringScheme, Source

from .exceptions import SourceConfigError
from .jsonpath import compile_path
from .schedule import CronError, check_cron
from .expression import MAX_LENGTH, ExpressionError
from .expression import parse as parse_expression

SOURCE_KINDS = ("rss", "html", "json", "sitemap")
MEDIA_LEVELS = ("central", "provincial", "municipal", "industry", "self_media")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MIN_INTERVAL_SECONDS = 5
DEFAULT_INTERVAL_SECONDS = 600
CONFIG_KEYS = {
    "encoding", "list", "detail", "max_items", "max_pages", "obey_robots",
    "items", "fields", "url_template", "next",  # json
    "url_pattern",  # sitemap
    "delay", "concurrency", "timeout", "retries",  # politeness
}
JSON_FIELDS = {"title", "text", "url", "published_at", "author", "reach"}
LIST_KEYS = {"link", "next"}
DETAIL_KEYS = {"title", "body", "published_at", "author"}
SOURCE_FIELDS = ("name", "kind", "url", "interval_seconds", "cron", "enabled", "media_level", "region", "config")
SCHEME_FIELDS = ("subject_words", "region_words", "event_words", "exclusion_words", "expression", "enabled")
WORD_GROUPS = ("subject_words", "region_words", "event_words", "exclusion_words")


def _nest_dotted(config: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(key, str) and "." in key:
            head, tail = key.split(".", 1)
            nested.setdefault(head, {})
            if isinstance(nested[head], dict):
                nested[head][tail] = value
        elif isinstance(value, Mapping):
            nested.setdefault(key, {}).update(dict(value))
        else:
            nested[key] = value
    return nested


def _check_selector(where: str, field: str, selector: Any) -> None:
    if not isinstance(selector, str) or not selector.strip():
        raise SourceConfigError(f"{where} 字段 {field}：选择器必须是非空字符串")
    try:
        if selector.lstrip().startswith(("/", "(")):
            etree.XPath(selector)
        else:
            HTMLTranslator().css_to_xpath(selector)
    except (etree.XPathSyntaxError, SelectorError, ValueError) as exc:
        raise SourceConfigError(f"{where} 字段 {field}：选择器 {selector!r} 无效（{exc}）") from None


def _positive_int(where: str, field: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SourceConfigError(f"{where} 字段 {field}：必须是不小于 {minimum} 的整数，实际为 {value!r}")
    return value


def _bool(where: str, field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SourceConfigError(f"{where} 字段 {field}：必须是 true 或 false，实际为 {value!r}")
    return value


def _text(where: str, field: str, value: Any, *, required: bool, max_len: int) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise SourceConfigError(f"{where} 字段 {field}：必须是文字，实际为 {value!r}")
    value = value.strip()
    if required and not value:
        raise SourceConfigError(f"{where} 字段 {field}：不能为空")
    if len(value) > max_len:
        raise SourceConfigError(f"{where} 字段 {field}：不能超过 {max_len} 个字符")
    return value


def _validate_json_config(where: str, config: dict[str, Any]) -> None:
    fields = config.get("fields")
    if not isinstance(fields, dict) or not (fields.get("title") or fields.get("text")):
        raise SourceConfigError(f"{where} 字段 config.fields：json 类信息源须为各字段写路径，至少 title 或 text")
    unknown = sorted(set(fields) - JSON_FIELDS)
    if unknown:
        raise SourceConfigError(f"{where} 字段 config.fields：未知的字段 {'、'.join(map(str, unknown))}（可用：{'、'.join(sorted(JSON_FIELDS))}）")
    paths = {f"fields.{k}": v for k, v in fields.items()}
    paths.update({k: config[k] for k in ("items", "next") if config.get(k) is not None})
    for name, path in paths.items():
        if not isinstance(path, str):
            raise SourceConfigError(f"{where} 字段 config.{name}：路径必须是文字")
        try:
            compile_path(path)
        except ValueError as exc:
            raise SourceConfigError(f"{where} 字段 config.{name}：{exc}") from None
    if not fields.get("url") and not config.get("url_template"):
        raise SourceConfigError(f"{where} 字段 config.fields.url：json 类信息源须给出链接的路径或 url_template")


def _validate_config(where: str, kind: str, raw: Any) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise SourceConfigError(f"{where} 字段 config：必须是键值对")
    config = _nest_dotted(raw)
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        raise SourceConfigError(f"{where} 字段 config：未知的键 {'、'.join(map(str, unknown))}（可用：{'、'.join(sorted(CONFIG_KEYS))}）")
    if config.get("encoding") is not None:
        encoding = config["encoding"]
        try:
            codecs.lookup(str(encoding))
        except LookupError:
            raise SourceConfigError(f"{where} 字段 config.encoding：未知的编码 {encoding!r}") from None
    for field in ("max_items", "max_pages", "concurrency"):
        if field in config:
            _positive_int(where, f"config.{field}", config[field])
    if "retries" in config:
        _positive_int(where, "config.retries", config["retries"], minimum=0)
    for field, low, high in (("delay", 0, 600), ("timeout", 1, 600)):
        value = config.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high):
            raise SourceConfigError(f"{where} 字段 config.{field}：必须是 {low} 到 {high} 之间的秒数，实际为 {value!r}")
    if "obey_robots" in config:
        _bool(where, "config.obey_robots", config["obey_robots"])
    for group, allowed in (("list", LIST_KEYS), ("detail", DETAIL_KEYS)):
        section = config.get(group)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise SourceConfigError(f"{where} 字段 config.{group}：必须是键值对")
        extra = sorted(set(section) - allowed)
        if extra:
            raise SourceConfigError(f"{where} 字段 config.{group}：未知的键 {'、'.join(map(str, extra))}")
        for key, selector in section.items():
            if selector is not None:
                _check_selector(where, f"config.{group}.{key}", selector)
    if kind == "json":
        _validate_json_config(where, config)
    if config.get("url_pattern") is not None:
        try:
            re.compile(str(config["url_pattern"]))
        except re.error as exc:
            raise SourceConfigError(f"{where} 字段 config.url_pattern：正则表达式无效（{exc}）") from None
    if kind in ("html", "sitemap"):
        if kind == "html" and not (config.get("list") or {}).get("link"):
            raise SourceConfigError(f"{where} 字段 config.list.link：html 类信息源必须配置此选择器")
        detail = config.get("detail") or {}
        if bool(detail.get("title")) != bool(detail.get("body")):
            given, absent = ("title", "body") if detail.get("title") else ("body", "title")
            raise SourceConfigError(
                f"{where} 字段 config.detail.{absent}：已配置 detail.{given}，请同时配置 detail.{absent}；"
                "两者都不配置时自动抽取正文"
            )
    return config


def validate_source(entry: Any, index: int) -> dict[str, Any]:
    """A validated, normalised source definition (raises SourceConfigError)."""
    where = f"信息源第 {index + 1} 项"
    if not isinstance(entry, Mapping):
        raise SourceConfigError(f"{where}：必须是键值对")
    key = entry.get("key")
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise SourceConfigError(f"{where} 字段 key：必须是小写字母、数字、_.- 组成的 1–64 个字符，实际为 {key!r}")
    where = f"信息源第 {index + 1} 项（key={key}）"
    kind = entry.get("kind")
    if kind not in SOURCE_KINDS:
        raise SourceConfigError(f"{where} 字段 kind：未知的类型 {kind!r}（可用：{'、'.join(SOURCE_KINDS)}）")
    url = _text(where, "url", entry.get("url"), required=True, max_len=2000)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SourceConfigError(f"{where} 字段 url：必须是 http:// 或 https:// 地址，实际为 {url!r}")
    cron = entry.get("cron")
    if cron is not None:
        # (a normalised entry carries the default interval next to its cron; that is no conflict)
        if entry.get("interval_seconds", DEFAULT_INTERVAL_SECONDS) != DEFAULT_INTERVAL_SECONDS:
            raise SourceConfigError(f"{where} 字段 cron：与 interval_seconds 只能二选一（按周期抓取，或按 cron 时间表抓取）")
        if not isinstance(cron, str) or not cron.strip():
            raise SourceConfigError(f"{where} 字段 cron：须为 5 段的 cron 表达式文字，如 “30 8 * * 1-5”，实际为 {cron!r}")
        try:
            cron = check_cron(cron)
        except CronError as exc:
            raise SourceConfigError(f"{where} 字段 cron：{exc}") from None
    media_level = entry.get("media_level", "self_media")
    if media_level not in MEDIA_LEVELS:
        raise SourceConfigError(f"{where} 字段 media_level：必须是 {'、'.join(MEDIA_LEVELS)} 之一，实际为 {media_level!r}")
    return {
        "key": key,
        "name": _text(where, "name", entry.get("name", key), required=True, max_len=200),
        "kind": kind,
        "url": url,
        "interval_seconds": _positive_int(
            where, "interval_seconds", entry.get("interval_seconds", DEFAULT_INTERVAL_SECONDS), MIN_INTERVAL_SECONDS
        ),
        "cron": cron,
        "enabled": _bool(where, "enabled", entry.get("enabled", True)),
        "media_level": media_level,
        "region": _text(where, "region", entry.get("region", ""), required=False, max_len=100),
        "config": _validate_config(where, kind, entry.get("config")),
    }


def _words(where: str, field: str, value: Any, *, required: bool) -> list[str]:
    if value is None:
        value = []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
        raise SourceConfigError(f"{where} 字段 {field}：必须是词语列表")
    words: list[str] = []
    for w in value:
        w = w.strip()
        if w and w not in words:
            words.append(w)
    if required and not words:
        raise SourceConfigError(f"{where} 字段 {field}：至少需要一个词")
    return words


def validate_scheme(entry: Any, index: int) -> dict[str, Any]:
    """A validated, normalised monitoring scheme (raises SourceConfigError)."""
    where = f"监测方案第 {index + 1} 项"
    if not isinstance(entry, Mapping):
        raise SourceConfigError(f"{where}：必须是键值对")
    name = _text(where, "name", entry.get("name"), required=True, max_len=200)
    where = f"监测方案第 {index + 1} 项（name={name}）"
    raw_expression = entry.get("expression")
    expression = _text(where, "expression", raw_expression, required=False, max_len=MAX_LENGTH) or None
    if expression is not None:
        try:
            parse_expression(expression)
        except ExpressionError as exc:
            raise SourceConfigError(f"{where} 字段 expression：{exc}") from None
    return {
        "name": name,
        **{
            # subject words may be left out when an expression says what to match
            group: _words(where, group, entry.get(group), required=group == "subject_words" and expression is None)
            for group in WORD_GROUPS
        },
        "expression": expression,
        "enabled": _bool(where, "enabled", entry.get("enabled", True)),
    }


def read_monitoring_config(path_or_dict: str | Path | Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Read and validate the whole file; nothing is written."""
    if isinstance(path_or_dict, Mapping):
        data: Any = path_or_dict
    else:
        path = Path(path_or_dict)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SourceConfigError(f"找不到监测配置文件：{path}") from None
        except UnicodeDecodeError:
            raise SourceConfigError(f"监测配置文件不是 UTF-8 编码：{path}") from None
        except yaml.YAMLError as exc:
            raise SourceConfigError(f"监测配置文件 {path} 不是有效的 YAML：{exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise SourceConfigError("监测配置的顶层必须是键值对（sources、schemes）")
    unknown = sorted(set(data) - {"sources", "schemes"})
    if unknown:
        raise SourceConfigError(f"监测配置中有未知的顶层键：{'、'.join(map(str, unknown))}（可用：sources、schemes）")
    result: dict[str, list[dict[str, Any]]] = {"sources": [], "schemes": []}
    for section, validate, ident in (("sources", validate_source, "key"), ("schemes", validate_scheme, "name")):
        entries = data.get(section) or []
        if not isinstance(entries, list):
            raise SourceConfigError(f"监测配置的 {section} 必须是列表")
        seen: set[str] = set()
        for index, entry in enumerate(entries):
            item = validate(entry, index)
            if item[ident] in seen:
                raise SourceConfigError(f"监测配置的 {section} 中 {ident}={item[ident]} 重复出现")
            seen.add(item[ident])
            result[section].append(item)
    return result


LOCAL_HOSTNAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _this_machine_names() -> set[str]:
    names = set(LOCAL_HOSTNAMES)
    try:
        names.add(socket.gethostname().lower())
        names.add(socket.getfqdn().lower())
    except OSError:  # pragma: no cover - no hostname at all
        pass
    return {n for n in names if n}


def is_local_address(url: str) -> bool:
    """Whether ``url`` points at this machine: loopback, unspecified or link-local
    addresses, ``localhost`` (and ``*.localhost``), or this machine's own host name.
    Decided from the URL alone; no name is looked up."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if not host:
        return False
    if host in _this_machine_names() or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified or address.is_link_local


def read_definition_file(path: str | Path) -> dict[str, Any]:
    """A source-definition file (YAML, or JSON by its ``.json`` suffix) as a monitoring document.

    The file may hold one source (a mapping with ``key``), a list of sources, or a
    whole document with ``sources`` (and ``schemes``).
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SourceConfigError(f"找不到信息源定义文件：{path}") from None
    except UnicodeDecodeError:
        raise SourceConfigError(f"信息源定义文件不是 UTF-8 编码：{path}") from None
    try:
        data = json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
    except json.JSONDecodeError as exc:
        raise SourceConfigError(f"信息源定义文件 {path} 不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}") from None
    except yaml.YAMLError as exc:
        raise SourceConfigError(f"信息源定义文件 {path} 不是有效的 YAML：{exc}") from None
    if isinstance(data, list):
        return {"sources": data}
    if isinstance(data, Mapping) and "key" in data:
        return {"sources": [dict(data)]}
    if isinstance(data, Mapping):
        return dict(data)
    raise SourceConfigError(f"信息源定义文件 {path}：应为一个信息源、信息源列表，或含 sources 的文档")


def add_sources(
    session: Session,
    path_or_dict: str | Path | Mapping[str, Any],
    actor: str,
    *,
    allow_local: bool = False,
) -> dict[str, dict[str, list[str]]]:
    """``rcops sources add FILE``: validate a definition file and upsert its sources (and schemes).

    Addresses on this machine (see :func:`is_local_address`) are refused unless
    ``allow_local``: a source definition must not make the crawler read local
    services. Nothing is written when anything is invalid or refused.
    """
    require(session, actor, "monitoring.edit")
    doc = path_or_dict if isinstance(path_or_dict, Mapping) else read_definition_file(path_or_dict)
    data = read_monitoring_config(doc)
    if not allow_local:
        local = [f"{item['key']}（{item['url']}）" for item in data["sources"] if is_local_address(item["url"])]
        if local:
            raise SourceConfigError(
                f"信息源地址指向本机：{'、'.join(local)}；确属本机服务（如测试站点）时请加 --allow-local"
            )
    return load_monitoring_config(session, data, actor)


def _upsert(
    session: Session,
    model: type[Source] | type[MonitoringScheme],
    ident: str,
    fields: tuple[str, ...],
    item: dict[str, Any],
    entity_type: str,
    actor: str,
) -> str:
    row = session.scalar(select(model).where(getattr(model, ident) == item[ident]))
    if row is None:
        row = model(**item)
        session.add(row)
        session.flush()
        record(session, actor, entity_type, row.id, "create", **{ident: item[ident]}, values=item)
        return "created"
    changes = {
        field: {"from": getattr(row, field), "to": item[field]}
        for field in fields
        if getattr(row, field) != item[field]
    }
    if not changes:
        return "unchanged"
    for field, change in changes.items():
        setattr(row, field, change["to"])
    session.flush()
    record(session, actor, entity_type, row.id, "update", **{ident: item[ident]}, changes=changes)
    return "updated"


def load_monitoring_config(
    session: Session,
    path_or_dict: str | Path | Mapping[str, Any],
    actor: str,
) -> dict[str, dict[str, list[str]]]:
    """Validate the file, then upsert Source rows (by ``key``) and MonitoringScheme rows (by ``name``).

    Rows not in the file are left alone. Returns what happened, e.g.
    ``{"sources": {"created": [...], "updated": [...], "unchanged": [...]}, "schemes": {...}}``.
    Raises :class:`SourceConfigError` (nothing written) when any entry is invalid.
    """
    data = read_monitoring_config(path_or_dict)
    outcome: dict[str, dict[str, list[str]]] = {
        section: {"created": [], "updated": [], "unchanged": []} for section in ("sources", "schemes")
    }
    for item in data["sources"]:
        what = _upsert(session, Source, "key", SOURCE_FIELDS, item, "source", actor)
        outcome["sources"][what].append(item["key"])
    for item in data["schemes"]:
        what = _upsert(session, MonitoringScheme, "name", SCHEME_FIELDS, item, "monitoring_scheme", actor)
        outcome["schemes"][what].append(item["name"])
    return outcome


__all__ = [
    "add_sources",
    "is_local_address",
    "read_definition_file",
    "load_monitoring_config",
    "read_monitoring_config",
    "validate_source",
    "validate_scheme",
    "SOURCE_KINDS",
    "MEDIA_LEVELS",
]
