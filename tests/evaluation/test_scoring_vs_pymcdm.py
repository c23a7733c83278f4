"""Cross-checks of evaluation.scoring against pymcdm (a test-only peer) and Saaty's textbook AHP examples."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from pymcdm import normalizations as pn
from pymcdm.methods import TOPSIS, VIKOR, WSM
from pymcdm.weights import critic_weights as pm_critic
from pymcdm.weights import entropy_weights as pm_entropy
from pymcdm.weights.subjective import AHP

from evaluation import scoring
from evaluation.assessment import weights as aw

TOL = 1e-9


def _problems() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Several decision problems: random sizes, mixed types, positive values, no constant columns."""
    rng = np.random.default_rng(20261122)
    out = []
    for n, m in [(3, 2), (5, 4), (10, 6), (40, 12), (200, 20)]:
        x = rng.uniform(0.5, 100.0, size=(n, m)) * rng.choice([1.0, 10.0, 1000.0], size=m)
        w = rng.dirichlet(np.ones(m))
        t = rng.choice([-1, 1], size=m)
        t[0] = 1
        out.append((x, w, t))
    # A classic textbook matrix (pymcdm's VIKOR docstring example) with integer data.
    out.append(
        (
            np.array(
                [[78, 56, 34, 6], [4, 45, 3, 97], [18, 2, 50, 63], [9, 14, 11, 92], [85, 9, 100, 29]], float
            ),
            np.array([0.25, 0.25, 0.25, 0.25]),
            np.array([1, 1, -1, 1]),
        )
    )
    return out


PROBLEMS = _problems()
IDS = [f"{x.shape[0]}x{x.shape[1]}" for x, _, _ in PROBLEMS]


@pytest.mark.parametrize(("x", "w", "t"), PROBLEMS, ids=IDS)
def test_topsis_minmax_matches_pymcdm(x: np.ndarray, w: np.ndarray, t: np.ndarray) -> None:
    ours = scoring.topsis(x, w, t, normalization="minmax")
    peer = TOPSIS(pn.minmax_normalization)(x, w, t)
    np.testing.assert_allclose(ours, peer, rtol=0, atol=TOL)


@pytest.mark.parametrize(("x", "w", "t"), PROBLEMS, ids=IDS)
def test_topsis_vector_matches_pymcdm(x: np.ndarray, w: np.ndarray, t: np.ndarray) -> None:
    ours = scoring.topsis(x, w, t, normalization="vector")
    peer = TOPSIS(pn.vector_normalization)(x, w, t)
    np.testing.assert_allclose(ours, peer, rtol=0, atol=TOL)


@pytest.mark.parametrize(("x", "w", "t"), PROBLEMS, ids=IDS)
@pytest.mark.parametrize("v", [0.0, 0.3, 0.5, 1.0])
def test_vikor_matches_pymcdm(x: np.ndarray, w: np.ndarray, t: np.ndarray, v: float) -> None:
    ours = scoring.vikor(x, w, t, v=v)
    peer = VIKOR(v=v)(x, w, t)
    np.testing.assert_allclose(ours, peer, rtol=0, atol=TOL)


@pytest.mark.parametrize(("x", "w", "t"), PROBLEMS, ids=IDS)
@pytest.mark.parametrize(
    ("ours_name", "peer_fn"),
    [("minmax", pn.minmax_normalization), ("vector", pn.vector_normalization), ("sum", pn.sum_normalization)],
)
def test_wsm_matches_pymcdm(
    x: np.ndarray, w: np.ndarray, t: np.ndarray, ours_name: str, peer_fn: object
) -> None:
    ours = scoring.wsm(x, w, t, normalization=ours_name)  # type: ignore[arg-type]
    peer = WSM(peer_fn)(x, w, t)
    np.testing.assert_allclose(ours, peer, rtol=0, atol=TOL)


@pytest.mark.parametrize(("x", "w", "t"), PROBLEMS, ids=IDS)
def test_entropy_matches_pymcdm(x: np.ndarray, w: np.ndarray, t: np.ndarray) -> None:
    np.testing.assert_allclose(scoring.entropy_weights(x), pm_entropy(x), rtol=0, atol=TOL)


@pytest.mark.parametrize(("x", "w", "t"), PROBLEMS, ids=IDS)
def test_critic_all_benefit_matches_pymcdm(x: np.ndarray, w: np.ndarray, t: np.ndarray) -> None:
    # pymcdm's CRITIC ignores criteria types, so compare with every column treated as a benefit.
    ours = scoring.critic_weights(x, np.ones(x.shape[1]))
    np.testing.assert_allclose(ours, pm_critic(x), rtol=0, atol=TOL)


SAATY_SCALE = np.array([1 / 9, 1 / 7, 1 / 5, 1 / 3, 1 / 2, 1, 2, 3, 4, 5, 6, 7, 8, 9])


def _random_pairwise(rng: np.random.Generator, n: int) -> np.ndarray:
    """A reciprocal matrix with judgements drawn from Saaty's 1/9 … 9 scale (pymcdm accepts only those)."""
    upper = np.triu(rng.choice(SAATY_SCALE, size=(n, n)), 1)
    a = upper + np.tril(1.0 / np.where(upper.T > 0, upper.T, 1.0), -1)
    np.fill_diagonal(a, 1.0)
    return a


@pytest.mark.parametrize("seed", range(6))
def test_ahp_matches_pymcdm(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = _random_pairwise(rng, n=3 + seed)
    peer = AHP(matrix=a)
    w, _ = scoring.ahp_weights(a)
    np.testing.assert_allclose(w, peer(), rtol=0, atol=TOL)
    _, cr_tl = aw.ahp_weights(a, ri_table="tummala_ling")
    assert cr_tl == pytest.approx(peer.get_cr(), abs=TOL)


def _parse(rows: list[list[str]]) -> np.ndarray:
    return np.array([[float(Fraction(c)) for c in row] for row in rows])


def test_ahp_reproduces_saaty_house_example() -> None:
    """Saaty (1990), "How to make a decision: the analytic hierarchy process", EJOR 48, Table 2.

    Published priorities .173 .054 .188 .018 .031 .036 .167 .333, λmax = 9.669, CI = 0.238, CR = 0.169.
    """
    a = _parse(
        [
            ["1", "5", "3", "7", "6", "6", "1/3", "1/4"],
            ["1/5", "1", "1/3", "5", "3", "3", "1/5", "1/7"],
            ["1/3", "3", "1", "6", "3", "4", "6", "1/5"],
            ["1/7", "1/5", "1/6", "1", "1/3", "1/4", "1/7", "1/8"],
            ["1/6", "1/3", "1/3", "3", "1", "1/2", "1/5", "1/6"],
            ["1/6", "1/3", "1/4", "4", "2", "1", "1/5", "1/6"],
            ["3", "5", "1/6", "7", "5", "5", "1", "1/2"],
            ["4", "7", "5", "8", "6", "6", "2", "1"],
        ]
    )
    w, cr = scoring.ahp_weights(a)
    published = [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333]
    np.testing.assert_allclose(w, published, atol=5e-4)
    lam, _ = aw.principal_eigen(a)
    assert lam == pytest.approx(9.669, abs=5e-4)
    assert cr == pytest.approx(0.169, abs=5e-4)
    with pytest.raises(aw.InconsistentJudgementsError, match=r"exceeds 0\.10"):
        aw.ahp_weights(a, max_cr=aw.CR_LIMIT)


def test_geometric_mean_equals_eigenvector_on_consistent_matrix() -> None:
    true = np.array([0.5, 0.3, 0.15, 0.05])
    a = np.outer(true, 1 / true)
    we, cre = aw.ahp_weights(a, method="eigenvector")
    wg, crg = aw.ahp_weights(a, method="geometric")
    np.testing.assert_allclose(we, true, atol=1e-12)
    np.testing.assert_allclose(wg, true, atol=1e-12)
    assert cre == pytest.approx(0.0, abs=1e-9) and crg == pytest.approx(0.0, abs=1e-9)
