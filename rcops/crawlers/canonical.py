"""Canonical URLs and content hashes: the two keys of de-duplication.

``canonical_url`` maps the many spellings of one article's address to one
string (case of scheme and host, default ports, fragments, tracking
parameters, parameter order, mobile host prefixes); ``content_hash`` maps the
same title and text, however they were spaced, to one SHA-256.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

#: Query parameters that only say who shared a link or where it was clicked.
TRACKING_PARAMS = frozenset(
    {
        "spm",
        "scm",
        "from",
        "share_token",
        "share_from",
        "share_source",
        "share_medium",
        "share_app",
        "share_id",
        "sharer_shareid",
        "sharer_sharetime",
        "isappinstalled",
        "nsukey",
        "scene",
        "srcid",
        "wfr",
        "fbclid",
        "gclid",
        "msclkid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "ref",
        "ref_src",
    }
)
TRACKING_PREFIXES = ("utm_",)
DEFAULT_PORTS = {"http": 80, "https": 443}
#: Host prefixes of mobile (and the plain www) editions; stripped so all editions share one key.
HOST_PREFIXES = ("www.", "m.", "wap.", "3g.")


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """One spelling of ``url`` for de-duplication.

    Lower-cases scheme and host, drops the fragment, tracking parameters
    (``utm_*``, ``spm``, ``from``, ``share_token`` …) and default ports, sorts
    the remaining query parameters, normalises percent-encoding and maps
    ``m.``/``wap.``/``www.`` hosts to the bare host (``m.163.com`` and
    ``www.163.com`` are one site; the key needs no guess which is the desktop one). Non-HTTP strings come back
    stripped but otherwise unchanged.
    """
    url = (url or "").strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return url
    try:
        normalised = canonicalize_url(url, keep_blank_values=True, keep_fragments=False)
        parts = urlsplit(normalised)
        port = parts.port
    except ValueError:
        return url

    host = (parts.hostname or "").lower().rstrip(".")
    for prefix in HOST_PREFIXES:
        # only strip when a registrable domain remains (m.example.com, not m.cn)
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    netloc = host
    if parts.username:
        userinfo = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{userinfo}@{netloc}"
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"

    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    query.sort()
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def normalize_whitespace(value: str) -> str:
    return " ".join((value or "").split())


def content_hash(title: str, text: str) -> str:
    """SHA-256 (hex) of the whitespace-normalised title and text."""
    payload = f"{normalize_whitespace(title)}\n{normalize_whitespace(text)}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


__all__ = ["canonical_url", "content_hash", "normalize_whitespace", "TRACKING_PARAMS"]
