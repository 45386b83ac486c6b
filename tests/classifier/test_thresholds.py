"""Decision points chosen on the dev split: the threshold (kept at 0.5 unless the dev
split clearly prefers another), FinFE's 3-class bins, and the calibration shift."""

from __future__ import annotations

import numpy as np
import pytest

from rcops.classifier.thresholds import NEGATIVE3, NEUTRAL3, POSITIVE3, choose_threshold, choose_three_bins, shift, three_class


def test_threshold_moves_only_for_a_clear_dev_gain() -> None:
    # both sources are perfectly split at 0.4: a clear gain over 0.5
    dev = {"a": ([0.1, 0.2, 0.42, 0.45, 0.9], [0, 0, 1, 1, 1]), "b": ([0.05, 0.41, 0.6], [0, 1, 1])}
    threshold, f1 = choose_threshold(dev)
    assert 0.3 <= threshold <= 0.41 and f1 == {"a": 1.0, "b": 1.0}
    # one text out of many: the gain is below MIN_GAIN, 0.5 stays
    many = {"a": (list(np.linspace(0.51, 0.99, 200)) + [0.45] + list(np.linspace(0.0, 0.3, 200)),
                  [1] * 201 + [0] * 200)}
    assert choose_threshold(many)[0] == 0.5
    assert choose_threshold(many, min_gain=0.0)[0] < 0.5


def test_three_bins_and_the_shift() -> None:
    scores = [0.05, 0.1, 0.3, 0.35, 0.8, 0.9]
    labels = [POSITIVE3, POSITIVE3, NEUTRAL3, NEUTRAL3, NEGATIVE3, NEGATIVE3]
    low, high, macro = choose_three_bins(scores, labels)
    assert macro == 1.0 and 0.1 < low <= 0.3 and 0.35 < high <= 0.8
    assert three_class(scores, low, high) == labels
    shifted = shift(np.array([0.2, 0.4, 0.9]), 0.4)
    assert shifted[1] == pytest.approx(0.5) and shifted[0] < 0.5 < shifted[2]
    assert list(shift(np.array([0.2, 0.7]), 0.5)) == [0.2, 0.7]
