"""``rcops train`` as a function: fit, measure, keep as a new version, make current.

The model learns from the training splits, the seed set and the operators' labels
(:mod:`rcops.classifier.labels`); it is measured on the evaluation sets (which it
never trains on) and saved with those metrics, the training-data fingerprint and
who labelled what and when, as a new version file that becomes the current model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rcops.classifier import labels as operator_labels
from rcops.classifier.evaluate import evaluate
from rcops.classifier.model import RiskModel, train
from rcops.classifier.versions import save_version
from rcops.store.settings import Settings


@dataclass
class TrainResult:
    model: RiskModel
    path: Path
    metrics: dict[str, Any]


def train_version(
    settings: Settings,
    examples: Sequence[operator_labels.OperatorExample] = (),
    make_current: bool = True,
    category_examples: Sequence[operator_labels.CategoryExample] = (),
) -> TrainResult:
    """Train a new model version (with *examples* and *category_examples* from
    operators), evaluate it on every evaluation set present, save it as a version and
    (by default) switch the current model to it."""
    model = train(settings, extra=[(e.text, e.label) for e in examples],
                  category_extra=[(e.text, e.category) for e in category_examples])
    model.metadata["operator_labels"] = operator_labels.summary(list(examples))
    model.metadata["operator_category_labels"] = operator_labels.category_summary(list(category_examples))
    metrics = evaluate(model, settings, snownlp=False)
    path = save_version(model, settings, make_current=make_current)
    return TrainResult(model, path, metrics)


__all__ = ["TrainResult", "train_version"]
