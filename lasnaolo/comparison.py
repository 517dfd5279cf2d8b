"""Fair comparison of one school with similar schools: the peer group, the funnel plot's verdict
in words, and the school's months against its peers'. Every figure from lasnaolo.metrics and
lasnaolo.stats; other schools are seen only as the data-access layer allows (pseudonyms)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
from sqlalchemy.engine import Engine

from lasnaolo import contract, disclosure, i18n, metrics, queries, stats
from lasnaolo.contract import SuppressionPolicy
from lasnaolo.scope import Scope, Unit
from lasnaolo.stats import Funnel, PeerCriteria, PeerGroup

MIN_PEERS = 5


class NoData(LookupError):
    """The school has no absence data in that school year."""


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
            criteria: PeerCriteria = PeerCriteria(), policy: SuppressionPolicy | None = None) -> Comparison:
    policy = policy or SuppressionPolicy()
    rows = queries.peer_context(engine, scope, school_id, school_year, policy)
    own = rows[rows["school_key"] == school_id].dropna(subset=["pupils"])
    if own.empty:
        raise NoData(f"school {school_id} has no absence data in {school_year}")
    latest_month = own["month"].max()
    classes = _size_classes(rows)
    # The same months for every school: the year so far at the school's own latest month.
    rows = _complete_schools(rows[rows["month"] <= latest_month])
    schools = _school_figures(rows, policy)
    # A school under a pseudonym is shown only as one of its size class.
    schools = schools[~_pseudonymous(schools) | schools["school_key"].isin(classes["size_class"].dropna().index)]
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


def _size_classes(rows: pd.DataFrame) -> pd.DataFrame:
    """Size classes of the region's schools under pseudonyms, from each one's pupils in its first
    month of the year: the same classes whichever school is compared and up to whichever month,
    so that two comparisons never show one pseudonym in two different ranges."""
    hidden = _complete_schools(rows)
    hidden = hidden[_pseudonymous(hidden)].sort_values("month")
    first = hidden.groupby("school_key").agg(pupils=("pupils", "first"), school_type=("school_type", "first"),
                                             language=("language", "first"))
    return disclosure.size_classes(first)


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
        # Every z to 0.1 too: the own school's exact z, rate and size would give the pool's exact rate.
        units["z"] = units["z"].astype(float).round(disclosure.RATE_DECIMALS)
        reference = round(funnel.reference_rate, disclosure.RATE_DECIMALS)
        funnel = replace(funnel, units=units, reference_rate=reference, limits=stats.funnel_limits(reference, units["pupils"]))
    return schools, peers, funnel


def _complete_schools(rows: pd.DataFrame) -> pd.DataFrame:
    """Only schools with every month of the period published: a school whose withheld month were
    skipped would be placed on a shorter period than its peers."""
    complete = rows["pupils"].notna().groupby(rows["school_key"]).transform("all")
    return rows[complete]


def _school_figures(rows: pd.DataFrame, policy: SuppressionPolicy) -> pd.DataFrame:
    schools = metrics.figures_by(rows, ["school_key", "in_scope", "region_code", "school_type", "language"], policy)
    names = rows.dropna(subset=["school_name"]).drop_duplicates("school_key").set_index("school_key")["school_name"]
    schools["school_name"] = schools["school_key"].map(names)
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
    reference = stats.funnel(members).reference_rate
    funnel = stats.funnel(pd.concat([schools[schools["school_key"] == school_key], members], ignore_index=True),
                          reference_rate=reference)
    mine = funnel.units[funnel.units["school_key"] == school_key]
    return peers, funnel, (float(mine["z"].iloc[0]) if not mine.empty else None)


def positive_outliers(engine: Engine, scope: Scope, school_year: str, criteria: PeerCriteria = PeerCriteria(),
                      policy: SuppressionPolicy | None = None) -> pd.DataFrame:
    """The scope's schools whose absence rate lies below their peer group's 95 % limit — the
    schools others may learn from — with the measures of the attendance model they report
    using in that school year. One query for all regions; each school against peers of its own region."""
    policy = policy or SuppressionPolicy()
    own = queries.schools(engine, scope)
    rows = queries.regional_peers(engine, scope, frozenset(own["region_code"]), school_year, policy)
    every = _school_figures(_complete_schools(rows), policy).rename(columns={"school_key": "school_id"})
    found = []
    for region_code, in_region in own.groupby("region_code"):
        schools = every[every["region_code"] == region_code].reset_index(drop=True)
        placed = stats.peer_positions(schools, criteria, MIN_PEERS).merge(schools[["school_id", "absence_rate", "pupils"]])
        placed = placed[placed["school_id"].isin(set(in_region["school_id"])) & (placed["peers"] > 0)]
        found.append(placed[placed["z"] < -stats.Z95].rename(columns={"reference_rate": "peer_rate"}))
    columns = ["school_id", "absence_rate", "pupils", "peer_rate", "peers", "z"]
    out = pd.concat([f[columns] for f in found], ignore_index=True) if found else pd.DataFrame(columns=columns)
    out["beyond_998"] = out["z"] < -stats.Z998
    # Pooled over pseudonymous peers, so rounded; and z with it (an exact z, rate and size give the pool's rate).
    out[["peer_rate", "z"]] = out[["peer_rate", "z"]].astype(float).round(disclosure.RATE_DECIMALS)
    if out.empty:
        return out.assign(school_name=[], measures=[])
    out = out.merge(own[["school_id", "school_name"]], on="school_id")
    measures = queries.measures_in_use(engine, scope, school_year)
    listed = measures.groupby("school_id")["measure"].agg(lambda m: sorted(set(m)))
    out["measures"] = out["school_id"].map(listed).apply(lambda m: m if isinstance(m, list) else [])
    return out.sort_values("z", ignore_index=True)


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
                      policy: SuppressionPolicy | None = None) -> pd.DataFrame:
    """The school's newest survey against its municipality and the whole country, indicator by
    indicator: values (None where under the minimum respondents), the difference from the
    national value in points, and whether that difference is better or worse for pupils
    (each indicator's own direction)."""
    policy = policy or SuppressionPolicy()
    school = queries.wellbeing(engine, scope, unit_type="school", policy=policy)
    school = school[school["unit_id"] == school_id]
    if school.empty:
        return pd.DataFrame()
    groups = [g for g in SURVEY_GROUP_OF_TYPE[school_type] if g in set(school["grade_group"])]
    grade_group = groups[0]
    year = int(school.loc[school["grade_group"] == grade_group, "survey_year"].max())
    mine = school[(school["survey_year"] == year) & (school["grade_group"] == grade_group)].set_index("indicator")
    municipal = queries.wellbeing(engine, scope, unit_type="municipality", policy=policy)
    own_municipality = queries.schools(engine, scope).set_index("school_id").at[school_id, "municipality_code"]
    municipal = municipal[(municipal["unit_id"] == own_municipality) & (municipal["survey_year"] == year)
                          & (municipal["grade_group"] == grade_group)].set_index("indicator")
    national = queries.national_wellbeing(engine, year, grade_group).set_index("indicator")
    rows = []
    for code, indicator in contract.INDICATORS.items():
        if code not in mine.index:
            continue
        value = metrics.survey_value(mine.at[code, "value_pct"], int(mine.at[code, "respondents"]), policy)
        reference = national["value_pct"].get(code)
        difference = None if value is None or reference is None else value - reference
        better = None if difference is None else (difference > 0) == indicator.higher_is_better
        municipality_value = (metrics.survey_value(municipal.at[code, "value_pct"], int(municipal.at[code, "respondents"]), policy)
                              if code in municipal.index else None)
        rows.append({"indicator": code, "survey_year": year, "grade_group": grade_group,
                     "respondents": int(mine.at[code, "respondents"]), "school": value,
                     "municipality": municipality_value, "national": reference, "difference": difference,
                     "better": better})
    return pd.DataFrame(rows)
