"""Near-duplicates and the first source (首发): reposts of one story form one chain.

The same URL never reaches the store twice (the canonical URL is unique). The same
text at another URL — a word-for-word repost — is stored, in the chain of the mention
it repeats (found by its content hash, however short the text: see
:func:`same_text_story`), so every repost counts. Most reposts are not exact: another
site adds "来源：…", a byline, an editor's note, a changed title, a paragraph cut.
Those are caught here:

* :func:`simhash` — a 64-bit SimHash over character 3-shingles of the title
  and text, with punctuation and white space removed and case folded (Chinese
  has no word breaks, so characters are the natural unit). Texts shorter than
  :data:`MIN_CHARS` get none: too short to tell a repost from a coincidence.
* :class:`StoryIndex` — the SimHashes of the stored mentions of the last
  :data:`WINDOW_DAYS` days, in :data:`BANDS` bands of 8 bits: two hashes within
  :data:`MAX_DISTANCE` bits of each other share at least one band exactly
  (pigeonhole), so a look-up compares only the few mentions in its buckets.
  ``refresh`` reads only the rows added since the last look, so mentions stored
  meanwhile by other crawl processes or by hand are found too.
* :func:`attach` (ORM) and :func:`insert_mention` (Core, for the crawl) — give a new mention the ``story_key`` of the stored mention with the
  same text, else of its nearest stored neighbour (or its own content hash when it
  starts a story) and its place in the
  chain, ordered by publish time (else crawl time): the earliest is the first
  source (``is_first_source``), the others get their ``spread_rank`` 2, 3, …; later
  members move one down.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.orm import Session

from rcops.store.models import Mention

BITS = 64
BANDS = 8
BAND_BITS = BITS // BANDS
#: at most this many differing bits make two texts one story. Reposts of the news fixtures
#: (whole and cut to 200 characters) with a byline, an editor's note and 1 % of characters
#: changed differ by 5 bits in the median, 10 at the 95th percentile, 12 at most; two
#: different fixture articles by 19 or more. Up to BANDS - 1 bits the band look-up is exact;
#: beyond, a pair is found when one band still agrees, as it does for most pairs at 8–12 bits.
MAX_DISTANCE = 12
SHINGLE = 3
#: texts with fewer characters (letters, digits, CJK) get no SimHash
MIN_CHARS = 40
#: stored mentions older than this (by crawl time) are not looked at
WINDOW_DAYS = 30
#: how often an index looks for mentions that other processes stored
REFRESH_SECONDS = 1.0
_NOT_WORD = re.compile(r"[\W_]+")
_MASK = (1 << BITS) - 1


def _normalise(text: str) -> str:
    return _NOT_WORD.sub("", (text or "").casefold())


#: shingle → its 8-byte BLAKE2b digest: common 3-grams recur across texts, so a crawl
#: hashes most of them once (cleared when it grows past this many entries)
_DIGESTS: dict[str, bytes] = {}
DIGEST_CACHE_SIZE = 200_000


def _digest(shingle: str) -> bytes:
    value = _DIGESTS.get(shingle)
    if value is None:
        if len(_DIGESTS) >= DIGEST_CACHE_SIZE:
            _DIGESTS.clear()
        value = _DIGESTS[shingle] = hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest()
    return value


def simhash(text: str) -> int | None:
    """64-bit SimHash of ``text``'s character shingles, or ``None`` for a too short text.

    Each distinct shingle's 64-bit BLAKE2b hash (the same in every process, unlike
    Python's ``hash``) votes on every bit, weighted by how often the shingle occurs.
    """
    chars = _normalise(text)
    if len(chars) < MIN_CHARS:
        return None
    weights = Counter(chars[i : i + SHINGLE] for i in range(len(chars) - SHINGLE + 1))
    digests = b"".join(map(_digest, weights))
    # one row of 64 bits per shingle (most significant first), weighted, summed per bit
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8)).reshape(len(weights), BITS)
    counts = np.fromiter(weights.values(), dtype=np.int64, count=len(weights))
    totals = counts @ (2 * bits.astype(np.int64) - 1)
    return int.from_bytes(np.packbits(totals > 0).tobytes(), "big")


def mention_simhash(title: str, text: str) -> int | None:
    return simhash(f"{title}\n{text}")


def to_hex(value: int | None) -> str | None:
    return None if value is None else f"{value & _MASK:016x}"


def from_hex(value: str | None) -> int | None:
    try:
        return int(value, 16) if value else None
    except ValueError:
        return None


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _bands(value: int) -> list[tuple[int, int]]:
    return [(band, value >> (band * BAND_BITS) & ((1 << BAND_BITS) - 1)) for band in range(BANDS)]


class StoryIndex:
    """SimHashes of recent stored mentions, banded for near-duplicate look-ups."""

    def __init__(self, window: timedelta = timedelta(days=WINDOW_DAYS), max_distance: int = MAX_DISTANCE) -> None:
        self.window = window
        self.max_distance = max_distance
        self.buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
        self.entries: dict[int, tuple[int, str]] = {}  # mention id → (simhash, story key)
        self.last_id = 0
        self.loaded = False
        self.refreshed = 0.0

    def add(self, mention_id: int, value: int, story_key: str) -> None:
        if mention_id in self.entries:
            return
        self.entries[mention_id] = (value, story_key)
        for band in _bands(value):
            self.buckets[band].append(mention_id)

    def refresh(self, db: Session | Connection, now: datetime | None = None) -> None:
        """Read the mentions stored since the last refresh (the whole window the first time).
        Other processes' new mentions are read at most every :data:`REFRESH_SECONDS`; this
        index's own are added as they are stored."""
        if self.loaded and time.monotonic() - self.refreshed < REFRESH_SECONDS:
            return
        self.refreshed = time.monotonic()
        query = select(Mention.id, Mention.simhash, Mention.story_key).where(
            Mention.id > self.last_id, Mention.simhash.is_not(None)
        )
        if not self.loaded:
            since = (now or datetime.now(timezone.utc)) - self.window
            query = query.where(Mention.crawled_at >= since)
        for mention_id, hex_value, story_key in db.execute(query.order_by(Mention.id)).all():
            self.last_id = max(self.last_id, mention_id)  # what was read, not what was added
            value = from_hex(hex_value)
            if value is not None and story_key:
                self.add(mention_id, value, story_key)
        self.loaded = True

    def nearest(self, value: int) -> tuple[str, int] | None:
        """(story key, distance) of the closest indexed mention within ``max_distance``."""
        best: tuple[int, int] | None = None  # (distance, mention id)
        seen: set[int] = set()
        for band in _bands(value):
            for mention_id in self.buckets.get(band, ()):
                if mention_id in seen:
                    continue
                seen.add(mention_id)
                d = distance(value, self.entries[mention_id][0])
                if d <= self.max_distance and (best is None or (d, mention_id) < best):
                    best = (d, mention_id)
        if best is None:
            return None
        return self.entries[best[1]][1], best[0]


def _when() -> Any:
    """A mention's place in time: published, else crawled."""
    return func.coalesce(Mention.published_at, Mention.crawled_at)


#: what reads and writes a chain: an ORM Session (hand-entered mentions) or a Core
#: Connection (the crawl's store pipeline); both run the same Core statements
Executor = Session | Connection


def _chain_rank(db: Executor, story_key: str, when: datetime) -> int:
    """The rank of a new (not yet stored) member of chain ``story_key`` published (else
    crawled) at ``when``; the later members move one down: two statements however long the
    chain (a big story has thousands of reposts). Members published at the same moment keep
    their places before the newcomer."""
    chain = Mention.story_key == story_key
    later = _when() > when
    earlier = int(db.scalar(select(func.count(Mention.id)).where(chain, ~later)) or 0)
    db.execute(update(Mention).where(chain, later).values(spread_rank=Mention.spread_rank + 1, is_first_source=False))
    return earlier + 1


_LOOK_UP: Any = object()


def same_text_story(db: Executor, digest: str) -> str | None:
    """The story key of the earliest stored mention whose content hash is ``digest``."""
    row = db.execute(
        select(Mention.story_key, Mention.content_hash).where(Mention.content_hash == digest).order_by(Mention.id).limit(1)
    ).first()
    return None if row is None else (row[0] or row[1])


def _place(db: Executor, values: dict[str, Any], index: StoryIndex, same_text: Any, value: Any) -> int | None:
    """Fill ``values``' simhash, story_key, spread_rank and is_first_source (moving later
    members of its chain one down); return its SimHash (``value`` when already computed)."""
    index.refresh(db, now=values["crawled_at"])
    if value is _LOOK_UP:
        value = mention_simhash(values["title"], values["text"])
    values["simhash"] = to_hex(value)
    if same_text is _LOOK_UP:
        same_text = same_text_story(db, values["content_hash"])
    if same_text:
        story_key: str | None = same_text
    else:
        found = index.nearest(value) if value is not None else None
        story_key = found[0] if found is not None else None
    values["story_key"] = story_key or values["content_hash"]
    if story_key is None:
        values["spread_rank"] = 1
    else:
        values["spread_rank"] = _chain_rank(db, story_key, values["published_at"] or values["crawled_at"])
    values["is_first_source"] = values["spread_rank"] == 1
    return value


_CHAIN_FIELDS = ("simhash", "story_key", "spread_rank", "is_first_source")


def attach(session: Session, mention: Mention, index: StoryIndex, same_text: Any = _LOOK_UP) -> None:
    """Store a new ``mention`` in its story chain (see the module docstring): it gets its
    SimHash, ``story_key``, rank and first-source flag, is added to ``session`` and flushed
    (one INSERT), and joins ``index``. Pass it before adding it to the session.

    ``same_text``: the story key of a stored mention with the same text, when the caller
    already looked it up (``None``: there is none); by default it is looked up here.
    (The crawl's store pipeline uses :func:`insert_mention`, the same steps without the ORM.)"""
    values = {"title": mention.title, "text": mention.text, "content_hash": mention.content_hash,
              "published_at": mention.published_at, "crawled_at": mention.crawled_at}
    value = _place(session, values, index, same_text, _LOOK_UP)
    for name in _CHAIN_FIELDS:
        setattr(mention, name, values[name])
    session.add(mention)
    session.flush()
    if value is not None:
        index.add(mention.id, value, mention.story_key)


#: one INSERT of a whole mention row, its id back (RETURNING on SQLite ≥ 3.35 and PostgreSQL)
_INSERT_MENTION = insert(Mention.__table__).returning(Mention.__table__.c.id)


def insert_mention(conn: Connection, values: dict[str, Any], index: StoryIndex, same_text: Any = _LOOK_UP,
                   value: Any = _LOOK_UP) -> int:
    """:func:`attach` for the crawl's store pipeline, without the ORM: ``values`` (every
    column the crawl fills, ``crawled_at`` included) gets its place in its story chain
    (``simhash``, ``story_key``, ``spread_rank``, ``is_first_source``) and is inserted as one
    row in ``conn``'s transaction; returns the new id. ``value``: the text's SimHash when the
    caller computed it already (outside the transaction). The caller adds the mention to
    ``index`` once its transaction committed."""
    _place(conn, values, index, same_text, value)
    return int(conn.execute(_INSERT_MENTION, values).scalar_one())


def story_chain(session: Session, story_key: str) -> list[Mention]:
    """The mentions of one story in spread order (first source first)."""
    return list(
        session.scalars(select(Mention).where(Mention.story_key == story_key).order_by(Mention.spread_rank, Mention.id))
    )


__all__ = ["simhash", "mention_simhash", "distance", "StoryIndex", "attach", "insert_mention", "same_text_story",
           "story_chain"]
