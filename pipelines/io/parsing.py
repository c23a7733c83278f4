"""Parse the cells that real government tables contain: values and periods.

Values: ``85%``, ``85.3 %``, full-width digits (``８５％``), thousands separators (``1,500``), Chinese
magnitude units (``1500万``, ``4500亿元``, ``1.3万亿元``), qualifiers (``>4000``, ``超过500``, ``近1600``,
``约270``, ``9万余``), and ``—``/``－``/blank for missing. Periods: ``2021``, ``2021年``, ``2021.0`` (Excel),
``2021-07``, ``2021年7月``, ISO dates (``2021-07-15`` → the month it falls in), quarters (``2022Q3``,
``2022-Q3``, ``2022年第3季度``).

Every failure raises :class:`CellError` with a sentence a person can act on; the ingest step adds the
file, row and column.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache


class CellError(ValueError):
    """A cell could not be parsed; ``code`` is a stable machine-readable reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


MISSING_TOKENS = frozenset(
    {"", "—", "–", "-", "－", "——", "--", "/", "..", "…", "na", "n/a", "nan", "null", "none", "无"}
)

# Magnitude words, longest first so 万亿 wins over 万 and 亿.
MAGNITUDES: tuple[tuple[str, float], ...] = (
    ("万亿", 1e12),
    ("千亿", 1e11),
    ("百亿", 1e10),
    ("亿", 1e8),
    ("千万", 1e7),
    ("百万", 1e6),
    ("万", 1e4),
    ("千", 1e3),
)

# Unit words that may follow a number; they carry no magnitude of their own.
UNIT_WORDS = (
    "元",
    "个",
    "家",
    "项",
    "所",
    "户",
    "件",
    "人",
    "次",
    "座",
    "台",
    "套",
    "Mbps",
    "mbps",
    "M",
    "级",
)

LOWER_PREFIXES = ("超过", "多于", "大于", "高于", "不少于", "不低于", "逾", "超", ">=", "≥", ">")
UPPER_PREFIXES = ("不超过", "不高于", "少于", "低于", "不足", "<=", "≤", "<")
APPROX_PREFIXES = ("大约", "约", "近", "将近", "接近", "~", "≈")
LOWER_SUFFIXES = ("以上", "多", "余")
APPROX_SUFFIXES = ("左右",)

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class ParsedValue:
    """A parsed value cell.

    Attributes:
        number: the number as written, times any magnitude word (``1500万`` → 15000000.0).
        qualifier: ``=`` exact, ``>`` a lower bound, ``<`` an upper bound, ``~`` approximate.
        percent: the cell carried a ``%`` sign.
        magnitude: the magnitude word's factor (1.0 when none), so a caller can tell ``4500`` from ``4500亿``.
        unit_word: a trailing unit word such as ``元`` or ``个``, else None.
    """

    number: float
    qualifier: str = "="
    percent: bool = False
    magnitude: float = 1.0
    unit_word: str | None = None


def normalise(text: str) -> str:
    """NFKC (full-width → half-width), trim, and drop inner spaces.

    >>> normalise(" ８５．３ ％ ")
    '85.3%'
    """
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def is_missing(text: str | None) -> bool:
    """True for blank cells and the dashes/markers tables use for "no value".

    >>> [is_missing(x) for x in ["", " — ", "－", "N/A", "0"]]
    [True, True, True, True, False]
    """
    return text is None or normalise(text).casefold() in MISSING_TOKENS


def _strip_affixes(s: str) -> tuple[str, str]:
    qualifier = "="
    for prefixes, q in ((UPPER_PREFIXES, "<"), (LOWER_PREFIXES, ">"), (APPROX_PREFIXES, "~")):
        for p in prefixes:
            if s.startswith(p):
                return s[len(p) :], q
    return s, qualifier


@lru_cache(maxsize=65536)
def parse_value(text: str) -> ParsedValue:
    """Parse a value cell.

    >>> parse_value("85%")
    ParsedValue(number=85.0, qualifier='=', percent=True, magnitude=1.0, unit_word=None)
    >>> parse_value("4500亿元").number, parse_value("1.3万亿元").number
    (450000000000.0, 1300000000000.0)
    >>> parse_value(">4000").qualifier, parse_value("近1600").qualifier, parse_value("9万余").number
    ('>', '~', 90000.0)
    >>> parse_value("１，５００").number
    1500.0

    Raises:
        CellError: ``missing`` for a blank/dash cell, ``bad_value`` for anything that is not a number.
    """
    if is_missing(text):
        raise CellError(
            "missing",
            f"no value (cell is {text.strip()!r})" if text and text.strip() else "no value (blank cell)",
        )
    s = normalise(text)
    s, qualifier = _strip_affixes(s)
    for suffixes, q in ((APPROX_SUFFIXES, "~"), (LOWER_SUFFIXES, ">")):
        for suf in suffixes:
            if s.endswith(suf) and len(s) > len(suf):
                s = s[: -len(suf)]
                if qualifier == "=":
                    qualifier = q
                break
    percent = False
    if s.endswith("%"):
        percent, s = True, s[:-1]
    elif s.endswith("个百分点"):
        raise CellError("bad_value", f"{text!r} is a change in percentage points, not a level")
    unit_word = None
    for word in UNIT_WORDS:
        if s.endswith(word) and len(s) > len(word):
            unit_word, s = word, s[: -len(word)]
            break
    magnitude = 1.0
    for word, factor in MAGNITUDES:
        if s.endswith(word) and len(s) > len(word):
            magnitude, s = factor, s[: -len(word)]
            break
    # A trailing qualifier may sit between the number and the magnitude: "9万余个" → "9余" handled above,
    # "1.6万多" → "1.6万" handled above; "超1.6万" → prefix handled above.
    if s.endswith(("余", "多")) and qualifier == "=":
        s, qualifier = s[:-1], ">"
    if "," in s:
        groups = s.lstrip("+-").split(".")[0].split(",")
        if not all(g.isdigit() for g in groups) or any(len(g) != 3 for g in groups[1:]) or not groups[0]:
            raise CellError("bad_value", f"{text!r} has misplaced thousands separators")
        s = s.replace(",", "")
    if not _NUMBER.match(s):
        raise CellError(
            "bad_value", f"{text!r} is not a number (expected e.g. 85, 85.3%, 1500万, 4500亿元, >500)"
        )
    number = float(s) * magnitude
    return ParsedValue(
        number=number, qualifier=qualifier, percent=percent, magnitude=magnitude, unit_word=unit_word
    )


_UNIT_MAGNITUDE = {"亿元": 1e8, "万元": 1e4, "万亿元": 1e12, "万个": 1e4, "万户": 1e4, "万人": 1e4}


def to_kpi_unit(parsed: ParsedValue, kpi_unit: str, kpi_kind: str) -> float:
    """Express a parsed value in the KPI's storage unit.

    A number with no magnitude word is taken to be in the KPI's unit already (``4500`` for a KPI in 亿元);
    a number with one is converted (``1.3万亿元`` → 13000 for 亿元; ``1500万`` → 15000000 for 个).

    >>> to_kpi_unit(parse_value("1.3万亿元"), "亿元", "amount")
    13000.0
    >>> to_kpi_unit(parse_value("1500万"), "个", "count")
    15000000.0

    Raises:
        CellError: ``unit_mismatch`` when a ``%`` is given for a non-share, or a magnitude is given for a share.
    """
    if parsed.percent and kpi_kind != "share":
        raise CellError("unit_mismatch", f"a percentage was given but this KPI is measured in {kpi_unit}")
    if kpi_kind == "share" and parsed.magnitude != 1.0:
        raise CellError("unit_mismatch", "a share is a percentage; 万/亿 magnitudes do not apply")
    if parsed.magnitude == 1.0:
        return parsed.number
    return parsed.number / _UNIT_MAGNITUDE.get(kpi_unit, 1.0)


_YEAR = re.compile(r"^(\d{4})(年|\.0+)?$")
_MONTH = re.compile(r"^(\d{4})(?:-|/|\.|年)(\d{1,2})月?$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")
_QUARTER = re.compile(r"^(\d{4})(?:-|年)?(?:Q|第)([1-4一二三四])(?:季度?)?$", re.IGNORECASE)
_CN_DIGIT = {"一": 1, "二": 2, "三": 3, "四": 4}


@lru_cache(maxsize=4096)
def parse_period(text: str) -> tuple[date, str]:
    """Parse a period cell into (first day of the period, frequency ``Y``/``Q``/``M``).

    >>> parse_period("2021年")
    (datetime.date(2021, 1, 1), 'Y')
    >>> parse_period("2022Q3"), parse_period("2022年第三季度")[1]
    ((datetime.date(2022, 7, 1), 'Q'), 'Q')
    >>> parse_period("2021-07-15")
    (datetime.date(2021, 7, 1), 'M')

    Raises:
        CellError: ``bad_period`` naming the formats accepted.
    """
    s = normalise(text) if text is not None else ""
    if not s:
        raise CellError("bad_period", "the period is blank")
    try:
        if m := _YEAR.match(s):
            return _checked(int(m.group(1)), 1), "Y"
        if m := _QUARTER.match(s):
            q = m.group(2)
            quarter = _CN_DIGIT.get(q) or int(q)
            return _checked(int(m.group(1)), 3 * (quarter - 1) + 1), "Q"
        if m := _DATE.match(s):
            date(int(m.group(1)), int(m.group(2)), int(m.group(3)))  # reject 2021-02-30
            return _checked(int(m.group(1)), int(m.group(2))), "M"
        if m := _MONTH.match(s):
            return _checked(int(m.group(1)), int(m.group(2))), "M"
    except ValueError as exc:
        raise CellError("bad_period", f"{text!r} is not a valid date: {exc}") from exc
    raise CellError(
        "bad_period",
        f"{text!r} is not a period (expected a year 2021 or 2021年, a month 2021-07, an ISO date, or a quarter 2022Q3)",
    )


def _checked(year: int, month: int) -> date:
    if not 1990 <= year <= 2100:
        raise CellError("bad_period", f"year {year} is outside 1990–2100")
    return date(year, month, 1)


def period_label(period: date, freq: str) -> str:
    """Inverse of :func:`parse_period` for display and long-layout export.

    >>> period_label(date(2022, 7, 1), "Q"), period_label(date(2021, 1, 1), "Y")
    ('2022Q3', '2021')
    """
    if freq == "Y":
        return str(period.year)
    if freq == "Q":
        return f"{period.year}Q{(period.month - 1) // 3 + 1}"
    return f"{period.year}-{period.month:02d}"
