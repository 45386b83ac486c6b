"""Labelled texts for the risk classifier, as lists of ``(text, label)`` with
label 1 = negative / risky, 0 = neutral or positive.

Sources (see the ``SOURCE.md`` next to each data set in the shared folder):

* FinNSP (``fincuge_finance_sentiment/finnsp_*.json``) — financial negative news;
* FinFE (``fincuge_finance_sentiment/finfe_*.json``) — stock-forum sentiment,
  negative (0) vs the rest;
* SMP2020-EWECT (``smp2020_ewect_weibo/*.json``) — Weibo emotions, angry/sad/fear
  = negative; the ``virus_train`` split is trained on, the test splits only evaluate;
* the packaged seed set (``seed/seed_mentions.jsonl``), written for this product.

:func:`training_set` assembles what the model learns from; evaluation splits never
enter it (any text that also appears in an evaluation set is removed).
:func:`training_and_dev` also carves a **dev split** out of each shared training
split (:data:`DEV_FRACTION`, stratified, fixed seed): the model does not learn from
it; its decision threshold and the FinFE 3-class bins are chosen on it, never on an
evaluation set.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rcops.classifier.exceptions import TrainingDataMissing
from rcops.store.settings import Settings

Example = tuple[str, int]

FINCUGE = "fincuge_finance_sentiment"
SMP2020 = "smp2020_ewect_weibo"
SEED_FILE = Path(__file__).resolve().parent / "seed" / "seed_mentions.jsonl"

_SPLITS = {"train": "train", "eval": "eval"}
_SMP_FILES = {
    "usual_test": "usual_test_labeled.json",
    "usual_eval": "usual_eval_labeled.json",
    "virus_test": "virus_test_labeled.json",
    "virus_eval": "virus_eval_labeled.json",
    "virus_train": "virus_train.json",
}
SMP_NEGATIVE = frozenset({"angry", "sad", "fear"})
SMP_LABELS = frozenset({"neutral", "happy", "angry", "sad", "fear", "surprise"})


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise TrainingDataMissing(f"找不到数据文件 {path}。请检查共享数据目录设置（RCOPS_SHARED_DATA_DIR）。")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrainingDataMissing(f"数据文件 {path} 不是有效的 UTF-8 JSON：{exc}。请重新复制该文件。") from exc


def _split(split: str) -> str:
    if split not in _SPLITS:
        raise ValueError(f"未知的数据划分 {split!r}，只能是 'train' 或 'eval'")
    return _SPLITS[split]


def _bad_row(path: Path, index: int, row: Any) -> TrainingDataMissing:
    return TrainingDataMissing(f"数据文件 {path} 第 {index} 条格式不对：{str(row)[:80]}。请重新复制该文件。")


# --------------------------------------------------------------------------- FinNSP


def finnsp_text(title: str, text: str) -> str:
    """The text we classify for a FinNSP record: the title is prefixed when the body
    does not already contain it."""
    title = (title or "").strip()
    text = text or ""
    if title and title not in text:
        return f"{title}。{text}"
    return text


def load_finnsp(shared_dir: Path, split: str) -> list[Example]:
    """FinNSP ``train`` (3,999 rows) or ``eval`` (500 rows); label = ``negative``."""
    path = Path(shared_dir) / FINCUGE / f"finnsp_{_split(split)}.json"
    rows = _read_json(path)
    out: list[Example] = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 6:
            raise _bad_row(path, i, row)
        _id, title, text, _entity, negative, _key = row
        if negative == "negative":  # the stray CSV header row
            continue
        if negative not in ("0", "1", 0, 1):
            raise _bad_row(path, i, row)
        out.append((finnsp_text(title, text), int(negative)))
    return out


# --------------------------------------------------------------------------- FinFE


def load_finfe(shared_dir: Path, split: str) -> list[Example]:
    """FinFE rows as they are (duplicates included); label 1 = original label 0."""
    path = Path(shared_dir) / FINCUGE / f"finfe_{_split(split)}.json"
    rows = _read_json(path)
    out: list[Example] = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 2 or row[1] not in (0, 1, 2):
            raise _bad_row(path, i, row)
        out.append((str(row[0]), 1 if row[1] == 0 else 0))
    return out


def dedupe(examples: Iterable[Example]) -> tuple[list[Example], int]:
    """One example per text, in first-seen order; texts seen with both labels are
    dropped. Returns the examples and how many texts were dropped as conflicting."""
    labels: dict[str, set[int]] = defaultdict(set)
    order: list[str] = []
    for text, label in examples:
        if text not in labels:
            order.append(text)
        labels[text].add(label)
    kept = [(t, next(iter(labels[t]))) for t in order if len(labels[t]) == 1]
    return kept, len(order) - len(kept)


def load_finfe3(shared_dir: Path, split: str) -> list[Example]:
    """FinFE rows with the original 3 labels: 0 negative, 1 neutral, 2 positive."""
    path = Path(shared_dir) / FINCUGE / f"finfe_{_split(split)}.json"
    rows = _read_json(path)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 2 or row[1] not in (0, 1, 2):
            raise _bad_row(path, i, row)
    return [(str(row[0]), int(row[1])) for row in rows]


def finfe3_train_labels(shared_dir: Path) -> dict[str, int]:
    """The 3-class label of each FinFE train text that carries only one."""
    return dict(dedupe(load_finfe3(shared_dir, "train"))[0])


def load_finfe3_unseen_eval(shared_dir: Path) -> list[Example]:
    """FinFE eval texts unseen in train with their 3 labels (0 negative, 1 neutral,
    2 positive), de-duplicated; texts carrying two different labels are dropped."""
    seen = {text for text, _ in load_finfe3(shared_dir, "train")}
    return dedupe((t, y) for t, y in load_finfe3(shared_dir, "eval") if t not in seen)[0]


def load_finfe_training(shared_dir: Path) -> list[Example]:
    """FinFE train, de-duplicated; texts carrying both binary labels are dropped
    (a text labelled neutral once and positive once is kept: both are label 0)."""
    return dedupe(load_finfe(shared_dir, "train"))[0]


def load_finfe_unseen_eval(shared_dir: Path) -> list[Example]:
    """FinFE eval texts that never occur in FinFE train, de-duplicated.

    923 eval rows are unseen in train; they hold 854 distinct texts, 5 of which carry
    both binary labels and are dropped: 849 examples remain.
    """
    seen = {text for text, _ in load_finfe(shared_dir, "train")}
    return dedupe((t, y) for t, y in load_finfe(shared_dir, "eval") if t not in seen)[0]


# --------------------------------------------------------------------------- SMP2020


def load_smp2020(shared_dir: Path, name: str) -> list[Example]:
    """SMP2020-EWECT ``usual_test`` or ``virus_test`` (also ``*_eval``); angry, sad and
    fear are label 1, neutral, happy and surprise label 0."""
    if name not in _SMP_FILES:
        raise ValueError(f"未知的 SMP2020 数据集 {name!r}，可选：{', '.join(sorted(_SMP_FILES))}")
    path = Path(shared_dir) / SMP2020 / _SMP_FILES[name]
    rows = _read_json(path)
    out: list[Example] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or row.get("label") not in SMP_LABELS or "content" not in row:
            raise _bad_row(path, i, row)
        out.append((str(row["content"]), 1 if row["label"] in SMP_NEGATIVE else 0))
    return out


# --------------------------------------------------------------------------- seed


def load_seed_records() -> list[dict[str, Any]]:
    """The packaged seed mentions with all their fields (title, text, label, category)."""
    if not SEED_FILE.is_file():
        raise TrainingDataMissing(f"找不到内置种子数据 {SEED_FILE}，安装包不完整，请重新安装 rcops。")
    records = []
    for n, line in enumerate(SEED_FILE.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TrainingDataMissing(f"内置种子数据 {SEED_FILE} 第 {n} 行不是有效 JSON：{exc}") from exc
        if not isinstance(rec, dict) or rec.get("label") not in (0, 1) or not rec.get("text"):
            raise TrainingDataMissing(f"内置种子数据 {SEED_FILE} 第 {n} 行缺少 text 或 label（0/1）。")
        records.append(rec)
    return records


def load_seed() -> list[Example]:
    """The packaged seed mentions as ``(title。text, label)``."""
    return [(finnsp_text(r.get("title", ""), r["text"]), int(r["label"])) for r in load_seed_records()]


# --------------------------------------------------------------------------- assembly


def shared_available(shared_dir: Path) -> bool:
    return (Path(shared_dir) / FINCUGE).is_dir()


def eval_sets(shared_dir: Path) -> dict[str, list[Example]]:
    """The evaluation sets that exist under *shared_dir*, by name."""
    shared_dir = Path(shared_dir)
    sets: dict[str, list[Example]] = {}
    if (shared_dir / FINCUGE / "finnsp_eval.json").is_file():
        sets["finnsp"] = load_finnsp(shared_dir, "eval")
    if (shared_dir / FINCUGE / "finfe_eval.json").is_file() and (shared_dir / FINCUGE / "finfe_train.json").is_file():
        sets["finfe_unseen"] = load_finfe_unseen_eval(shared_dir)
    if (shared_dir / SMP2020 / _SMP_FILES["usual_test"]).is_file():
        sets["smp2020_usual"] = load_smp2020(shared_dir, "usual_test")
    if (shared_dir / SMP2020 / _SMP_FILES["virus_test"]).is_file():
        sets["smp2020_virus"] = load_smp2020(shared_dir, "virus_test")
    return sets


def fingerprint(examples: Sequence[Example]) -> str:
    """sha256 over the examples in order (text, tab, label, newline)."""
    h = hashlib.sha256()
    for text, label in examples:
        h.update(text.encode("utf-8"))
        h.update(b"\t%d\n" % label)
    return h.hexdigest()


#: share of each shared training split held out as the dev split
DEV_FRACTION = 0.1
DEV_SEED = 0
#: the shared training splits a dev split is carved from (not the seed set, not operators' labels)
DEV_SOURCES = ("finnsp_train", "finfe_train_dedup", "smp2020_virus_train")


def carve_dev(examples: Sequence[Example], fraction: float = DEV_FRACTION,
              seed: int = DEV_SEED) -> tuple[list[Example], list[Example]]:
    """A stratified random split of *examples* into (train, dev), the same every time."""
    if fraction <= 0 or len(examples) < 20 or len({y for _, y in examples}) < 2:
        return list(examples), []
    from sklearn.model_selection import train_test_split

    train, dev = train_test_split(list(examples), test_size=fraction, random_state=seed,
                                  stratify=[y for _, y in examples])
    return list(train), list(dev)


def training_set(settings: Settings, extra: Iterable[Example] = ()) -> tuple[list[Example], dict[str, Any]]:
    """What the model learns from, and a description of it (see :func:`training_and_dev`)."""
    data, _dev, description = training_and_dev(settings, extra)
    return data, description


def training_and_dev(
    settings: Settings, extra: Iterable[Example] = (), dev_fraction: float = DEV_FRACTION
) -> tuple[list[Example], dict[str, list[Example]], dict[str, Any]]:
    """What the model learns from, the dev split by source, and a description.

    FinNSP train, FinFE train (de-duplicated) and SMP2020 virus train when the shared
    data folder exists (each less its dev share, *dev_fraction*),
    always the seed set, then *extra* (labels given by operators). Texts that occur
    in any evaluation set are removed, so measured scores stay honest.
    """
    shared = Path(settings.shared_data_dir)
    parts: list[tuple[str, list[Example]]] = []
    if shared_available(shared):
        parts.append(("finnsp_train", load_finnsp(shared, "train")))
        parts.append(("finfe_train_dedup", load_finfe_training(shared)))
        if (shared / SMP2020 / _SMP_FILES["virus_train"]).is_file():
            # Weibo emotions (train split): teaches the model how ordinary users complain;
            # lifts SMP2020 usual (cross-source) negative F1 from 0.46 to 0.70
            parts.append(("smp2020_virus_train", load_smp2020(shared, "virus_train")))
        held_out = {t for examples in eval_sets(shared).values() for t, _ in examples}
    else:
        held_out = set()
    parts.append(("seed", load_seed()))
    extra_list = []
    for item in extra:
        text, label = item
        if label not in (0, 1) or not isinstance(text, str):
            raise ValueError(f"人工标注样本格式不对：{item!r}，应为 (文本, 0 或 1)")
        extra_list.append((text, int(label)))
    if extra_list:
        parts.append(("operator_labels", extra_list))

    data: list[Example] = []
    dev: dict[str, list[Example]] = {}
    sources: dict[str, int] = {}
    removed = 0
    for name, examples in parts:
        kept = [(t, y) for t, y in examples if t.strip() and t not in held_out]
        removed += len(examples) - len(kept)
        if name in DEV_SOURCES:
            kept, dev_part = carve_dev(kept, dev_fraction)
            if dev_part:
                dev[name] = dev_part
        sources[name] = len(kept)
        data.extend(kept)
    # a text both in the dev split and in training (SMP2020 and FinNSP repeat some texts)
    # would make the dev split look easier than unseen text: it leaves the dev split
    learned = {t for t, _ in data}
    dev = {name: kept for name, examples in dev.items() if (kept := [(t, y) for t, y in examples if t not in learned])}
    if len(data) < 20 or len({y for _, y in data}) < 2:
        raise TrainingDataMissing("训练数据太少或只有一个类别，无法训练风险模型。请检查种子数据和共享数据目录。")
    counts = Counter(y for _, y in data)
    description = {
        "shared_data_dir": str(shared),
        "shared_data_used": shared_available(shared),
        "sources": sources,
        "total": len(data),
        "label_counts": {"0": counts[0], "1": counts[1]},
        "majority_class": 1 if counts[1] > counts[0] else 0,
        "removed_eval_overlap_or_empty": removed,
        "sha256": fingerprint(data),
        "dev": {name: len(examples) for name, examples in dev.items()},
        "dev_fraction": dev_fraction if dev else 0.0,
    }
    return data, dev, description


__all__ = [
    "Example",
    "load_finnsp",
    "load_finfe",
    "load_finfe_training",
    "load_finfe_unseen_eval",
    "load_finfe3",
    "load_finfe3_unseen_eval",
    "finfe3_train_labels",
    "training_and_dev",
    "carve_dev",
    "DEV_FRACTION",
    "load_smp2020",
    "load_seed",
    "load_seed_records",
    "eval_sets",
    "training_set",
    "fingerprint",
    "dedupe",
    "finnsp_text",
]
