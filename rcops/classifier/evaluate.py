"""Measure a risk model on the evaluation sets that exist in the shared folder.

Sets: ``finnsp`` (FinNSP eval), ``finfe_unseen`` (FinFE eval texts unseen in
train), ``smp2020_usual`` and ``smp2020_virus`` (SMP2020-EWECT usual / virus
test, angry/sad/fear = negative; never trained on). For each, the model is
compared with baselines at threshold 0.5 (of the model's score as calibrated on
the dev split, :mod:`rcops.classifier.thresholds`):

* ``majority`` — always predicts the majority class of the model's training data;
* ``lexicon`` — predicts negative when the text contains any word of
  :data:`NEGATIVE_LEXICON`;
* ``snownlp`` — SnowNLP's sentiment (probability of positive) below 0.5, when the
  ``snownlp`` package is installed. SnowNLP is slow (~25 ms a text), so its
  predictions are cached on disk by text hash (``<data_dir>/cache/snownlp.json``).

Reported per system: precision, recall and F1 of the negative class (label 1)
as ``precision``, ``recall``, ``negative_f1``, the F1 of the other class
``not_negative_f1``, and macro-F1 over both classes ``macro_f1``.

``finfe_unseen_3class``: the same FinFE unseen texts with their three labels
(negative / neutral / positive), macro-F1 over the three. The model maps its
(calibrated) risk score to three bins with cut points chosen on FinFE's dev texts
at training time (``metadata["finfe_3class_bins"]``); it is a binary model, so
this measures how far its score also orders neutral above positive. Baselines:
``majority`` (FinFE train's most frequent label, positive), ``lexicon`` (negative
on a lexicon hit, else positive), ``snownlp`` (P(positive) below 1/3 negative,
above 2/3 positive; fixed, not tuned).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sklearn.metrics import f1_score, precision_recall_fscore_support

from rcops.classifier import thresholds
from rcops.classifier.data import FINCUGE, Example, eval_sets, load_finfe3, load_finfe3_unseen_eval
from rcops.classifier.model import RiskModel
from rcops.store.settings import Settings

log = logging.getLogger(__name__)

THRESHOLD = 0.5

#: Words whose presence makes the lexicon baseline call a text negative.
NEGATIVE_LEXICON: tuple[str, ...] = (
    "逾期", "催收", "诈骗", "骗局", "被骗", "跑路", "爆雷", "暴雷", "投诉", "维权",
    "违规", "违法", "处罚", "罚款", "冻结", "泄露", "非法集资", "集资", "套路贷",
    "失联", "立案", "起诉", "被查", "调查", "逮捕", "拘留", "涉嫌", "经侦",
    "风险", "亏损", "暴跌", "跌停", "割肉", "退市", "违约", "坏账", "不良",
    "老赖", "黑名单", "拒贷", "故障", "无法登录", "崩溃", "骗子", "欺诈",
    "骂", "愤怒", "气死", "难过", "伤心", "害怕", "恐慌", "担心", "失望",
)

SET_TITLES = {
    "finnsp": "FinNSP 验证集",
    "finfe_unseen": "FinFE 未见验证集",
    "smp2020_usual": "SMP2020 通用测试集",
    "smp2020_virus": "SMP2020 疫情测试集",
}
SYSTEMS = {"model": "模型", "majority": "多数类基线", "lexicon": "关键词基线", "snownlp": "SnowNLP"}


def lexicon_predict(texts: Sequence[str]) -> list[int]:
    return [int(any(w in t for w in NEGATIVE_LEXICON)) for t in texts]


def snownlp_available() -> bool:
    try:
        import snownlp  # noqa: F401
    except ImportError:
        return False
    return True


class SnowNLPBaseline:
    """SnowNLP sentiment as a baseline: negative when P(positive) < 0.5.

    Probabilities are cached in a JSON file keyed by the sha1 of the text, written
    atomically, so a second ``rcops evaluate`` does not pay SnowNLP's cost again."""

    def __init__(self, cache_file: Path | None = None) -> None:
        self.cache_file = cache_file
        self.cache: dict[str, float] = {}
        if cache_file is not None and cache_file.is_file():
            try:
                loaded = json.loads(cache_file.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    self.cache = {str(k): float(v) for k, v in loaded.items()}
            except (ValueError, TypeError, UnicodeDecodeError):
                log.warning("SnowNLP 缓存文件 %s 已损坏，将重新计算。", cache_file)
        self._dirty = False

    def positive(self, texts: Sequence[str]) -> list[float]:
        from snownlp import SnowNLP

        out = []
        for text in texts:
            key = hashlib.sha1(text.encode("utf-8")).hexdigest()
            if key not in self.cache:
                self.cache[key] = float(SnowNLP(text).sentiments) if text.strip() else 0.5
                self._dirty = True
            out.append(self.cache[key])
        return out

    def predict(self, texts: Sequence[str]) -> list[int]:
        return [int(p < THRESHOLD) for p in self.positive(texts)]

    def flush(self) -> None:
        if not self._dirty or self.cache_file is None:
            return
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="snownlp.", suffix=".tmp", dir=self.cache_file.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.cache, fh)
        os.replace(tmp, self.cache_file)
        self._dirty = False


def metrics(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, float]:
    """Precision, recall and F1 of the negative class, F1 of the other, macro-F1."""
    p, r, f, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=[1, 0], average=None, zero_division=0
    )
    macro = f1_score(y_true, y_pred, labels=[0, 1], average="macro", zero_division=0)
    return {
        "precision": round(float(p[0]), 4),
        "recall": round(float(r[0]), 4),
        "negative_f1": round(float(f[0]), 4),
        "not_negative_f1": round(float(f[1]), 4),
        "macro_f1": round(float(macro), 4),
    }


def evaluate_examples(
    model: RiskModel,
    examples: Sequence[Example],
    majority_class: int,
    snow: SnowNLPBaseline | None = None,
    threshold: float = THRESHOLD,
) -> dict[str, Any]:
    texts = [t for t, _ in examples]
    y = [label for _, label in examples]
    scores = model.score(texts)
    out: dict[str, Any] = {
        "n": len(examples),
        "negatives": sum(y),
        "model": metrics(y, [int(s >= threshold) for s in scores]),
        "majority": metrics(y, [majority_class] * len(y)),
        "lexicon": metrics(y, lexicon_predict(texts)),
    }
    if snow is not None:
        out["snownlp"] = metrics(y, snow.predict(texts))
    return out


THREE_CLASS_NAMES = {thresholds.NEGATIVE3: "negative", thresholds.NEUTRAL3: "neutral", thresholds.POSITIVE3: "positive"}


def metrics3(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, Any]:
    """3-class macro-F1, accuracy and per-class F1 (FinFE labels)."""
    labels = list(THREE_CLASS_NAMES)
    per = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {
        "macro_f1": round(thresholds.macro_f1_3(y_true, y_pred), 4),
        "accuracy": round(sum(int(a == b) for a, b in zip(y_true, y_pred, strict=True)) / max(len(y_true), 1), 4),
        "per_class_f1": {THREE_CLASS_NAMES[k]: round(float(f), 4) for k, f in zip(labels, per, strict=True)},
    }


def evaluate_finfe_3class(model: RiskModel, shared: Path, snow: SnowNLPBaseline | None = None) -> dict[str, Any] | None:
    """FinFE unseen eval as 3 classes (see the module docstring); None when the data or
    the model's bins (a model trained without the shared data) are missing."""
    bins = model.metadata.get("finfe_3class_bins")
    folder = shared / FINCUGE
    if not bins or not (folder / "finfe_eval.json").is_file() or not (folder / "finfe_train.json").is_file():
        return None
    examples = load_finfe3_unseen_eval(shared)
    texts = [t for t, _ in examples]
    y = [label for _, label in examples]
    train_labels = [label for _, label in load_finfe3(shared, "train")]
    majority = max(THREE_CLASS_NAMES, key=train_labels.count)
    out: dict[str, Any] = {
        "n": len(examples),
        "counts": {THREE_CLASS_NAMES[k]: y.count(k) for k in THREE_CLASS_NAMES},
        "bins": {"low": bins["low"], "high": bins["high"]},
        "model": metrics3(y, thresholds.three_class(model.score(texts), bins["low"], bins["high"])),
        "majority": metrics3(y, [majority] * len(y)),
        "lexicon": metrics3(y, [thresholds.NEGATIVE3 if hit else thresholds.POSITIVE3 for hit in lexicon_predict(texts)]),
    }
    if snow is not None:
        out["snownlp"] = metrics3(y, thresholds.three_class([1 - p for p in snow.positive(texts)], 1 / 3, 2 / 3))
    return out


def evaluate(model: RiskModel, settings: Settings, snownlp: bool = True, category_cv: bool = False) -> dict[str, Any]:
    """Scores of *model* and the baselines on every evaluation set present
    (SnowNLP too when *snownlp* and the package is installed); the abusive-language
    model on COLD test when both exist; with *category_cv*, the category model's
    5-fold cross-validation on the seed set.

    The result is also stored in ``model.metadata["metrics"]`` (saved with the model
    the next time it is saved)."""
    majority = int(model.metadata.get("data", {}).get("majority_class", 0))
    threshold = float(model.metadata.get("threshold", THRESHOLD))
    sets = eval_sets(Path(settings.shared_data_dir))
    snow = SnowNLPBaseline(Path(settings.data_dir) / "cache" / "snownlp.json") if snownlp and snownlp_available() else None
    try:
        per_set = {name: evaluate_examples(model, ex, majority, snow, threshold) for name, ex in sets.items()}
        three = evaluate_finfe_3class(model, Path(settings.shared_data_dir), snow)
    finally:
        if snow is not None:
            snow.flush()
    result: dict[str, Any] = {
        "model_version": model.version,
        "threshold": threshold,
        "majority_class": majority,
        "sets": per_set,
    }
    if three is not None:
        result["finfe_unseen_3class"] = three
    shared = Path(settings.shared_data_dir)
    if model.abusive is not None and (shared / "cold_offensive" / "test.csv").is_file():
        from rcops.classifier.abusive import evaluate_abusive

        result["abusive"] = evaluate_abusive(model.abusive, shared)
    if category_cv:
        from rcops.classifier.category import cross_validate

        result["category_cv"] = cross_validate()
    model.metadata["metrics"] = result
    return result


def as_json(result: dict[str, Any]) -> dict[str, Any]:
    """The shape of ``rcops evaluate --json``: one object keyed by evaluation set,
    each holding per-method results, plus ``_meta`` with the model version."""
    out: dict[str, Any] = {
        name: {"n": res["n"], "negatives": res["negatives"],
               **{k: v for k, v in res.items() if k in SYSTEMS}}
        for name, res in result.get("sets", {}).items()
    }
    if "finfe_unseen_3class" in result:
        out["finfe_unseen_3class"] = result["finfe_unseen_3class"]
    if "abusive" in result:
        out["cold_offensive"] = result["abusive"]
    if "category_cv" in result:
        out["category_cv"] = result["category_cv"]
    out["_meta"] = {k: result.get(k) for k in ("model_version", "threshold", "majority_class")}
    return out


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table of :func:`evaluate`'s result, one row per set and system."""
    header = ("数据集", "样本数", "负面数", "方法", "精确率", "召回率", "F1(负面)", "宏F1")
    rows: list[tuple[str, ...]] = []
    for name, res in result.get("sets", {}).items():
        for key, label in SYSTEMS.items():
            if key not in res:
                continue
            m = res[key]
            rows.append((
                SET_TITLES.get(name, name), str(res["n"]), str(res["negatives"]), label,
                f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['negative_f1']:.3f}", f"{m['macro_f1']:.3f}",
            ))
    if not rows:
        return "没有可用的评估数据集（共享数据目录不存在）。"

    def width(s: str) -> int:  # CJK characters take two columns
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

    cols = [max(width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: Sequence[str]) -> str:
        return "  ".join(c + " " * (w - width(c)) for c, w in zip(r, cols, strict=True)).rstrip()

    out = [
        f"模型 {result.get('model_version', '')}，阈值 {result.get('threshold', THRESHOLD)}，"
        f"多数类基线预测 {result.get('majority_class')}",
        line(header),
        "  ".join("-" * w for w in cols),
    ]
    out += [line(r) for r in rows]
    three = result.get("finfe_unseen_3class")
    if three:
        out.append(f"FinFE 未见验证集三分类（消极/中性/积极 {three['counts']['negative']}/{three['counts']['neutral']}/"
                   f"{three['counts']['positive']} 条；模型按风险分分三档，分档点 {three['bins']['low']:.2f}/"
                   f"{three['bins']['high']:.2f} 取自开发集）宏F1："
                   + "，".join(f"{SYSTEMS[k]} {three[k]['macro_f1']:.3f}" for k in SYSTEMS if k in three))
    ab = result.get("abusive")
    if ab:
        m, b = ab["model"], ab["majority"]
        out.append(f"辱骂语言（COLD 测试集 {ab['n']} 条，其中攻击性 {ab['offensive']} 条）：模型 精确率 {m['precision']:.3f} "
                   f"召回率 {m['recall']:.3f} F1 {m['negative_f1']:.3f} 宏F1 {m['macro_f1']:.3f}；"
                   f"多数类基线 宏F1 {b['macro_f1']:.3f}")
    cv = result.get("category_cv")
    if cv:
        out.append(f"风险类别（种子集 {cv['n']} 条，{cv['folds']} 折交叉验证）宏F1：模型+关键词 {cv['combined']['macro_f1']:.3f}，"
                   f"仅模型 {cv['model']['macro_f1']:.3f}，仅关键词 {cv['rules']['macro_f1']:.3f}")
        out.append("  各类 F1：" + "，".join(f"{k} {v:.2f}" for k, v in cv["combined"]["per_category_f1"].items()))
    return "\n".join(out)


__all__ = [
    "evaluate", "evaluate_examples", "evaluate_finfe_3class", "format_table", "lexicon_predict", "metrics", "metrics3",
    "as_json",
    "SnowNLPBaseline", "snownlp_available", "NEGATIVE_LEXICON", "THRESHOLD",
]
