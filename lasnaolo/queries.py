"""The only way to read data: every function takes the user's Scope and returns rows inside it.

Aggregation is pushed into the database (GROUP BY), so pages and the CLI receive small frames.
For anonymised scopes (coordinators) the rows leave this module already suppressed and with
school identities replaced by pseudonyms: no page can forget to do it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.engine import Connection, Engine

from lasnaolo import contract, disclosure, metrics, policy, reference
from lasnaolo.contract import SUPPRESSION, SuppressionPolicy
from lasnaolo.kept import Kept
from lasnaolo.scope import (DELIVERIES, IMPACT, PEERS, PROFILES, PseudonymKeyMissing, Scope, Unit, derived_key,
                            pseudonym)
from lasnaolo.summary import complete_sum, grade_band_expression
from lasnaolo.store import (TABLE_OF_KIND, Absence, AbsenceSummary, ImportLog, MeasureInUse, Municipality, School,
                            Target,
                            SelfEvaluation, TargetEvent, Wellbeing)

GRADE_BAND = grade_band_expression(Absence.grade)

_GROUPABLE = {
    "grade_band": GRADE_BAND,
    "school_year": Absence.school_year,
    "month": Absence.month,
    "grade": Absence.grade,
    "school_id": School.school_id,
    "municipality_code": School.municipality_code,
    "region_code": Municipality.region_code,
    "school_type": School.school_type,
    "language": School.language,
}


@dataclass(frozen=True)
class RowFilter:
    """What a user narrowed the rows to (each None: no narrowing). It only ever narrows: the
    scope's own condition always applies as well."""

    grades: tuple[int, ...] | None = None
    school_types: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None

    def condition(self) -> ColumnElement[bool]:
        parts = []
        if self.grades is not None:
            parts.append(Absence.grade.in_(list(self.grades)))
        if self.school_types is not None:
            parts.append(School.school_type.in_(list(self.school_types)))
        if self.languages is not None:
            parts.append(School.language.in_(list(self.languages)))
        return and_(true(), *parts)

    def bands(self) -> tuple[str, ...] | None:
        """The grade bands the chosen grades make up exactly (None: they split a band)."""
        if self.grades is None:
            return tuple(contract.GRADE_BANDS)
        chosen = set(self.grades)
        bands = tuple(b for b, grades in contract.GRADE_BANDS.items() if set(grades) <= chosen)
        covered = {g for b in bands for g in contract.GRADE_BANDS[b]}
        return bands if covered == chosen else None

    def summary_condition(self) -> ColumnElement[bool]:
        """The same narrowing on the absence summary (only when `bands()` is not None)."""
        S = AbsenceSummary
        parts = []
        if self.grades is not None:
            parts.append(S.grade_band.in_(list(self.bands())))
        if self.school_types is not None:
            parts.append(S.school_type.in_(list(self.school_types)))
        if self.languages is not None:
            parts.append(S.language.in_(list(self.languages)))
        return and_(true(), *parts)


EVERYTHING = RowFilter()


def absence_totals(
    engine: Engine,
    scope: Scope,
    *,
    unit: Unit = Unit("all"),
    school_years: Sequence[str] | None = None,
    months: Sequence[str] | None = None,
    by: Sequence[str] = (),
    filters: RowFilter = EVERYTHING,
    policy: SuppressionPolicy = SUPPRESSION,
    use_summary: bool = True,
    raw: bool = False,
) -> pd.DataFrame:
    """Summed counts per month (and per `by` group) for the unit, inside the scope.
    `use_summary=False` reads the absence rows themselves (the tests compare the two); `raw=True`
    skips the protection below and is for this module's own use only.

    Anonymised scopes are answered from their publication (`published_totals`): NaN counts and
    `suppressed` True where withheld; school-level rows only under pseudonyms."""
    if scope.anonymised and not raw:
        if "school_id" in by:
            rows = absence_totals(engine, scope, unit=unit, school_years=school_years, months=months, by=by,
                                  filters=filters, use_summary=use_summary, raw=True)
            return _school_points(rows, policy)
        return published_totals(engine, scope, unit=unit, school_years=school_years, months=months, by=by,
                                filters=filters, policy=policy)
    return _rows(engine, scope, unit=unit, school_years=school_years, months=months, by=by, filters=filters,
                 use_summary=use_summary)


def _rows(engine: Engine, scope: Scope, *, unit: Unit, school_years: Sequence[str] | None,
          months: Sequence[str] | None, by: Sequence[str], filters: RowFilter, use_summary: bool) -> pd.DataFrame:
    groups = ["school_year", "month", *[b for b in by if b not in ("school_year", "month")]]
    counts = metrics.COUNT_COLUMNS
    if use_summary and "grade" not in groups and filters.bands() is not None:
        # The summary answers without joins and from a third of the rows (lasnaolo/summary.py).
        S = AbsenceSummary
        keys = [getattr(S, g) for g in groups]
        located = dict(school_id=S.school_id, municipality_code=S.municipality_code, region_code=S.region_code)
        query = (select(*[k.label(g) for k, g in zip(keys, groups)], *[func.sum(getattr(S, c)).label(c) for c in counts],
                        complete_sum(S.pupil_share_squares).label(metrics.SQUARES))
                 .where(scope.school_condition(**located), unit.condition(**located), filters.summary_condition())
                 .group_by(*keys).order_by(*keys))
        year_column, month_column = S.school_year, S.month
    else:
        keys = [_GROUPABLE[g] for g in groups]
        query = (
            select(*[k.label(g) for k, g in zip(keys, groups)], *[func.sum(getattr(Absence, c)).label(c) for c in counts],
                   complete_sum(Absence.pupil_share_squares).label(metrics.SQUARES))
            .select_from(Absence)
            .join(School, School.school_id == Absence.school_id)
            .join(Municipality, Municipality.municipality_code == School.municipality_code)
            # The school condition on the absence table's own column, which leads its primary key
            # (the planner statistics refreshed after each import make it the chosen path).
            .where(scope.school_condition(school_id=Absence.school_id), unit.condition(school_id=Absence.school_id),
                   filters.condition())
            .group_by(*keys)
            .order_by(*keys)
        )
        year_column, month_column = Absence.school_year, Absence.month
    if school_years is not None:
        query = query.where(year_column.in_(list(school_years)))
    if months is not None:
        query = query.where(month_column.in_(list(months)))
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).fetchall(), columns=[*groups, *counts, metrics.SQUARES])
    for column in counts:
        frame[column] = frame[column].astype("int64")
    frame[metrics.SQUARES] = frame[metrics.SQUARES].astype(float)
    return frame


def _school_points(frame: pd.DataFrame, policy: SuppressionPolicy) -> pd.DataFrame:
    """School-level rows for an anonymised scope (the risk profiles' input): pseudonyms, and rows
    of too few pupils withheld with a complement within each school and month. They never leave
    the core as counts: the risk profiles publish standardised ratios and banded sizes only."""
    keys = {s: pseudonym(s, PROFILES) for s in frame["school_id"].unique()}  # per school, not per row
    frame = frame.drop(columns=metrics.SQUARES).assign(school_id=frame["school_id"].map(keys))
    return disclosure.withhold_school_rows(frame, ["school_year", "month", "school_id"], policy)


def absence_groupings(
    engine: Engine,
    scope: Scope,
    groupings: Sequence[Sequence[str]],
    *,
    unit: Unit = Unit("all"),
    school_years: Sequence[str] | None = None,
    filters: RowFilter = EVERYTHING,
    policy: SuppressionPolicy = SUPPRESSION,
) -> list[pd.DataFrame]:
    """Several groupings of the same rows (each like `absence_totals(by=grouping)`) from one pass
    over the database: the rows are grouped once by every dimension involved, then each grouping
    is summed from that small frame, and only then withheld for anonymised scopes, so a withheld
    cell of the fine grouping never goes missing from a coarser one."""
    if scope.anonymised:
        # Each grouping is a set of published cells; one that crosses the chosen slice is not
        # published and comes back empty.
        out = []
        for grouping in groupings:
            try:
                out.append(published_totals(engine, scope, unit=unit, school_years=school_years, by=grouping,
                                            filters=filters, policy=policy))
            except disclosure.NotPublished:
                if not grouping:
                    raise
                out.append(pd.DataFrame(columns=["school_year", "month", *grouping, *metrics.COUNT_COLUMNS, "suppressed"]))
        return out
    dimensions = sorted({d for grouping in groupings for d in grouping})
    fine = absence_totals(engine, scope, unit=unit, school_years=school_years, by=dimensions, filters=filters,
                          raw=True)
    counts = list(metrics.COUNT_COLUMNS)
    out = []
    for grouping in groupings:
        keys = ["school_year", "month", *grouping]
        if fine.empty:
            out.append(fine[keys + counts + [metrics.SQUARES]])
            continue
        summed = fine.groupby(keys, sort=True)[counts].sum()
        summed[metrics.SQUARES] = metrics.complete_sums(fine[metrics.SQUARES], [fine[k] for k in keys])
        out.append(summed.reset_index())
    return out


# --- The publication: every figure about others that a user sees (lasnaolo/disclosure.py) ---

_PUBLICATIONS: Kept[pd.DataFrame] = Kept(64)


def _kept_key(engine: Engine) -> tuple:
    """What every frame kept in this process is kept under first: the database, its data version
    and the pseudonym key (frames hold pseudonyms; a rotated key must not find old ones)."""
    try:
        key = derived_key("frames kept in this process")
    except PseudonymKeyMissing:  # no pseudonyms can be made: the questions that need them fail on their own
        key = None
    return str(engine.url), data_version(engine), key


@dataclass(frozen=True)
class Audience:
    """Whose publication: the schools it is drawn from, the schools the user sees in full anyway,
    and the user's own area when it is a list of municipalities inside a larger population."""

    population: Scope
    known: frozenset[str]
    custom_area: frozenset[str] | None


def audience(engine: Engine, scope: Scope) -> Audience:
    """The one population a user's figures about others are published from: the regions the scope
    touches (a rector: the own municipality), with the scope's own schools known to the user. A
    narrowed scope (`published_as`) has the audience of the scope it narrows."""
    scope = scope.published_as or scope
    inside = _rows_schools(engine, scope)
    if policy.capabilities(scope.role).school_level_only:
        municipalities = frozenset(inside["municipality_code"])
        return Audience(Scope("admin", municipality_codes=municipalities), frozenset(inside["school_id"]), None)
    population = Scope("admin", region_codes=frozenset(inside["region_code"]))
    if scope.anonymised:
        custom = frozenset(inside["municipality_code"]) if scope.municipality_codes is not None else None
        return Audience(population, frozenset(), custom)
    return Audience(population, frozenset(inside["school_id"]), None)


def _rows_schools(engine: Engine, scope: Scope) -> pd.DataFrame:
    """The scope's schools with their real codes (never leaves this module for anonymised scopes)."""
    return schools(engine, Scope("admin", scope.municipality_codes, scope.region_codes, scope.school_ids))


def publication(engine: Engine, scope: Scope, school_years: Sequence[str],
                policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """The user's publication for these school years (see lasnaolo/disclosure.py), computed once per
    data version and audience."""
    return _publication_of(engine, audience(engine, scope), school_years, policy)


def _publication_of(engine: Engine, who: Audience, school_years: Sequence[str], policy: SuppressionPolicy) -> pd.DataFrame:
    kept_key = _kept_key(engine)
    keys = {year: (*kept_key, who, year, policy) for year in sorted(set(school_years))}
    frames = {year: _PUBLICATIONS.get(key) for year, key in keys.items()}
    missing = [year for year, frame in frames.items() if frame is None]
    if missing:  # all missing years in one pass: the cells are grouped once, the audit runs per month
        atoms = _rows(engine, who.population, unit=Unit("all"), school_years=missing, months=None,
                      by=["school_id", "municipality_code", "region_code", "school_type", "language", "grade_band"],
                      filters=EVERYTHING, use_summary=True)
        published = disclosure.publish(atoms, who.known, who.custom_area, policy)
        for year in missing:
            frames[year] = _PUBLICATIONS.put(keys[year], published[published["school_year"] == year].reset_index(drop=True))
    return pd.concat(frames.values(), ignore_index=True) if frames else disclosure.publish(pd.DataFrame())


def _narrowed_cell(engine: Engine, scope: Scope, custom: bool) -> tuple[str, set[str] | None]:
    """The cell of the wider scope's publication that a narrowed scope's total is: the whole
    wider scope, one of its regions or one municipality; anything else is not published."""
    inside, wider = _rows_schools(engine, scope), _rows_schools(engine, scope.published_as)
    if set(inside["school_id"]) == set(wider["school_id"]):
        return ("scope" if custom else "all"), None
    if inside["municipality_code"].nunique() == 1:
        return "municipality", set(inside["municipality_code"])
    region = set(inside["region_code"])
    if len(region) == 1 and set(inside["school_id"]) == set(wider.loc[wider["region_code"].isin(region), "school_id"]):
        return ("scope_region" if custom else "region"), region
    raise disclosure.NotPublished("an anonymised view covers the whole area, one region or one municipality")


def slice_of(filters: RowFilter) -> disclosure.Slice:
    """The one published slice a filter asks for (NotPublished when it asks for anything else)."""
    def single(values, every, what):
        if values is None or set(values) >= set(every):
            return None
        if len(set(values)) != 1:
            raise disclosure.NotPublished(f"anonymised figures are published for one {what} at a time")
        return next(iter(values))

    band = None
    if filters.grades is not None:
        bands = filters.bands()
        if bands is None:
            raise disclosure.NotPublished("anonymised figures are published for whole grade bands (1-2, 3-6, 7-9)")
        band = single(bands, contract.GRADE_BANDS, "grade band")
    return disclosure.Slice.of(band, single(filters.school_types, contract.SCHOOL_TYPES, "school type"),
                               single(filters.languages, contract.SCHOOL_LANGUAGES, "language"))


def published_totals(
    engine: Engine,
    scope: Scope,
    *,
    unit: Unit = Unit("all"),
    school_years: Sequence[str] | None = None,
    months: Sequence[str] | None = None,
    by: Sequence[str] = (),
    filters: RowFilter = EVERYTHING,
    policy: SuppressionPolicy = SUPPRESSION,
    context: bool = False,
) -> pd.DataFrame:
    """`absence_totals` answered from the user's publication: per month and `by` group, counts NaN
    and `suppressed` True where withheld. `by` may hold region_code and/or municipality_code and at
    most one of grade_band, school_type, language; `filters` one slice. Without `context` the
    cells lie inside the scope; with it, every municipality of the population (the regional
    context of a director or a coordinator)."""
    by = [b for b in by if b not in ("school_year", "month")]
    unknown = [b for b in by if b not in ("region_code", "municipality_code", *disclosure.SLICE_DIMENSIONS)]
    slice_by = [b for b in by if b in disclosure.SLICE_DIMENSIONS]
    if unknown or len(slice_by) > 1:
        raise disclosure.NotPublished(f"figures by {', '.join(by)} are not published for this role")
    who = audience(engine, scope)
    population = _rows_schools(engine, who.population)
    if context:
        # The regions this scope touches: a deck narrowed to one region of a wider publication
        # ranks that region's municipalities, not every one of the publication (review finding).
        touched = frozenset(_rows_schools(engine, scope)["region_code"])
        population = population[population["region_code"].isin(touched)]
    if who.known >= set(population["school_id"]):
        # Nothing here is about others (an administrator): the rows themselves, nothing withheld.
        rows = _rows(engine, Scope("admin", region_codes=touched) if context else
                     Scope("admin", scope.municipality_codes, scope.region_codes, scope.school_ids),
                     unit=unit, school_years=school_years, months=months, by=by, filters=filters, use_summary=True)
        return rows.assign(suppressed=False)
    piece = slice_of(filters)
    if school_years is None:
        school_years = (sorted({contract.school_year_of_month(m) for m in months}) if months is not None
                        else _years_in_scope(engine, scope))
    published = _publication_of(engine, who, school_years, policy)
    region_of = dict(zip(population["municipality_code"], population["region_code"]))
    inside = population if context else _rows_schools(engine, scope)
    custom = who.custom_area is not None and not context
    region_level = "scope_region" if custom else "region"
    if "municipality_code" in by:
        level, areas = "municipality", set(inside["municipality_code"])
        if unit.level == "region":
            areas = {m for m in areas if region_of.get(m) == unit.code}
        elif unit.level == "municipality":
            areas &= {unit.code}
    elif "region_code" in by:
        if unit.level not in ("all", "region"):
            raise disclosure.NotPublished(f"regions within a {unit.level} are not published")
        level, areas = region_level, set(inside["region_code"]) & ({unit.code} if unit.level == "region" else
                                                                  set(inside["region_code"]))
    elif unit.level == "all" and scope.published_as is not None and not context:
        level, areas = _narrowed_cell(engine, scope, custom)
    elif unit.level == "all":
        level, areas = ("scope" if custom else "all"), None
    elif unit.level == "region":
        level, areas = region_level, set(inside["region_code"]) & {unit.code}
    elif unit.level == "municipality":
        level, areas = "municipality", set(inside["municipality_code"]) & {unit.code}
    else:
        raise disclosure.NotPublished("a single school is never published to this role")
    cells = disclosure.answer(published[published["school_year"].isin(list(school_years))], level, areas, piece,
                              slice_by[0] if slice_by else None)
    if months is not None:
        cells = cells[cells["month"].isin(list(months))]
    out = cells.rename(columns={"value": slice_by[0]} if slice_by else {})
    if level == "municipality":
        out = out.rename(columns={"area": "municipality_code"})
        if "region_code" in by:
            out["region_code"] = out["municipality_code"].map(region_of)
    elif "region_code" in by:
        out = out.rename(columns={"area": "region_code"})
    out = out.drop(columns=[c for c in ("area", "value") if c in out.columns])
    keys = ["school_year", "month", *by]
    out = out[[*keys, *metrics.COUNT_COLUMNS, "suppressed"]].sort_values(keys, ignore_index=True)
    return out


def unit_exists(engine: Engine, scope: Scope, unit: Unit) -> bool:
    query = (
        select(func.count())
        .select_from(School)
        .join(Municipality, Municipality.municipality_code == School.municipality_code)
        .where(scope.school_condition(), unit.condition())
    )
    with engine.connect() as connection:
        return bool(connection.execute(query).scalar_one())


def schools(engine: Engine, scope: Scope) -> pd.DataFrame:
    query = (
        select(School.school_id, School.school_name, School.municipality_code, School.school_type,
               School.language, Municipality.region_code)
        .join(Municipality, Municipality.municipality_code == School.municipality_code)
        .where(scope.school_condition())
        .order_by(School.school_id)
    )
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).fetchall(),
                             columns=["school_id", "school_name", "municipality_code", "school_type", "language", "region_code"])
    if scope.anonymised:
        frame["school_id"] = frame["school_id"].map(lambda s: pseudonym(s, PROFILES))
        frame["school_name"] = None
        frame = frame.sort_values("school_id", ignore_index=True)
    return frame


def latest_months_by_school(engine: Engine, scope: Scope, school_year: str) -> pd.DataFrame:
    """Each school in scope with the latest month it has data for in the school year (None: none)."""
    latest = (
        select(Absence.school_id, func.max(Absence.month).label("latest_month"))
        .where(Absence.school_year == school_year)
        .group_by(Absence.school_id)
        .subquery()
    )
    query = (
        select(School.school_id, latest.c.latest_month)
        .join(Municipality, Municipality.municipality_code == School.municipality_code)
        .outerjoin(latest, latest.c.school_id == School.school_id)
        .where(scope.school_condition())
        .order_by(School.school_id)
    )
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).fetchall(), columns=["school_id", "latest_month"])
    if scope.anonymised:
        frame["school_id"] = frame["school_id"].map(lambda s: pseudonym(s, DELIVERIES))
    return frame


def readable_municipalities(engine: Engine, scope: Scope) -> set[str]:
    """Municipalities whose own records (targets, self-evaluations) the scope may read: none for
    a rector or an anonymised scope (`_readable_unit_queries`). Each once (not once per school:
    a country's 4,000 rows made a new process's first self-evaluation profile slower)."""
    query = _readable_unit_queries(scope)[1]
    if query is None:
        return set()
    with engine.connect() as connection:
        return set(connection.execute(query.distinct()).scalars())


def readable_schools(engine: Engine, scope: Scope, municipality_code: str) -> set[str]:
    """The schools of one municipality whose own records the scope may read: a rector the own
    school only; anonymised scopes none."""
    query = _readable_unit_queries(scope)[0]
    if query is None:
        return set()
    with engine.connect() as connection:
        return set(connection.execute(query.where(School.municipality_code == municipality_code)).scalars())


def _readable_unit_queries(scope: Scope) -> tuple[Select | None, Select | None]:
    """The readable schools' and municipalities' codes as subqueries (None: none), so a
    country's records are filtered in the database, not by a list of every school."""
    if scope.anonymised:
        return None, None
    municipalities = None if policy.capabilities(scope.role).school_level_only else _scoped_schools(scope, School.municipality_code)
    return _scoped_schools(scope), municipalities


def _readable_unit_condition(scope: Scope, level, code) -> ColumnElement[bool]:
    """Rows of a table of units' own records (`level`, `code` columns) that the scope may read."""
    conditions = [(level == unit_level) & code.in_(query)
                  for unit_level, query in zip(("school", "municipality"), _readable_unit_queries(scope)) if query is not None]
    return or_(*conditions) if conditions else false()


def _scoped_schools(scope: Scope, column=School.school_id):
    """A subquery of the scope's schools (or their municipalities): filtering a large table by
    `IN (…)` lets the database use the large table's own indexes instead of joining every row."""
    return (select(column).join(Municipality, Municipality.municipality_code == School.municipality_code)
            .where(scope.school_condition()))


def _years_in_scope(engine: Engine, scope: Scope) -> list[str]:
    return school_years(engine, scope)


def school_years(engine: Engine, scope: Scope) -> list[str]:
    """School years with absence data inside the scope, newest first."""
    query = (
        select(Absence.school_year)
        .where(Absence.school_id.in_(_scoped_schools(scope)))
        .distinct()
        .order_by(Absence.school_year.desc())
    )
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(query)]


def wellbeing(engine: Engine, scope: Scope, *, unit_type: str = "municipality", unit_ids: Collection[str] | None = None,
              policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """Survey rows for schools or municipalities inside the scope (anonymised scopes: results of
    too few respondents withheld as NaN, schools as pseudonyms). `unit_ids`: only these units (their
    own codes, inside the scope as ever): one school's profile need not read the country's."""
    columns = [Wellbeing.unit_type, Wellbeing.unit_id, Wellbeing.survey_year, Wellbeing.grade_group,
               Wellbeing.indicator, Wellbeing.respondents, Wellbeing.value_pct]
    units = _scoped_schools(scope) if unit_type == "school" else _scoped_schools(scope, School.municipality_code)
    query = select(*columns).where(Wellbeing.unit_type == unit_type, Wellbeing.unit_id.in_(units))
    if unit_ids is not None:
        query = query.where(Wellbeing.unit_id.in_(sorted(unit_ids)))
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).fetchall(), columns=[c.name for c in columns])
    if scope.anonymised:
        frame["value_pct"] = frame["value_pct"].where(frame["respondents"] >= policy.min_respondents)
        if unit_type == "school":
            frame["unit_id"] = frame["unit_id"].map(lambda s: pseudonym(s, PROFILES))
    return frame


class NotAllowed(PermissionError):
    """A query the scope's role may not run at all."""


def _admin_only(scope: Scope, what: str) -> None:
    if not policy.capabilities(scope.role).administers:
        raise NotAllowed(f"{what} is for administrators only")


def data_version(engine: Engine | Connection) -> tuple[int, ...]:
    """Grows with every import, every change to targets and every self-evaluation (each is logged
    as a new row, and no row of these logs is ever deleted). Part of every cached figure's key, so
    all app server processes see new data at once, not only the process that imported or saved.
    Each log's newest id and its count of rows: ids are handed out in order but may be committed
    out of order (two saves at once), and a save committed after a later one leaves the newest id
    as it was but not the count (review). Not scoped: it reveals only that something changed."""
    logs = (ImportLog.id, TargetEvent.id, SelfEvaluation.id)
    parts = [part for c in logs for part in (func.coalesce(func.max(c), 0), func.count(c))]
    query = select(*[select(part).scalar_subquery() for part in parts])
    if isinstance(engine, Connection):  # inside a caller's transaction (lasnaolo.results keeping a live result)
        return tuple(engine.execute(query).one())
    with engine.connect() as connection:
        return tuple(connection.execute(query).one())


def import_log(engine: Engine, scope: Scope, limit: int = 200) -> pd.DataFrame:
    """The newest imports first (administrators only)."""
    _admin_only(scope, "the import log")
    columns = [ImportLog.imported_at, ImportLog.imported_by, ImportLog.file_name, ImportLog.file_kind,
               ImportLog.rows_in_file, ImportLog.rows_inserted, ImportLog.rows_replaced, ImportLog.rows_unchanged,
               ImportLog.sha256]
    query = select(*columns).order_by(ImportLog.id.desc()).limit(limit)
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(query).fetchall(), columns=[c.name for c in columns])


def stored_rows(engine: Engine, scope: Scope, kind: str) -> pd.DataFrame:
    """Every stored row of one file kind, in the contract's columns (administrators only):
    the current data as it would be delivered, for download and re-import."""
    _admin_only(scope, "downloading the stored data")
    table = TABLE_OF_KIND[kind]
    spec = contract.FILE_SPECS[kind]
    query = select(*[table.c[c] for c in spec.column_names]).order_by(*[table.c[k] for k in spec.key])
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(query).fetchall(), columns=list(spec.column_names))


CONTEXT_ROLES = policy.roles_that("regional_context")


def regional_scope(engine: Engine, scope: Scope) -> Scope:
    """The regions the scope touches, read under the coordinator's rules (pseudonyms, small groups
    withheld): the context in which a municipality's few schools can be placed."""
    if scope.role not in CONTEXT_ROLES:
        raise NotAllowed(f"regional comparison is not available to the {scope.role} role")
    regions = select(Municipality.region_code).join(School, School.municipality_code == Municipality.municipality_code)
    regions = regions.where(scope.school_condition()).distinct()
    with engine.connect() as connection:
        region_codes = frozenset(r[0] for r in connection.execute(regions))
    return Scope("coordinator", region_codes=region_codes)


def regional_context(
    engine: Engine,
    scope: Scope,
    *,
    school_years: Sequence[str] | None = None,
    filters: RowFilter = EVERYTHING,
    policy: SuppressionPolicy = SUPPRESSION,
) -> pd.DataFrame:
    """Municipality-level totals per month for every municipality in the regions the scope
    touches: where a director's municipality stands in its region. Read from the user's
    publication: never a school, and no municipality whose part outside the user's own scope is
    too small (or would let a withheld one be worked out)."""
    if scope.role not in CONTEXT_ROLES:
        raise NotAllowed(f"regional comparison is not available to the {scope.role} role")
    return published_totals(engine, scope, school_years=school_years, by=["region_code", "municipality_code"],
                            filters=filters, policy=policy, context=True)


def peer_context(
    engine: Engine,
    scope: Scope,
    school_id: str,
    school_year: str,
    policy: SuppressionPolicy = SUPPRESSION,
) -> pd.DataFrame:
    """Monthly totals of every school in the region of one school inside the scope: the pool a
    fair comparison draws its peers from (see `regional_peers`)."""
    region_code, _ = _region_of_school_in_scope(engine, scope, school_id)
    return regional_peers(engine, scope, frozenset({region_code}), school_year, policy)


def regional_peers(
    engine: Engine,
    scope: Scope,
    region_codes: frozenset[str],
    school_year: str,
    policy: SuppressionPolicy = SUPPRESSION,
) -> pd.DataFrame:
    """Monthly totals of every school in the given regions (with `region_code`), read in one query.
    Schools outside the scope appear under a pseudonym (`school_key`) without name or municipality,
    small ones withheld; the scope's own schools, and those of municipalities that let rectors see
    names, keep code, `school_name` and `municipality_code`. Callers pass only regions the scope touches.

    Kept per data version, scope and year: a new school year on the comparison page reads the
    year before it, which the previous year's question read. A kept read of more regions answers
    for fewer (every row depends on its own school alone). Callers must not change the frames."""
    key = (*_kept_key(engine), scope, school_year, policy)
    for kept_key, rows in _PEER_ROWS.items():
        if kept_key[:-1] == key and region_codes <= kept_key[-1]:
            _PEER_ROWS.get(kept_key)  # used: kept longer
            return rows[rows["region_code"].isin(region_codes)].reset_index(drop=True)
    kept = _PEER_ROWS.put((*key, region_codes), _regional_peers(engine, scope, region_codes, school_year, policy))
    return kept.copy()  # never the kept frame itself: a caller's change would reach every later answer


_PEER_ROWS: Kept[pd.DataFrame] = Kept(8)


def _regional_peers(engine: Engine, scope: Scope, region_codes: frozenset[str], school_year: str,
                    policy: SuppressionPolicy) -> pd.DataFrame:
    inside = set(schools(engine, scope)["school_id"]) if not scope.anonymised else set()
    everyone = Scope("admin", region_codes=region_codes)
    rows = absence_totals(engine, everyone, school_years=[school_year],
                          by=["school_id", "municipality_code", "region_code", "school_type", "language"])
    rows["in_scope"] = rows["school_id"].isin(inside)
    named = rows["in_scope"] | rows["municipality_code"].isin(scope.named_municipality_codes)
    keys = {s: s for s in inside} | {s: pseudonym(s, PEERS, school_year) for s in set(rows["school_id"]) - inside}
    rows["school_key"] = rows["school_id"].where(named, rows["school_id"].map(keys))
    names = schools(engine, everyone).set_index("school_id")["school_name"]
    rows["school_name"] = rows["school_id"].map(names).where(named)
    rows["municipality_code"] = rows["municipality_code"].where(named)  # a named school's place labels it
    outside = ~rows["in_scope"]
    rows = disclosure.withhold_small(rows, outside & (rows["pupils"] < policy.min_pupils))
    return rows.drop(columns=["school_id"])


def measures_in_use(engine: Engine, scope: Scope, school_year: str) -> pd.DataFrame:
    """Measures of the attendance model active at some point of the school year, in scope."""
    autumn = contract.parse_school_year(school_year)
    first, last = date(autumn, 8, 1), date(autumn + 1, 7, 31)
    query = (
        select(MeasureInUse.school_id, MeasureInUse.measure, MeasureInUse.tier, MeasureInUse.start, MeasureInUse.end,
               MeasureInUse.fte)
        .join(School, School.school_id == MeasureInUse.school_id)
        .join(Municipality, Municipality.municipality_code == School.municipality_code)
        .where(scope.school_condition(), MeasureInUse.start <= last,
               (MeasureInUse.end.is_(None)) | (MeasureInUse.end >= first))
        .order_by(MeasureInUse.school_id, MeasureInUse.measure)
    )
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).fetchall(), columns=["school_id", "measure", "tier", "start", "end", "fte"])
    if scope.anonymised:
        frame["school_id"] = frame["school_id"].map(lambda s: pseudonym(s, PROFILES))
    return frame


@dataclass(frozen=True)
class WellbeingReference:
    """What a unit's survey result is read against, and what that reference is: `basis`
    "national" (every municipality of the country), "municipalities" (the `units` municipalities
    the data hold) or "schools" (the data hold no municipality rows for the survey: the `units`
    schools' results pooled, each indicator from at least MIN_POOLED_SCHOOLS schools)."""

    values: pd.DataFrame  # indicator, respondents, value_pct
    basis: str
    units: int


def wellbeing_reference(engine: Engine, survey_year: int, grade_group: str) -> WellbeingReference:
    """Every indicator of one survey over all municipalities, weighted by respondents (the
    national reference THL publishes anyway, so it is open to every role); from the schools'
    rows when the data hold no municipality rows (the contract allows school rows only)."""
    for unit_type in ("municipality", "school"):
        query = (
            select(Wellbeing.indicator, func.sum(Wellbeing.respondents).label("respondents"),
                   func.sum(Wellbeing.value_pct * Wellbeing.respondents).label("weighted"),
                   func.count(func.distinct(Wellbeing.unit_id)).label("units"))
            .where(Wellbeing.unit_type == unit_type, Wellbeing.survey_year == survey_year,
                   Wellbeing.grade_group == grade_group, Wellbeing.value_pct.is_not(None), Wellbeing.respondents > 0)
            .group_by(Wellbeing.indicator)
        )
        with engine.connect() as connection:
            frame = pd.DataFrame(connection.execute(query).fetchall(),
                                 columns=["indicator", "respondents", "weighted", "units"])
            units = connection.execute(select(func.count(func.distinct(Wellbeing.unit_id))).where(
                Wellbeing.unit_type == unit_type, Wellbeing.survey_year == survey_year,
                Wellbeing.grade_group == grade_group)).scalar_one()
        if unit_type == "school":
            # A pool of one or two schools would hand a rector the other school's answers.
            frame = frame[frame["units"] >= MIN_POOLED_SCHOOLS]
        if not frame.empty:
            break
    frame["value_pct"] = frame["weighted"] / frame["respondents"].where(frame["respondents"] > 0)
    if unit_type == "municipality":
        basis = "national" if units >= len(reference.municipality_codes()) else "municipalities"
    else:
        basis = "schools"
    return WellbeingReference(frame[["indicator", "respondents", "value_pct"]].reset_index(drop=True), basis, int(units))


MIN_POOLED_SCHOOLS = 3


def _region_of_school_in_scope(engine: Engine, scope: Scope, school_id: str) -> tuple[str, str]:
    if not unit_exists(engine, scope, Unit("school", school_id)):
        raise NotAllowed(f"school {school_id!r} is not in your scope")
    query = (select(Municipality.region_code, School.municipality_code)
             .join(School, School.municipality_code == Municipality.municipality_code).where(School.school_id == school_id))
    with engine.connect() as connection:
        region_code, municipality_code = connection.execute(query).one()
    return region_code, municipality_code


def region_of_unit(engine: Engine, scope: Scope, unit: Unit) -> str:
    """The region of a school or municipality inside the scope (NotAllowed outside it)."""
    if not unit_exists(engine, scope, unit):
        raise NotAllowed(f"{unit} is not in your scope")
    query = (select(Municipality.region_code).join(School, School.municipality_code == Municipality.municipality_code)
             .where(unit.condition()).limit(1))
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def municipality_months(engine: Engine, scope: Scope, school_id: str, school_year: str,
                        policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """Monthly totals of the whole municipality of a school in scope: the coarse line a rector's
    school is read against, from the user's publication (no school inside it is visible; withheld
    while the rest of the municipality is too small)."""
    _, municipality_code = _region_of_school_in_scope(engine, scope, school_id)
    return published_totals(engine, scope, unit=Unit("municipality", municipality_code), school_years=[school_year],
                            policy=policy)


def pooled_by_grade(engine: Engine, scope: Scope, school_id: str, peer_keys: Sequence[str], school_year: str,
                    months: Sequence[str], policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """Per grade, the counts summed over the peer schools named by their keys (codes or
    pseudonyms from peer_context). Only the pool leaves this function, and only when it holds
    at least MIN_POOLED_SCHOOLS schools, so no single school's grades can be read from it."""
    region_code, _ = _region_of_school_in_scope(engine, scope, school_id)
    everyone = Scope("admin", region_codes=frozenset({region_code}))
    keys = set(peer_keys)
    empty = pd.DataFrame(columns=["school_year", "month", "grade", *metrics.COUNT_COLUMNS])
    chosen_ids = [s for s in schools(engine, everyone)["school_id"] if s in keys or pseudonym(s, PEERS, school_year) in keys]
    if len(chosen_ids) < MIN_POOLED_SCHOOLS:
        return empty
    # Only the peers' rows are read (a region holds hundreds of schools, a peer group a handful).
    chosen = absence_totals(engine, Scope("admin", region_codes=frozenset({region_code}), school_ids=frozenset(chosen_ids)),
                            months=list(months), school_years=[school_year], by=["school_id", "grade"])
    if chosen["school_id"].nunique() < MIN_POOLED_SCHOOLS:
        return empty
    counts = ["pupils", *contract.HOUR_COLUMNS, *contract.TIER_COLUMNS]
    keys = ["school_year", "month", "grade"]
    pooled = chosen.groupby(keys, as_index=False)[counts].sum()
    # Every grade row pools at least MIN_POOLED_SCHOOLS schools that have pupils in it.
    present = chosen[chosen["pupils"] > 0].groupby(keys)["school_id"].nunique().rename("_schools").reset_index()
    pooled = pooled.merge(present, on=keys, how="left")
    small = (pooled["pupils"] < policy.min_pupils) | ~(pooled["_schools"] >= MIN_POOLED_SCHOOLS)
    return disclosure.withhold_small(pooled.drop(columns="_schools"), small)


@dataclass(frozen=True)
class MeasurePanel:
    """What an impact estimate reads: monthly counts per school (`school_key`: the code inside the
    scope, a pseudonym outside it and for anonymised scopes) of the regions the scope touches, and
    who used the measure when. `school_name` only where the user may see it."""

    rows: pd.DataFrame  # school_key, school_type, in_scope, school_year, month, counts
    schools: pd.DataFrame  # school_key, school_name, school_type, in_scope
    periods: pd.DataFrame  # school_key, start, end (None: still in use)


def _panel_schools(engine: Engine, scope: Scope) -> tuple[Scope, pd.DataFrame, dict[str, str]]:
    """The comparison context of a scope (every school of the regions it touches), each school's
    key (its code where the user may see it, else a pseudonym), name where visible, and whether
    it is inside the scope."""
    context = Scope("admin", region_codes=regional_scope(engine, scope).region_codes)
    every = schools(engine, context)
    unmasked = Scope("admin", scope.municipality_codes, scope.region_codes, scope.school_ids)
    in_scope_ids = set(schools(engine, unmasked)["school_id"])
    named = set() if scope.anonymised else in_scope_ids | set(
        every.loc[every["municipality_code"].isin(scope.named_municipality_codes), "school_id"])
    key = {s: (s if s in named else pseudonym(s, IMPACT)) for s in every["school_id"]}
    every = every.assign(school_key=every["school_id"].map(key), in_scope=every["school_id"].isin(in_scope_ids),
                         school_name=every["school_name"].where(every["school_id"].isin(named)),
                         municipality_code=every["municipality_code"].where(every["school_id"].isin(named)))
    return context, every, key


_PANELS: Kept[tuple[pd.DataFrame, pd.DataFrame]] = Kept(8)


def school_month_panel(engine: Engine, scope: Scope, grade_band: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """School-month totals (one grade band or all grades) of every school in the regions the scope
    touches, and those schools: `school_key`, `school_name` and `municipality_code` (None where
    not visible), `school_type`,
    `in_scope`. Schools outside the scope are a comparison pool: they leave here under pseudonyms,
    and callers publish only group-level figures of them. Kept per data version, scope and grade
    band: every impact question (measure, outcome) of a scope reads the same panel, and at national
    scale reading it is most of a question's time. Callers must not change the frames."""
    if grade_band is not None and grade_band not in contract.GRADE_BANDS:
        raise ValueError(f"unknown grade band {grade_band!r}")
    key = (*_kept_key(engine), scope, grade_band)
    return _PANELS.get_or_compute(key, lambda: _school_month_panel(engine, scope, grade_band))


def _school_month_panel(engine: Engine, scope: Scope, grade_band: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    context, every, key = _panel_schools(engine, scope)
    filters = RowFilter(grades=tuple(contract.GRADE_BANDS[grade_band])) if grade_band else EVERYTHING
    rows = absence_totals(engine, context, by=["school_id", "school_type"], filters=filters, raw=True)
    rows = rows.drop(columns=metrics.SQUARES)  # the impact panel has no use for them, and holds pseudonyms
    in_scope = set(every.loc[every["in_scope"], "school_id"])
    rows = rows.assign(school_key=rows["school_id"].map(key), in_scope=rows["school_id"].isin(in_scope))
    return (rows.drop(columns="school_id"),
            every[["school_key", "school_name", "municipality_code", "school_type", "in_scope"]].reset_index(drop=True))


def measure_periods(engine: Engine, scope: Scope, measure: str | None) -> pd.DataFrame:
    """Every period of one measure (None: of every measure, with a `measure` column) at the
    schools of the regions the scope touches, keyed as in `school_month_panel`: school_key, start,
    end (None: still in use)."""
    if measure is not None and measure not in contract.MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    context, _, key = _panel_schools(engine, scope)
    query = (
        select(MeasureInUse.measure, MeasureInUse.school_id, MeasureInUse.start, MeasureInUse.end)
        .where(MeasureInUse.school_id.in_(_scoped_schools(context)))
        .order_by(MeasureInUse.measure, MeasureInUse.school_id, MeasureInUse.start)
    )
    if measure is not None:
        query = query.where(MeasureInUse.measure == measure)
    with engine.connect() as connection:
        periods = pd.DataFrame(connection.execute(query).fetchall(), columns=["measure", "school_id", "start", "end"])
    columns = ["school_key", "start", "end"] if measure is not None else ["measure", "school_key", "start", "end"]
    return periods.assign(school_key=periods["school_id"].map(key))[columns]


def measure_panel(engine: Engine, scope: Scope, measure: str, grade_band: str | None = None) -> MeasurePanel:
    """What an impact estimate reads: the school-month panel and the measure's periods."""
    rows, panel_schools = school_month_panel(engine, scope, grade_band)
    return MeasurePanel(rows, panel_schools, measure_periods(engine, scope, measure))


# --- Records of the scope's units: targets and self-evaluations -------------------------------

def _readable_unit(engine: Engine, scope: Scope, unit_level: str, unit_code: str) -> bool:
    """Whether the scope may read the unit's own records: one row asked of the database, not the
    scope's every school (a country's, for an administrator) read to look one up."""
    query = dict(zip(("school", "municipality"), _readable_unit_queries(scope))).get(unit_level)
    if query is None:
        return False
    with engine.connect() as connection:
        return connection.execute(query.where(query.selected_columns[0] == unit_code).limit(1)).first() is not None


def target_rows(engine: Engine, scope: Scope, *, target_id: int | None = None,
                school_year: str | None = None) -> list:
    """Target rows of the units the scope may read: one (NotAllowed when outside the scope or
    missing), or every live one, optionally of one school year."""
    table = Target.__table__
    if target_id is not None:
        with engine.connect() as connection:
            row = connection.execute(select(table).where(Target.id == target_id)).one_or_none()
        if row is None:
            raise NotAllowed(f"no target {target_id}")
        if not _readable_unit(engine, scope, row.unit_level, row.unit_code):
            raise NotAllowed(f"target {target_id} is not in your scope")
        return [row]
    query = select(table).where(Target.deleted.is_(False), _readable_unit_condition(scope, Target.unit_level, Target.unit_code))
    if school_year is not None:
        query = query.where(Target.school_year == school_year)
    with engine.connect() as connection:
        return connection.execute(query.order_by(Target.unit_level.desc(), Target.unit_code, Target.metric, Target.id)).fetchall()


def target_events(engine: Engine, scope: Scope, target_id: int) -> pd.DataFrame:
    """The audit trail of one target in scope, oldest first (`old` and `new` as stored JSON)."""
    target_rows(engine, scope, target_id=target_id)  # the scope check
    columns = [TargetEvent.at, TargetEvent.actor, TargetEvent.actor_role, TargetEvent.action, TargetEvent.version,
               TargetEvent.old, TargetEvent.new]
    query = select(*columns).where(TargetEvent.target_id == target_id).order_by(TargetEvent.id)
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(query).fetchall(), columns=[c.name for c in columns])


SELF_EVALUATION_COLUMNS = ["unit_level", "unit_code", "school_year", "recommendation", "score", "note", "recorded_by",
                           "recorded_at"]


def self_evaluation_municipalities(engine: Engine, scope: Scope) -> set[str]:
    """The municipalities whose self-evaluations the scope may read."""
    _require_evaluation_reader(scope)
    return readable_municipalities(engine, scope)


def self_evaluation_schools(engine: Engine, scope: Scope, municipality_code: str) -> set[str]:
    """The schools of one municipality whose self-evaluations the scope may read."""
    _require_evaluation_reader(scope)
    return readable_schools(engine, scope, municipality_code)


def _require_evaluation_reader(scope: Scope) -> None:
    if not policy.capabilities(scope.role).reads_evaluations:
        raise NotAllowed(f"the {scope.role} role may not read self-evaluations")


def current_self_evaluations(engine: Engine, scope: Scope, school_year: str) -> pd.DataFrame:
    """The newest assessment per unit and recommendation of every unit in scope, for the school
    year (the table is append-only; ids only grow)."""
    _require_evaluation_reader(scope)
    # Filtered in the database by the scope's units as subqueries: reading a country's schools
    # into a list only to send it back as parameters made a new process's first profile slow.
    newest = (select(func.max(SelfEvaluation.id))
              .where(_readable_unit_condition(scope, SelfEvaluation.unit_level, SelfEvaluation.unit_code),
                     SelfEvaluation.school_year == school_year)
              .group_by(SelfEvaluation.unit_level, SelfEvaluation.unit_code, SelfEvaluation.recommendation))
    query = select(*[getattr(SelfEvaluation, c) for c in SELF_EVALUATION_COLUMNS]).where(SelfEvaluation.id.in_(newest))
    with engine.connect() as connection:
        rows = connection.execute(query).fetchall()
    frame = pd.DataFrame(rows, columns=SELF_EVALUATION_COLUMNS)
    return frame.sort_values(["unit_level", "unit_code", "recommendation"], ignore_index=True)


def self_evaluation_history(engine: Engine, scope: Scope, unit: Unit) -> pd.DataFrame:
    """Every assessment ever recorded for a unit in scope, newest first."""
    _require_evaluation_reader(scope)
    if not _readable_unit(engine, scope, unit.level, unit.code):
        raise NotAllowed(f"{unit} is not in your scope")
    query = (select(*[getattr(SelfEvaluation, c) for c in SELF_EVALUATION_COLUMNS])
             .where(SelfEvaluation.unit_level == unit.level, SelfEvaluation.unit_code == unit.code)
             .order_by(SelfEvaluation.id.desc()))
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(query).fetchall(), columns=SELF_EVALUATION_COLUMNS)

