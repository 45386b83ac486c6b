"""Chinese tokenisation for the risk classifier.

:func:`tokenize` cuts a text with jieba, using jieba's own dictionary plus our
domain user dictionary (``seed/domain_dict.txt``: 信用村, 暴力催收, 助农贷 …), and
drops stop words (``seed/stopwords.txt``) and tokens made only of whitespace,
punctuation or symbols. :func:`normalize` is the preprocessing applied before
both the word and the character features.

The dictionaries are loaded exactly once per process, lazily, under a lock. The
jieba cache file goes to the folder given to :func:`configure` (the product
passes ``<data_dir>/cache``) or else the system temp dir, never to HOME, so it
works when HOME is read-only.

Both functions are module-level so that a scikit-learn pipeline using them
pickles by reference.
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import unicodedata
from pathlib import Path

import warnings

with warnings.catch_warnings():
    # jieba 0.42 imports pkg_resources, which warns on every start; nothing for us to act on
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    import jieba

SEED_DIR = Path(__file__).resolve().parent / "seed"
DOMAIN_DICT = SEED_DIR / "domain_dict.txt"
STOPWORDS_FILE = SEED_DIR / "stopwords.txt"

#: Texts longer than this are cut before featurisation (FinNSP has a few 7,000-char
#: articles; the head carries the signal and the cut keeps scoring time bounded).
MAX_CHARS = 1000

_lock = threading.Lock()
_ready = False
_cache_dir: Path | None = None
_stopwords: frozenset[str] = frozenset()

_URL = re.compile(r"https?://\S+|www\.\S+")
_SPACES = re.compile(r"\s+")
_LOST = re.compile(r"\?{2,}")  # FinNSP's lost GB2312 characters


def configure(cache_dir: str | Path | None) -> None:
    """Set the folder for jieba's cache file. Has effect only before the first cut."""
    global _cache_dir
    with _lock:
        if not _ready:
            _cache_dir = Path(cache_dir) if cache_dir is not None else None


def _load_stopwords() -> frozenset[str]:
    words = set()
    for line in STOPWORDS_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(line)
    return frozenset(words)


def _init() -> None:
    global _ready, _stopwords
    if _ready:
        return
    with _lock:
        if _ready:
            return
        folder = _cache_dir or Path(tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        jieba.setLogLevel(logging.WARNING)
        jieba.dt.tmp_dir = str(folder)
        jieba.dt.cache_file = "rcops-jieba.cache"
        jieba.dt.initialize()
        with DOMAIN_DICT.open("rb") as fh:  # jieba leaves a path it opened unclosed
            jieba.load_userdict(fh)
        _stopwords = _load_stopwords()
        _ready = True


def is_ready() -> bool:
    """Whether the dictionaries are loaded (for health pages)."""
    return _ready


def warm_up() -> None:
    """Load the dictionaries now (at process start) instead of at the first cut."""
    _init()


def normalize(text: str) -> str:
    """Preprocessing shared by word and character features: drop URLs, collapse
    whitespace and runs of lost characters (``???``), lower-case Latin letters, cut
    overlong texts to :data:`MAX_CHARS`."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _URL.sub(" ", text)
    text = _LOST.sub("?", text)
    text = _SPACES.sub(" ", text).strip().lower()
    return text[:MAX_CHARS]


def _is_noise(token: str) -> bool:
    return all(
        ch.isspace() or unicodedata.category(ch)[0] in "PSZCM" for ch in token
    )


def tokenize(text: str) -> list[str]:
    """Cut *text* into words, without stop words, whitespace or punctuation."""
    _init()
    stop = _stopwords
    return [
        tok
        for tok in jieba.dt.cut(text, HMM=True)
        if tok not in stop and not _is_noise(tok)
    ]


__all__ = ["tokenize", "normalize", "configure", "warm_up", "is_ready", "MAX_CHARS"]
