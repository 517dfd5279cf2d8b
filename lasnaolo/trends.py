"""Trends and regional differences: what the trends page shows, computed from the scope's rows.

`TrendView` is the page's whole state; it round-trips through URL query parameters, so a link
reproduces the view. Every query aggregates in the database, every figure comes from
`lasnaolo.metrics`, and the frames returned are small enough to chart directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import pandas as pd
from sqlalchemy.engine import Engine

from lasnaolo import contract, metrics, queries, reference, stats
from lasnaolo.contract import SUPPRESSION, SuppressionPolicy
from lasnaolo.disclosure import NotPublished
from lasnaolo.queries import RowFilter
from lasnaolo.scope import Scope, Unit

METRICS = ("absence_rate", "illness_rate", "authorised_rate", "unauthorised_rate", "tier23_share")
# The page's sections, one drawn at a time: the time series (months and years by reason, the years
# side by side, the tiers), the groups, the areas (regions, municipalities, the map), wellbeing.
SECTIONS = ("time", "groups", "areas", "wellbeing")
AREA_PREFIX = {"r": "region", "m": "municipality"}


@dataclass(frozen=True)
class TrendView:
    """The trends page's state. Empty tuples mean "all"; `area` is '' (the whole scope),
    'r:01' (a region) or 'm:106' (a municipality); `section` is the part of the page shown (one of
    SECTIONS); `ranking_region` is the region whose municipalities the ranking shows when it
    spans several ('': the one it opens on, see `opening_region`)."""

    school_years: tuple[str, ...] = ()
    grades: tuple[int, ...] = ()
    school_types: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    area: str = ""
    metric: str = "absence_rate"
    indicator: str = "belonging"
    grade_group: str = "8-9"
    section: str = SECTIONS[0]
    ranking_region: str = ""

    def to_params(self) -> dict[str, str]:
        """Query parameters: only what differs from the default, lists comma-separated."""
        out = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value == field.default:
                continue
            out[field.name] = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> "TrendView":
        """Read a URL's parameters; anything malformed or unknown is dropped, never an error
        (a link typed by hand must not break the page)."""

        def listed(name: str) -> list[str]:
            return [v for v in str(params.get(name, "")).split(",") if v]

        years = tuple(y for y in listed("school_years") if contract.parse_school_year(y) is not None)
        grades = tuple(int(g) for g in listed("grades") if g.isdigit() and 1 <= int(g) <= 9)
        types = tuple(t for t in listed("school_types") if t in contract.SCHOOL_TYPES)
        languages = tuple(lang for lang in listed("languages") if lang in contract.SCHOOL_LANGUAGES)
        area = str(params.get("area", ""))
        if not _valid_area(area):
            area = ""
        metric = str(params.get("metric", "absence_rate"))
        indicator = str(params.get("indicator", "belonging"))
        grade_group = str(params.get("grade_group", "8-9"))
        section = str(params.get("section", SECTIONS[0]))
        ranking_region = str(params.get("ranking_region", ""))
        return cls(years, grades, types, languages, area, metric if metric in METRICS else "absence_rate",
                   indicator if indicator in contract.INDICATORS else "belonging",
                   grade_group if grade_group in contract.SURVEY_GRADE_GROUPS else "8-9",
                   section if section in SECTIONS else SECTIONS[0],
                   ranking_region if _valid_area(f"r:{ranking_region}") else "")

    def data_key(self) -> "TrendView":
        """The view with what only changes the drawing (the metric, the section, the ranking's
        region) at its defaults: views that differ only there share their figures, and their
        cache entry."""
        return replace(self, metric="absence_rate", section=SECTIONS[0], ranking_region="")

    def unit(self) -> Unit:
        if not self.area:
            return Unit("all")
        prefix, code = self.area.split(":", 1)
        return Unit(AREA_PREFIX[prefix], code)

    def filters(self) -> RowFilter:
        return RowFilter(grades=self.grades or None, school_types=self.school_types or None,
                         languages=self.languages or None)


def _valid_area(area: str) -> bool:
    if not area:
        return True
    prefix, _, code = area.partition(":")
    if prefix == "m":
        return code in reference.municipality_codes()
    return prefix == "r" and code in set(reference.regions()["region_code"])


@dataclass(frozen=True)
class Trends:
    school_years: list[str]  # shown, oldest first
    monthly: pd.DataFrame  # school_year, month, month_index, the rates and tier shares of each month
    yearly: pd.DataFrame  # school_year and its figures over the months delivered
    by_band: pd.DataFrame  # school_year, grade_band, figures
    by_type: pd.DataFrame  # school_year, school_type, figures
    by_language: pd.DataFrame  # school_year, language, figures
    year_to_date: list[metrics.Change]  # the newest year so far against the same months a year before
    latest_month: str | None
    municipalities: pd.DataFrame  # newest year: municipality_code, region_code, rate, interval, own
    regions: pd.DataFrame  # newest year: region_code, figures
    wellbeing: pd.DataFrame  # municipality × survey year: indicator value (or withheld) beside absence
    published: bool = True  # False: the filters ask an anonymised view for something never published


def _by(rows: pd.DataFrame, group: str, policy: SuppressionPolicy) -> pd.DataFrame:
    return metrics.figures_by(rows, ["school_year", group], policy) if not rows.empty else rows


def trends(engine: Engine, scope: Scope, view: TrendView, policy: SuppressionPolicy = SUPPRESSION) -> Trends:
    available = sorted(queries.school_years(engine, scope))
    years = [y for y in available if not view.school_years or y in view.school_years]
    common = dict(unit=view.unit(), school_years=years, filters=view.filters(), policy=policy)
    empty = pd.DataFrame()
    try:
        rows, by_band, by_type, by_language = queries.absence_groupings(
            engine, scope, [[], ["grade_band"], ["school_type"], ["language"]], **common)
    except NotPublished:
        return Trends(years, empty, empty, empty, empty, empty, [], None, empty, empty, empty, published=False)
    if rows.empty:
        return Trends(years, empty, empty, empty, empty, empty, [], None, empty, empty, empty)
    monthly = metrics.monthly(rows, ["school_year"], policy)
    monthly["month_index"] = monthly["month"].map(contract.month_index)
    yearly = metrics.figures_by(rows, ["school_year"], policy)
    newest = years[-1]
    latest_month = rows.loc[rows["school_year"] == newest, "month"].max()
    current_rows = rows[rows["school_year"] == newest]
    previous_year, previous_months = metrics.same_point_last_year(newest, latest_month)
    previous_rows = queries.absence_totals(engine, scope, unit=view.unit(), months=previous_months,
                                           filters=view.filters(), policy=policy)
    if not scope.anonymised:  # the same school-months on both sides (anonymised: the publication's cells)
        by_school = dict(unit=view.unit(), filters=view.filters(), policy=policy, by=["school_id"])
        current_rows, previous_rows = metrics.same_school_months(
            queries.absence_totals(engine, scope, school_years=[newest], **by_school),
            queries.absence_totals(engine, scope, months=previous_months, **by_school))
    current = metrics.key_figures(current_rows, "view", newest, policy)
    previous = metrics.key_figures(previous_rows, "view", previous_year, policy)
    return Trends(
        school_years=years,
        monthly=monthly,
        yearly=yearly,
        by_band=_by(by_band, "grade_band", policy),
        by_type=_by(by_type, "school_type", policy),
        by_language=_by(by_language, "language", policy),
        year_to_date=metrics.changes(current, previous, METRICS),
        latest_month=latest_month,
        municipalities=municipality_ranking(engine, scope, newest, view.filters(), policy),
        regions=region_figures(engine, scope, newest, view.filters(), policy),
        wellbeing=wellbeing_alongside(engine, scope, view.indicator, view.grade_group, view.filters(), policy),
    )


def municipality_ranking(engine: Engine, scope: Scope, school_year: str, filters: RowFilter = queries.EVERYTHING,
                         policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """Municipalities of the scope's regions for a school year (as delivered so far), with
    95 % intervals from their pupils' spread, sorted by rate; `own` marks the scope's municipalities."""
    if scope.role not in queries.CONTEXT_ROLES:
        return pd.DataFrame()
    try:
        rows = queries.regional_context(engine, scope, school_years=[school_year], filters=filters, policy=policy)
    except NotPublished:  # e.g. grades that split a band: the region is published by whole bands only
        return pd.DataFrame()
    if rows.empty:
        return pd.DataFrame()
    figures = metrics.figures_by(rows, ["region_code", "municipality_code"], policy)
    figures = figures.dropna(subset=["absence_rate"])
    spread = metrics.pupil_variance(figures["absence_rate"], figures["pupils"],
                                    *(figures[f"tier{t}_share"] * figures["pupils"] / 100 for t in contract.TIERS))
    intervals = [stats.rate_interval(r, n, v) for r, n, v in zip(figures["absence_rate"], figures["pupils"], spread)]
    figures["ci_low"] = [low for low, _ in intervals]
    figures["ci_high"] = [high for _, high in intervals]
    own = set(scope.municipality_codes or ())
    figures["own"] = figures["municipality_code"].isin(own)
    names = reference.municipalities().set_index("municipality_code")
    figures["name_fi"] = figures["municipality_code"].map(names["name_fi"])
    figures["name_sv"] = figures["municipality_code"].map(names["name_sv"])
    return figures.sort_values("absence_rate", ascending=False).reset_index(drop=True)


def ranking_regions(ranking: pd.DataFrame) -> list[str]:
    """The regions whose municipalities a ranking holds, by code."""
    return sorted(set(ranking["region_code"])) if not ranking.empty else []


def opening_region(ranking: pd.DataFrame, view: TrendView) -> str | None:
    """The region a ranking of several regions is shown for: the one asked for; else the region
    the page is narrowed to (or its municipality's); else the first by code. None for a ranking
    of one region (or none): nothing to pick. The whole country's 290 municipalities in one chart
    were 6,000 pixels tall: no ranking anyone reads."""
    regions = ranking_regions(ranking)
    if len(regions) < 2:
        return None
    region_of = reference.municipalities().set_index("municipality_code")["region_code"]
    prefix, _, code = view.area.partition(":")
    narrowed = code if prefix == "r" else region_of.get(code) if prefix == "m" else None
    for candidate in (view.ranking_region, narrowed):
        if candidate in regions:
            return candidate
    return regions[0]


def in_region(ranking: pd.DataFrame, region_code: str | None) -> pd.DataFrame:
    """The ranking's municipalities of one region, in the ranking's order; all of them for None."""
    if region_code is None:
        return ranking
    return ranking[ranking["region_code"] == region_code].reset_index(drop=True)


def region_figures(engine: Engine, scope: Scope, school_year: str, filters: RowFilter = queries.EVERYTHING,
                   policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """Each region inside the scope for a school year (as delivered so far); `whole_region` says
    whether the figure is the whole region's or only the scope's part of it (a municipality's
    director: the tile must not read as the region's figure)."""
    rows = queries.absence_totals(engine, scope, school_years=[school_year], by=["region_code"], filters=filters,
                                  policy=policy)
    if rows.empty:
        return pd.DataFrame()
    # A deck narrowed to one municipality reads the region cells of its presenter's whole
    # publication (`published_as`): whether a tile is the whole region is that publication's.
    read = scope.published_as or scope
    whole = read.municipality_codes is None and read.school_ids is None
    figures = metrics.figures_by(rows, ["region_code"], policy).assign(whole_region=whole)
    # How many municipalities a part-region tile counts: a deck narrowed to one municipality
    # still shows its presenter's part, which must not read as that one municipality.
    if read.municipality_codes is not None and read.school_ids is None:
        of_region = reference.municipalities().set_index("municipality_code")["region_code"]
        figures["part_municipalities"] = figures["region_code"].map(
            lambda code: sum(of_region.get(m) == code for m in read.municipality_codes))
    return figures


def wellbeing_alongside(engine: Engine, scope: Scope, indicator: str, grade_group: str,
                        filters: RowFilter = queries.EVERYTHING, policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """Each municipality of the scope and survey year: the indicator's value (None where fewer
    than the minimum answered), its respondents, and the absence rate of the school year the
    survey closed (the 2025 survey: 2024-2025)."""
    survey = queries.wellbeing(engine, scope, unit_type="municipality", policy=policy)
    survey = survey[(survey["indicator"] == indicator) & (survey["grade_group"] == grade_group)].copy()
    if survey.empty:
        return pd.DataFrame()
    survey["value"] = [metrics.survey_value(v, n, policy) if pd.notna(v) else None
                       for v, n in zip(survey["value_pct"], survey["respondents"])]
    survey["school_year"] = survey["survey_year"].map(contract.survey_school_year)
    rows = queries.absence_totals(engine, scope, school_years=sorted(survey["school_year"].unique()),
                                  by=["municipality_code"], filters=filters, policy=policy)
    absence = (metrics.figures_by(rows, ["school_year", "municipality_code"], policy)
               [["school_year", "municipality_code", "absence_rate"]] if not rows.empty else
               pd.DataFrame(columns=["school_year", "municipality_code", "absence_rate"]))
    out = survey.merge(absence, left_on=["school_year", "unit_id"], right_on=["school_year", "municipality_code"], how="left")
    names = reference.municipalities().set_index("municipality_code")
    out["name_fi"] = out["unit_id"].map(names["name_fi"])
    out["name_sv"] = out["unit_id"].map(names["name_sv"])
    columns = ["unit_id", "name_fi", "name_sv", "survey_year", "school_year", "respondents", "value", "absence_rate"]
    return out[columns].rename(columns={"unit_id": "municipality_code"}).sort_values(["survey_year", "municipality_code"],
                                                                                    ignore_index=True)
