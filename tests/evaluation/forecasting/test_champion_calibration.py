"""The champion: candidates, honest selection, and pooled conformal intervals that cover."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.calibration import PooledConformal
from models.champion import (
    ChampionConfig,
    Combination,
    Member,
    PooledSettings,
    candidates,
    error_scale,
    fit_champion,
    linear_pool,
    member_points,
)
from models.champion.candidates import points_of
from models.transforms import Scale


def _panel(n_series: int, seed: int) -> list[np.ndarray]:
    """Log-scale random walks with series-specific drift and volatility (synthetic)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_series):
        n = int(rng.integers(12, 20))
        mu, sd = rng.normal(0.05, 0.03), rng.uniform(0.02, 0.15)
        out.append(np.log(100) + np.cumsum(rng.normal(mu, sd, n)))
    return out


def test_conformal_intervals_cover_on_fresh_data() -> None:
    panel = _panel(150, seed=1)
    train = [z[:-4] for z in panel]
    cfg = ChampionConfig(members=("theta_np", "damped_np", "drift", "naive"), n_origins=5)
    champ = fit_champion(train, 4, cfg, Scale("log"))
    probs = np.array([0.1, 0.9, 0.025, 0.975])
    _, q = champ.forecast(train, 4, probs)
    actual = np.stack([z[-4:] for z in panel])
    cov80 = np.mean((actual >= q[:, :, 0]) & (actual <= q[:, :, 1]))
    cov95 = np.mean((actual >= q[:, :, 2]) & (actual <= q[:, :, 3]))
    assert 0.72 <= cov80 <= 0.88
    assert 0.90 <= cov95 <= 0.99


def test_selection_is_reported_and_best_first() -> None:
    champ = fit_champion(
        _panel(30, seed=2), 3, ChampionConfig(members=("drift", "naive", "theta_np"), n_origins=3)
    )
    scores = champ.scores["score"].to_list()
    assert scores == sorted(scores)
    assert champ.name == champ.scores["candidate"][0]
    names = {str(c) for c in candidates([Member("drift"), Member("naive"), Member("theta_np")])}
    assert set(champ.scores["candidate"]) == names
    assert "median(drift+naive+theta_np)" in names and "select" in names


def test_too_short_series_fall_back_without_crashing() -> None:
    champ = fit_champion([np.array([1.0, 1.1, 1.3])] * 3, 2, ChampionConfig(members=("drift", "naive")))
    pts, q = champ.forecast([np.array([1.0, 1.1, 1.3])], 2, np.array([0.1, 0.9]))
    assert pts.shape == (1, 2) and np.all(q[..., 0] < q[..., 1])


def test_candidates_refuse_what_was_not_fitted_or_is_not_a_candidate() -> None:
    from pydantic import ValidationError

    from models.champion.candidates import read_label

    with pytest.raises(ValueError, match="unknown candidate"):
        read_label("best(a)")
    with pytest.raises(ValueError, match="not fitted"):
        points_of(Combination(("a", "z")), {Member("a"): np.zeros(1)})
    with pytest.raises(ValidationError, match="'mean' or 'median'"):
        Combination(("a", "b"), "best")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="nope"):
        ChampionConfig(nope=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="criterion"):
        ChampionConfig(criterion="rmse")  # type: ignore[arg-type]


def test_config_round_trips_through_json_and_reads_stored_labels() -> None:
    cfg = ChampionConfig(
        members=(Member("drift"), Member("theta_np", raw=True), "naive"),
        fixed=Combination((Member("drift"), Member("theta_np", raw=True)), "median"),
        centre=Member("drift"),
        calib_lag=2,
    )
    assert ChampionConfig.model_validate_json(cfg.model_dump_json()) == cfg
    # a configuration stored before candidates were typed (an MLflow run_config tag) reads the same
    stored = {
        "members": ["drift", "theta_np@raw", "naive"],
        "fixed": "median(drift+theta_np@raw)",
        "centre": "drift",
        "calib_lag": 2,
        "pooled": {"with_level": True},
    }
    assert ChampionConfig.model_validate(stored) == cfg
    old_defaults = ChampionConfig.model_validate({"calib_lag": 99, "centre": None})
    assert (old_defaults.calib_lag, old_defaults.centre) == (None, "chosen")


@settings(max_examples=40, deadline=None)
@given(errors=st.lists(st.floats(-5, 5, allow_nan=False), min_size=30, max_size=200))
def test_pooled_quantiles_are_monotone_and_borrow_for_long_horizons(errors: list[float]) -> None:
    e = np.array(errors)
    cal = PooledConformal(min_count=30).fit(np.ones(e.size, int), e)
    probs = np.array([0.05, 0.5, 0.95])
    q = cal.error_quantiles(3, probs)
    assert np.all(np.diff(q, axis=1) >= 0)
    np.testing.assert_allclose(q[2], q[0] * np.sqrt(3.0))  # h = 3 borrows h = 1, widened by √3


def test_mondrian_groups_use_their_own_pool() -> None:
    rng = np.random.default_rng(3)
    e = np.concatenate([rng.normal(0, 1, 200), rng.normal(0, 5, 200)])
    g = np.repeat([0, 1], 200)
    cal = PooledConformal(min_count=30).fit(np.ones(400, int), e, g)
    probs = np.array([0.1, 0.9])
    narrow = cal.error_quantiles(1, probs, group=0)
    wide = cal.error_quantiles(1, probs, group=1)
    assert np.ptp(wide) > 3 * np.ptp(narrow)
    q = cal.apply(np.zeros((2, 1)), np.ones(2), probs, np.array([0, 1]))
    np.testing.assert_allclose(q[0, 0], narrow[0])
    np.testing.assert_allclose(q[1, 0], wide[0])


def test_grouped_champion_runs_and_stores_edges() -> None:
    champ = fit_champion(
        _panel(60, seed=4), 3, ChampionConfig(members=("drift", "naive"), n_origins=4, calib_groups=3)
    )
    assert champ.group_edges.shape == (2,)
    _, q = champ.forecast(_panel(5, seed=5), 3, np.array([0.1, 0.5, 0.9]))
    assert q.shape == (5, 3, 3) and np.all(np.diff(q, axis=2) >= 0)


def test_adaptive_conformal_narrows_calm_series_and_widens_wild_ones() -> None:
    rng = np.random.default_rng(11)
    calm = [np.log(100) + np.cumsum(rng.normal(0.05, 0.01, 16)) for _ in range(60)]
    wild = [
        np.log(100) + np.cumsum(rng.normal(0.05, 0.01, 16) + rng.normal(0, 0.2, 16) * (np.arange(16) > 8))
        for _ in range(60)
    ]
    panel = calm + wild
    cfg = ChampionConfig(members=("drift", "naive"), n_origins=6, adaptive_min_rows=100)
    champ = fit_champion(panel, 3, cfg, Scale("log"))
    assert len(champ.difficulty) == 2
    _, q = champ.forecast(panel, 3, np.array([0.1, 0.9]))
    width = q[:, :, 1] - q[:, :, 0]
    assert np.all(width > 0)
    # relative to the plain scale s, calm series get narrower and recently wild ones wider intervals
    plain = fit_champion(
        panel, 3, ChampionConfig(members=("drift", "naive"), n_origins=6, adaptive=False), Scale("log")
    )
    _, qp = plain.forecast(panel, 3, np.array([0.1, 0.9]))
    ratio = width / (qp[:, :, 1] - qp[:, :, 0])
    assert ratio[60:].mean() > ratio[:60].mean()


def test_adaptive_is_skipped_on_small_panels() -> None:
    champ = fit_champion(_panel(10, seed=6), 3, ChampionConfig(members=("drift", "naive"), n_origins=3))
    assert champ.difficulty == ()


def _decelerating(n_series: int, seed: int) -> list[np.ndarray]:
    """Log-scale series whose growth halves every few steps: drift keeps overshooting (synthetic)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_series):
        n = int(rng.integers(14, 20))
        growth = rng.uniform(0.1, 0.4) * 0.8 ** np.arange(n)
        out.append(np.log(100) + np.cumsum(growth + rng.normal(0, 0.01, n)))
    return out


def test_location_model_learns_a_conditional_median() -> None:
    from models.calibration import LocationModel

    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (4000, 2))
    h = rng.integers(1, 4, 4000)
    e = 0.8 * x[:, 0] + rng.laplace(0, 0.3, 4000)
    model = LocationModel().fit(x, h, e)
    grid = np.column_stack([np.linspace(-0.9, 0.9, 50), np.zeros(50)])
    pred = model.predict(grid, np.full(50, 2))
    assert np.abs(pred - 0.8 * grid[:, 0]).mean() < 0.15
    # on fresh data the shifted errors have a smaller pinball loss at the median than the raw ones
    x2 = rng.uniform(-1, 1, (2000, 2))
    e2 = 0.8 * x2[:, 0] + rng.laplace(0, 0.3, 2000)
    assert np.abs(e2 - model.predict(x2, np.full(2000, 2))).mean() < 0.8 * np.abs(e2).mean()


def test_location_correction_recentres_a_conditionally_biased_forecast() -> None:
    # half the series decelerate (drift overshoots them), half accelerate (drift undershoots): the
    # pooled errors are centred overall, so only a conditional correction can fix each half
    rng = np.random.default_rng(21)
    steps = np.arange(16)
    slow = [
        np.log(100) + np.cumsum(rng.uniform(0.1, 0.3) * 0.85**steps + rng.normal(0, 0.01, 16))
        for _ in range(150)
    ]
    fast = [
        np.log(100) + np.cumsum(rng.uniform(0.02, 0.06) * 1.08**steps + rng.normal(0, 0.01, 16))
        for _ in range(150)
    ]
    panel = slow + fast
    train, held = [z[:-3] for z in panel], np.array([z[-3:] for z in panel])
    base = {"members": ("drift", "naive"), "n_origins": 6, "adaptive_min_rows": 100, "centre": "chosen"}
    below = {}
    for location in (False, True):
        champ = fit_champion(train, 3, ChampionConfig(**base, location=location), Scale("log"))
        assert len(champ.location) == (2 if location else 0)
        _, q = champ.forecast(train, 3, np.array([0.5]))
        low = held < q[:, :, 0]
        below[location] = (float(low[:150].mean()), float(low[150:].mean()))
    # without it, decelerating outcomes fall mostly below the median and accelerating ones above
    assert below[False][0] > 0.8 and below[False][1] < 0.2
    # with it, both halves move back towards one half
    assert abs(below[True][0] - 0.5) < abs(below[False][0] - 0.5) - 0.15
    assert abs(below[True][1] - 0.5) < abs(below[False][1] - 0.5) - 0.15


def test_large_panels_centre_the_distribution_on_the_configured_candidate() -> None:
    panel = _decelerating(120, seed=22)
    cfg = ChampionConfig(
        members=("drift", "naive", "pooled"), n_origins=5, adaptive_min_rows=100, centre=Member("pooled")
    )
    champ = fit_champion(panel, 3, cfg, Scale("log"))
    assert champ.centre == "pooled"
    pts, q = champ.forecast(panel, 3, np.array([0.5]))
    assert pts.shape == q.shape[:2]
    # the point stays the chosen configuration's; only the distribution moves
    np.testing.assert_allclose(pts, champ.points(panel, 3))
    small = fit_champion(panel[:8], 3, cfg, Scale("log"))
    assert small.centre == small.name
    assert small.location == ()


def test_small_pool_leaves_room_beyond_its_extremes() -> None:
    """41 pooled errors cannot say p = 0.9975: the blended reference keeps mass past the smallest error."""
    rng = np.random.default_rng(5)
    e = np.abs(rng.normal(0, 1, 41)) - 0.3  # a thin lower tail, as short growing series give
    probs = np.array([0.0025, 0.01, 0.5, 0.99, 0.9975])
    bare = PooledConformal(min_count=30).fit(np.ones(41, int), e).error_quantiles(1, probs)[0]
    blended = (
        PooledConformal(min_count=30, prior_weight=2.0).fit(np.ones(41, int), e).error_quantiles(1, probs)[0]
    )
    assert bare[0] >= e.min() and bare[-1] <= e.max()  # the bare pool ends at its extremes
    assert blended[0] < e.min() - 0.5 and blended[-1] > e.max()
    assert abs(blended[2] - bare[2]) < 0.1  # the middle barely moves
    big = rng.normal(0, 1, 5000)
    q_big = PooledConformal(prior_weight=2.0).fit(np.ones(5000, int), big).error_quantiles(1, probs)[0]
    np.testing.assert_allclose(q_big[1:-1], np.quantile(big, probs[1:-1]), atol=0.02)


def test_reference_width_is_learned_from_the_panel_as_errors_accumulate() -> None:
    """A smooth KPI's errors are a fraction of the random walk's 1.25·√h; a pool under ``min_count`` used
    to get exactly that reference. With a scale prior the reference's width moves from 1.25 towards the
    panel's own root mean square error with weight n / (n + ν₀), and its tails are Student-t."""
    rng = np.random.default_rng(11)
    probs = np.array([0.1, 0.9])
    widths = []
    for n in (0, 6, 24, 400):
        h = np.tile([1, 2, 3], n // 3 + 1)[:n]
        e = rng.normal(0, 0.3, n) * np.sqrt(h)  # σ = 0.3 per unit √h
        cal = PooledConformal(min_count=1000, prior_weight=2.0, scale_prior=2.0).fit(h, e)
        q = cal.error_quantiles(3, probs)
        widths.append(float(q[0, 1] - q[0, 0]))
        sd, df = cal.reference()
        assert df == 2.0 + n
        if n == 400:
            assert abs(sd - 0.3) < 0.05
        np.testing.assert_allclose(q[2], q[0] * np.sqrt(3))  # one scale, widened by √h
    fixed = PooledConformal(min_count=1000).fit(np.ones(6, int), np.zeros(6)).error_quantiles(1, probs)[0]
    # no errors: the random walk's width with t tails of ν₀ degrees of freedom (no narrower than the normal)
    assert widths[0] == pytest.approx(2 * 1.25 * 1.886, rel=0.01) and widths[0] > fixed[1] - fixed[0]
    assert widths[0] > widths[1] > widths[2] > widths[3]  # narrower as the panel's own errors accumulate
    assert widths[3] == pytest.approx(2 * 1.2816 * 0.3, rel=0.1)


def test_scale_prior_leaves_a_large_pool_and_the_default_alone() -> None:
    rng = np.random.default_rng(12)
    probs = np.array([0.025, 0.1, 0.5, 0.9, 0.975])
    big = rng.normal(0, 0.4, 5000)
    fixed = PooledConformal(prior_weight=2.0).fit(np.ones(5000, int), big).error_quantiles(1, probs)[0]
    learned = (
        PooledConformal(prior_weight=2.0, scale_prior=2.0)
        .fit(np.ones(5000, int), big)
        .error_quantiles(1, probs)[0]
    )
    np.testing.assert_allclose(learned, fixed, atol=0.01)
    assert PooledConformal().fit(np.ones(3, int), np.zeros(3)).reference() == (1.25, float("inf"))
    with pytest.raises(ValueError, match="scale_prior"):
        PooledConformal(scale_prior=0.0)


def test_group_widths_shrink_towards_the_all_groups_width() -> None:
    rng = np.random.default_rng(13)
    g = np.repeat([0, 1], [300, 4])
    e = np.where(g == 0, rng.normal(0, 0.3, g.size), rng.normal(0, 3.0, g.size))
    cal = PooledConformal(scale_prior=2.0).fit(np.ones(g.size, int), e, g)
    all_sd, group_sd = cal.reference()[0], cal.reference(1)[0]
    own = float(np.sqrt(np.mean(e[g == 1] ** 2)))
    assert all_sd < group_sd < own  # a thin group sits between the panel's width and its own


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(3, 200),
    weight=st.floats(0.0, 20.0),
    seed=st.integers(0, 10_000),
)
def test_blended_quantiles_are_monotone_and_bracket_the_pool(n: int, weight: float, seed: int) -> None:
    e = np.random.default_rng(seed).standard_t(3, n)
    probs = np.linspace(0.005, 0.995, 25)
    q = PooledConformal(min_count=1, prior_weight=weight).fit(np.ones(n, int), e).error_quantiles(1, probs)[0]
    assert np.all(np.diff(q) >= -1e-9)
    # more prior weight never narrows the outer quantiles
    q0 = PooledConformal(min_count=1).fit(np.ones(n, int), e).error_quantiles(1, probs)[0]
    ref = 1.25 * 2.576  # the reference's 0.5 % quantile magnitude
    assert q[0] <= max(q0[0], -ref) + 1e-6
    assert q[-1] >= min(q0[-1], ref) - 1e-6


def test_default_pools_one_distribution_per_centre_on_large_panels() -> None:
    panel = _decelerating(120, seed=23)
    # the median correction unchecked: its out-of-time check reads the mean of the centres, so a single-centre
    # fit below could switch it off where the pool keeps it, and the components would differ
    cfg = ChampionConfig(
        members=("drift", "naive", "pooled"), n_origins=5, adaptive_min_rows=100, location_gate=None
    )
    champ = fit_champion(panel, 3, cfg, Scale("log"))
    centres = [c.centre for c in champ.components]
    labels = [str(c) for c in centres]
    assert labels[0] == champ.name and set(labels[1:]) == {"drift", "naive", "pooled"} - {champ.name}
    assert champ.centre.startswith("pool(")
    probs = np.linspace(0.01, 0.99, 99)
    pts, q = champ.forecast(panel, 3, probs)
    np.testing.assert_allclose(pts, champ.points(panel, 3))  # the point is still the configuration's
    assert np.all(np.diff(q, axis=2) >= -1e-9)
    # the pool's median lies within the components' medians, and its 98 % range covers each component's
    single = [
        fit_champion(panel, 3, cfg.model_copy(update={"centre": c}), Scale("log")).forecast(panel, 3, probs)[
            1
        ]
        for c in centres
    ]
    # a mixture's p-quantile lies between its components' p-quantiles, at every p
    stacked = np.stack(single)
    assert np.all(q >= stacked.min(axis=0) - 1e-6) and np.all(q <= stacked.max(axis=0) + 1e-6)
    # and where the components disagree, the pool is wider than the narrowest of them
    width = q[:, :, 89] - q[:, :, 9]
    assert np.mean(width > (stacked[:, :, :, 89] - stacked[:, :, :, 9]).min(axis=0)) > 0.9


def test_raw_members_do_not_depend_on_the_other_series_in_the_group() -> None:
    """A KPI group mixes magnitudes (5 scenarios next to 10 million users); each series' forecast is its own."""
    scale = Scale("log")
    small = np.log(np.array([1.0, 2.0, 3.0, 5.0, 6.0]))
    huge = np.log(np.array([4e6, 5e6, 6e6, 8e6, 1e7]))
    members = [Member("theta_np", raw=True), Member("damped_np", raw=True)]
    alone = member_points([small], 2, members, PooledSettings(), scale)
    together = member_points([small, huge], 2, members, PooledSettings(), scale)
    for m in members:
        np.testing.assert_allclose(together[m][0], alone[m][0])
        assert np.all(np.exp(together[m][0]) < 20)  # a 1-to-6 count does not jump to thousands


def test_calibration_inputs_that_cannot_be_right_are_refused() -> None:
    panel = _panel(3, seed=9)
    with pytest.raises(ValueError, match="one flag per point"):
        fit_champion(panel, 2, ChampionConfig(members=("drift", "naive")), observed=[np.ones(3, bool)] * 3)
    with pytest.raises(ValueError, match="prior_weight"):
        PooledConformal(prior_weight=-1.0)
    q = np.zeros((1, 1, 3))
    with pytest.raises(ValueError, match="increasing"):
        linear_pool([q, q], np.array([0.5, 0.1, 0.9]))


def _skewed_kinds(n_per_kind: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    """Random walks whose steps are skewed right (kind "right") or left ("left") around the same drift:
    the windows of the two kinds look alike in mean and spread, but the median of the next step lies
    below the mean for one kind and above it for the other (synthetic)."""
    rng = np.random.default_rng(seed)
    panel, kinds = [], []
    for kind, sign in (("right", 1.0), ("left", -1.0)):
        for _ in range(n_per_kind):
            steps = 0.05 + sign * 0.05 * (rng.exponential(1.0, 16) - 1.0)
            panel.append(np.log(100) + np.cumsum(steps))
            kinds.append(kind)
    return panel, kinds


def test_kind_features_recentre_a_bias_that_only_the_kind_reveals() -> None:
    panel, kinds = _skewed_kinds(400, seed=31)
    fresh, fresh_kinds = _skewed_kinds(2000, seed=131)
    history, outcome = [z[:-1] for z in fresh], np.array([z[-1] for z in fresh])
    base = {
        "members": ("drift", "naive"),
        "n_origins": 6,
        "adaptive_min_rows": 100,
        "centre": "chosen",
        "kind_pools": False,
    }
    miss = {}
    for use in (False, True):
        champ = fit_champion(panel, 1, ChampionConfig(**base, kind_features=use), Scale("log"), kinds=kinds)
        assert champ.kinds == (("left", "right") if use else ())  # kinds unused leave no trace
        _, q = champ.forecast(history, 1, np.array([0.5]), kinds=fresh_kinds)
        low = outcome < q[:, 0, 0]
        # how far each kind's share of fresh outcomes below the predicted median is from one half
        miss[use] = abs(low[:2000].mean() - 0.5) + abs(low[2000:].mean() - 0.5)
    assert miss[False] > 0.06  # the windows alone leave each kind's median off
    assert miss[True] < 0.6 * miss[False]


def test_kind_pools_give_each_kind_its_own_error_distribution() -> None:
    panel, kinds = _skewed_kinds(100, seed=32)
    base = {"members": ("drift", "naive"), "n_origins": 6, "adaptive": False, "centre": "chosen"}
    probs = np.array([0.1, 0.5, 0.9])
    pooled = fit_champion(panel, 2, ChampionConfig(**base, kind_pools=False), Scale("log"), kinds=kinds)
    split = fit_champion(
        panel, 2, ChampionConfig(**base), Scale("log"), kinds=kinds
    )  # pools by kind by default
    pts, q_one = pooled.forecast(panel, 2, probs, kinds=kinds)
    _, q_kind = split.forecast(panel, 2, probs, kinds=kinds)
    # one pool: both kinds get the same error quantiles around their points, in units of their scale
    s = np.array([error_scale(z) for z in panel])
    shift = (q_one[:, 0, 1] - pts[:, 0]) / s
    assert np.ptp(shift) < 1e-9
    # a pool per kind: the right-skewed kind's median sits below its point, the left-skewed one's above
    lift = q_kind[:, 0, 1] - pts[:, 0]
    assert lift[:100].max() < 0 < lift[100:].min()
    # and its upper tail reaches further above the median than its lower tail below it
    upper, lower = q_kind[:100, 0, 2] - q_kind[:100, 0, 1], q_kind[:100, 0, 1] - q_kind[:100, 0, 0]
    assert np.all(upper > lower)


def test_kinds_are_checked_and_an_unseen_kind_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    panel, kinds = _skewed_kinds(60, seed=33)
    cfg = ChampionConfig(members=("drift", "naive"), n_origins=4, adaptive_min_rows=100, kind_pools=True)
    with pytest.raises(ValueError, match="one kind per series: got 3 for 120"):
        fit_champion(panel, 2, cfg, Scale("log"), kinds=kinds[:3])
    with pytest.raises(ValueError, match="kind_pools and calib_groups"):
        fit_champion(panel, 2, ChampionConfig(kind_pools=True, calib_groups=2), Scale("log"), kinds=kinds)
    # without kinds the default kind_pools=True does not stand in the way of trend groups
    grouped = fit_champion(panel, 2, ChampionConfig(members=("drift", "naive"), calib_groups=2), Scale("log"))
    assert grouped.group_edges.shape == (1,)
    champ = fit_champion(panel, 2, cfg, Scale("log"), kinds=kinds)
    with pytest.raises(ValueError, match="fitted with series kinds"):
        champ.forecast(panel[:2], 2, np.array([0.1, 0.9]))
    with caplog.at_level("WARNING"):
        _, q = champ.forecast(panel[:2], 2, np.array([0.1, 0.9]), kinds=["right", "never seen"])
    assert "never seen" in caplog.text
    assert np.all(np.isfinite(q)) and np.all(q[:, :, 1] > q[:, :, 0])
    # without kinds the champion is the one it always was
    plain = fit_champion(panel, 2, ChampionConfig(members=("drift", "naive"), n_origins=4), Scale("log"))
    assert plain.kinds == ()
