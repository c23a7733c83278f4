"""Champion and challenger: comparing registered configurations and the promotion rule.

A version's backtest score is recorded per data vintage (tag ``score:<vintage>``, row-weighted mean MASE of
the champion procedure's backtest, lower is better). Promotion compares the candidate with the production
version on the latest
vintage *both* were scored on; it is refused unless the candidate is strictly better, or ``--force`` is
given with a reason, which is logged on the version.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.settings import Settings
from pipelines.tracking.tracker import CHALLENGER, PRODUCTION, ModelVersion, Tracker


class PromotionRefused(RuntimeError):
    """The candidate does not beat the production version on a common data vintage."""


def _common_vintage(a: ModelVersion, b: ModelVersion) -> str | None:
    va = {k[len("score:") :] for k in a.tags if k.startswith("score:")}
    vb = {k[len("score:") :] for k in b.tags if k.startswith("score:")}
    common = sorted(va & vb)
    return common[-1] if common else None


def compare(settings: Settings) -> str:
    """A short text comparing the production version and the challenger on their latest common vintage."""
    tracker = Tracker(settings)
    champ = tracker.alias_version(PRODUCTION)
    chall = tracker.alias_version(CHALLENGER)
    if champ is None:
        raise LookupError("no production version yet: run `dtscope run` first")
    if chall is None:
        return (
            f"production is version {champ.version}; no challenger registered (run `dtscope run --config FILE`)"
        )
    vintage = _common_vintage(champ, chall)
    if vintage is None:
        return (
            f"production v{champ.version} and challenger v{chall.version} were never scored on the same data vintage; "
            "run both on the current data (`dtscope run --force` and `dtscope run --config FILE`)"
        )
    a, b = champ.score(vintage), chall.score(vintage)
    better = "challenger" if (b is not None and a is not None and b < a) else "production"
    return (
        f"on data vintage {vintage}: production v{champ.version} backtest score {a:.4f}, "
        f"challenger v{chall.version} {b:.4f} (lower is better) → {better} is better"
    )


def promote(settings: Settings, version: str, *, force: bool = False, reason: str | None = None) -> str:
    """Make ``version`` the production version if it beats the current one on a common vintage (or ``force`` + reason).

    Raises:
        PromotionRefused: it does not beat the production version, or no common vintage, or --force without a reason.
        LookupError: no such version.
    """
    tracker = Tracker(settings)
    versions = {v.version: v for v in tracker.versions()}
    if version not in versions:
        raise LookupError(
            f"no kpi-forecaster version {version}; known: {', '.join(sorted(versions)) or 'none'}"
        )
    candidate = versions[version]
    champ = tracker.alias_version(PRODUCTION)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    if champ is not None and champ.version == version:
        return f"version {version} is already the production version"
    if force:
        if not reason:
            raise PromotionRefused("--force needs --reason: say why the backtest rule is overridden")
        tracker.tag_version(version, "promotion_forced", f"{stamp}: {reason}")
        tracker.set_alias(PRODUCTION, version)
        return f"version {version} is now the production version (forced: {reason})"
    if champ is not None:
        vintage = _common_vintage(candidate, champ)
        if vintage is None:
            raise PromotionRefused(
                f"version {version} and production v{champ.version} were never scored on the same data vintage"
            )
        a, b = champ.score(vintage), candidate.score(vintage)
        if a is None or b is None or not b < a:
            raise PromotionRefused(
                f"refused: on vintage {vintage} version {version} scores {b} vs production v{champ.version} {a} "
                "(lower is better); use --force --reason to override"
            )
        tracker.tag_version(version, "promoted", f"{stamp}: {b:.4f} < {a:.4f} on {vintage}")
    tracker.set_alias(PRODUCTION, version)
    return f"version {version} is now the production version"
