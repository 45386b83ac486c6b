"""Abusive-language flag, trained on COLD (Chinese Offensive Language Dataset,
``<shared>/cold_offensive/``, Apache-2.0): ``train.csv`` to learn, ``test.csv`` to
measure; texts of the test split are removed from training.

COLD is about identity-based offence on social media (race, region, gender), not
finance: the flag says "this mention insults or attacks", it is not a risk score.
Model: character 1–3-gram TF-IDF and a logistic regression.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from rcops.classifier.exceptions import TrainingDataMissing
from rcops.classifier.tokenizer import normalize

COLD = "cold_offensive"
THRESHOLD = 0.5


def cold_available(shared_dir: Path) -> bool:
    return (Path(shared_dir) / COLD / "train.csv").is_file()


def load_cold(shared_dir: Path, split: str) -> list[tuple[str, int]]:
    """``(text, label)`` rows of COLD ``train``, ``dev`` or ``test`` (label 1 = offensive)."""
    if split not in ("train", "dev", "test"):
        raise ValueError(f"未知的 COLD 数据划分 {split!r}，只能是 train、dev 或 test")
    path = Path(shared_dir) / COLD / f"{split}.csv"
    if not path.is_file():
        raise TrainingDataMissing(f"找不到数据文件 {path}。请检查共享数据目录设置（RCOPS_SHARED_DATA_DIR）。")
    out = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            label, text = row.get("label"), row.get("TEXT")
            if label not in ("0", "1") or text is None:
                raise TrainingDataMissing(f"数据文件 {path} 第 {i + 2} 行格式不对。请重新复制该文件。")
            out.append((text, int(label)))
    return out


def build_pipeline() -> Pipeline:
    return Pipeline(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char", preprocessor=normalize, lowercase=False, ngram_range=(1, 3),
                    min_df=2, sublinear_tf=True, max_features=200_000,
                ),
            ),
            ("clf", LogisticRegression(C=2.0, max_iter=2000)),
        ]
    )


class AbusiveModel:
    def __init__(self, pipeline: Pipeline, info: dict[str, Any]) -> None:
        self.pipeline = pipeline
        self.info = info
        self._pos = list(pipeline.classes_).index(1)

    def proba(self, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            p = self.pipeline.predict_proba([t or "" for t in texts])
        return [float(x) for x in p[:, self._pos]]

    def flag(self, texts: Sequence[str]) -> list[bool]:
        return [p >= THRESHOLD for p in self.proba(texts)]

    def describe(self) -> dict[str, Any]:
        return dict(self.info)


def train_abusive(shared_dir: Path) -> AbusiveModel:
    """Fit on COLD train (minus texts of the test split)."""
    held_out = {t for t, _ in load_cold(shared_dir, "test")}
    full = load_cold(shared_dir, "train")
    data = [(t, y) for t, y in full if t not in held_out]
    started = time.perf_counter()
    pipeline = build_pipeline()
    pipeline.fit([t for t, _ in data], [y for _, y in data])
    info = {"data": "COLD train.csv", "examples": len(data), "removed_test_overlap": len(full) - len(data),
            "training_seconds": round(time.perf_counter() - started, 2)}
    return AbusiveModel(pipeline, info)


def evaluate_abusive(model: AbusiveModel, shared_dir: Path) -> dict[str, Any]:
    """Precision, recall, F1 of the offensive class and macro-F1 on COLD test, next
    to a majority-class baseline."""
    from rcops.classifier.evaluate import metrics

    test = load_cold(shared_dir, "test")
    y = [label for _, label in test]
    pred = [int(f) for f in model.flag([t for t, _ in test])]
    majority = 1 if sum(y) * 2 > len(y) else 0
    return {"n": len(test), "offensive": sum(y), "model": metrics(y, pred), "majority": metrics(y, [majority] * len(y))}


__all__ = ["AbusiveModel", "train_abusive", "evaluate_abusive", "load_cold", "cold_available", "THRESHOLD"]
