"""Path expressions into JSON answers (``data.items[0].title``), used by the ``json`` source
kind and its validation. Imports no Scrapy."""

from __future__ import annotations

import re
from typing import Any

_PART_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
#: what :func:`get_path` returns for a path that leads nowhere
MISSING = object()


def compile_path(path: str) -> list[str | int]:
    """``"data.items[0].title"`` → ``["data", "items", 0, "title"]``; raises ValueError when malformed."""
    path = (path or "").strip()
    if path in ("", "$"):
        return []
    if path.startswith("$."):
        path = path[2:]
    parts: list[str | int] = []
    position = 0
    for m in _PART_RE.finditer(path):
        between = path[position : m.start()]
        if between not in ("", "."):
            raise ValueError(f"路径 {path!r} 第 {position + 1} 个字符处无法理解")
        key, index = m.groups()
        parts.append(int(index) if index is not None else (int(key) if key.isdigit() else key))
        position = m.end()
    if position != len(path) or not parts:
        raise ValueError(f"路径 {path!r} 第 {position + 1} 个字符处无法理解")
    return parts


def get_path(data: Any, path: str | list[str | int]) -> Any:
    """The value at ``path`` in ``data``, or ``MISSING``."""
    parts = compile_path(path) if isinstance(path, str) else path
    node = data
    for part in parts:
        if isinstance(part, int) and isinstance(node, list):
            if not -len(node) <= part < len(node):
                return MISSING
            node = node[part]
        elif isinstance(node, dict) and str(part) in node:
            node = node[str(part)]
        else:
            return MISSING
    return node


__all__ = ["compile_path", "get_path", "MISSING"]
