"""Inter-rater agreement checked against Shrout & Fleiss (1979), hand computations and simulated raters."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from evaluation.assessment.agreement import combine, icc, kendall_w, mean_squares, spread

# Shrout & Fleiss (1979), Psychological Bulletin 86(2), Table 2: 6 targets rated by 4 judges.
SF_TABLE_2 = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
# Their Table 3 / 4, as published (two decimals).
SF_PUBLISHED = {"BMS": 11.24, "WMS": 6.26, "JMS": 32.49, "EMS": 1.02, "ICC(2,1)": 0.29, "ICC(2,4)": 0.62}


def _hand_icc() -> tuple[Fraction, Fraction, dict[str, Fraction]]:
    """ICC(2,1) and ICC(2,4) of Table 2 in exact rational arithmetic, from raw sums (no numpy)."""
    y = [[Fraction(v) for v in row] for row in SF_TABLE_2]
    n, k = len(y), len(y[0])
    total = sum(sum(r) for r in y)
    correction = total * total / (n * k)
    ss_total = sum(v * v for r in y for v in r) - correction
    ss_rows = sum(sum(r) ** 2 for r in y) / k - correction
    ss_cols = sum(sum(r[j] for r in y) ** 2 for j in range(k)) / n - correction
    ss_err = ss_total - ss_rows - ss_cols
    bms, jms, ems = ss_rows / (n - 1), ss_cols / (k - 1), ss_err / ((n - 1) * (k - 1))
    wms = (ss_cols + ss_err) / (n * (k - 1))
    icc21 = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
    icc2k = (bms - ems) / (bms + (jms - ems) / n)
    return icc21, icc2k, {"BMS": bms, "JMS": jms, "EMS": ems, "WMS": wms}


def test_icc_matches_shrout_fleiss_table_2_as_published() -> None:
    assert icc(SF_TABLE_2, average=False) == pytest.approx(SF_PUBLISHED["ICC(2,1)"], abs=1e-2)
    assert icc(SF_TABLE_2) == pytest.approx(SF_PUBLISHED["ICC(2,4)"], abs=1e-2)
    ms = mean_squares(SF_TABLE_2)
    for name, got in {"BMS": ms.bms, "WMS": ms.wms, "JMS": ms.jms, "EMS": ms.ems}.items():
        assert got == pytest.approx(SF_PUBLISHED[name], abs=5e-3), name


def test_icc_matches_an_exact_hand_computation_to_1e_6() -> None:
    icc21, icc2k, ms_exact = _hand_icc()
    assert icc(SF_TABLE_2, average=False) == pytest.approx(float(icc21), abs=1e-6)
    assert icc(SF_TABLE_2) == pytest.approx(float(icc2k), abs=1e-6)
    ms = mean_squares(SF_TABLE_2)
    assert (ms.bms, ms.jms, ms.ems, ms.wms) == pytest.approx(
        tuple(float(ms_exact[k]) for k in ("BMS", "JMS", "EMS", "WMS")), abs=1e-9
    )
    # The exact values themselves (hand-checked: ICC(2,1) = 368/1270, ICC(2,4) = 1472/2374).
    assert icc21 == Fraction(368, 1270) and icc2k == Fraction(1472, 2374)


def test_icc_is_invariant_to_the_order_of_targets_and_raters() -> None:
    y = np.array(SF_TABLE_2, dtype=float)
    rng = np.random.default_rng(3)
    shuffled = y[rng.permutation(6)][:, rng.permutation(4)]
    assert icc(shuffled) == pytest.approx(icc(y), abs=1e-12)


def test_icc_punishes_a_rater_offset_that_consistency_would_ignore() -> None:
    """ICC(2,·) is absolute agreement: a constant offset between raters lowers it."""
    base = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    same = np.column_stack([base, base])
    shifted = np.column_stack([base, base + 15])
    assert icc(same) == pytest.approx(1.0)
    assert icc(shifted) < 0.9


def test_agreement_falls_as_rater_noise_rises() -> None:
    rng = np.random.default_rng(11)
    truth = rng.uniform(20, 90, size=40)
    noise_levels = [1.0, 5.0, 15.0, 40.0]
    iccs, ws = [], []
    for sd in noise_levels:
        reps = [truth[:, None] + rng.normal(0, sd, size=(40, 5)) for _ in range(20)]
        iccs.append(np.mean([icc(r) for r in reps]))
        ws.append(np.mean([kendall_w(r) for r in reps]))
    assert all(a > b for a, b in itertools.pairwise(iccs)), iccs
    assert all(a > b for a, b in itertools.pairwise(ws)), ws
    assert iccs[0] > 0.99 and iccs[-1] < 0.8
    # ICC(2,k) of k equally noisy raters: var_t / (var_t + sd²/k) (Spearman-Brown), checked loosely.
    var_t = (90 - 20) ** 2 / 12
    for sd, got in zip(noise_levels, iccs, strict=True):
        assert got == pytest.approx(var_t / (var_t + sd**2 / 5), abs=0.05)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    n = len(a)
    return 1 - 6 * float(((ra - rb) ** 2).sum()) / (n * (n * n - 1))


def test_kendall_w_agrees_with_the_mean_spearman_identity_without_ties() -> None:
    """Without ties, mean pairwise Spearman rho = (m·W − 1)/(m − 1) (Kendall & Babington Smith)."""
    rng = np.random.default_rng(5)
    y = rng.normal(size=(8, 1)) + rng.normal(scale=0.8, size=(8, 4))
    m = y.shape[1]
    rhos = [_spearman(y[:, i], y[:, j]) for i, j in itertools.combinations(range(m), 2)]
    assert (m * kendall_w(y) - 1) / (m - 1) == pytest.approx(np.mean(rhos), abs=1e-12)


def test_kendall_w_by_hand_three_judges_four_objects() -> None:
    """Rankings (1,2,3,4), (2,1,3,4), (1,3,2,4): rank sums 4, 6, 8, 12; mean 7.5; S = 12.25+2.25+0.25+20.25 = 35;
    W = 12·35 / (3²·(4³ − 4)) = 420/540."""
    y = np.array([[1, 2, 1], [2, 1, 3], [3, 3, 2], [4, 4, 4]], dtype=float)
    assert kendall_w(y) == pytest.approx(420 / 540, abs=1e-12)
    assert kendall_w(y * 10 + 3) == pytest.approx(420 / 540, abs=1e-12)  # only the order counts


def test_kendall_w_tie_correction() -> None:
    y = np.array([[1.0, 1.0], [1.0, 2.0], [3.0, 3.0]])  # the first rater ties two targets
    # Rank sums 1.5+1, 1.5+2, 3+3 = 2.5, 3.5, 6; S = 6.5; T = 2³ − 2 = 6; W = 78 / (4·24 − 2·6) = 78/84.
    assert kendall_w(y) == pytest.approx(78 / 84, abs=1e-12)


def test_combine_and_spread() -> None:
    assert combine([70, 80, 90], "median") == (80.0, pytest.approx(10 / math.sqrt(3) * math.sqrt(math.pi / 2)))
    assert combine([0, 50, 52, 54, 100], "trimmed_mean", trim=0.2)[0] == 52.0
    value, se = combine([3])
    assert value == 3.0 and math.isnan(se)
    assert spread([60, 90, 75]) == 30.0
    with pytest.raises(ValueError, match="at least one"):
        combine([])


def test_refuses_incomplete_or_tiny_matrices() -> None:
    with pytest.raises(ValueError, match="complete"):
        icc([[1, 2], [3, float("nan")]])
    with pytest.raises(ValueError, match="at least 2 targets"):
        icc([[1, 2, 3]])
    assert math.isnan(icc([[4, 4], [4, 4]]))
