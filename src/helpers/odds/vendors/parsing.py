"""What the three vendor parsers share: the parse result, the event-or-rejection type, the
odds-frame dtypes and the one frame builder, a cheap rejection tally and small text / time
helpers (every timestamp stored is naive UTC: ``helpers.core.clock.to_naive_utc``).

Accounting contract (every parser): a *priced item* is one quoted price the vendor shows —
Unabated: one price object (a ``ms<id>`` entry of a side, or one of its ``alternateLines``);
PlayNow: one outcome of a market; OddsShark: one ``.player-props-odds > div`` in a book cell
(the Best Odds column excluded). Every priced item ends up either as exactly one row or as
exactly one counted rejection, so ``result.items == len(result.rows) +
result.rejections.total()`` (``result.accounted``). A structurally broken container (a prop
that is not an object, ...) whose items cannot be enumerated counts once, as ``malformed``.
"""

from __future__ import annotations

import functools
import gc
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.core.clock import to_naive_utc
from helpers.core.errors import SchemaDriftError
from helpers.core.teams import team_code
from helpers.odds.prices import american_to_decimal, decimal_to_american
from helpers.odds.vendors.base import ODDS_COLUMNS, RawPayload, Rejections

# Parser-level sanity bound on prices (on top of odds.py's |A| >= 100 / d > 1): an American
# price beyond +-1,000,000 (decimal 10,001) is not a real quote and would overflow int64
# arithmetic; parsers count it as bad_price.
MAX_AMERICAN = 1_000_000
MAX_DECIMAL = 1.0 + MAX_AMERICAN / 100.0

# --------------------------------------------------------------------------- result


class ParseResult:
    """Output of ``<vendor>.parse(raw)``.

    rows        canonical odds, exactly ``base.ODDS_COLUMNS`` in order, dtypes ``ODDS_DTYPES``.
                A parser may give them as an Arrow table (``build_odds_table``) instead of a
                frame: ``table`` is then that table, and ``rows`` the frame built from it on
                first use (storing the rows needs only the table).
    rejections  reason -> count (+ first example) of priced items not emitted.
    items       priced items seen (see the module docstring); == len(rows) + rejections.total().
    stats       informational counts (events, props, markets, ...) that are not priced items.
    markets     the vendor's market kinds that produced rows -> market_type, for dim_markets;
                None when the rows' vendor_market_id already is that kind (Unabated betTypeId,
                OddsShark tab). PlayNow gives it: its market ids are per event.
    """

    __slots__ = ("_frame", "_table", "items", "markets", "parser_version", "rejections",
                 "stats")

    def __init__(self, rows: pd.DataFrame | pa.Table, rejections: Rejections, items: int = 0,
                 parser_version: str = "", stats: dict[str, int] | None = None,
                 markets: dict[str, str] | None = None) -> None:
        self.rows = rows
        self.rejections = rejections
        self.items = items
        self.parser_version = parser_version
        self.stats = {} if stats is None else stats
        self.markets = markets

    @property
    def rows(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = frame_from_table(self._table)
        return self._frame

    @rows.setter
    def rows(self, rows: pd.DataFrame | pa.Table) -> None:
        if isinstance(rows, pa.Table):
            self._frame, self._table = None, rows
        else:
            self._frame, self._table = rows, None

    @property
    def table(self) -> pa.Table:
        """The rows as Arrow (from the frame when the parser gave a frame)."""
        if self._table is None:
            return pa.Table.from_pandas(self._frame, preserve_index=False)
        return self._table

    @property
    def n_rows(self) -> int:
        return self._table.num_rows if self._frame is None else len(self._frame)

    def head(self, n: int) -> pd.DataFrame:
        """The first n rows as a frame, without building the whole frame."""
        if self._frame is None:
            return frame_from_table(self._table.slice(0, n))
        return self._frame.head(n)

    @property
    def accounted(self) -> bool:
        return self.items == self.n_rows + self.rejections.total()

    def __repr__(self) -> str:
        return (f"ParseResult(rows={self.n_rows}, rejections={self.rejections!r}, "
                f"items={self.items}, parser_version={self.parser_version!r})")


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Event:
    """A vendor's event resolved to the canonical event columns of its rows."""

    event_id: str
    name: str | None
    start_us: int  # event_start_ts_utc as microseconds since the epoch (naive UTC)
    home: str  # NHL team codes (teams.team_code)
    away: str


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a piece of a payload yields no rows: a reason of ``REJECTION_REASONS`` and an example
    for the report. The parser counts it once per priced item the piece holds."""

    reason: str
    example: str


# What resolving a vendor event gives. Parsers resolve each event once, cache the result and
# test it with ``result.__class__ is Rejection`` for every prop / row of that event.
EventOrRejection = Event | Rejection

# --------------------------------------------------------------------------- reasons

# Every rejection reason a parser may count, with its meaning. Reasons in INFORMATIONAL are
# expected every day (known out-of-scope markets, books showing no price) and are not errors;
# the rest point at bad vendor data or format drift.
REJECTION_REASONS: dict[str, str] = {
    "bad_price": "price missing, non-numeric, American |A| < 100 (0, +50, -99), decimal <= 1, "
                 "or beyond the MAX_AMERICAN / MAX_DECIMAL sanity bound",
    "missing_line": "no usable line (missing, non-numeric, negative; PlayNow: no handicapValue "
                    "and no number in the market name)",
    "unknown_side": "side label / key is not Over/Under (Unabated: not si0/si1 of the prop's "
                    "own person)",
    "unknown_market": "market not recognised (unknown betTypeId, market name or tab text)",
    "ignored_market": "known market out of scope (power-play points, 2+/3+ goals, first/last "
                      "goalscorer, saves, game lines / outrights, non-full-game periods)",
    "blurred_price": "Unabated price hidden (isBlurred)",
    "bet_subtype_variant": "Unabated prop with a non-null betSubType (variant market)",
    "unknown_book": "book not in Unabated marketSources / OddsShark cell without a header book",
    "inactive_book": "Unabated marketSource with statusId not 1 or 3",
    "prop_inactive": "Unabated prop statusId present and not 1 or 3",
    "unknown_team": "home / away team not resolvable to an NHL code",
    "missing_player": "no player name (personId not in people, empty name)",
    "missing_event": "no event id / unparseable start time / OddsShark row without a game header",
    "not_offered": "OddsShark '-' cell: the book shows no price",
    "extra_tab": "OddsShark tab (unknown text) with no container; dropped to keep alignment",
    "tab_container_mismatch": "OddsShark tabs and containers cannot be paired safely; every "
                              "price on the page (or a row outside any container)",
    "duplicate_outcome": "an outcome key already emitted in this payload (first one kept)",
    "malformed": "structurally broken piece (not an object / list, price cells outside rows); "
                 "counted once",
}
INFORMATIONAL_REASONS = frozenset({"ignored_market", "not_offered"})

# --------------------------------------------------------------------------- dtypes

STR = pd.StringDtype("pyarrow", na_value=np.nan)  # == pandas 3 default "str"
TS = "datetime64[us]"  # naive UTC, microseconds (DuckDB TIMESTAMP resolution)

ODDS_DTYPES: dict[str, Any] = {
    "source_vendor": STR,
    "capture_ts_utc": TS,
    "event_id_vendor": STR,
    "event_id_vendor_raw": STR,
    "event_name_raw": STR,
    "event_start_ts_utc": TS,
    "home_team": STR,
    "away_team": STR,
    "player_id_vendor": STR,
    "player_name_raw": STR,
    "player_team": STR,
    "market_type": STR,
    "line": "float64",
    "side": STR,
    "book_id_vendor": STR,
    "book_name_raw": STR,
    "book_type": STR,
    "odds_american": "Int64",
    "odds_decimal": "float64",
    "odds_quoted_raw": STR,
    "odds_quoted_format": STR,
    "odds_american_derived": "bool",
    "odds_decimal_derived": "bool",
    "is_live": "bool",
    "raw_payload_path": STR,
    "raw_payload_hash": STR,
    "vendor_market_id": STR,
    "vendor_outcome_key": STR,
    "parser_version": STR,
}
if tuple(ODDS_DTYPES) != ODDS_COLUMNS:  # base.ODDS_COLUMNS changed: the dtypes must follow
    raise ImportError("parsing.ODDS_DTYPES is out of step with base.ODDS_COLUMNS")

_TS_COLUMNS = {c for c, t in ODDS_DTYPES.items() if t == TS}


@dataclass(frozen=True)
class Indexed:
    """A column given as a small table of distinct values plus one index per row.

    Used for values that repeat per prop / per book (event, player, book name): the parser
    appends one int per row instead of one string per row, and the expansion happens in C
    (pyarrow ``take`` / numpy fancy indexing).
    """

    values: Sequence[Any]
    index: np.ndarray


# Arrow buffers of parse results come from the system allocator: pyarrow's default pool
# (mimalloc) is several times slower on its first large allocations in a process (measured:
# building a 150k-row frame took 0.27 s cold vs 0.04 s warm; 0.07 s cold with malloc), and
# a daily run parses each payload once, cold. Passed per call; no global state is changed.
ARROW_POOL = pa.system_memory_pool()
LARGE_STR = pa.large_string()


def str_take(values: Sequence[Any], index: Any) -> Any:
    """pyarrow large_string array: ``values[index]`` for a small table of distinct values."""
    small = pa.array(list(values), type=LARGE_STR, memory_pool=ARROW_POOL)
    return pc.take(small, pa.array(np.asarray(index, dtype=np.int64)), memory_pool=ARROW_POOL)


def _to_str_array(values: Any, n: int) -> Any:
    """A pandas 'str' (pyarrow) array of length n from a scalar, list, arrow array or Indexed."""
    if isinstance(values, Indexed):
        arr = str_take(values.values, values.index)
    elif isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values.cast(LARGE_STR, memory_pool=ARROW_POOL)
    elif values is None or isinstance(values, str):
        arr = str_take([values], np.zeros(n, np.int64))
    else:
        arr = pa.array(values, type=LARGE_STR, memory_pool=ARROW_POOL)
    return pd.array(arr, dtype=STR)


def _expand(values: Any, n: int, dtype: str) -> np.ndarray:
    if isinstance(values, Indexed):
        return np.asarray(values.values, dtype=dtype)[np.asarray(values.index, dtype=np.int64)]
    if np.ndim(values) == 0:
        return np.full(n, values, dtype=dtype)
    return np.asarray(values, dtype=dtype)


def first_occurrences(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, codes) of a 1-d array: codes[i] numbers the distinct value of values[i] in the
    order values first appear, first[k] is the position of the first row with code k. What
    ``np.unique(..., return_index=True, return_inverse=True)`` tells about which row is
    first, by hashing (O(n)) instead of sorting; the codes are in order of appearance, not
    of value."""
    codes, _ = pd.factorize(values)
    codes = codes.astype(np.int64, copy=False)
    if not len(codes):
        return np.empty(0, dtype=np.int64), codes
    running = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.r_[True, running[1:] > running[:-1]])
    return first, codes


def datetime_to_us(ts: datetime | None) -> int | None:
    """Microseconds since the epoch for a naive-UTC (or aware) datetime; None stays None."""
    if ts is None:
        return None
    delta = to_naive_utc(ts) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = datetime(1970, 1, 1)
_NAT = np.iinfo(np.int64).min


def _ts_array(values: Any, n: int) -> np.ndarray:
    """datetime64[us] from a datetime / int-microseconds scalar, list or Indexed (None = NaT)."""
    if isinstance(values, datetime) or values is None:
        us = datetime_to_us(values)
        return np.full(n, _NAT if us is None else us, dtype=np.int64).view(TS)
    if isinstance(values, Indexed):
        small = np.array([_NAT if v is None else v for v in values.values], dtype=np.int64)
        return small[np.asarray(values.index, dtype=np.int64)].view(TS)
    return np.array([_NAT if v is None else v for v in values], dtype=np.int64).view(TS)


def build_odds_frame(n: int, columns: dict[str, Any]) -> pd.DataFrame:
    """The canonical odds frame from column specs.

    Each spec is a scalar (broadcast), a sequence of length n, or an ``Indexed``. Timestamp
    columns take datetimes or int microseconds since the epoch (naive UTC); ``odds_american``
    takes a sequence of ints / None (or an Indexed) and becomes nullable Int64. Every column of
    ``ODDS_COLUMNS`` must be given, and nothing else.
    """
    _check_spec(columns)
    data: dict[str, Any] = {}
    for name in ODDS_COLUMNS:
        spec = columns[name]
        dtype = ODDS_DTYPES[name]
        if dtype is STR:
            data[name] = _to_str_array(spec, n)
        elif name in _TS_COLUMNS:
            data[name] = _ts_array(spec, n)
        elif dtype == "Int64":
            data[name] = _int64_array(spec, n)
        else:
            data[name] = _expand(spec, n, dtype)
    frame = pd.DataFrame(data, copy=False)
    if len(frame) != n:  # pragma: no cover - a builder bug, never vendor data
        raise AssertionError(f"odds frame has {len(frame)} rows, expected {n}")
    return frame


def _check_spec(columns: dict[str, Any]) -> None:
    missing = [c for c in ODDS_COLUMNS if c not in columns]
    extra = [c for c in columns if c not in ODDS_DTYPES]
    if missing or extra:
        raise ValueError(f"build_odds_frame: missing columns {missing}, unknown columns {extra}")


def _int64_array(values: Any, n: int) -> Any:
    if isinstance(values, Indexed) or np.ndim(values) == 0:
        values = _expand(values, n, "object")
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        return pd.array(values.astype(np.int64), dtype="Int64")
    mask = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    if mask.any():
        data = np.fromiter((0 if v is None else v for v in values), dtype=np.int64, count=len(values))
    else:
        data = np.asarray(values, dtype=np.int64)
    return pd.arrays.IntegerArray(data, mask)


def empty_odds_frame() -> pd.DataFrame:
    return build_odds_frame(0, {c: [] for c in ODDS_COLUMNS})


# Filled by odds_frame, never by a vendor: the same for every vendor by construction.
_SHARED_COLUMNS = frozenset({
    "source_vendor", "capture_ts_utc", "odds_american", "odds_decimal", "odds_quoted_format",
    "odds_american_derived", "odds_decimal_derived", "raw_payload_path", "raw_payload_hash",
    "parser_version",
})
QUOTED_FORMATS = ("AMERICAN", "DECIMAL")


def odds_frame(raw: RawPayload, vendor: str, parser_version: str, n: int,
               columns: dict[str, Any], *, quoted_format: str, prices: Any) -> pd.DataFrame:
    """The canonical odds frame of one parsed payload: the builder every vendor uses.

    ``columns`` holds what only the vendor knows (event, player, market, line, side, book,
    odds_quoted_raw, is_live, vendor ids) as ``build_odds_frame`` specs. The columns that do
    not depend on the vendor are filled here, so the three parsers cannot drift apart on them:
    provenance from ``raw`` (capture time as naive UTC, path, hash), vendor, parser version,
    and the odds pair — ``prices`` are the quoted ones (an int64 array of American odds or a
    float64 array of decimal odds, per ``quoted_format``); the other format is derived with
    helpers.odds and flagged as derived.
    """
    return build_odds_frame(n, payload_columns(raw, vendor, parser_version, n, columns,
                                               quoted_format=quoted_format, prices=prices))


def odds_table(raw: RawPayload, vendor: str, parser_version: str, n: int,
               columns: dict[str, Any], *, quoted_format: str, prices: Any) -> pa.Table:
    """``odds_frame`` as an Arrow table (``build_odds_table``): the same columns and values
    from the same specs, without the per-row work of a pandas frame; ``ParseResult`` takes
    it as its rows and builds the frame only when someone asks for it."""
    return build_odds_table(n, payload_columns(raw, vendor, parser_version, n, columns,
                                               quoted_format=quoted_format, prices=prices))


def payload_columns(raw: RawPayload, vendor: str, parser_version: str, n: int,
                    columns: dict[str, Any], *, quoted_format: str, prices: Any
                    ) -> dict[str, Any]:
    """The vendor's column specs plus the shared ones (see ``odds_frame``)."""
    clash = _SHARED_COLUMNS.intersection(columns)
    if clash:
        raise ValueError(f"odds_frame fills {sorted(clash)} itself; a vendor must not pass them")
    if quoted_format == "AMERICAN":
        american = prices
        decimal = american_to_decimal(american) if n else np.empty(0)
    elif quoted_format == "DECIMAL":
        decimal = prices
        american = (decimal_to_american(decimal).astype(np.int64) if n
                    else np.empty(0, dtype=np.int64))
    else:
        raise ValueError(f"quoted_format {quoted_format!r} is not one of {QUOTED_FORMATS}")
    return {
        **columns,
        "source_vendor": vendor,
        "capture_ts_utc": to_naive_utc(raw.capture_ts_utc),
        "odds_american": american,
        "odds_decimal": decimal,
        "odds_quoted_format": quoted_format,
        "odds_american_derived": quoted_format != "AMERICAN",
        "odds_decimal_derived": quoted_format != "DECIMAL",
        "raw_payload_path": raw.path,
        "raw_payload_hash": raw.sha256,
        "parser_version": parser_version,
    }


# --------------------------------------------------------------------------- arrow rows
# The rows as Arrow, column for column what ``pa.Table.from_pandas(build_odds_frame(...))``
# gives (strings as large_string, timestamp[us], int64, double and bool; a NaN float or a NaT
# timestamp is null), except that a string column given as an ``Indexed`` or a scalar is
# dictionary-encoded: its distinct values once plus an int32 index per row, where the frame
# materialises one string per row. DuckDB reads a dictionary column as the VARCHAR it stands
# for (and inserts it no slower), so the table goes to the database as is.

TS_ARROW = pa.timestamp("us")


def build_odds_table(n: int, columns: dict[str, Any]) -> pa.Table:
    """The canonical odds rows as an Arrow table, from ``build_odds_frame``'s column specs."""
    _check_spec(columns)
    arrays = []
    for name in ODDS_COLUMNS:
        spec = columns[name]
        dtype = ODDS_DTYPES[name]
        if dtype is STR:
            arr = _str_column(spec, n)
        elif name in _TS_COLUMNS:
            arr = pa.array(_ts_array(spec, n), type=TS_ARROW, from_pandas=True,
                           memory_pool=ARROW_POOL)
        elif dtype == "Int64":
            arr = pa.array(_int64_array(spec, n), type=pa.int64(), memory_pool=ARROW_POOL)
        else:
            arr = pa.array(_expand(spec, n, dtype), from_pandas=True, memory_pool=ARROW_POOL)
        if len(arr) != n:  # pragma: no cover - a builder bug, never vendor data
            raise AssertionError(f"odds column {name} has {len(arr)} rows, expected {n}")
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, names=list(ODDS_COLUMNS))


def _str_column(spec: Any, n: int) -> Any:
    """A string column: dictionary-encoded for an Indexed or a scalar, else large_string."""
    if isinstance(spec, Indexed):
        return dictionary_array(spec.values, spec.index)
    if spec is None:
        return pa.nulls(n, type=LARGE_STR, memory_pool=ARROW_POOL)
    if isinstance(spec, str):
        return dictionary_array([spec], np.zeros(n, dtype=np.int32))
    if isinstance(spec, (pa.Array, pa.ChunkedArray)):
        return spec.cast(LARGE_STR, memory_pool=ARROW_POOL)
    return pa.array(spec, type=LARGE_STR, memory_pool=ARROW_POOL)


def dictionary_array(values: Sequence[str | None], index: Any) -> pa.DictionaryArray:
    """``values[index]`` as a dictionary array of large strings: each distinct value once in
    the dictionary (a value repeated in ``values`` maps to one entry), a None value as a
    null index. The same strings as ``str_take(values, index)``."""
    positions: dict[str, int] = {}
    remap = np.empty(len(values), dtype=np.int32)
    for i, value in enumerate(values):
        if value is None:
            remap[i] = -1
            continue
        remap[i] = positions.setdefault(value, len(positions))
    idx = np.asarray(index, dtype=np.int64)
    if len(idx) and (idx.min() < 0 or idx.max() >= len(values)):
        raise IndexError(f"dictionary_array: index out of range for {len(values)} values")
    codes = remap[idx]
    nulls = codes < 0
    indices = pa.array(codes, type=pa.int32(), mask=nulls if nulls.any() else None,
                       memory_pool=ARROW_POOL)
    dictionary = pa.array(list(positions), type=LARGE_STR, memory_pool=ARROW_POOL)
    return pa.DictionaryArray.from_arrays(indices, dictionary, memory_pool=ARROW_POOL)


def frame_from_table(table: pa.Table) -> pd.DataFrame:
    """The pandas odds frame (``ODDS_DTYPES``) of an odds table: what ``build_odds_frame``
    gives for the specs ``build_odds_table`` was given."""
    data: dict[str, Any] = {}
    for name in ODDS_COLUMNS:
        col = table.column(name).combine_chunks(memory_pool=ARROW_POOL)
        dtype = ODDS_DTYPES[name]
        if dtype is STR:
            if pa.types.is_dictionary(col.type):
                col = col.dictionary_decode()
            data[name] = pd.array(col.cast(LARGE_STR, memory_pool=ARROW_POOL), dtype=STR)
        elif name in _TS_COLUMNS:
            data[name] = col.to_numpy(zero_copy_only=False).astype(TS, copy=False)
        elif dtype == "Int64":
            values = col.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
            data[name] = pd.arrays.IntegerArray(values, col.is_null().to_numpy(
                zero_copy_only=False))
        else:
            data[name] = col.to_numpy(zero_copy_only=False).astype(dtype, copy=False)
    return pd.DataFrame(data, copy=False)


# --------------------------------------------------------------------------- rejections


class Tally:
    """A fast reason -> count accumulator for hot loops; converted to ``Rejections`` once.

    ``add(reason, example, n)``: the example is any object (often a tuple) and is only turned
    into text for the first occurrence of each reason.
    """

    __slots__ = ("counts", "examples")

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.examples: dict[str, Any] = {}

    def add(self, reason: str, example: Any = "", n: int = 1) -> None:
        if n <= 0:
            return
        counts = self.counts
        if reason in counts:
            counts[reason] += n
        else:
            counts[reason] = n
            self.examples[reason] = example

    def total(self) -> int:
        return sum(self.counts.values())

    def to_rejections(self) -> Rejections:
        rej = Rejections()
        for reason, n in self.counts.items():
            ex = self.examples.get(reason, "")
            rej.add(reason, ex if isinstance(ex, str) else repr(ex), n)
        return rej


# --------------------------------------------------------------------------- helpers


def gc_paused(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn`` with the cyclic garbage collector paused (restored afterwards).

    Decoding a 24 MB JSON document allocates ~1M containers; each allocation burst triggers
    generation-0/1/2 collections that scan the whole growing tree — about 60% of orjson.loads
    time on the benchmark payload. Parsed JSON and the parser's lists hold no reference cycles,
    so nothing is leaked; the previous GC state is restored even on error.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return wrapper



def drift(vendor: str, what: str) -> SchemaDriftError:
    return SchemaDriftError(f"{vendor} payload drift: {what}")


# ---- HTML nesting guard --------------------------------------------------------------------
# An HTML tree builder (lexbor, html5lib, any WHATWG parser) spends time on every tag in
# proportion to the elements left open: 200,000 unclosed <div> keep one busy in C code for
# tens of minutes, where no signal or cell timeout reaches it. Real pages nest a few dozen
# deep, so the nesting is measured first, in one linear pass, and a page past the bound is
# refused before the tree is built: within it a tree build is measured at well under a second
# per MB (docs/architecture.md, the bounds table).
MAX_HTML_DEPTH = 256
_TAG = re.compile(r"<!--.*?-->|<(/?)([A-Za-z][A-Za-z0-9:-]*)([^>]*)>", re.S)
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed",
                       "noframes", "noscript", "plaintext"})
# Elements that have no end tag, or whose end tag may be left out (the parser closes them):
# counting them as open would make a valid page look deep.
_NEVER_OPEN = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr", "param", "keygen", "p", "li", "dt", "dd", "tr", "td", "th", "option",
    "optgroup", "thead", "tbody", "tfoot", "colgroup", "caption", "rb", "rt", "rtc", "rp",
    "html", "head", "body"})


def html_nesting_depth(html: str, stop_above: int = MAX_HTML_DEPTH) -> int:
    """How deep the page's elements nest (open tags not yet closed), counted in one pass
    and stopping as soon as it passes `stop_above`: the guard run before a tree build."""
    depth = deepest = 0
    pos = 0
    while (match := _TAG.search(html, pos)) is not None:
        pos = match.end()
        name = match.group(2)
        if name is None:  # a comment
            continue
        name = name.lower()
        if name in _NEVER_OPEN:
            continue
        if match.group(1):  # an end tag
            depth = max(depth - 1, 0)
            continue
        if match.group(3).rstrip().endswith("/"):  # <x/>: opened and closed
            continue
        if name in _RAW_TEXT:  # its content is text up to its end tag, never markup
            end = re.compile(rf"</{name}\s*>", re.I).search(html, pos)
            pos = end.end() if end else len(html)
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > stop_above:
            break
    return deepest


def require_body(raw: RawPayload, vendor: str) -> bytes:
    """The payload's bytes; an empty or blank body -> SchemaDriftError."""
    body = raw.body
    if body is None or not body.strip():
        raise drift(vendor, f"empty body ({raw.kind}, {raw.path or 'no path'})")
    return body


def load_json(raw: RawPayload, vendor: str) -> Any:
    """orjson.loads of the body; empty / malformed / truncated bodies -> SchemaDriftError."""
    import orjson

    body = require_body(raw, vendor)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise drift(vendor, f"body is not valid JSON (malformed or truncated): {exc}") from exc


def as_line(value: Any) -> float | None:
    """A prop line from a number or numeric text; None when missing, non-numeric, NaN or < 0."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        f = float(value)
    elif isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if f != f or f < 0 or f == float("inf"):
        return None
    return f


def fmt_line(line: float) -> str:
    """Stable text for a line inside outcome keys: 2.5 -> '2.5', 3.0 -> '3'."""
    return f"{line:g}"


_TEAM_SUFFIX_RE = re.compile(r"^(?P<name>.*\S)\s*\(\s*(?P<team>[A-Za-z\.]{2,5})\s*\)\s*$")


def split_player_team(text: str) -> tuple[str, str | None]:
    """'Sebastian Aho (CAR)' -> ('Sebastian Aho', 'CAR').

    The parenthesised suffix is taken as a team only when ``teams.team_code`` knows it; then the
    clean name goes to player_name_raw and the code to player_team. An unknown suffix
    ('Sebastian Aho (XYZ)', 'John Smith (Jr)') is not a team: the whole text is kept as the
    name and the team stays None — no information is thrown away and the row is not rejected
    (the identity layer sees an unfamiliar name and reports it as unmapped).
    """
    cleaned = " ".join(text.split())
    m = _TEAM_SUFFIX_RE.match(cleaned)
    if m is not None:
        code = team_code(m.group("team").replace(".", ""))
        if code is not None:
            return m.group("name"), code
    return cleaned, None
