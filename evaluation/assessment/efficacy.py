"""Measured causal efficacy of a scenario on its street's outcome series.

Two estimators, both returning an :class:`EffectEstimate` (effect, confidence interval, p-value,
months before/after, status):

* :func:`its_effect` — interrupted time series: segmented regression
  ``y_t = b0 + b1·t + b2·D_t + b3·(t - t0)·D_t [+ 12-month harmonics]`` with AR(1) errors (Newey–West
  HAC on request). The reported effect is the **average post-launch effect**
  ``b2 + b3·mean(t - t0 | post)``, so it is on the same footing as the DiD estimate.
* :func:`did_effect` — difference-in-differences against **never-treated** comparison streets. With
  staggered launches, a two-way fixed-effects regression would use already-treated streets as
  controls (the "forbidden comparisons" of Goodman-Bacon 2021); here each scenario is its own cohort
  compared only with streets that never get a scenario of that outcome (Callaway & Sant'Anna's
  never-treated ATT(g, t), averaged over post periods). The estimate is the regression of the gap
  ``treated_t - mean(controls_t)`` on the post indicator; :func:`event_study` gives the gap per month
  relative to launch, normalised to the pre-launch mean.

DiD inference. Each estimate has **one** treated street, so cluster-robust inference over streets
does not fit: with one treated cluster the cluster-robust variance rests on that street's residuals,
which the fit has already made orthogonal to the launch step (MacKinnon & Webb 2017, 2018). On 200
seeds of the benchmark design (48 months, 6 comparison streets) CR2 errors clustered by street with
Bell–McCaffrey degrees of freedom covered the true effect 66 % of the time at nominal 95 %, and the
restricted wild cluster bootstrap (Rademacher, all 128 draws) 100 %, rejecting a 4-unit effect's
"no effect" only 42 % of the time. The gap is one time series, so the problem is serial correlation in
a short series: Prais–Winsten with the AR(1) coefficient estimated from the gap's own 30–70 residuals
under-covers (about 92 %), because that estimate is noisy and biased towards zero and the width of
the interval of a step regressor depends steeply on it. The default therefore follows Hansen (2007):
the AR(1) coefficient is estimated from the **comparison streets' panel** (pooled over streets after
removing period and street means, so free of the effect and of shocks shared by all streets) and
bias-corrected exactly for the demeaning (:func:`pooled_ar1`); the gap is then fitted by GLS with that
coefficient, with t intervals and p-values on ``T - 2`` degrees of freedom (exact when the coefficient
is known). The assumption is one AR(1) coefficient for a region's streets on an outcome; each street
keeps its own noise level.

ITS inference. One series has to supply its own AR(1) coefficient, and the interval of an effect
read off an extrapolated trend widens steeply with it. Plugging in a point estimate (Prais–Winsten
FGLS with Kendall's correction, the code before) covered 88–90 % of a demo-like district's effects
at nominal 95 % — the estimate is biased towards zero in short series and its noise is ignored —
and even an estimate made unbiased for the regression design covered only 91–92 % (validation
seeds of ``evaluation/bench/assessment.md``). The default therefore integrates over the coefficient
(Zellner & Tiao 1964): on a grid of ρ the GLS fit gives ``c'β`` a t distribution on ``T - k``
degrees of freedom, and the grid points are weighted by the **restricted** likelihood of ρ
(β and σ integrated out under flat priors, which removes the bias the k regressors put on ρ); the
interval is the 2.5/97.5 % quantiles of that mixture, the p-value its two-sided tail at 0, the
estimate and standard error its mean and standard deviation (:func:`_ar1_integrated`). The
12-month harmonics are fitted whenever the series spans two years and the pre-launch part a full
year (the harmonics are shared by both sides); the earlier rule (24 pre-launch months) left the
season in the residuals of most short series, which inflated ρ and made the intervals over-wide.

Too few months before or after launch (or too few comparison streets) give ``status =
"insufficient_data"`` with NaN numbers — never a made-up effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Literal

import numpy as np
import polars as pl
import statsmodels.api as sm
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from evaluation import tables

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class EffectEstimate:
    """One causal estimate on the outcome's own scale (negative = a reduction).

    Attributes:
        method: ``"its"`` or ``"did"``.
        effect: average change per period after launch.
        ci_lo, ci_hi: confidence interval at ``1 - alpha``.
        p_value: two-sided, for "no effect".
        std_error: standard error of ``effect``.
        n_pre, n_post: periods before and after launch used.
        n_controls: comparison series (0 for ITS).
        counterfactual: mean post-launch level the treated series would have had without the
            scenario (observed post mean minus effect), for relative effects.
        status: ``"ok"`` or ``"insufficient_data"``.
        note: why the status is not ok, or what was fitted.
        fitted: the model's fitted treated series, aligned with the input periods (NaN where not
            fitted); ``None`` when the status is not ok.
        baseline: the fitted counterfactual (same series without the launch terms), aligned likewise.
    """

    method: str
    effect: float
    ci_lo: float
    ci_hi: float
    p_value: float
    std_error: float
    n_pre: int
    n_post: int
    n_controls: int
    counterfactual: float
    status: str
    note: str
    fitted: FloatArray | None = field(default=None, compare=False, repr=False)
    baseline: FloatArray | None = field(default=None, compare=False, repr=False)

    @property
    def effect_pct(self) -> float:
        """Effect as a percentage of the counterfactual level (NaN if that level is not positive)."""
        if self.status != "ok" or not self.counterfactual > 0:
            return math.nan
        return 100.0 * self.effect / self.counterfactual


def newey_west_lags(n: int) -> int:
    """Newey–West (1994) rule of thumb ``floor(4 (n/100)^(2/9))``.

    >>> newey_west_lags(36), newey_west_lags(100)
    (3, 4)
    """
    return math.floor(4 * (n / 100.0) ** (2.0 / 9.0))


def _insufficient(method: str, n_pre: int, n_post: int, n_controls: int, note: str) -> EffectEstimate:
    nan = math.nan
    return EffectEstimate(
        method, nan, nan, nan, nan, nan, n_pre, n_post, n_controls, nan, "insufficient_data", note
    )


def _check_series(y: ArrayLike, post: ArrayLike) -> tuple[FloatArray, NDArray[np.bool_]]:
    yy = np.array(y, dtype=np.float64).reshape(-1)
    pp = np.array(post, dtype=bool).reshape(-1)
    if yy.shape != pp.shape:
        raise ValueError(f"y has {yy.size} periods but post has {pp.size}")
    if np.any(pp[:-1] & ~pp[1:]):
        raise ValueError("post must switch from False to True once (a launch) and stay True")
    return yy, pp


@dataclass(frozen=True)
class _Fit:
    params: FloatArray
    cov: FloatArray
    dof: float
    note: str


def _fit(y: FloatArray, x: FloatArray, errors: str, hac_lags: int | None) -> _Fit:
    """OLS with autocorrelation-aware errors.

    ``"ar1"``: Prais–Winsten feasible GLS for AR(1) errors — the AR coefficient is estimated from the
    residuals with Kendall's small-sample bias correction ``ρ + (1 + 3ρ)/T`` (clipped to ±0.95) and
    re-estimated 5 times; inference uses t with ``T - k - 1`` degrees of freedom. ``"hac"``: OLS with
    Newey–West errors (statsmodels ``cov_type="HAC"``), which under-covers in short series (see the
    benchmark).
    """
    n = y.size
    if errors == "hac":
        maxlags = newey_west_lags(n) if hac_lags is None else hac_lags
        res = sm.OLS(y, x).fit(
            cov_type="HAC", cov_kwds={"maxlags": maxlags, "use_correction": True}, use_t=True
        )
        return _Fit(
            np.asarray(res.params),
            np.asarray(res.cov_params()),
            float(res.df_resid),
            f"Newey-West HAC ({maxlags} lags)",
        )
    if errors != "ar1":
        raise ValueError(f"errors must be 'ar1' or 'hac', got {errors!r}")
    res = sm.OLS(y, x).fit()
    u = np.asarray(res.resid)
    rho = 0.0
    for _ in range(5):
        den = float(np.sum(u[:-1] ** 2))
        raw = float(np.sum(u[1:] * u[:-1]) / den) if den > 0 else 0.0
        rho = float(np.clip(raw + (1 + 3 * raw) / n, -0.95, 0.95))
        a = math.sqrt(1 - rho**2)
        ys = np.r_[a * y[0], y[1:] - rho * y[:-1]]
        xs = np.vstack([a * x[0], x[1:] - rho * x[:-1]])
        res = sm.OLS(ys, xs).fit()
        u = y - x @ np.asarray(res.params)
    dof = float(res.df_resid) - 1.0
    scale = float(res.ssr) / dof if dof > 0 else math.nan
    cov = np.asarray(res.normalized_cov_params) * scale
    return _Fit(np.asarray(res.params), cov, dof, f"Prais-Winsten AR(1) FGLS, rho={rho:.2f}")


_RHO_GRID = np.linspace(-0.95, 0.99, 389)


@lru_cache(maxsize=64)
def _demeaned_lag1_ratio(n: int) -> FloatArray:
    """``E[Σ u_t u_(t-1)] / E[Σ u_(t-1)²]`` for ``u = e - mean(e)``, ``e`` a stationary AR(1) of length ``n``.

    One value per coefficient of :data:`_RHO_GRID`, in closed form: with ``Σ_ts = ρ^|t-s|`` and ``M``
    the centring matrix, ``E[u'Lu] = tr(L M Σ M)`` and the geometric row sums of ``Σ`` give every term.
    The ratio increases with ρ, so it can be inverted by interpolation.
    """
    rho = _RHO_GRID[:, None]
    t = np.arange(n, dtype=np.float64)[None, :]
    rows = ((1 - rho ** (t + 1)) + (1 - rho ** (n - t))) / (1 - rho) - 1.0
    r = rows / n  # row means of Σ
    g = r.mean(axis=1, keepdims=True)  # grand mean of Σ
    num = (n - 1) * (rho + g) - (r[:, :-1] + r[:, 1:]).sum(axis=1, keepdims=True)
    den = (1 - 2 * r[:, :-1] + g).sum(axis=1, keepdims=True)
    return np.asarray((num / den).ravel(), dtype=np.float64)


def pooled_ar1(panel: ArrayLike) -> float:
    """Bias-corrected AR(1) coefficient pooled over a panel of comparison series (Hansen 2007).

    Period means over the series are removed (shocks shared by all streets: season, trend, city-wide
    events), then each series' own mean (street levels); the pooled lag-1 ratio
    ``Σ u_t u_(t-1) / Σ u_(t-1)²`` is mapped back to the AR(1) coefficient whose expected ratio it is
    (:func:`_demeaned_lag1_ratio`), which removes the downward bias of demeaning in short series. Series
    with different noise levels share the coefficient, not the level. Clipped to ``[-0.95, 0.95]``.

    Args:
        panel: ``(C, T)`` complete series (no NaN), ``C ≥ 2``, ``T ≥ 3``.

    Returns:
        The AR(1) coefficient (0.0 when the panel has no variation).

    >>> rng = np.random.default_rng(0)
    >>> e = np.zeros((40, 60))
    >>> e[:, 0] = rng.normal(size=40) / np.sqrt(1 - 0.5**2)  # stationary start
    >>> for t in range(1, 60):
    ...     e[:, t] = 0.5 * e[:, t - 1] + rng.normal(size=40)
    >>> round(pooled_ar1(e + np.arange(60.0)), 2)  # a shared trend does not matter
    0.48
    """
    x = np.asarray(panel, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 3 or not np.isfinite(x).all():
        raise ValueError(f"pooled_ar1 needs a complete (C ≥ 2, T ≥ 3) panel, got shape {x.shape}")
    d = x - x.mean(axis=0)
    u = d - d.mean(axis=1, keepdims=True)
    den = float(np.sum(u[:, :-1] ** 2))
    if den <= 0:
        return 0.0
    ratio = float(np.sum(u[:, 1:] * u[:, :-1]) / den)
    rho = float(np.interp(ratio, _demeaned_lag1_ratio(x.shape[1]), _RHO_GRID))
    return float(np.clip(rho, -0.95, 0.95))


def _gls_ar1(y: FloatArray, x: FloatArray, rho: float, note: str) -> _Fit:
    """Prais–Winsten GLS with a given AR(1) coefficient; ``T - k`` degrees of freedom."""
    a = math.sqrt(1 - rho**2)
    ys = np.r_[a * y[0], y[1:] - rho * y[:-1]]
    xs = np.vstack([a * x[0], x[1:] - rho * x[:-1]])
    params, *_ = np.linalg.lstsq(xs, ys, rcond=None)
    resid = ys - xs @ params
    dof = float(y.size - x.shape[1])
    scale = float(resid @ resid) / dof if dof > 0 else math.nan
    cov = np.linalg.inv(xs.T @ xs) * scale
    return _Fit(np.asarray(params, dtype=np.float64), cov, dof, note)


_ITS_RHO_GRID = np.linspace(-0.95, 0.98, 194)


def _ar1_integrated(
    y: FloatArray, x: FloatArray, c: FloatArray, alpha: float
) -> tuple[FloatArray, float, float, float, float, float, float]:
    """``c'β`` with AR(1) errors, integrated over the coefficient (Zellner & Tiao 1964).

    For each ρ of :data:`_ITS_RHO_GRID` the Prais–Winsten GLS fit gives ``β(ρ)``, the residual sum of
    squares ``S(ρ)`` and ``c'β | ρ ~ t_(T-k)(c'β(ρ), s(ρ))``. The grid points are weighted by the
    restricted likelihood ``(1 - ρ²)^½ |X'V⁻¹X|^-½ S(ρ)^-(T-k)/2`` (flat priors on β, ρ and
    ``log σ``), and the mixture of the t distributions gives the interval.

    Returns:
        ``(β, effect, se, lo, hi, p, rho)``: mean coefficients and effect, standard deviation, the
        ``1 - alpha`` interval, two-sided tail probability at 0 and the mean of ρ.
    """
    n, k = x.shape
    g = _ITS_RHO_GRID
    a = np.sqrt(1 - g**2)
    ys = np.concatenate([(a * y[0])[:, None], y[None, 1:] - g[:, None] * y[None, :-1]], axis=1)
    xs = np.concatenate(
        [(a[:, None] * x[0][None, :])[:, None, :], x[None, 1:, :] - g[:, None, None] * x[None, :-1, :]],
        axis=1,
    )
    xtx = np.einsum("gnk,gnl->gkl", xs, xs)
    beta = np.linalg.solve(xtx, np.einsum("gnk,gn->gk", xs, ys)[..., None])[..., 0]
    resid = ys - np.einsum("gnk,gk->gn", xs, beta)
    ssr = np.einsum("gn,gn->g", resid, resid)
    dof = n - k
    m = beta @ c
    if not np.all(ssr > 1e-12 * max(float(np.sum((y - y.mean()) ** 2)), 1e-300)):
        # A (near-)perfect fit: the effect is what the fit says, with no uncertainty.
        est = float(m[np.argmax(a)])
        return beta[np.argmax(a)], est, 0.0, est, est, float(est == 0), 0.0
    loglik = 0.5 * np.log(1 - g**2) - 0.5 * np.linalg.slogdet(xtx)[1] - 0.5 * dof * np.log(ssr)
    w = np.exp(loglik - loglik.max())
    w /= w.sum()
    s = np.sqrt(ssr / dof * np.einsum("k,gkl,l->g", c, np.linalg.inv(xtx), c))
    est = float(w @ m)
    var = float(w @ (s**2 * dof / (dof - 2) + m**2)) - est**2 if dof > 2 else math.inf
    se = math.sqrt(max(var, 0.0))

    def cdf(v: float) -> float:
        return float(w @ stats.t.cdf((v - m) / s, dof))

    span = float(np.max(np.abs(m - est)) + 50.0 * np.max(s))
    lo = float(optimize.brentq(lambda v: cdf(v) - alpha / 2, est - span, est + span, xtol=1e-10))
    hi = float(optimize.brentq(lambda v: cdf(v) - (1 - alpha / 2), est - span, est + span, xtol=1e-10))
    f0 = cdf(0.0)
    p = float(min(1.0, 2 * min(f0, 1 - f0)))
    return np.asarray(w @ beta, dtype=np.float64), est, se, lo, hi, p, float(w @ g)


def _inference(fit: _Fit, c: FloatArray, alpha: float) -> tuple[float, float, float, float]:
    """Estimate, standard error, CI half-width and two-sided p-value of ``c @ params``."""
    est = float(c @ fit.params)
    se = float(np.sqrt(max(float(c @ fit.cov @ c), 0.0)))
    q = float(stats.t.ppf(1 - alpha / 2, fit.dof))
    # A zero standard error (perfect fit) means any non-zero estimate is certain.
    p = float(2 * stats.t.sf(abs(est) / se, fit.dof)) if se > 0 else float(est == 0)
    return est, se, q * se, p


def its_effect(
    y: ArrayLike,
    post: ArrayLike,
    *,
    month: ArrayLike | None = None,
    alpha: float = 0.05,
    min_pre: int = 6,
    min_post: int = 6,
    errors: Literal["ar1", "hac"] = "ar1",
    hac_lags: int | None = None,
    ar1: Literal["integrated", "plug-in"] = "integrated",
) -> EffectEstimate:
    """Interrupted-time-series effect of a launch on one series (segmented regression, AR(1) errors).

    Args:
        y: ``T`` equally spaced observations (NaN periods are dropped).
        post: ``T`` booleans, True from the launch period on.
        month: optional ``T`` month numbers (1–12); when the series spans 24+ periods with 12+
            before launch, a 12-month harmonic pair is added so seasonality is not mistaken for an
            effect (nor left in the residuals).
        alpha: 1 - confidence level.
        min_pre, min_post: fewest periods needed on each side.
        errors: ``"ar1"`` (AR(1) errors, default) or ``"hac"`` (OLS + Newey–West, which under-covers
            in short series), see :func:`_fit`.
        hac_lags: Newey–West lags for ``errors="hac"`` (default: :func:`newey_west_lags`).
        ar1: with ``errors="ar1"``, ``"integrated"`` (default) integrates over the AR(1) coefficient
            (:func:`_ar1_integrated`); ``"plug-in"`` is Prais–Winsten FGLS with the coefficient
            estimated from the series (:func:`_fit`; under-covers, kept for the benchmark).

    Returns:
        :class:`EffectEstimate` with ``method="its"``.

    >>> t = np.arange(24.0)
    >>> est = its_effect(10 + 0.1 * t - 3.0 * (t >= 12) + 0.01 * np.sin(t), t >= 12)
    >>> round(est.effect, 1), est.status
    (-3.0, 'ok')
    """
    yy, pp = _check_series(y, post)
    keep = np.isfinite(yy)
    mm = None if month is None else np.asarray(month, dtype=np.float64).reshape(-1)[keep]
    yy, pp = yy[keep], pp[keep]
    n_pre, n_post = int((~pp).sum()), int(pp.sum())
    if n_pre < min_pre or n_post < min_post:
        return _insufficient(
            "its", n_pre, n_post, 0, f"needs ≥{min_pre} periods before and ≥{min_post} after launch"
        )
    t = np.arange(yy.size, dtype=np.float64)
    t0 = t[pp][0]
    since = np.where(pp, t - t0, 0.0)
    cols = [np.ones_like(t), t, pp.astype(np.float64), since]
    note = "segmented regression"
    if mm is not None and yy.size >= 24 and n_pre >= 12:
        cols += [np.sin(2 * np.pi * mm / 12), np.cos(2 * np.pi * mm / 12)]
        note += ", 12-month harmonics"
    x = np.column_stack(cols)
    if np.linalg.matrix_rank(x) < x.shape[1]:
        return _insufficient("its", n_pre, n_post, 0, "the design is singular (too few distinct periods)")
    c = np.zeros(x.shape[1])
    c[2], c[3] = 1.0, float(since[pp].mean())
    if ar1 not in ("integrated", "plug-in"):
        raise ValueError(f"ar1 must be 'integrated' or 'plug-in', got {ar1!r}")
    if errors == "ar1" and ar1 == "integrated":
        params, effect, se, lo, hi, p, rho = _ar1_integrated(yy, x, c, alpha)
        note += f", AR(1) GLS integrated over rho (restricted likelihood, mean rho={rho:.2f})"
    else:
        fit = _fit(yy, x, errors, hac_lags)
        effect, se, half, p = _inference(fit, c, alpha)
        params, lo, hi = fit.params, effect - half, effect + half
        note += f", {fit.note}"
    cf = float(yy[pp].mean() - effect)
    fitted, baseline = np.full(keep.size, np.nan), np.full(keep.size, np.nan)
    fitted[keep] = x @ params
    no_launch = x.copy()
    no_launch[:, 2:4] = 0.0
    baseline[keep] = no_launch @ params
    return EffectEstimate("its", effect, lo, hi, p, se, n_pre, n_post, 0, cf, "ok", note, fitted, baseline)


def _control_mean(controls: FloatArray) -> FloatArray:
    """Mean over comparison series per period, ignoring gaps; NaN where no series has a value.

    >>> _control_mean(np.array([[1.0, np.nan], [3.0, np.nan]])).tolist()
    [2.0, nan]
    """
    fin = np.isfinite(controls)
    count = fin.sum(axis=0)
    total = np.where(fin, controls, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def did_effect(
    treated: ArrayLike,
    controls: ArrayLike,
    post: ArrayLike,
    *,
    alpha: float = 0.05,
    min_pre: int = 6,
    min_post: int = 6,
    min_controls: int = 2,
    errors: Literal["ar1", "hac"] = "ar1",
    hac_lags: int | None = None,
    ar1_from: Literal["controls", "treated"] = "controls",
) -> EffectEstimate:
    """Difference-in-differences effect against never-treated comparison series.

    Args:
        treated: ``T`` observations of the treated street.
        controls: ``(C, T)`` observations of never-treated streets over the same periods (NaN allowed).
        post: ``T`` booleans, True from the treated street's launch on.
        alpha: 1 - confidence level.
        min_pre, min_post: fewest periods needed on each side (where treated and a control overlap).
        min_controls: fewest comparison streets.
        errors: ``"ar1"`` (AR(1) GLS, default) or ``"hac"`` (OLS + Newey–West), see :func:`_fit`.
        hac_lags: Newey–West lags for ``errors="hac"`` (default: :func:`newey_west_lags`).
        ar1_from: where ``errors="ar1"`` takes the AR(1) coefficient: ``"controls"`` (default) pools
            the comparison streets that are complete over the fitted periods (:func:`pooled_ar1`,
            then GLS with ``T - 2`` degrees of freedom); with fewer than two such streets, or with
            ``"treated"``, it is estimated from the gap itself (Prais–Winsten FGLS, which
            under-covers in short series — kept for comparison in the benchmark).

    Returns:
        :class:`EffectEstimate` with ``method="did"`` (the ATT averaged over post periods).

    >>> rng = np.random.default_rng(0)
    >>> base = rng.normal(20, 1, size=(4, 30))
    >>> post = np.arange(30) >= 15
    >>> est = did_effect(base[0] - 5 * post, base[1:], post)
    >>> bool(est.ci_lo < -5 < est.ci_hi), est.n_controls
    (True, 3)
    """
    yy, pp = _check_series(treated, post)
    cc = np.array(controls, dtype=np.float64)
    if cc.ndim == 1:
        cc = cc[None, :]
    if cc.shape[1] != yy.size:
        raise ValueError(f"controls have {cc.shape[1]} periods but treated has {yy.size}")
    cc = cc[np.isfinite(cc).any(axis=1)]
    n_controls = int(cc.shape[0])
    if n_controls < min_controls:
        return _insufficient(
            "did",
            int((~pp).sum()),
            int(pp.sum()),
            n_controls,
            f"needs ≥{min_controls} never-treated comparison streets, found {n_controls}",
        )
    gap = yy - _control_mean(cc)
    keep = np.isfinite(gap)
    gap, pk, ykeep = gap[keep], pp[keep], yy[keep]
    n_pre, n_post = int((~pk).sum()), int(pk.sum())
    if n_pre < min_pre or n_post < min_post:
        return _insufficient(
            "did", n_pre, n_post, n_controls, f"needs ≥{min_pre} periods before and ≥{min_post} after launch"
        )
    x = np.column_stack([np.ones(gap.size), pk.astype(np.float64)])
    complete = cc[:, keep]
    complete = complete[np.isfinite(complete).all(axis=1)]
    if errors == "ar1" and ar1_from == "controls" and complete.shape[0] >= 2:
        rho = pooled_ar1(complete)
        note = f"AR(1) GLS, rho={rho:.2f} pooled from {complete.shape[0]} comparison streets"
        fit = _gls_ar1(gap, x, rho, note)
    elif ar1_from not in ("controls", "treated"):
        raise ValueError(f"ar1_from must be 'controls' or 'treated', got {ar1_from!r}")
    else:
        fit = _fit(gap, x, errors, hac_lags)
    effect, se, half, p = _inference(fit, np.array([0.0, 1.0]), alpha)
    cf = float(ykeep[pk].mean() - effect)
    note = f"ATT vs {n_controls} never-treated streets, {fit.note}"
    # Counterfactual: the comparison mean plus the treated street's usual gap to it.
    baseline = np.full(yy.size, np.nan)
    baseline[keep] = (yy[keep] - gap) + float(fit.params[0])
    fitted = baseline + effect * pp
    return EffectEstimate(
        "did",
        effect,
        effect - half,
        effect + half,
        p,
        se,
        n_pre,
        n_post,
        n_controls,
        cf,
        "ok",
        note,
        fitted,
        baseline,
    )


def event_study(treated: ArrayLike, controls: ArrayLike, post: ArrayLike, *, window: int = 12) -> FloatArray:
    """Gap between treated and mean control per period relative to launch, minus its pre-launch mean.

    Args:
        treated: ``T`` observations; controls: ``(C, T)``; post: ``T`` booleans (launch = first True).
        window: periods shown on each side of the launch.

    Returns:
        ``(2·window + 1, 2)`` array of ``(relative period k, effect_k)``; periods outside the data are NaN.

    >>> out = event_study([1, 1, 1, 4, 4], [[1, 1, 1, 1, 1]], [False, False, False, True, True], window=2)
    >>> out[:, 1].tolist()
    [0.0, 0.0, 3.0, 3.0, nan]
    """
    yy, pp = _check_series(treated, post)
    cc = np.array(controls, dtype=np.float64)
    if cc.ndim == 1:
        cc = cc[None, :]
    gap = yy - _control_mean(cc)
    if not pp.any():
        raise ValueError("event_study needs a launch (post must contain True)")
    t0 = int(np.argmax(pp))
    pre = gap[~pp][np.isfinite(gap[~pp])]
    base = float(pre.mean()) if pre.size else np.nan
    ks = np.arange(-window, window + 1)
    idx = t0 + ks
    ok = (idx >= 0) & (idx < gap.size)
    eff = np.full(ks.size, np.nan)
    eff[ok] = gap[idx[ok]] - base
    return np.column_stack([ks.astype(np.float64), eff])


EFFICACY_COLUMNS = tables.dtypes(tables.Efficacy)
EVENT_STUDY_COLUMNS = tables.dtypes(tables.EventStudy)
SERIES_COLUMNS = tables.dtypes(tables.EfficacySeries)


def _row(scenario_id: str, outcome: str, est: EffectEstimate) -> dict[str, object]:
    def num(x: float) -> float | None:
        return None if math.isnan(x) else x

    return {
        "scenario_id": scenario_id,
        "outcome": outcome,
        "method": est.method,
        "effect": num(est.effect),
        "ci_lo": num(est.ci_lo),
        "ci_hi": num(est.ci_hi),
        "p_value": num(est.p_value),
        "n_pre": est.n_pre,
        "n_post": est.n_post,
        "status": est.status,
        "std_error": num(est.std_error),
        "n_controls": est.n_controls,
        "effect_pct": num(est.effect_pct),
        "counterfactual": num(est.counterfactual),
        "note": est.note,
    }


def efficacy_table(
    scenarios: pl.DataFrame,
    street_outcomes: pl.DataFrame,
    *,
    until: date | None = None,
    alpha: float = 0.05,
    min_pre: int = 6,
    min_post: int = 6,
    min_controls: int = 2,
    errors: Literal["ar1", "hac"] = "ar1",
    window: int = 12,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """ITS and DiD estimates for every scenario that names an outcome.

    A street with a scenario of outcome ``o`` is treated from that scenario's launch month; the
    comparisons for it are the streets of the same region that have an ``o`` series but never get a
    scenario of ``o`` (so later-treated streets are never used as controls). Two scenarios on the same
    street and outcome share one series; the note says so.

    Args:
        scenarios: ``scenario_id, region, street, outcome (nullable), launch_date``.
        street_outcomes: ``region, street, outcome, period (Date, month start), value``.
        until: last period used (e.g. the end of the scoring year); ``None`` uses all.
        alpha, min_pre, min_post, min_controls, errors: see :func:`its_effect` and :func:`did_effect`.
        window: months on each side kept in the event study.

    Returns:
        ``(efficacy, event_study, series)``: efficacy has :data:`EFFICACY_COLUMNS` with two rows
        (``its``, ``did``) per scenario; event_study has :data:`EVENT_STUDY_COLUMNS` (DiD gap by month
        relative to launch, only where the DiD estimate is ok); series has :data:`SERIES_COLUMNS`: the
        observed outcome with the fitted and counterfactual paths of the estimate shown (DiD when
        ok, else ITS) for charts.

    >>> sc = pl.DataFrame({"scenario_id": ["A"], "region": ["r"], "street": ["s1"], "outcome": ["o"],
    ...                    "launch_date": [date(2021, 1, 1)]})
    >>> so = pl.DataFrame({"region": ["r"], "street": ["s1"], "outcome": ["o"], "period": [date(2020, 1, 1)],
    ...                    "value": [1.0]})
    >>> eff, _, _ = efficacy_table(sc, so)
    >>> eff.select("method", "status").rows()
    [('its', 'insufficient_data'), ('did', 'insufficient_data')]
    """
    treated = scenarios.filter(pl.col("outcome").is_not_null())
    outcomes = street_outcomes
    if until is not None:
        outcomes = outcomes.filter(pl.col("period") <= until)
    rows: list[dict[str, object]] = []
    events: list[dict[str, object]] = []
    series: list[pl.DataFrame] = []
    treated_streets = {
        (r, o): set(g["street"].to_list())
        for (r, o), g in treated.group_by(["region", "outcome"], maintain_order=True)
    }
    first_launch = treated.group_by(["region", "street", "outcome"]).agg(
        pl.col("launch_date").min().alias("first")
    )
    first = {(r, s, o): d for r, s, o, d in first_launch.iter_rows()}
    for sc in treated.sort("scenario_id").iter_rows(named=True):
        sid, region, street, outcome = sc["scenario_id"], sc["region"], sc["street"], sc["outcome"]
        mine = (
            outcomes.filter((pl.col("region") == region) & (pl.col("outcome") == outcome))
            .pivot(on="street", index="period", values="value", aggregate_function="first")
            .sort("period")
        )
        if street not in mine.columns:
            for method in ("its", "did"):
                rows.append(
                    _row(sid, outcome, _insufficient(method, 0, 0, 0, f"no {outcome} series for {street}"))
                )
            continue
        launch = first[(region, street, outcome)]
        shared = launch != sc["launch_date"]
        periods = mine["period"].to_list()
        post = np.array([p >= launch for p in periods])
        y = mine[street].to_numpy().astype(np.float64)
        months = np.array([p.month for p in periods], dtype=np.float64)
        controls_ids = [
            c
            for c in mine.columns
            if c not in ("period", street) and c not in treated_streets[(region, outcome)]
        ]
        controls = (
            np.vstack([mine[c].to_numpy().astype(np.float64) for c in controls_ids])
            if controls_ids
            else np.empty((0, y.size))
        )
        its = its_effect(
            y, post, month=months, alpha=alpha, min_pre=min_pre, min_post=min_post, errors=errors
        )
        did = did_effect(
            y,
            controls,
            post,
            alpha=alpha,
            min_pre=min_pre,
            min_post=min_post,
            min_controls=min_controls,
            errors=errors,
        )
        for est in (its, did):
            row = _row(sid, outcome, est)
            if shared:
                row["note"] = f"{row['note']}; street treated earlier by another scenario (launch {launch})"
            rows.append(row)
        shown = did if did.status == "ok" else its
        if shown.status == "ok" and shown.fitted is not None and shown.baseline is not None:
            series.append(
                pl.DataFrame(
                    {
                        "scenario_id": [sid] * len(periods),
                        "outcome": [outcome] * len(periods),
                        "period": periods,
                        "observed": y,
                        "fitted": shown.fitted,
                        "counterfactual": shown.baseline,
                        "method": [shown.method] * len(periods),
                    },
                    schema=SERIES_COLUMNS,
                ).fill_nan(None)
            )
        if did.status == "ok" and post.any():
            for k, e in event_study(y, controls, post, window=window):
                if not math.isnan(e):
                    events.append({"scenario_id": sid, "outcome": outcome, "k": int(k), "effect": float(e)})
    series_frame = pl.concat(series) if series else pl.DataFrame(schema=SERIES_COLUMNS)
    return (
        pl.DataFrame(rows, schema=EFFICACY_COLUMNS),
        pl.DataFrame(events, schema=EVENT_STUDY_COLUMNS),
        series_frame,
    )


def effect_indicator(
    efficacy: pl.DataFrame,
    *,
    prefer: Literal["did", "its"] = "did",
    direction: dict[str, Literal["up", "down"]] | None = None,
    default_direction: Literal["up", "down"] = "down",
    alpha: float = 0.05,
) -> pl.DataFrame:
    """The 效果导向 indicator: each scenario's measured improvement in percent of the counterfactual.

    The preferred method's estimate is used when its status is ok, else the other one; a scenario
    with neither gets no row (its indicator is then missing and flagged, never invented). For an
    outcome where lower is better (``down``: complaints, incidents, hours) improvement is
    ``-effect_pct``.

    Args:
        efficacy: the frame from :func:`efficacy_table`.
        prefer: method tried first.
        direction: outcome → ``up``/``down``; outcomes not listed use ``default_direction``.
        default_direction: see above.
        alpha: significance level for ``significant``.

    Returns:
        ``scenario_id, value`` (improvement %), ``std_error`` (of the improvement, %), ``method``,
        ``significant`` (p < alpha and the effect improves the outcome).

    >>> eff = pl.DataFrame({"scenario_id": ["A", "A"], "outcome": ["o", "o"], "method": ["its", "did"],
    ...     "status": ["ok", "ok"], "effect": [-2.0, -3.0], "effect_pct": [-20.0, -30.0],
    ...     "std_error": [1.0, 1.0], "counterfactual": [10.0, 10.0], "p_value": [0.2, 0.01]})
    >>> effect_indicator(eff).rows()
    [('A', 30.0, 10.0, 'did', True)]
    """
    direction = direction or {}
    order = [prefer, "its" if prefer == "did" else "did"]
    ok = efficacy.filter((pl.col("status") == "ok") & pl.col("effect_pct").is_not_null())
    ok = ok.with_columns(
        pref=pl.col("method").replace_strict({order[0]: 0, order[1]: 1}, return_dtype=pl.Int64)
    )
    best = ok.sort(["scenario_id", "pref"]).group_by("scenario_id", maintain_order=True).first()
    sign = pl.col("outcome").replace_strict(
        {o: (-1.0 if d == "down" else 1.0) for o, d in direction.items()},
        default=-1.0 if default_direction == "down" else 1.0,
        return_dtype=pl.Float64,
    )
    return best.select(
        "scenario_id",
        value=sign * pl.col("effect_pct"),
        std_error=(100.0 * pl.col("std_error") / pl.col("counterfactual")).abs(),
        method="method",
        significant=(pl.col("p_value") < alpha) & (sign * pl.col("effect") > 0),
    )
