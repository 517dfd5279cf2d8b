"""Fair comparison of one school with similar schools: the peer group, the funnel plot's verdict
in words, and the school's months against its peers'. Every figure from lasnaolo.metrics and
lasnaolo.stats; other schools are seen only as the data-access layer allows (pseudonyms)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from lasnaolo import contract, disclosure, i18n, metrics, queries, stats
from lasnaolo.contract import SUPPRESSION, SuppressionPolicy
from lasnaolo.scope import Scope, Unit
from lasnaolo.stats import Funnel, PeerCriteria, PeerGroup

MIN_PEERS = 5
# The page's sections for those who lead several schools, one drawn at a time: where to look
# first, a school against its peers, and the schools to learn from.
SECTIONS = ("attention", "school", "outliers")


class NoData(LookupError):
    """The school has no absence data in that school year."""


class Incomplete(NoData):
    """The school has data but misses a month of the year so far: it cannot be compared over the
    same months as the others."""


class Withheld(NoData):
    """The school's figures are withheld (fewer pupils than the suppression threshold)."""


@dataclass(frozen=True)
class Comparison:
    school_key: str
    school_year: str
    latest_month: str
    schools: pd.DataFrame  # one row per school of the region: school_key, in_scope, school_type, language, figures
    peers: PeerGroup
    funnel: Funnel  # the peers and the school around the peers' pooled rate
    verdict: str  # higher / lower (outside 99.8 %), maybe_higher / maybe_lower (95 % only), within
    school_rate: float | None
    peer_rate: float | None
    monthly: pd.DataFrame  # month, series ('school' | 'peers' | 'municipality'), absence_rate
    grades: pd.DataFrame  # grade, series ('school' | 'peers'), absence_rate: the year so far
    tiers: pd.DataFrame  # series ('school' | 'peers'), tier, share: the latest month's tier shares


def compare(engine: Engine, scope: Scope, school_id: str, school_year: str,
            criteria: PeerCriteria = PeerCriteria(), policy: SuppressionPolicy = SUPPRESSION) -> Comparison:
    rows = queries.peer_context(engine, scope, school_id, school_year, policy)
    own = rows[rows["school_key"] == school_id].dropna(subset=["pupils"])
    if own.empty:
        raise NoData(f"school {school_id} has no absence data in {school_year}")
    latest_month = own["month"].max()
    classes = _size_classes(rows)
    # The same months for every school: the year so far at the school's own latest month (a
    # school that has not delivered one of them is left out, not compared over fewer months).
    schools = _figures_over(rows, metrics.months_through(school_year, latest_month), policy)
    rows = rows[rows["month"] <= latest_month]
    schools = _within_classes(schools, classes)
    if school_id not in set(schools["school_key"]):  # nothing to place it by: which reason?
        reason = _unplaced_reason(set(own["month"]), latest_month,
                                  own.loc[own["month"] == latest_month, "pupils"].sum(), policy)
        if reason == "incomplete":
            raise Incomplete(f"school {school_id} has not delivered every month of {school_year} through {latest_month}")
        if reason == "withheld":
            raise Withheld(f"school {school_id}'s figures of {school_year} are withheld (too few pupils)")
        raise NoData(f"school {school_id} has no rate to compare in {school_year} (no lesson hours?)")
    rows = rows[rows["school_key"].isin(schools["school_key"])]
    peers, funnel, z = _place(schools, school_id, criteria, classes)
    members = peers.members.rename(columns={"school_id": "school_key"})
    verdict = "within" if z is None else verdict_of(z)
    monthly_rows = rows.assign(series=rows["school_key"].map(lambda k: "school" if k == school_id else "peers"))
    monthly_rows = monthly_rows[monthly_rows["school_key"].isin([school_id, *members["school_key"]])]
    municipality = queries.municipality_months(engine, scope, school_id, school_year, policy)
    municipality = municipality[municipality["month"] <= latest_month].dropna(subset=["pupils"]).assign(series="municipality")
    monthly = metrics.monthly(pd.concat([monthly_rows, municipality], ignore_index=True), ["series"], policy)
    monthly = monthly[["series", "month", "absence_rate"]]
    months = sorted(rows["month"].unique())
    own_grades = queries.absence_totals(engine, scope, unit=Unit("school", school_id), months=months, by=["grade"],
                                        policy=policy).assign(series="school")
    peer_grades = queries.pooled_by_grade(engine, scope, school_id, list(members["school_key"]), school_year, months,
                                          policy).assign(series="peers")
    # A peers' grade with a withheld month is withheld for the period, not summed short.
    grade_rows = pd.concat([own_grades, peer_grades], ignore_index=True)
    grades = metrics.figures_by(grade_rows, ["grade", "series"], policy)[["grade", "series", "absence_rate"]]
    own_figures = schools[schools["school_key"] == school_id]
    # The school's and the peers' summed counts, shared out by the metrics core.
    counts = ["pupils", *contract.HOUR_COLUMNS, *contract.TIER_COLUMNS]
    summed = pd.DataFrame([frame[counts].sum().rename(series) for series, frame in
                           (("school", own_figures), ("peers", members)) if not frame.empty])
    shares = metrics.add_rates(summed)
    tiers = pd.DataFrame([{"series": series, "tier": t, "share": shares.at[series, f"tier{t}_share"]}
                          for series in shares.index for t in contract.TIERS])
    schools, peers, funnel = _as_shown(schools, peers, funnel, classes)
    # What is pooled over peers leaves rounded too: two pools' exact rates could be subtracted.
    return Comparison(
        school_key=school_id, school_year=school_year, latest_month=latest_month, schools=schools, peers=peers,
        funnel=funnel, verdict=verdict,
        school_rate=float(own_figures["absence_rate"].iloc[0]) if not own_figures.empty else None,
        peer_rate=funnel.reference_rate if funnel is not None else None,
        monthly=disclosure.rounded_rates(monthly, monthly["series"] != "school"),
        tiers=disclosure.rounded_rates(tiers, tiers["series"] != "school") if not tiers.empty else tiers,
        grades=disclosure.rounded_rates(grades, grades["series"] != "school"),
    )


def _pseudonymous(frame: pd.DataFrame) -> pd.Series:
    return ~frame["in_scope"].astype(bool) & frame["school_name"].isna()


def _within_classes(schools: pd.DataFrame, classes: pd.DataFrame) -> pd.DataFrame:
    """The schools that may be shown: a school under a pseudonym only as one of its size class."""
    return schools[~_pseudonymous(schools) | schools["school_key"].isin(classes["size_class"].dropna().index)]


def _size_classes(rows: pd.DataFrame) -> pd.DataFrame:
    """Size classes of the region's schools under pseudonyms, from each one's pupils in its first
    month of the year: the same classes whichever school is compared and up to whichever month,
    so that two comparisons never show one pseudonym in two different ranges."""
    return _size_classes_by_region(rows.assign(region_code="")).get("", disclosure.size_classes(_FIRST_MONTHS))


_FIRST_MONTHS = pd.DataFrame(columns=["pupils", "school_type", "language"])


def _size_classes_by_region(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """`_size_classes` of each region in `rows` (regional_peers), the schools' first months found
    for all regions at once."""
    hidden = _complete_schools(rows)
    hidden = hidden[_pseudonymous(hidden)]
    first = hidden[hidden["month"] == hidden.groupby("school_key")["month"].transform("min")]
    first = (first.drop_duplicates("school_key").set_index("school_key").sort_index()  # ties in size: by key, as ever
             [["pupils", "school_type", "language", "region_code"]])
    return {code: disclosure.size_classes(schools.drop(columns="region_code"))
            for code, schools in first.groupby("region_code", sort=True)}


def region_size_classes(engine: Engine, scope: Scope, region_codes: frozenset[str], school_year: str,
                        policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """The size classes of every school a user sees under a pseudonym in these regions in a school
    year, keyed by their peer pseudonyms: the one partition that the comparison and the risk
    profiles both show, so that linking a school across the two pages by its rate gains nothing."""
    by_region = _size_classes_by_region(queries.regional_peers(engine, scope, region_codes, school_year, policy))
    found = [classes.assign(region_code=code) for code, classes in by_region.items()]
    # Nobody under a pseudonym: an empty frame of the same columns and number types.
    out = pd.concat(found) if found else pd.DataFrame({"size_class": [], "pupils_low": [], "pupils_high": [],
                                                       "pupils": [], "region_code": []}, dtype=float)
    # Classes are numbered within each region: make the numbers distinct across regions.
    number = out["size_class"]
    out["size_class"] = (out["region_code"].astype(str) + ":" + number.astype("Int64").astype(str)).where(number.notna())
    return out.drop(columns="region_code")


def _as_shown(schools: pd.DataFrame, peers: PeerGroup, funnel: Funnel | None,
              classes: pd.DataFrame) -> tuple[pd.DataFrame, PeerGroup, Funnel | None]:
    """What leaves the core of schools under pseudonyms: rates, size classes, no counts; the
    funnel drawn at the classes' middles (its verdicts come from the exact sizes)."""
    schools = disclosure.pseudonymous_points(schools, _pseudonymous(schools), schools["school_key"], classes)
    members = peers.members
    if not members.empty:
        members = disclosure.pseudonymous_points(members, _pseudonymous(members), members["school_id"], classes)
    peers = replace(peers, members=members)
    if funnel is not None:
        units = disclosure.pseudonymous_points(funnel.units, _pseudonymous(funnel.units), funnel.units["school_key"], classes)
        funnel = replace(funnel, dispersion=round(funnel.dispersion, 2))
        # Every z to 0.1 too: the own school's exact z, rate and size would give the pool's exact rate.
        units["z"] = units["z"].astype(float).round(disclosure.RATE_DECIMALS)
        reference = round(funnel.reference_rate, disclosure.RATE_DECIMALS)
        # The curves are drawn from coarse parameters too: exact ones are functions of the peers' counts.
        variance, between = round(funnel.variance), round(funnel.between, 3)
        funnel = replace(funnel, units=units, reference_rate=reference, variance=variance, between=between,
                         limits=stats.funnel_limits(reference, units["pupils"], variance, between))
    return schools, peers, funnel


def _complete_schools(rows: pd.DataFrame) -> pd.DataFrame:
    """Only schools with every month of the period published: a school whose withheld month were
    skipped would be placed on a shorter period than its peers."""
    complete = rows["pupils"].notna().groupby(rows["school_key"]).transform("all")
    return rows[complete]


def _school_figures(rows: pd.DataFrame, policy: SuppressionPolicy) -> pd.DataFrame:
    # Grouped by the key alone (five object keys made pandas group in Python: seconds nationally),
    # the school's attributes joined after.
    schools = metrics.figures_by(rows, ["school_key"], policy)
    attributes = rows.drop_duplicates("school_key").set_index("school_key")[
        ["in_scope", "region_code", "school_type", "language"]]
    schools = schools.join(attributes, on="school_key")
    named = rows.dropna(subset=["school_name"]).drop_duplicates("school_key").set_index("school_key")
    schools["school_name"] = schools["school_key"].map(named["school_name"])
    schools["municipality_code"] = schools["school_key"].map(named["municipality_code"])
    return schools.dropna(subset=["absence_rate"]).reset_index(drop=True)


def _place(schools: pd.DataFrame, school_key: str, criteria: PeerCriteria,
           classes: pd.DataFrame) -> tuple[PeerGroup, Funnel | None, float | None]:
    """The school's peer group, the funnel around the peers' pooled rate, and the school's z. A
    size class enters the peer group whole or not at all: a class cut by the size window would let
    someone who knows the rule and a register tell its shown members apart."""
    pool = schools.rename(columns={"school_key": "school_id"})
    peers = stats.widened_peer_group(pool, school_key, MIN_PEERS, criteria)
    touched = classes["size_class"].reindex(peers.members["school_id"]).dropna().unique()
    whole = pool[pool["school_id"].map(classes["size_class"]).isin(touched) & (pool["school_id"] != school_key)]
    peers = replace(peers, members=pd.concat([peers.members, whole]).drop_duplicates("school_id").reset_index(drop=True))
    members = peers.members.rename(columns={"school_id": "school_key"})
    if members.empty:
        return peers, None, None
    # The peers alone set the reference, their pupils' spread and the variation between them.
    peers_only = stats.funnel(members)
    funnel = stats.funnel(pd.concat([schools[schools["school_key"] == school_key], members], ignore_index=True),
                          reference_rate=peers_only.reference_rate, variance=peers_only.variance,
                          between=peers_only.between)
    mine = funnel.units[funnel.units["school_key"] == school_key]
    return peers, funnel, (float(mine["z"].iloc[0]) if not mine.empty else None)


def positive_outliers(engine: Engine, scope: Scope, school_year: str, criteria: PeerCriteria = PeerCriteria(),
                      policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """The scope's schools whose absence rate lies below their peers' by more than chance, at a
    false-discovery rate of 5 % over all the scope's schools (testing each at 95 % would list
    one school in twenty by chance alone) — the schools others may learn from — with the
    measures of the attendance model they report using in that school year."""
    return outliers_among(school_verdicts(engine, scope, school_year, criteria=criteria, policy=policy),
                          queries.measures_in_use(engine, scope, school_year))


def outliers_among(verdicts: pd.DataFrame, measures: pd.DataFrame) -> pd.DataFrame:
    """The positive outliers of a scope's `verdicts` (flagged at the false-discovery rate, below
    their peers), each with the `measures` (queries.measures_in_use) its school uses."""
    out = verdicts[verdicts["flagged_fdr"] & (verdicts["z"] < 0)].copy()
    out = out.rename(columns={"school_rate": "absence_rate", "n_peers": "peers"})
    out["beyond_998"] = out["verdict_998"] == "lower"
    columns = ["school_id", "school_name", "municipality_code", "absence_rate", "pupils", "peer_rate", "peers", "z", "beyond_998"]
    out = out[columns]
    listed = measures.groupby("school_id")["measure"].agg(lambda m: sorted(set(m)))
    out["measures"] = out["school_id"].map(listed).apply(lambda m: m if isinstance(m, list) else [])
    return out.sort_values("z", ignore_index=True)


VERDICT_COLUMNS = ["school_id", "school_name", "municipality_code", "latest_month", "pupils", "school_rate", "peer_rate", "n_peers",
                   "lower_95", "upper_95", "lower_998", "upper_998", "z", "verdict", "verdict_998", "flagged_fdr",
                   "change_points", "change_low", "change_high", "change_verdict", "region_change", "tier23_share",
                   "suppressed", "not_compared"]


def school_verdicts(engine: Engine, scope: Scope, school_year: str, unit: Unit | None = None,
                    criteria: PeerCriteria = PeerCriteria(), policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """Every school of the scope (or of `unit` inside it) against its peers of the region and
    against its own same months a year before: the one function behind `python -m lasnaolo
    compare` and the list of schools that need attention. Every school of a region is read over
    the same months: each school the year so far through its own latest delivered month, among
    the schools that have delivered all of them (as the comparison page places it). `verdict` is
    the 95 % level, `verdict_998` the 99.8 % one, `flagged_fdr` the schools that stand out at a
    false-discovery rate of 5 % among those listed; `change_verdict` reads the school's change
    against its region's (see lasnaolo.stats)."""
    return verdicts_within(placed_schools(engine, scope, school_year, criteria, policy), scope, unit)


def placed_schools(engine: Engine, scope: Scope, school_year: str, criteria: PeerCriteria = PeerCriteria(),
                   policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """Every school of the scope placed against its peers and its last year, unrounded, with its
    `region_code`: what `verdicts_within` lists for any area of the scope. The pages keep it
    once per scope and year and list one region at a time from it. Not for the browser as is:
    pooled figures leave through `verdicts_within`, rounded for users other than the administrator."""
    own = queries.schools(engine, scope)
    if own.empty:
        empty = pd.DataFrame(columns=[*VERDICT_COLUMNS, "region_code"])
        empty.attrs["scope"] = scope
        return empty
    regions = frozenset(own["region_code"])
    now = queries.regional_peers(engine, scope, regions, school_year, policy)
    before = queries.regional_peers(engine, scope, regions, contract.previous_school_year(school_year), policy)
    out = _placed(now, before, own["school_id"], criteria, policy)
    out = out.merge(own[["school_id", "school_name", "municipality_code", "region_code"]], on="school_id", how="left")
    out.attrs["scope"] = scope  # `verdicts_within` lists it for this scope only
    return out


def verdicts_within(placed: pd.DataFrame, scope: Scope, unit: Unit | None = None) -> pd.DataFrame:
    """The schools of `placed` (placed_schools) in `unit` (all when None), flagged at the
    false-discovery rate among those listed, pooled figures rounded for every role but the
    administrator, in VERDICT_COLUMNS."""
    if placed.attrs.get("scope") != scope:  # another scope's placing would list its schools unrounded
        raise ValueError("verdicts_within needs the placing of the same scope (placed_schools)")
    out = placed
    if unit is not None and unit.level != "all":
        column = {"school": "school_id", "municipality": "municipality_code", "region": "region_code"}[unit.level]
        out = out[out[column] == unit.code]
    out = out.copy()
    out["flagged_fdr"] = stats.false_discovery(stats.two_sided_p(out["z"])) & out["z"].notna()
    if scope.role != "admin":
        # Pooled over schools the user may not see one by one: to 0.1, as everywhere.
        pooled = ["peer_rate", "lower_95", "upper_95", "lower_998", "upper_998", "z", "region_change"]
        out[pooled] = out[pooled].astype(float).round(disclosure.RATE_DECIMALS)
    return out[VERDICT_COLUMNS].sort_values(["school_id"], ignore_index=True)


def by_attention(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Schools furthest above their peers first; those not compared last."""
    return (verdicts.assign(_order=verdicts["z"].astype(float).fillna(-np.inf))
            .sort_values(["_order", "school_id"], ascending=[False, True]).drop(columns="_order").reset_index(drop=True))


_PLACED_COLUMNS = ["school_id", "reference_rate", "peers", "z", "variance", "between", "pupils", "absence_rate",
                   "tier23_share"]
_CHANGE_COLUMNS = ["school_id", "change_points", "region_change", "change_low", "change_high", "change_z"]


def _placed(now: pd.DataFrame, before: pd.DataFrame, wanted: pd.Series, criteria: PeerCriteria,
            policy: SuppressionPolicy) -> pd.DataFrame:
    """The `wanted` schools placed among their region's schools (`now`, `before`: regional_peers)."""
    wanted = sorted(set(wanted))
    delivered = now.dropna(subset=["pupils"])
    codes, months = pd.factorize(delivered["month"], sort=True)  # max over "YYYY-MM" text runs in Python
    latest_by_school = pd.Series(codes, index=delivered.index).groupby(delivered["school_key"]).max().map(
        lambda code: months[code])
    found, nobody = _size_classes_by_region(now), disclosure.size_classes(_FIRST_MONTHS)
    classes = {code: found.get(code, nobody) for code in set(now["region_code"])}
    region_of = now.drop_duplicates("school_key").set_index("school_key")["region_code"]
    # Each school over the year so far through its own latest month, among the schools that have
    # delivered every month of it, as the comparison page places it: a late delivery is compared
    # over fewer months, not left out (review finding: the list and the page disagreed). Figures
    # are summed for the whole scope at once per such month (by region they took seconds).
    placed_parts, change_parts = [], []
    for latest in sorted(set(latest_by_school.reindex(wanted).dropna())):
        months = metrics.months_through(contract.school_year_of_month(latest), latest)
        figures = _figures_over(now, months, policy)
        _, months_before = metrics.same_point_last_year(contract.school_year_of_month(latest), latest)
        earlier = _figures_over(before, months_before, policy).rename(columns={"school_key": "school_id"})
        these = [k for k in wanted if latest_by_school.get(k) == latest]
        for code in sorted(set(region_of.reindex(these))):
            schools = _within_classes(figures[figures["region_code"] == code], classes[code])
            schools = schools.rename(columns={"school_key": "school_id"})
            placed = stats.peer_positions(schools, criteria, MIN_PEERS, classes[code]["size_class"].dropna())
            placed = placed.merge(schools[["school_id", "pupils", "absence_rate", "tier23_share"]])
            changes = stats.change_positions(schools, earlier[earlier["region_code"] == code])
            placed_parts.append(placed[placed["school_id"].isin(these)])
            change_parts.append(changes[changes["school_id"].isin(these)])
    placed = pd.concat(placed_parts, ignore_index=True) if placed_parts else pd.DataFrame(columns=_PLACED_COLUMNS)
    changes = pd.concat(change_parts, ignore_index=True) if change_parts else pd.DataFrame(columns=_CHANGE_COLUMNS)
    out = pd.DataFrame({"school_id": wanted})
    out["latest_month"] = out["school_id"].map(latest_by_school)
    out = out.merge(placed, on="school_id", how="left").merge(changes, on="school_id", how="left")
    out = out.rename(columns={"absence_rate": "school_rate", "reference_rate": "peer_rate", "peers": "n_peers"})
    for level, z in stats.LIMIT_LEVELS.items():
        low, high = stats.limits_at(out["peer_rate"], out["pupils"], out["variance"], out["between"], z)
        out[f"lower_{level}"], out[f"upper_{level}"] = low, high
    compared = out["z"].notna() & (out["n_peers"] > 0)
    out["verdict"] = np.where(~compared, None, np.where(out["z"] > stats.Z95, "higher",
                                                         np.where(out["z"] < -stats.Z95, "lower", "within")))
    out["verdict_998"] = np.where(~compared, None, np.where(out["z"] > stats.Z998, "higher",
                                                             np.where(out["z"] < -stats.Z998, "lower", "within")))
    changed = out["change_z"].notna()
    out["change_verdict"] = np.where(~changed, None, np.where(out["change_z"] > stats.Z95, "higher",
                                                               np.where(out["change_z"] < -stats.Z95, "lower", "within")))
    out["suppressed"] = ~compared
    out["not_compared"] = _not_compared_reasons(out, delivered, compared, policy)
    return out


def _not_compared_reasons(out: pd.DataFrame, delivered: pd.DataFrame, compared: pd.Series,
                          policy: SuppressionPolicy) -> pd.Series:
    """Why each school that is not compared is not (None for those that are), as the comparison
    page says it: "incomplete" (a month of its own year so far missing), "withheld" (fewer pupils
    in its latest month than the threshold), "no_data" (nothing delivered that year), else
    "no_peers" (no peer group or no rate to place)."""
    months = delivered.groupby("school_key")["month"].agg(frozenset)
    pupils = delivered.groupby(["school_key", "month"])["pupils"].sum()
    reasons: list[str | None] = []
    for school, latest, placed in zip(out["school_id"], out["latest_month"], compared):
        if placed:
            reasons.append(None)
        elif not isinstance(latest, str):
            reasons.append("no_data")
        else:
            reasons.append(_unplaced_reason(months.get(school, frozenset()), latest, pupils.get((school, latest), 0), policy))
    return pd.Series(reasons, index=out.index, dtype=object)


def _unplaced_reason(delivered_months: Collection[str], latest_month: str, latest_pupils: float,
                     policy: SuppressionPolicy) -> str:
    """Why a school with data is not placed (the page's message, the list's and the CLI's):
    "incomplete" when a month of its own year so far is missing, "withheld" when its latest
    month has fewer pupils than the threshold, else "no_peers" (no peer group, or no rate)."""
    needed = metrics.months_through(contract.school_year_of_month(latest_month), latest_month)
    if set(needed) - set(delivered_months):
        return "incomplete"
    if latest_pupils < policy.min_pupils:
        return "withheld"
    return "no_peers"


def _figures_over(rows: pd.DataFrame, months: list[str], policy: SuppressionPolicy) -> pd.DataFrame:
    """Each school's figures over exactly these months: a school missing one of them is left out,
    so every school and every sum compares the same school-months."""
    period = rows[rows["month"].isin(months)]
    complete = period.groupby("school_key")["month"].transform("nunique") == len(months)
    return _school_figures(_complete_schools(period[complete]), policy)


def verdict_of(z: float) -> str:
    """Words for a funnel position: beyond 99.8 % the difference is very unlikely to be chance;
    between 95 % and 99.8 % it may be chance (about one school in twenty lands there anyway)."""
    side = "higher" if z > 0 else "lower"
    if abs(z) > stats.Z998:
        return side
    if abs(z) > stats.Z95:
        return f"maybe_{side}"
    return "within"


def describe_peers(comparison: Comparison, language: str) -> str:
    """'The peer group holds 7 schools of the region: same school type, same language, 77–308 pupils.'"""
    criteria = comparison.peers.criteria
    parts = []
    if criteria.same_type:
        parts.append(i18n.t("compare.criteria_type", language))
    if criteria.same_language:
        parts.append(i18n.t("compare.criteria_language", language))
    if criteria.size_factor is not None:
        pupils = comparison.schools.set_index("school_key").at[comparison.school_key, "pupils"]
        parts.append(i18n.t("compare.criteria_size", language, low=i18n.number(pupils / criteria.size_factor, language, 0),
                            high=i18n.number(pupils * criteria.size_factor, language, 0)))
    text = ", ".join(parts) or i18n.t("compare.criteria_any", language)
    return i18n.t("compare.peers", language, count=len(comparison.peers.members), criteria=text)


def verdict_text(comparison: Comparison, language: str) -> str:
    return i18n.t(f"compare.verdict.{comparison.verdict}", language, rate=i18n.percent(comparison.school_rate, language),
                  peer=i18n.percent(comparison.peer_rate, language))


SURVEY_GROUP_OF_TYPE = {"primary": ("4-5",), "lower_secondary": ("8-9",), "comprehensive": ("8-9", "4-5")}


def wellbeing_profile(engine: Engine, scope: Scope, school_id: str, school_type: str,
                      policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """The school's newest survey against its municipality and the reference (the whole country,
    or what the data hold: `queries.wellbeing_reference`, named by reference_basis and
    reference_units), indicator by indicator: values (None where under the minimum respondents),
    the difference from the reference in points, and whether that difference is better or worse
    for pupils (each indicator's own direction)."""
    # An anonymised scope's school rows carry pseudonyms: those are matched after reading.
    only = None if scope.anonymised else [school_id]
    school = queries.wellbeing(engine, scope, unit_type="school", unit_ids=only, policy=policy)
    school = school[school["unit_id"] == school_id]
    if school.empty:
        return pd.DataFrame()
    groups = [g for g in SURVEY_GROUP_OF_TYPE[school_type] if g in set(school["grade_group"])]
    grade_group = groups[0]
    year = int(school.loc[school["grade_group"] == grade_group, "survey_year"].max())
    mine = school[(school["survey_year"] == year) & (school["grade_group"] == grade_group)].set_index("indicator")
    own_municipality = queries.schools(engine, scope).set_index("school_id").at[school_id, "municipality_code"]
    municipal = queries.wellbeing(engine, scope, unit_type="municipality", unit_ids=[own_municipality], policy=policy)
    municipal = municipal[(municipal["unit_id"] == own_municipality) & (municipal["survey_year"] == year)
                          & (municipal["grade_group"] == grade_group)].set_index("indicator")
    reference = queries.wellbeing_reference(engine, year, grade_group)
    national = reference.values.set_index("indicator")
    rows = []
    for code, indicator in contract.INDICATORS.items():
        if code not in mine.index:
            continue
        value = metrics.survey_value(mine.at[code, "value_pct"], int(mine.at[code, "respondents"]), policy)
        reference_value = national["value_pct"].get(code)
        difference = None if value is None or reference_value is None else value - reference_value
        better = None if difference is None else (difference > 0) == indicator.higher_is_better
        municipality_value = (metrics.survey_value(municipal.at[code, "value_pct"], int(municipal.at[code, "respondents"]), policy)
                              if code in municipal.index else None)
        rows.append({"indicator": code, "survey_year": year, "grade_group": grade_group,
                     "respondents": int(mine.at[code, "respondents"]), "school": value,
                     "municipality": municipality_value, "national": reference_value, "difference": difference,
                     "better": better, "reference_basis": reference.basis, "reference_units": reference.units})
    return pd.DataFrame(rows)
