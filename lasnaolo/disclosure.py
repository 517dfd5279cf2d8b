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
rule of thumb: the user knows every published cell and all of their own data; a withheld cell is
safe only when the additive relations between cells (a parent is the sum of its children, along
areas and along each slice) do not determine its value. That is exact linear algebra: the withheld
cells' outside parts are the unknowns, each relation one equation, and a cell is determined exactly
when every solution of the homogeneous system leaves it unchanged (its row of the null space is
zero). While any withheld cell is determined, the smallest published cell that shares a relation
with it is withheld as well.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lasnaolo import contract
from lasnaolo.contract import SuppressionPolicy

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
    schools, and the part outside the user's own scope (pupils, schools)."""
    atoms = atoms.assign(_outside=~atoms["school_id"].isin(known))
    atoms = atoms.assign(_outside_pupils=atoms["pupils"].where(atoms["_outside"], 0),
                         _present=atoms["pupils"] > 0)
    atoms = atoms.assign(_outside_school=atoms["school_id"].where(atoms["_outside"] & atoms["_present"]),
                         _school=atoms["school_id"].where(atoms["_present"]))
    areas = {"all": pd.Series("", index=atoms.index), "region": atoms["region_code"],
             "municipality": atoms["municipality_code"]}
    if scope_municipalities is not None:
        inside = atoms["municipality_code"].isin(scope_municipalities)
        areas["scope"] = pd.Series("", index=atoms.index).where(inside)
        areas["scope_region"] = atoms["region_code"].where(inside)
    frames = []
    for level, area in areas.items():
        for dimension in ("total", *SLICE_DIMENSIONS):
            value = pd.Series("", index=atoms.index) if dimension == "total" else atoms[dimension]
            grouped = atoms.assign(_area=area, _value=value).dropna(subset=["_area"]).groupby(
                ["school_year", "month", "_area", "_value"])
            cells = grouped[list(COUNTS)].sum()
            cells["schools"] = grouped["_school"].nunique()
            cells["outside_pupils"] = grouped["_outside_pupils"].sum()
            cells["outside_schools"] = grouped["_outside_school"].nunique()
            cells = cells.reset_index().rename(columns={"_area": "area", "_value": "value"})
            frames.append(cells.assign(level=level, dimension=dimension))
    return pd.concat(frames, ignore_index=True)


def _relations(cells: pd.DataFrame, atoms: pd.DataFrame, scope_municipalities: frozenset[str] | None
               ) -> list[tuple[int, list[int]]]:
    """Additive relations among the cells of one month: (parent, children), each child summing to
    the parent. Children that do not exist are zero, and known."""
    index = {key: i for i, key in enumerate(zip(cells["level"], cells["area"], cells["dimension"], cells["value"]))}
    region_of = atoms.drop_duplicates("municipality_code").set_index("municipality_code")["region_code"]
    slices = [TOTAL, *[(d, v) for d in SLICE_DIMENSIONS for v in SLICE_VALUES[d]]]
    relations = []

    def add(parent_key, child_keys):
        parent = index.get(parent_key)
        children = [index[k] for k in child_keys if k in index]
        if parent is not None:
            relations.append((parent, children))

    regions = sorted(set(region_of))
    for dimension, value in slices:
        add(("all", "", dimension, value), [("region", r, dimension, value) for r in regions])
        for region in regions:
            municipalities = region_of.index[region_of == region]
            add(("region", region, dimension, value), [("municipality", m, dimension, value) for m in municipalities])
        if scope_municipalities is not None:
            scoped = region_of[region_of.index.isin(scope_municipalities)]
            add(("scope", "", dimension, value), [("scope_region", r, dimension, value) for r in sorted(set(scoped))])
            for region in sorted(set(scoped)):
                add(("scope_region", region, dimension, value),
                    [("municipality", m, dimension, value) for m in scoped.index[scoped == region]])
    for level, area in set(zip(cells["level"], cells["area"])):
        for dimension in SLICE_DIMENSIONS:
            add((level, area, *TOTAL), [(level, area, dimension, v) for v in SLICE_VALUES[dimension]])
    return relations


def determined_cells(relations: Sequence[tuple[int, Sequence[int]]], unknown: Collection[int]) -> set[int]:
    """The unknown cells whose value the relations fix exactly, given every other cell.

    Each relation parent − Σ children = 0, restricted to the unknowns, is one row of A. A cell is
    determined exactly when it is the same in every solution of A·x = b, i.e. when its row of a
    basis of A's null space is zero. Unknowns that share no relation are solved apart."""
    unknown = sorted(set(unknown))
    position = {cell: i for i, cell in enumerate(unknown)}
    rows = []
    for parent, children in relations:
        row = {}
        if parent in position:
            row[position[parent]] = 1.0
        for child in children:
            if child in position:
                row[position[child]] = row.get(position[child], 0.0) - 1.0
        if row:
            rows.append(row)
    # Connected components of the unknowns through shared relations keep each SVD small.
    parent_of = list(range(len(unknown)))

    def find(i):
        while parent_of[i] != i:
            parent_of[i] = parent_of[parent_of[i]]
            i = parent_of[i]
        return i

    for row in rows:
        first, *rest = row
        for other in rest:
            parent_of[find(other)] = find(first)
    components: dict[int, list[int]] = {}
    for i in range(len(unknown)):
        components.setdefault(find(i), []).append(i)
    rows_of: dict[int, list[dict]] = {}
    for row in rows:
        rows_of.setdefault(find(next(iter(row))), []).append(row)
    determined = set()
    for root, members in components.items():
        local = {m: j for j, m in enumerate(members)}
        matrix = np.zeros((len(rows_of.get(root, [])), len(members)))
        for r, row in enumerate(rows_of.get(root, [])):
            for column, coefficient in row.items():
                matrix[r, local[column]] = coefficient
        if matrix.shape[0] == 0:
            continue
        _, singular, vt = np.linalg.svd(matrix)
        rank = int((singular > 1e-9).sum())
        null = vt[rank:]  # rows span the null space
        for m, j in local.items():
            if null.shape[0] == 0 or np.abs(null[:, j]).max() < 1e-9:
                determined.add(unknown[m])
    return determined


def _suppress_month(cells: pd.DataFrame, relations: list[tuple[int, list[int]]], policy: SuppressionPolicy) -> pd.Series:
    """Primary suppression, then secondary until the audit finds no withheld cell determined."""
    outside = cells["outside_schools"] > 0
    withheld = outside & ((cells["outside_pupils"] < policy.min_pupils) | (cells["outside_schools"] < MIN_CONTEXT_SCHOOLS))
    withheld = set(np.flatnonzero(withheld.to_numpy()))
    sizes = cells["outside_pupils"].to_numpy()
    can_hide = outside.to_numpy()
    member_of: dict[int, list[int]] = {}
    for r, (parent, children) in enumerate(relations):
        for cell in (parent, *children):
            member_of.setdefault(cell, []).append(r)
    while withheld:
        exposed = determined_cells(relations, withheld)
        if not exposed:
            break
        added = False
        for cell in sorted(exposed):
            candidates = {c for r in member_of.get(cell, []) for c in (relations[r][0], *relations[r][1])}
            candidates = [c for c in candidates if c not in withheld and can_hide[c]]
            if candidates:
                withheld.add(min(candidates, key=lambda c: (sizes[c], c)))
                added = True
        if not added:  # nothing left that could hide it: withhold every cell it relates to
            raise RuntimeError("disclosure audit could not protect a withheld cell")  # pragma: no cover
    mask = np.zeros(len(cells), dtype=bool)
    mask[list(withheld)] = True
    return pd.Series(mask, index=cells.index)


def publish(atoms: pd.DataFrame, known: Collection[str] = (), scope_municipalities: frozenset[str] | None = None,
            policy: SuppressionPolicy | None = None) -> pd.DataFrame:
    """The publication of a population for one user: every cell of every month, with `suppressed`
    and its counts NaN where withheld. `atoms` are school × school year × month × grade band rows
    (ATOM_COLUMNS) of the whole population; `known` the school ids of the user's own scope;
    `scope_municipalities` the user's custom area when it is not the whole population."""
    policy = policy or SuppressionPolicy()
    columns = ["school_year", "month", "level", "area", "dimension", "value", *COUNTS, "schools", "suppressed"]
    if atoms.empty:
        return pd.DataFrame(columns=columns)
    every = _cells(atoms, set(known), scope_municipalities)
    out = []
    for _, cells in every.groupby(["school_year", "month"], sort=True):
        cells = cells.reset_index(drop=True)
        cells["suppressed"] = _suppress_month(cells, _relations(cells, atoms, scope_municipalities), policy)
        out.append(cells)
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
