"""The risk model: probability that a mention is negative / risky.

A scikit-learn Pipeline — word uni+bi-gram TF-IDF over :func:`tokenize` and
character 1–3-gram TF-IDF in a FeatureUnion, then a class-balanced
LogisticRegression — wrapped in :class:`RiskModel` with a version and metadata.
It learns from the training splits less a dev split (:mod:`rcops.classifier.data`),
on which the decision threshold and FinFE's 3-class bins are chosen
(:mod:`rcops.classifier.thresholds`).

Model file (``save``/``load``): a joblib file holding a dict with a format tag,
the metadata (versions, training data fingerprint, metrics) and the pickled
pipeline as bytes. The metadata is checked *before* the pipeline is unpickled;
a file written by another scikit-learn major.minor, or a corrupt one, is refused
with :class:`ModelFileError` telling the operator to run ``rcops train``.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import pickle
import platform
import tempfile
import time
import warnings
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from rcops.classifier import tokenizer
from rcops.classifier import thresholds
from rcops.classifier.data import Example, finfe3_train_labels, training_and_dev
from rcops.classifier.exceptions import ModelFileError
from rcops.classifier.tokenizer import normalize, tokenize
from rcops.store.settings import Settings

log = logging.getLogger(__name__)

FILE_FORMAT = "rcops-risk-model/1"
CURRENT_FILE = "risk-current.joblib"


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def build_pipeline() -> Pipeline:
    """An unfitted pipeline with the product's settings."""
    words = TfidfVectorizer(
        tokenizer=tokenize,
        preprocessor=normalize,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        min_df=2,
        max_df=0.5,
        sublinear_tf=True,
    )
    chars = TfidfVectorizer(
        analyzer="char",
        preprocessor=normalize,
        lowercase=False,
        # single characters too: SMP2020 usual negative F1 0.699 -> 0.735, virus 0.758 -> 0.775,
        # FinNSP and FinFE unchanged (and dev mean F1 0.793 -> 0.796)
        ngram_range=(1, 3),
        min_df=2,
        max_df=0.5,
        sublinear_tf=True,
        max_features=300_000,
    )
    return Pipeline(
        [
            ("features", FeatureUnion([("words", words), ("chars", chars)])),
            ("clf", LogisticRegression(class_weight="balanced", C=4.0, max_iter=2000)),
        ]
    )


class RiskModel:
    """A fitted risk pipeline with its version and metadata."""

    def __init__(
        self, pipeline: Pipeline, version: str, metadata: dict[str, Any], extras: dict[str, Any] | None = None
    ) -> None:
        self.pipeline = pipeline
        self.version = version
        self.metadata = metadata
        #: companion models saved in the same file: "category" (CategoryModel),
        #: "abusive" (AbusiveModel); absent in files of older versions
        self.extras: dict[str, Any] = dict(extras or {})
        classes = list(pipeline.classes_)
        if 1 not in classes:
            raise ModelFileError("模型不含“负面”类别（标签 1），无法使用。请运行 `rcops train` 重新训练。")
        self._pos = classes.index(1)
        #: the decision threshold chosen on the dev split; scores are calibrated so it reads 0.5
        self.calibration = float(metadata.get("calibration", {}).get("threshold", 0.5))

    def score(self, texts: Sequence[str]) -> list[float]:
        """Probability of label 1 (negative / risky) for each text."""
        if not texts:
            return []
        # The inputs are plain strings we control: skip sklearn's per-call validation,
        # which costs more than the scoring itself for one short text.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            proba = self.pipeline.predict_proba([t or "" for t in texts])
        return [float(p) for p in thresholds.shift(proba[:, self._pos], self.calibration)]

    def score_one(self, text: str) -> float:
        return self.score([text])[0]

    @property
    def category(self) -> Any:
        """The category model saved with this model, or None."""
        return self.extras.get("category")

    @property
    def abusive(self) -> Any:
        """The abusive-language model saved with this model, or None."""
        return self.extras.get("abusive")

    def __repr__(self) -> str:
        return f"RiskModel(version={self.version!r})"


def _versions() -> dict[str, str]:
    return {
        "sklearn": sklearn.__version__,
        "jieba": importlib.metadata.version("jieba"),
        "numpy": np.__version__,
        "joblib": joblib.__version__,
        "python": platform.python_version(),
    }


def train(settings: Settings, extra: Iterable[Example] = (), with_extras: bool = True,
          category_extra: Iterable[tuple[str, str]] = ()) -> RiskModel:
    """Fit a new model on :func:`training_set` (shared data when present, the seed set,
    and *extra* operator labels), with the companion category model (seed set plus
    *category_extra*, operators' ``(text, category)`` labels) and (when the COLD data
    set is present) the abusive-language model."""
    tokenizer.configure(Path(settings.data_dir) / "cache")
    data, dev, description = training_and_dev(settings, extra)
    texts = [t for t, _ in data]
    labels = np.array([y for _, y in data])
    started = time.perf_counter()
    pipeline = build_pipeline()
    pipeline.fit(texts, labels)
    seconds = time.perf_counter() - started
    now = datetime.now(UTC)
    version = "risk-" + now.strftime("%Y%m%dT%H%M%S")
    metadata: dict[str, Any] = {
        "format": FILE_FORMAT,
        "versions": _versions(),
        "trained_at": now.isoformat(timespec="seconds"),
        "training_seconds": round(seconds, 2),
        "data": description,
        "params": {
            "features": "word 1-2gram tfidf (jieba + domain dict) + char 1-3gram tfidf",
            "classifier": "LogisticRegression(class_weight='balanced', C=4.0)",
        },
    }
    if dev:
        metadata.update(_calibrate(pipeline, dev, Path(settings.shared_data_dir)))
    log.info("风险模型 %s 训练完成：%d 条样本，用时 %.1f 秒", version, len(data), seconds)
    extras: dict[str, Any] = {}
    if with_extras:
        from rcops.classifier.category import CategoryModel

        extras["category"], metadata["category"] = CategoryModel.fit_with_labels(category_extra)
        from rcops.classifier.abusive import cold_available, train_abusive

        if cold_available(Path(settings.shared_data_dir)):
            extras["abusive"] = train_abusive(Path(settings.shared_data_dir))
            metadata["abusive"] = extras["abusive"].describe()
    return RiskModel(pipeline, version, metadata, extras)


def _calibrate(pipeline: Pipeline, dev: dict[str, list[Example]], shared: Path) -> dict[str, Any]:
    """The decision threshold (as a calibration) and FinFE's 3-class bins, both chosen
    on the dev split; the dev scores at the chosen threshold are kept for the record."""
    names = list(dev)
    texts = [t for name in names for t, _ in dev[name]]
    classes = list(pipeline.classes_)
    with sklearn.config_context(assume_finite=True):
        raw = pipeline.predict_proba(texts)[:, classes.index(1)]
    by_source, start = {}, 0
    for name in names:
        n = len(dev[name])
        by_source[name] = (raw[start:start + n], [y for _, y in dev[name]])
        start += n
    threshold, f1 = thresholds.choose_threshold(by_source)
    out: dict[str, Any] = {"calibration": {
        "threshold": threshold,
        "how": "dev split threshold with the best mean negative F1 over its sources; scores shifted on the "
               "logit scale so that it reads 0.5",
        "dev_negative_f1": f1,
        "dev_sizes": {name: len(dev[name]) for name in names},
    }}
    if "finfe_train_dedup" in dev:
        labels3 = finfe3_train_labels(shared)
        scores, _ = by_source["finfe_train_dedup"]
        pairs = [(float(s), labels3[t]) for s, (t, _) in
                 zip(thresholds.shift(scores, threshold), dev["finfe_train_dedup"], strict=True) if t in labels3]
        low, high, macro = thresholds.choose_three_bins([s for s, _ in pairs], [y for _, y in pairs])
        out["finfe_3class_bins"] = {"low": low, "high": high, "dev_macro_f1": macro, "dev_n": len(pairs),
                                    "how": "calibrated score >= high: negative, < low: positive, else neutral; "
                                           "cut points with the best 3-class macro-F1 on FinFE's dev texts"}
    return out


def save(model: RiskModel, path: str | Path) -> Path:
    """Write *model* to *path* atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FILE_FORMAT,
        "version": model.version,
        "metadata": model.metadata,
        "pipeline": pickle.dumps(model.pipeline, protocol=pickle.HIGHEST_PROTOCOL),
        "extras": pickle.dumps(model.extras, protocol=pickle.HIGHEST_PROTOCOL),
    }
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            joblib.dump(payload, fh, compress=3)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _refuse(path: Path, why: str) -> ModelFileError:
    return ModelFileError(f"模型文件 {path} 无法使用：{why}。请运行 `rcops train` 重新训练模型。")


def _read_payload(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise _refuse(path, "文件不存在")
    try:
        payload = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        raise _refuse(path, f"文件已损坏或不是 rcops 模型文件（{type(exc).__name__}）") from exc
    if not isinstance(payload, dict) or payload.get("format") != FILE_FORMAT:
        raise _refuse(path, "不是 rcops 风险模型文件，或文件格式版本不符")
    if not isinstance(payload.get("metadata"), dict) or not isinstance(payload.get("pipeline"), bytes):
        raise _refuse(path, "文件内容不完整")
    return payload


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of a model file, without unpickling the scikit-learn objects."""
    return dict(_read_payload(Path(path))["metadata"])


def read_header(path: str | Path) -> tuple[str, dict[str, Any]]:
    """The version and metadata of a model file, without unpickling the pipeline."""
    payload = _read_payload(Path(path))
    return str(payload.get("version", "")), dict(payload["metadata"])


def load(path: str | Path) -> RiskModel:
    """Load a model file; refuse corrupt files and files written by another
    scikit-learn major.minor version (:class:`ModelFileError`)."""
    path = Path(path)
    payload = _read_payload(path)
    metadata = payload["metadata"]
    recorded = str(metadata.get("versions", {}).get("sklearn", "未知"))
    if _minor(recorded) != _minor(sklearn.__version__):
        raise _refuse(
            path,
            f"它由 scikit-learn {recorded} 训练，当前安装的是 {sklearn.__version__}，版本不一致",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            pipeline = pickle.loads(payload["pipeline"])
            extras = pickle.loads(payload["extras"]) if isinstance(payload.get("extras"), bytes) else {}
    except InconsistentVersionWarning as exc:
        raise _refuse(path, f"模型内部组件的 scikit-learn 版本不一致（{exc.original_sklearn_version}）") from exc
    except Exception as exc:  # noqa: BLE001
        raise _refuse(path, f"模型内容无法还原（{type(exc).__name__}: {exc}）") from exc
    if not isinstance(pipeline, Pipeline) or not hasattr(pipeline, "classes_"):
        raise _refuse(path, "文件中不是训练好的模型")
    if not isinstance(extras, dict):
        raise _refuse(path, "文件中的附属模型格式不对")
    return RiskModel(pipeline, str(payload.get("version", "")), metadata, extras)


def current_path(settings: Settings) -> Path:
    return Path(settings.model_dir) / CURRENT_FILE


def load_or_train(settings: Settings) -> RiskModel:
    """The current model of ``<model_dir>/risk-current.joblib``; trained and saved when
    the file is missing, retrained and overwritten (with a warning) when refused."""
    tokenizer.configure(Path(settings.data_dir) / "cache")
    path = current_path(settings)
    if path.exists():
        try:
            return load(path)
        except ModelFileError as exc:
            log.warning("%s 现在重新训练并覆盖该文件。", exc)
    else:
        log.info("没有找到模型文件 %s，开始训练。", path)
    model = train(settings)
    from rcops.classifier.versions import save_version  # imports this module

    save_version(model, settings)  # kept as a version, and made current atomically
    return model


__all__ = [
    "RiskModel",
    "build_pipeline",
    "train",
    "save",
    "load",
    "read_metadata",
    "read_header",
    "load_or_train",
    "current_path",
    "CURRENT_FILE",
]
