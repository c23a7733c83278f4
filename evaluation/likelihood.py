"""The one IPCC likelihood scale: which calibrated words describe a probability.

The IPCC's calibrated language (Mastrandrea et al. 2010, the AR5/AR6 guidance note) names nested ranges —
virtually certain 99–100 %, very likely 90–100 %, likely 66–100 %, about as likely as not 33–66 %,
unlikely 0–33 %, very unlikely 0–10 %, exceptionally unlikely 0–1 % — and a probability takes the most
specific term that holds. Read that way the ranges become seven disjoint bins; the edges are assigned so
that each threshold belongs to the *more specific* term, on both sides of one half:

================================ ================= ========== ========================
key                              bin               English    中文
================================ ================= ========== ========================
``virtually_certain``            0.99 ≤ p ≤ 1      virtually certain   几乎确定
``very_likely``                  0.90 ≤ p < 0.99   very likely         很可能
``likely``                       0.66 ≤ p < 0.90   likely              可能
``about_as_likely_as_not``       0.33 < p < 0.66   about as likely as not  可能性约一半
``unlikely``                     0.10 < p ≤ 0.33   unlikely            不太可能
``very_unlikely``                0.01 < p ≤ 0.10   very unlikely       很不可能
``exceptionally_unlikely``       0 ≤ p ≤ 0.01      exceptionally unlikely  极不可能
================================ ================= ========== ========================

So 0.66 is "likely" (at least 66 %) and 0.33 is "unlikely" (at most 33 %); 0.10 is "very unlikely" and
0.01 "exceptionally unlikely"; only the open middle, strictly between 33 % and 66 %, is "about as likely
as not". Probabilities outside [0, 1] are clipped to it; None and NaN have no term.

Every place that puts a word on a probability — the pipeline's ``attainment.likelihood`` column, the
dashboard's overview, KPI page and leadership brief — reads it from here.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

Lang = Literal["zh", "en"]


class Term(NamedTuple):
    """One bin of the scale: its key, its words and its edges.

    Attributes:
        key: the stable identifier (also the dashboard's label suffix, ``likelihood.<key>``).
        en, zh: the words in English and Chinese.
        lo, hi: the bin's edges.
        lo_closed, hi_closed: whether ``lo`` and ``hi`` belong to the bin.
    """

    key: str
    en: str
    zh: str
    lo: float
    hi: float
    lo_closed: bool
    hi_closed: bool

    def holds(self, p: float) -> bool:
        """Whether ``p`` lies in this bin.

        >>> SCALE[3].holds(0.5), SCALE[3].holds(0.33), SCALE[4].holds(0.33)
        (True, False, True)
        """
        above = p >= self.lo if self.lo_closed else p > self.lo
        below = p <= self.hi if self.hi_closed else p < self.hi
        return above and below


# Most likely first; the bins are disjoint and cover [0, 1] (tests/dashboard/test_likelihood.py checks it).
SCALE: tuple[Term, ...] = (
    Term("virtually_certain", "virtually certain", "几乎确定", 0.99, 1.0, True, True),
    Term("very_likely", "very likely", "很可能", 0.90, 0.99, True, False),
    Term("likely", "likely", "可能", 0.66, 0.90, True, False),
    Term("about_as_likely_as_not", "about as likely as not", "可能性约一半", 0.33, 0.66, False, False),
    Term("unlikely", "unlikely", "不太可能", 0.10, 0.33, False, True),
    Term("very_unlikely", "very unlikely", "很不可能", 0.01, 0.10, False, True),
    Term("exceptionally_unlikely", "exceptionally unlikely", "极不可能", 0.0, 0.01, True, True),
)
KEYS: tuple[str, ...] = tuple(term.key for term in SCALE)
BY_KEY: dict[str, Term] = {term.key: term for term in SCALE}


def likelihood(p: float | None) -> Term | None:
    """The term of the scale that describes probability ``p`` (None for None or NaN).

    Args:
        p: a probability; values outside [0, 1] are clipped to it.

    Returns:
        The :class:`Term` whose bin holds ``p``, or None.

    >>> [likelihood(p).key for p in (0.995, 0.93, 0.78, 0.5, 0.2, 0.05, 0.005)]
    ['virtually_certain', 'very_likely', 'likely', 'about_as_likely_as_not', 'unlikely', 'very_unlikely', 'exceptionally_unlikely']
    >>> likelihood(0.66).key, likelihood(0.33).key, likelihood(0.10).key, likelihood(0.01).key
    ('likely', 'unlikely', 'very_unlikely', 'exceptionally_unlikely')
    >>> likelihood(float("nan")) is None, likelihood(None) is None
    (True, True)
    """
    if p is None or math.isnan(p):
        return None
    q = min(max(float(p), 0.0), 1.0)
    for term in SCALE:
        if term.holds(q):
            return term
    raise AssertionError(f"the likelihood scale leaves {q!r} uncovered")  # the bins cover [0, 1]


def likelihood_key(p: float | None) -> str | None:
    """The key of the term for ``p`` (None for None or NaN).

    >>> likelihood_key(0.7), likelihood_key(None)
    ('likely', None)
    """
    term = likelihood(p)
    return term.key if term else None


def likelihood_words(p: float | None, lang: Lang | str = "en") -> str | None:
    """The words for ``p`` in ``lang`` (``"zh"``, else English); None for None or NaN.

    >>> likelihood_words(0.5, "zh"), likelihood_words(0.95)
    ('可能性约一半', 'very likely')
    """
    term = likelihood(p)
    if term is None:
        return None
    return term.zh if lang == "zh" else term.en


__all__ = ["BY_KEY", "KEYS", "SCALE", "Lang", "Term", "likelihood", "likelihood_key", "likelihood_words"]
