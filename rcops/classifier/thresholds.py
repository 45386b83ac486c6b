"""Decision points chosen on the dev split (never on an evaluation set).

* :func:`choose_threshold` — the risk score above which a text counts as negative:
  the grid point with the best *mean* negative F1 over the dev split's sources (each
  domain counts alike, so the large stock-forum set does not decide alone), but 0.5
  stays unless the best point gains at least :data:`MIN_GAIN` over it: the dev
  split holds 400–1,100 texts per source, and smaller gains are within its noise
  (measured: a 0.004 dev gain at 0.39 cost 0.006 FinNSP and 0.019 FinFE eval F1).
* :func:`choose_three_bins` — two cut points that map a risk score to FinFE's three
  classes (``score >= high`` negative, ``score < low`` positive, neutral between),
  with the best 3-class macro-F1 on FinFE's dev texts. The risk model is trained on
  negative vs the rest, so this asks how far its score also orders neutral above
  positive; it is not a 3-class model.

The model applies the chosen threshold as a calibration (:func:`shift`): scores are
moved on the logit scale so that the threshold becomes 0.5, and every consumer that
compares a risk score with 0.5 or with the tier criteria reads the calibrated score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.metrics import f1_score

#: FinFE's labels
NEGATIVE3, NEUTRAL3, POSITIVE3 = 0, 1, 2
GRID = tuple(round(x, 2) for x in np.arange(0.30, 0.705, 0.01))
#: mean dev F1 a threshold must gain over 0.5 to replace it
MIN_GAIN = 0.01
BIN_GRID = tuple(round(x, 2) for x in np.arange(0.05, 0.955, 0.01))


def choose_threshold(dev: Mapping[str, tuple[Sequence[float], Sequence[int]]],
                     grid: Sequence[float] = GRID, min_gain: float = MIN_GAIN) -> tuple[float, dict[str, float]]:
    """The grid threshold with the best mean negative F1 over *dev*'s sources
    (``name -> (scores, labels)``); ties go to the threshold nearest 0.5, and 0.5 is
    kept unless the best gains *min_gain*. Returns the threshold and each source's
    negative F1 at it."""
    arrays = {name: (np.asarray(s, dtype=float), np.asarray(y, dtype=int)) for name, (s, y) in dev.items()}

    def per_source(t: float) -> dict[str, float]:
        return {name: float(f1_score(y, (s >= t).astype(int), pos_label=1, zero_division=0))
                for name, (s, y) in arrays.items()}

    def mean(t: float) -> float:
        return round(float(np.mean(list(per_source(t).values()))), 6)

    best = max(grid, key=lambda t: (mean(t), -abs(t - 0.5)))
    if mean(best) < mean(0.5) + min_gain:
        best = 0.5
    return float(best), {k: round(v, 4) for k, v in per_source(best).items()}


def three_class(scores: Sequence[float], low: float, high: float) -> list[int]:
    """FinFE labels from risk scores: negative at or above *high*, positive below *low*."""
    return [NEGATIVE3 if s >= high else POSITIVE3 if s < low else NEUTRAL3 for s in scores]


def macro_f1_3(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    return float(f1_score(y_true, y_pred, labels=[NEGATIVE3, NEUTRAL3, POSITIVE3], average="macro", zero_division=0))


def choose_three_bins(scores: Sequence[float], labels: Sequence[int],
                      grid: Sequence[float] = BIN_GRID) -> tuple[float, float, float]:
    """``(low, high, dev macro-F1)``: the cut points with the best 3-class macro-F1."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=int)
    best = (-1.0, 0.5, 0.5)
    for i, low in enumerate(grid):
        for high in grid[i:]:
            pred = np.where(s >= high, NEGATIVE3, np.where(s < low, POSITIVE3, NEUTRAL3))
            f = macro_f1_3(y, pred)
            if f > best[0] + 1e-9:
                best = (f, float(low), float(high))
    return best[1], best[2], round(best[0], 4)


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def shift(proba: np.ndarray, threshold: float) -> np.ndarray:
    """Probabilities moved on the logit scale so that *threshold* becomes 0.5."""
    if threshold == 0.5:
        return proba
    p = np.clip(proba, 1e-9, 1 - 1e-9)
    return 1.0 / (1.0 + np.exp(-(np.log(p / (1 - p)) - logit(threshold))))


__all__ = ["choose_threshold", "choose_three_bins", "three_class", "macro_f1_3", "shift", "logit",
           "NEGATIVE3", "NEUTRAL3", "POSITIVE3"]
