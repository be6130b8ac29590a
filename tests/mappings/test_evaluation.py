"""The matcher's calibration (#15): monotone by pooling adjacent violators, steps that stand on
enough candidates, the worst band measured as the evaluation measures it, and a choice made
inside the training half that prefers the finest calibration meeting the target."""

from __future__ import annotations

import numpy as np

from kll_graph.mappings.evaluation import (
    BAND_MINIMUM,
    Shortlist,
    calibrators,
    choose_calibration,
    conditional_logit,
    fit_weights,
    isotonic_knots,
    stepped_knots,
    worst_gap,
)
from kll_graph.mappings.fitted import FEATURES
from kll_graph.mappings.matcher import Model


def test_isotonic_knots_pool_adjacent_violators() -> None:
    raw = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    right = np.array([0.0, 1.0, 0.0, 0.0, 1.0, 1.0])
    knots = isotonic_knots(raw, right, bins=6)
    # 0.2 (right) and 0.3, 0.4 (wrong) break monotony: pooled into one block, share 1/3
    assert knots == ((0.0, 0.0), (0.1, 0.0), (0.3, 0.3333), (0.55, 1.0), (1.0, 1.0))
    ys = [y for _, y in knots]
    assert ys == sorted(ys)


def test_steps_stand_on_enough_candidates_and_rise() -> None:
    rng = np.random.default_rng(7)
    raw = rng.random(4000)
    right = (rng.random(4000) < raw).astype(float)  # the raw probability is right on average
    error = 0.025
    knots = stepped_knots(raw, right, error)
    model = Model((), knots)
    confidence = model.calibrate_all(raw)
    levels = [y for _, y in knots[::2]]  # a step's two ends hold its share
    assert 3 <= len(levels) < 20
    for level in levels:
        members = np.isclose(confidence, level, atol=1e-6)
        share = float(right[members].mean())
        assert abs(share - level) < 0.01  # each step says its own share right
        # (a candidate within 0.0001 of a cut is interpolated between two steps)
        assert members.sum() + 2 >= max(30, share * (1 - share) / error**2)
    assert [y for _, y in knots] == sorted(y for _, y in knots)


def test_worst_gap_counts_only_bands_of_at_least_fifty() -> None:
    confidence = np.array([0.95] * BAND_MINIMUM + [0.55] * (BAND_MINIMUM - 1))
    right = np.array([1.0] * (BAND_MINIMUM - 5) + [0.0] * 5 + [0.0] * (BAND_MINIMUM - 1))
    assert abs(worst_gap(confidence, right) - abs(0.9 - 0.95)) < 1e-9  # the 0.55 band is too small


def _rows(n: int, seed: int) -> list[Shortlist]:
    """Subjects with ten candidates each whose one feature predicts being right."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        signal = rng.normal(size=10)
        vectors = np.zeros((10, len(FEATURES)))
        vectors[:, 0], vectors[:, 6] = 1.0, signal
        right = (rng.random(10) < 1 / (1 + np.exp(-(2 * signal - 2)))).astype(float)
        rows.append(Shortlist(f"s{i}", [f"t{i}-{k}" for k in range(10)], vectors, right))
    return rows


def test_the_calibration_is_chosen_finest_first_from_the_training_rows_alone() -> None:
    rows = _rows(1500, 3)
    name, _ = choose_calibration(rows)
    names = [n for n, _ in calibrators()]
    assert name in names
    assert choose_calibration(rows)[0] == name  # deterministic
    # a well-specified model on plenty of rows meets the target with the finest calibration
    assert name == names[0]


def test_the_conditional_logit_orders_each_subjects_own_candidates() -> None:
    # Within each subject the right candidate has the higher cos_sv, but subjects differ in how
    # high all their cosines are, and the right ones of low subjects lie below the wrong ones
    # of high subjects: a within-subject order, which the conditional logit is fitted to.
    rng = np.random.default_rng(11)
    rows = []
    cos = FEATURES.index("cos_sv")
    for i in range(200):
        level = rng.random()
        vectors = np.zeros((4, len(FEATURES)))
        vectors[:, 0] = 1.0
        vectors[:, cos] = level + np.array([0.3, 0.2, 0.1, 0.0])
        right = np.array([1.0, 0.0, 0.0, 0.0])
        rows.append(Shortlist(f"s{i}", [f"t{i}-{k}" for k in range(4)], vectors, right, right))
    order = conditional_logit(rows)
    assert order[cos] > 5 and abs(order[0]) < 1e-6  # the bias cancels in a softmax
    weights = fit_weights(rows)
    for row in rows:
        scores = row.vectors @ weights
        assert int(np.argmax(scores)) == 0  # the right candidate first in every subject
        probability = 1 / (1 + np.exp(-scores))
        assert 0.0 < probability[0] < 1.0
