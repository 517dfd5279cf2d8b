"""Disclosure control that holds across views: the one fixed publication a user's anonymised and
context figures are answered from.

Why a publication and not suppression per query: a user who may combine filters freely can subtract
one view from another (all grades minus grades 2-6 is grade 1). So every aggregate a user sees
outside their own scope comes from one fixed family of cells, suppressed once for that user:

- areas: the population's total, each region, each municipality, and (for a coordinator whose scope
  is a list of municipalities) the scope's total and its part of each region;
- slices: the total, or exactly one grade band, one school type or one language (never a cross of
  two: language × type reduced municipalities to single schools);
- periods: school months. A longer period (a school year so far, the same months a year before) is
  summed from published months and is withheld when any of its months is (never silently short).

Primary suppression: a cell whose part outside the user's own scope holds fewer than
`min_pupils` pupils or fewer than `MIN_CONTEXT_SCHOOLS` schools. Cells wholly inside the user's
scope are the user's own data and are never withheld. Secondary suppression is an audit, not a
rule of thumb: the user knows every published cell and all of their own data. Each cell is a sum
of classes of unknown atoms (the schools outside the scope of one municipality, type, language and
grade band, which no cell tells apart), so a withheld cell's value follows exactly from the
published ones when its class vector lies in the span of theirs. That catches what rules over
"parent = sum of children" miss, e.g. a municipality whose only Swedish-language schools are its
primary schools, where two differently named cells are the same sum. While any withheld cell is
determined, the smallest published cell it is written with is withheld as well.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from lasnaolo import contract
from lasnaolo.contract import SUPPRESSION, SuppressionPolicy

COUNTS = ("pupils", *contract.HOUR_COLUMNS, *contract.TIER_COLUMNS)
MIN_CONTEXT_SCHOOLS = 3  # no context cell is made of fewer schools (it would be a school, or two that know each other)
SLICE_DIMENSIONS = ("grade_band", "school_type", "language")
SLICE_VALUES = {"grade_band": tuple(contract.GRADE_BANDS), "school_type": tuple(contract.SCHOOL_TYPES),
                "language": tuple(contract.SCHOOL_LANGUAGES)}
TOTAL = ("total", "")
# Area levels, coarse to fine. "scope" and "scope_region" exist only for a custom area (a list of
# municipalities that is not the whole population).
LEVELS = ("all", "scope", "region", "scope_region", "municipality")
ATOM_COLUMNS = ("school_id", "school_year", "month", "grade_band", "municipality_code", "region_code",
                "school_type", "language", *COUNTS)


class NotPublished(PermissionError):
    """A figure outside the fixed publication (e.g. a cross of two slices, or grades that split a
    band): answering it would let two views be differenced."""


@dataclass(frozen=True)
class Slice:
    """One published slice: the total, or one value of one dimension."""

    dimension: str = "total"
    value: str = ""

    @classmethod
    def of(cls, grade_band: str | None = None, school_type: str | None = None, language: str | None = None) -> "Slice":
        chosen = [(d, v) for d, v in (("grade_band", grade_band), ("school_type", school_type), ("language", language))
                  if v is not None]
        if len(chosen) > 1:
            raise NotPublished("only one of grade band, school type and language can narrow an anonymised figure")
        return cls(*chosen[0]) if chosen else cls()


def _cells(atoms: pd.DataFrame, known: Collection[str], scope_municipalities: frozenset[str] | None) -> pd.DataFrame:
    """Every cell of every month: school year, month, level, area, dimension, value, summed counts,
    schools, and the part outside the user's own scope (pupils, schools). Keys as sorted integer
    codes and sums by bincount: twenty string groupings of the atoms were two thirds of a
    publication's time."""
    outside = ~atoms["school_id"].isin(known).to_numpy()
    present = (atoms["pupils"] > 0).to_numpy()
    when = atoms.groupby(["school_year", "month"], sort=True).ngroup().to_numpy(dtype=np.int64)
    whens = atoms[["school_year", "month"]].drop_duplicates().sort_values(["school_year", "month"])
    school = pd.factorize(atoms["school_id"])[0]
    schools_n = int(school.max(initial=-1)) + 1
    counts = {c: atoms[c] for c in COUNTS}
    outside_pupils = atoms["pupils"].where(outside, 0)
    areas = cell_areas(atoms, scope_municipalities)
    slices = {dimension: pd.factorize(pd.Series("", index=atoms.index) if dimension == "total" else atoms[dimension],
                                      sort=True) for dimension in ("total", *SLICE_DIMENSIONS)}
    frames = []
    for level, area in areas.items():
        area_code, area_names = pd.factorize(area, sort=True)  # missing (outside a custom area): -1, no cell
        for dimension, (value_code, value_names) in slices.items():
            rows = (area_code >= 0) & (value_code >= 0)
            key = (when[rows] * len(area_names) + area_code[rows]) * len(value_names) + value_code[rows]
            cell_keys, cell = np.unique(key, return_inverse=True)
            n = len(cell_keys)
            out = {"school_year": whens["school_year"].to_numpy()[cell_keys // (len(area_names) * len(value_names))],
                   "month": whens["month"].to_numpy()[cell_keys // (len(area_names) * len(value_names))],
                   "area": np.asarray(area_names, dtype=object)[(cell_keys // len(value_names)) % len(area_names)],
                   "value": np.asarray(value_names, dtype=object)[cell_keys % len(value_names)]}
            for column, summed in counts.items():
                out[column] = _summed(summed.to_numpy()[rows], cell, n)
            out["schools"] = _distinct(cell[present[rows]], school[rows][present[rows]], n, schools_n)
            out["outside_pupils"] = _summed(outside_pupils.to_numpy()[rows], cell, n)
            mask = (outside & present)[rows]
            out["outside_schools"] = _distinct(cell[mask], school[rows][mask], n, schools_n)
            frames.append(pd.DataFrame(out).assign(level=level, dimension=dimension))
    return pd.concat(frames, ignore_index=True)


def cell_areas(atoms: pd.DataFrame, scope_municipalities: frozenset[str] | None) -> dict[str, pd.Series]:
    """Per area level, each atom's area ("" for the whole; missing where the atom is in no area of
    that level: outside a custom area)."""
    areas = {"all": pd.Series("", index=atoms.index), "region": atoms["region_code"],
             "municipality": atoms["municipality_code"]}
    if scope_municipalities is not None:
        inside = atoms["municipality_code"].isin(scope_municipalities)
        areas["scope"] = pd.Series("", index=atoms.index).where(inside)
        areas["scope_region"] = atoms["region_code"].where(inside)
    return areas


def _summed(values: np.ndarray, cell: np.ndarray, cells: int) -> np.ndarray:
    """Per cell the sum of its rows' values (missing ones skipped), in the values' own kind."""
    if values.dtype.kind in "iub":
        return np.bincount(cell, weights=values.astype(float), minlength=cells).round().astype(np.int64)
    return np.bincount(cell, weights=np.nan_to_num(values.astype(float)), minlength=cells)


def _distinct(cell: np.ndarray, school: np.ndarray, cells: int, schools: int) -> np.ndarray:
    """Per cell how many different schools its rows have."""
    pairs = np.unique(cell.astype(np.int64) * schools + school)
    return np.bincount(pairs // schools, minlength=cells).astype(np.int64) if schools else np.zeros(cells, dtype=np.int64)


def _membership(cells: pd.DataFrame, atoms: pd.DataFrame, known: Collection[str],
                scope_municipalities: frozenset[str] | None, memo: dict | None = None) -> np.ndarray:
    """Which classes of unknown atoms each cell sums: a class is the atoms outside the user's scope
    of one municipality, school type, language and grade band (no cell tells them apart). `memo`
    keeps the matrices of one publication by their exact cells and classes: months of the same
    schools share one (read-only)."""
    outside = atoms[~atoms["school_id"].isin(known)]
    classes = outside[["municipality_code", "region_code", "school_type", "language", "grade_band"]].drop_duplicates()
    classes = classes.reset_index(drop=True)
    key = None
    if memo is not None:
        key = (tuple(cells.index), tuple(map(tuple, cells[["level", "dimension", "area", "value"]].to_numpy())),
               tuple(map(tuple, classes.to_numpy())), scope_municipalities)
        if key in memo:
            return memo[key]
    in_scope = (classes["municipality_code"].isin(scope_municipalities) if scope_municipalities is not None
                else pd.Series(True, index=classes.index))
    area_of = {"all": None, "scope": None, "region": "region_code", "scope_region": "region_code",
               "municipality": "municipality_code"}
    matrix = np.zeros((len(cells), len(classes)), dtype=float)
    in_scope = in_scope.to_numpy()
    for (level, dimension), group in cells.groupby(["level", "dimension"], sort=False):
        rows = group.index.to_numpy()
        member = np.ones((len(rows), len(classes)), dtype=bool)
        if area_of[level] is not None:
            member &= classes[area_of[level]].to_numpy()[None, :] == group["area"].to_numpy()[:, None]
        if level in ("scope", "scope_region"):
            member &= in_scope[None, :]
        if dimension != "total":
            member &= classes[dimension].to_numpy()[None, :] == group["value"].to_numpy()[:, None]
        matrix[rows] = member
    if key is not None:
        matrix.flags.writeable = False
        memo[key] = matrix
        # Bounded: a whole country's custom-area matrix is tens of megabytes, and ten years of
        # changing schools would keep one per distinct month (review finding); oldest out first.
        while len(memo) > 1 and sum(m.nbytes for m in memo.values()) > _MEMO_BYTES:
            del memo[next(iter(memo))]
    return matrix


_MEMO_BYTES = 64 * 1024 * 1024


def determined(published: np.ndarray, withheld: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which withheld rows lie in the span of the published rows (their value follows exactly from
    the published values), and for each the published rows of a minimal-norm way to write it."""
    if withheld.shape[0] == 0:
        return np.zeros(0, dtype=bool), np.zeros((0, published.shape[0]))
    if published.shape[0] == 0:
        return np.zeros(withheld.shape[0], dtype=bool), np.zeros((withheld.shape[0], 0))
    u, singular, vt = np.linalg.svd(published, full_matrices=False)
    keep = singular > 1e-9 * max(1.0, singular.max())
    u, singular, vt = u[:, keep], singular[keep], vt[keep]
    projected = withheld @ vt.T  # coordinates in the row space's basis
    residual = withheld - projected @ vt
    found = np.abs(residual).max(axis=1) < 1e-7
    coefficients = (projected / singular) @ u.T  # withheld ≈ coefficients @ published
    return found, coefficients


def _primary(cells: pd.DataFrame, policy: SuppressionPolicy) -> np.ndarray:
    """Cells whose part outside the user's scope is too small to show."""
    outside = cells["outside_schools"] > 0
    return (outside & ((cells["outside_pupils"] < policy.min_pupils)
                       | (cells["outside_schools"] < MIN_CONTEXT_SCHOOLS))).to_numpy()


def _suppress_month(cells: pd.DataFrame, membership: np.ndarray, policy: SuppressionPolicy) -> pd.Series:
    """Primary suppression, then secondary until no withheld cell follows from the published ones:
    of the published cells a determined cell is written with, the smallest is withheld too."""
    outside = (cells["outside_schools"] > 0).to_numpy()
    withheld = _primary(cells, policy)
    sizes = cells["outside_pupils"].to_numpy().astype(float)
    while withheld.any():
        published = np.flatnonzero(outside & ~withheld)
        hidden = np.flatnonzero(withheld)
        found, coefficients = determined(membership[published], membership[hidden])
        if not found.any():
            break
        for row in np.flatnonzero(found):
            witnesses = published[np.abs(coefficients[row]) > 1e-9]
            witnesses = witnesses[~withheld[witnesses]]
            if len(witnesses):
                withheld[witnesses[np.argmin(sizes[witnesses])]] = True
    return pd.Series(withheld, index=cells.index)


def _audited(cells: pd.DataFrame, atoms: pd.DataFrame, known: set[str], scope_municipalities: frozenset[str] | None,
             policy: SuppressionPolicy, memo: dict | None = None) -> pd.DataFrame:
    """One month's cells (and that month's atoms) with `suppressed` decided: several regions
    without a custom area region by region (`_suppress_by_region`), else as one matrix."""
    if scope_municipalities is None and atoms["region_code"].nunique() > 1:
        return cells.assign(suppressed=_suppress_by_region(cells, atoms, known, policy, memo))
    return cells.assign(suppressed=_suppress_month(cells, _membership(cells, atoms, known, scope_municipalities, memo),
                                                   policy))


def _null_basis(matrix: np.ndarray, columns: int) -> np.ndarray:
    """Columns spanning the vectors x with matrix @ x = 0."""
    if matrix.shape[0] == 0:
        return np.eye(columns)
    _, singular, vt = np.linalg.svd(matrix, full_matrices=True)
    rank = int((singular > 1e-9 * max(1.0, singular.max())).sum())
    return vt[rank:].T


def _suppress_by_region(cells: pd.DataFrame, atoms: pd.DataFrame, known: set[str], policy: SuppressionPolicy,
                        memo: dict | None = None) -> np.ndarray:
    """The same audit as `_suppress_month`, exact, without one matrix of the whole population.

    Regions share no atom; only the population's totals (one per slice, each the sum of that
    slice's region cells) tie them. With N_r a basis of what region r's published cells leave open
    and B the published totals read on those bases, the open directions of the whole are
    {(N_r y_r)} with B y = 0; so a withheld cell w of region r is determined exactly when N_r' w,
    set into region r's block, lies in B's row space (and a withheld total likewise with every
    region's block). Each step is a small decomposition per region and one of B (≤ 10 rows)."""
    region_of = dict(zip(atoms["municipality_code"], atoms["region_code"]))
    level = cells["level"].to_numpy()
    cell_region = np.where(level == "region", cells["area"],
                           cells["area"].map(region_of).where(level == "municipality"))
    regions = sorted(atoms["region_code"].unique())
    parts = {r: np.flatnonzero(cell_region == r) for r in regions}
    members = {r: _membership(cells.iloc[parts[r]].reset_index(drop=True), atoms[atoms["region_code"] == r], known, None,
                              memo) for r in regions}
    totals = np.flatnonzero(level == "all")
    slice_of = list(zip(cells["dimension"], cells["value"]))
    # Region r's part of a total: the row of r's region cell of the same slice (zero when none).
    region_row = {r: {slice_of[i]: k for k, i in enumerate(parts[r]) if level[i] == "region"} for r in regions}

    def part_of_total(r: str, total: int) -> np.ndarray:
        k = region_row[r].get(slice_of[total])
        return members[r][k] if k is not None else np.zeros(members[r].shape[1])

    outside = (cells["outside_schools"] > 0).to_numpy()
    sizes = cells["outside_pupils"].to_numpy().astype(float)
    withheld = _primary(cells, policy)
    while withheld.any():
        nulls = {r: _null_basis(members[r][outside[parts[r]] & ~withheld[parts[r]]], members[r].shape[1]) for r in regions}
        offsets = np.cumsum([0, *[nulls[r].shape[1] for r in regions]])
        block = {r: slice(offsets[i], offsets[i + 1]) for i, r in enumerate(regions)}
        shown_totals = [t for t in totals if outside[t] and not withheld[t]]
        b = np.zeros((len(shown_totals), offsets[-1]))
        for row, total in enumerate(shown_totals):
            for r in regions:
                b[row, block[r]] = part_of_total(r, total) @ nulls[r]
        _, singular, vt = np.linalg.svd(b, full_matrices=False) if len(b) else (None, np.zeros(0), np.zeros((0, offsets[-1])))
        keep = singular > 1e-9 * max(1.0, singular.max()) if len(singular) else np.zeros(0, dtype=bool)
        row_space = vt[keep]

        def fixed(g: np.ndarray) -> bool:
            return np.abs(g - (g @ row_space.T) @ row_space).max() < 1e-7 if g.size else True

        def heaviest_total(g: np.ndarray) -> int | None:
            weights = np.linalg.lstsq(b.T, g, rcond=None)[0] if len(b) else np.zeros(0)
            return shown_totals[int(np.argmax(np.abs(weights)))] if len(weights) and np.abs(weights).max() > 1e-9 else None

        added = set()
        for r in regions:
            idx = parts[r]
            shown = idx[outside[idx] & ~withheld[idx]]
            local = {i: k for k, i in enumerate(idx)}
            hidden = idx[withheld[idx]]
            _, weights = determined(members[r][[local[i] for i in shown]], members[r][[local[i] for i in hidden]])
            for position, cell in enumerate(hidden):
                g = np.zeros(offsets[-1])
                g[block[r]] = members[r][local[cell]] @ nulls[r]
                if not fixed(g):
                    continue
                if np.abs(g).max() < 1e-9:  # fixed by its own region's cells: the smallest it is written with
                    witnesses = shown[np.abs(weights[position]) > 1e-9] if weights.shape[1] else shown[:0]
                else:  # fixed through a total: the region's own cell of that total's slice
                    total = heaviest_total(g)
                    k = region_row[r].get(slice_of[total]) if total is not None else None
                    witnesses = np.array([idx[k]] if k is not None and not withheld[idx[k]] else
                                         ([total] if total is not None else []), dtype=int)
                if len(witnesses):
                    added.add(int(witnesses[np.argmin(sizes[witnesses])]))
        for total in totals[withheld[totals]]:
            g = np.concatenate([part_of_total(r, total) @ nulls[r] for r in regions]) if regions else np.zeros(0)
            if fixed(g):
                heaviest = heaviest_total(g)
                if heaviest is not None:
                    added.add(heaviest)
        added -= set(np.flatnonzero(withheld))
        if not added:
            break
        withheld[list(added)] = True
    return withheld


def publish(atoms: pd.DataFrame, known: Collection[str] = (), scope_municipalities: frozenset[str] | None = None,
            policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """The publication of a population for one user: every cell of every month, with `suppressed`
    and its counts NaN where withheld. `atoms` are school × school year × month × grade band rows
    (ATOM_COLUMNS) of the whole population; `known` the school ids of the user's own scope;
    `scope_municipalities` the user's custom area when it is not the whole population."""
    columns = ["school_year", "month", "level", "area", "dimension", "value", *COUNTS, "schools", "suppressed"]
    if atoms.empty:
        return pd.DataFrame(columns=columns)
    every = _cells(atoms, set(known), scope_municipalities)
    out = []
    # One thread for the many small decompositions: OpenBLAS's threads only contend for them
    # (measured 0.9 s instead of 0.01 s for one 184 × 197 SVD on a loaded two-core machine).
    atoms_of = dict(iter(atoms.groupby(["school_year", "month"], sort=False)))
    memo: dict = {}
    with threadpool_limits(1):
        out = [_audited(cells.reset_index(drop=True), atoms_of[when], set(known), scope_municipalities, policy, memo)
               for when, cells in every.groupby(["school_year", "month"], sort=True)]
    published = pd.concat(out, ignore_index=True)
    published[list(COUNTS)] = published[list(COUNTS)].astype(float)
    published.loc[published["suppressed"], list(COUNTS)] = np.nan
    return published[columns]


def answer(publication: pd.DataFrame, level: str, areas: Collection[str] | None, piece: Slice,
           by_dimension: str | None = None) -> pd.DataFrame:
    """Cells of the publication at one area level (`areas`: which of them, None: all), in one
    slice or, with `by_dimension`, every value of that dimension. Columns: school_year, month,
    area, value, counts, suppressed."""
    if by_dimension is not None and piece.dimension not in ("total", by_dimension):
        raise NotPublished(f"{by_dimension} within {piece.dimension} is not published for anonymised figures")
    chosen = publication[publication["level"] == level]
    if areas is not None:
        chosen = chosen[chosen["area"].isin(list(areas))]
    if by_dimension is None:
        chosen = chosen[(chosen["dimension"] == piece.dimension) & (chosen["value"] == piece.value)]
    else:
        chosen = chosen[chosen["dimension"] == by_dimension]
        if piece.dimension == by_dimension:
            chosen = chosen[chosen["value"] == piece.value]
    return chosen.drop(columns=["level", "dimension", "schools"]).reset_index(drop=True)


PUPIL_ROUNDING = 10  # a size class's ends: outward to whole tens
SIZE_CLASS_MIN = 3  # schools in a size class: a size beside a pseudonym fits at least this many


def rounded_pupils(pupils: pd.Series) -> pd.Series:
    """Pupils of a group (a median over several schools) as they may be shown: to the nearest ten,
    never below ten."""
    rounded = (pupils.astype(float) / PUPIL_ROUNDING).round() * PUPIL_ROUNDING
    return rounded.clip(lower=PUPIL_ROUNDING).where(pupils.notna())


def size_classes(schools: pd.DataFrame, k: int = SIZE_CLASS_MIN) -> pd.DataFrame:
    """Size classes of the schools a view shows under pseudonyms, so that a size shown beside a
    pseudonym fits at least `k` of them even for someone who holds a register of every school's
    type, language and exact size and knows which schools the view draws from (k-anonymity).

    `schools`: indexed by key, with pupils and, where known, school_type and language. Schools of
    one type and language are cut by size into runs of `k` (a shorter last run joins the one before
    it); groups of fewer than `k` are pooled by type, then all together, and what is still left
    joins the class nearest in size. Returns, per key: size_class, pupils_low and pupils_high (the
    class's smallest and largest size, outward to tens: the range shown) and pupils (its middle,
    where a chart has to place the school). Fewer than `k` schools in all: no class, no size."""
    sizes = schools["pupils"].astype(float).dropna()
    remaining = schools.loc[sizes.index]
    classes: list[list] = []
    for level in (["school_type", "language"], ["school_type"], []):
        columns = [c for c in level if c in remaining.columns]
        groups = [frame for _, frame in remaining.groupby(columns, sort=True)] if columns else [remaining]
        placed = []
        for group in groups:
            if len(group) < k:
                continue
            ordered = list(sizes[group.index].sort_values(kind="stable").index)
            runs = [ordered[i:i + k] for i in range(0, len(ordered), k)]
            if len(runs) > 1 and len(runs[-1]) < k:
                runs[-2].extend(runs.pop())
            classes.extend(runs)
            placed.extend(group.index)
        remaining = remaining.drop(index=placed)
    if len(remaining) and classes:
        for key in remaining.index:
            nearest = min(range(len(classes)), key=lambda c: float(np.min(np.abs(sizes[classes[c]] - sizes[key]))))
            classes[nearest].append(key)
    out = pd.DataFrame(index=schools.index, columns=["size_class", "pupils_low", "pupils_high", "pupils"], dtype=float)
    for number, members in enumerate(classes):
        low = np.floor(sizes[members].min() / PUPIL_ROUNDING) * PUPIL_ROUNDING
        high = max(np.ceil(sizes[members].max() / PUPIL_ROUNDING) * PUPIL_ROUNDING, low + PUPIL_ROUNDING)
        out.loc[members, ["size_class", "pupils_low", "pupils_high", "pupils"]] = [number, low, high, (low + high) / 2]
    return out


def size_text(low: float, high: float) -> str:
    """A size class as a table shows it ("40–80"); empty where no size is shown."""
    return "" if pd.isna(low) or pd.isna(high) else f"{int(low)}–{int(high)}"


RATE_DECIMALS = 1  # rates and shares of pseudonymous schools and of pools: 0.1 percentage points


def rounded_rates(frame: pd.DataFrame, rows: pd.Series | None = None) -> pd.DataFrame:
    """Rates and shares (columns ending _rate or _share, and z) to 0.1 points in `rows` (all rows
    when None). A rate in full precision is a fraction of two counts, and a continued fraction gives
    them back exactly; rounded, a great many pairs of counts fit it."""
    out = frame.copy()
    columns = [c for c in out.columns if c.endswith(("_rate", "_share")) or c in ("z", "share")]
    for column in columns:
        values = out[column].astype(float)
        out[column] = values.round(RATE_DECIMALS) if rows is None else values.where(~rows, values.round(RATE_DECIMALS))
    return out


def pseudonymous_points(frame: pd.DataFrame, hidden: pd.Series, keys: pd.Series, classes: pd.DataFrame) -> pd.DataFrame:
    """Rows of schools shown under a pseudonym (`hidden`) as they may leave the core: rates of
    lesson hours to 0.1 points; every count that would give a size or a sum away dropped, and so
    are shares of pupils (a tier share to 0.1 of n pupils fits only a few n, which names a school
    within its size class), type and language; the size as the school's size class (`classes`
    from `size_classes`, looked up by `keys`): pupils_low and pupils_high, pupils at the class's
    middle. Shown schools keep everything, with no class."""
    out = rounded_rates(frame, hidden)
    counts = [c for c in (*contract.HOUR_COLUMNS, "absent_hours", *contract.TIER_COLUMNS, contract.SQUARES_COLUMN)
              if c in out.columns]
    shares = [c for c in out.columns if c.startswith("tier") and c.endswith("_share")]
    out[counts + shares] = out[counts + shares].astype(float)
    out.loc[hidden, counts + shares] = np.nan
    for column in ("school_type", "language"):
        if column in out.columns:
            out[column] = out[column].astype(object).where(~hidden, None)
    for column in ("pupils_low", "pupils_high", "pupils"):
        of_class = keys.map(classes[column]).astype(float)
        kept = out[column].astype(float) if column == "pupils" else pd.Series(np.nan, index=out.index)
        out[column] = kept.where(~hidden, of_class)
    return out


# --- School-level rows and pools (the one other suppression path) ---

def complementary_suppression(
    frame: pd.DataFrame, parent: Sequence[str], size_column: str = "pupils", flag: str = "suppressed",
    value_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Withhold one more cell wherever a parent group has exactly one withheld cell, so that the
    parent's total cannot reveal it: the smallest other cell is chosen. Adds `complementary`.
    `value_columns` are blanked in the chosen cells (default: the figure columns)."""
    out = frame.copy()
    # Per group at once (a loop over a whole country's school months took seventeen seconds): in
    # each group with exactly one withheld cell and another cell, the visible cell of the smallest
    # size, the first of equals in the frame's order; a missing size counts as the largest.
    # A missing key is a group of its own, as pandas' `groups` gives it (dropna would leave it unprotected).
    group = (out.groupby(list(parent), sort=False, dropna=False).ngroup().to_numpy(dtype=np.int64) if parent
             else np.zeros(len(out), dtype=np.int64))
    hidden = out[flag].to_numpy(dtype=bool)
    counts = np.bincount(group, minlength=group.max(initial=-1) + 1)
    withheld_in = np.bincount(group, weights=hidden, minlength=len(counts))
    rows = np.flatnonzero(~hidden & (withheld_in[group] == 1) & (counts[group] >= 2))
    size = out[size_column].astype(float).fillna(np.inf).to_numpy()[rows]
    order = np.lexsort((rows, size, group[rows]))  # by group, then size, then position
    first = order[np.r_[True, group[rows][order][1:] != group[rows][order][:-1]]] if len(order) else order
    picked = np.zeros(len(out), dtype=bool)
    picked[rows[first]] = True
    out["complementary"] = picked
    withheld = out["complementary"]
    if value_columns is None:
        value_columns = [c for c in out.columns if c in COUNTS or c == "absent_hours" or c.endswith(("_rate", "_share"))]
    out[list(value_columns)] = out[list(value_columns)].astype(float)
    out.loc[withheld, list(value_columns)] = np.nan
    out[flag] = out[flag] | withheld
    return out


def withhold_school_rows(counts: pd.DataFrame, parent: Sequence[str], policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """Withhold summed count rows of fewer than the minimum pupils, then one more row in any
    `parent` group with exactly one withheld, so that the parent's total cannot reveal it.
    Counts become NaN where withheld; `suppressed` says which rows. For the school-level rows of anonymised audiences (risk profiles), which
    leave the core only as ratios and size classes."""
    out = counts.assign(suppressed=counts["pupils"] < policy.min_pupils)
    value_columns = [c for c in COUNTS if c in out.columns]
    out[value_columns] = out[value_columns].astype(float)
    out.loc[out["suppressed"], value_columns] = np.nan
    sizes = counts["pupils"].astype(float)
    out = complementary_suppression(out.assign(_size=sizes), parent, size_column="_size", value_columns=value_columns)
    return out.drop(columns=["_size", "complementary"])

def withhold_small(frame: pd.DataFrame, small: pd.Series) -> pd.DataFrame:
    """Counts of the rows marked `small` withheld (NaN): schools under a pseudonym too small to
    show, or pooled rows of too few pupils."""
    out = frame.copy()
    counts = [c for c in (*COUNTS, contract.SQUARES_COLUMN) if c in out.columns]
    out[counts] = out[counts].astype(float)
    out.loc[small, counts] = np.nan
    return out
