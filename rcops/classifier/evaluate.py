"""Measure a risk model on the evaluation sets that exist in the shared folder.

Sets: ``finnsp`` (FinNSP eval), ``finfe_unseen`` (FinFE eval texts unseen in
train), ``smp2020_usual`` (SMP2020-EWECT usual test, angry/sad/fear = negative).
For each, the model is compared with two baselines at threshold 0.5:

* ``majority`` — always predicts the majority class of the model's training data;
* ``lexicon`` — predicts negative when the text contains any word of
  :data:`NEGATIVE_LEXICON`.

Reported per system: precision, recall and F1 of the negative class (label 1)
and macro-F1 over both classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sklearn.metrics import f1_score, precision_recall_fscore_support

from rcops.classifier.data import Example, eval_sets
from rcops.classifier.model import RiskModel
from rcops.store.settings import Settings

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
}
SYSTEMS = {"model": "模型", "majority": "多数类基线", "lexicon": "关键词基线"}


def lexicon_predict(texts: Sequence[str]) -> list[int]:
    return [int(any(w in t for w in NEGATIVE_LEXICON)) for t in texts]


def _metrics(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, float]:
    p, r, f, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=[1], average=None, zero_division=0
    )
    macro = f1_score(y_true, y_pred, labels=[0, 1], average="macro", zero_division=0)
    return {
        "precision": round(float(p[0]), 4),
        "recall": round(float(r[0]), 4),
        "f1": round(float(f[0]), 4),
        "macro_f1": round(float(macro), 4),
    }


def evaluate_examples(model: RiskModel, examples: Sequence[Example], majority_class: int) -> dict[str, Any]:
    texts = [t for t, _ in examples]
    y = [label for _, label in examples]
    scores = model.score(texts)
    return {
        "n": len(examples),
        "negatives": sum(y),
        "model": _metrics(y, [int(s >= THRESHOLD) for s in scores]),
        "majority": _metrics(y, [majority_class] * len(y)),
        "lexicon": _metrics(y, lexicon_predict(texts)),
    }


def evaluate(model: RiskModel, settings: Settings) -> dict[str, Any]:
    """Scores of *model* and the two baselines on every evaluation set present.

    The result is also stored in ``model.metadata["metrics"]`` (saved with the model
    the next time it is saved)."""
    majority = int(model.metadata.get("data", {}).get("majority_class", 0))
    sets = eval_sets(Path(settings.shared_data_dir))
    result: dict[str, Any] = {
        "model_version": model.version,
        "threshold": THRESHOLD,
        "majority_class": majority,
        "sets": {name: evaluate_examples(model, ex, majority) for name, ex in sets.items()},
    }
    model.metadata["metrics"] = result
    return result


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table of :func:`evaluate`'s result, one row per set and system."""
    header = ("数据集", "样本数", "负面数", "方法", "精确率", "召回率", "F1(负面)", "宏F1")
    rows: list[tuple[str, ...]] = []
    for name, res in result.get("sets", {}).items():
        for key, label in SYSTEMS.items():
            m = res[key]
            rows.append((
                SET_TITLES.get(name, name), str(res["n"]), str(res["negatives"]), label,
                f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", f"{m['macro_f1']:.3f}",
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
    return "\n".join(out)


__all__ = ["evaluate", "evaluate_examples", "format_table", "lexicon_predict", "NEGATIVE_LEXICON", "THRESHOLD"]
