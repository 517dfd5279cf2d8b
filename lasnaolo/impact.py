"""Impact of a measure: did schools that started it move differently from comparable schools that
did not? A stacked difference-in-differences with an event study.

Design (the same for every measure, outcome and scope):
- Treated: schools in the user's scope whose first period of the measure starts inside the data,
  with at least MIN_PRE_MONTHS school months before the start and MIN_POST_MONTHS after it. A
  school's months after its measure ended are left out (the estimate is "while in use").
- Cohorts: treated schools that started in the same month. For each cohort a comparison group of
  never-treated schools of the same school type from the regions the scope touches: for every
  treated school its NEIGHBOURS nearest by size and by the outcome's level before the start,
  among those within a CALIPER of its level; a treated school with no comparable school is left
  out and counted.
- The Ashenfelter-dip guard: measures go to schools whose absence just rose. The GUARD_MONTHS
  school months right before the start are left out of the matching and of the "before" of the
  estimate (a passing spike there would read as the measure's success); the event study shows
  them, and the pre-period test asks whether the groups differed in them.
- Stacked regression (Cengiz et al. 2019) with Wing, Freedman & Hollingsworth's (2024) weights:
  each cohort with its controls is a stack; comparison schools weighted so that every stack counts
  by its treated schools. School × stack fixed effects (levels differ) and calendar month × stack
  fixed effects (seasonality and anything that hit every school at once, such as an epidemic),
  errors clustered by school and intervals and tests on Student's t with (school clusters − 1)
  degrees of freedom. The difference-in-differences coefficient is the treated schools' change
  after the start minus the comparison schools' change; the event study replaces it with one
  coefficient per school month relative to the start, anchored on the lesson-hour weighted
  average of ANCHOR_MONTHS months before the guard (not one month: June has three school days).
- Tier shares are year-to-date: the start year's months after a mid-year start mix months before
  and after the start, so they are left out.
- Checks, each a warning code in `Impact.warnings`, stated in words on the page: the groups'
  balance after matching, a joint test of the months before the start (slope, curvature and the
  guard months), too few treated schools for the t reference. Also said: treated schools left
  without comparable schools, and a sensitivity statement: how large a drift between the groups, had it
  gone on from before the start, would overturn the conclusion (in the spirit of Rambachan &
  Roth 2023).
Time is counted in school months: the months present in the data, in order (no July), so the
month before an August start is June.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqlalchemy.engine import Engine

from lasnaolo import contract, disclosure, i18n, metrics, queries
from lasnaolo.kept import Kept
from lasnaolo.queries import MIN_POOLED_SCHOOLS, MeasurePanel
from lasnaolo.scope import Scope

OUTCOMES = ("absence_rate", "unauthorised_rate", "tier23_share")
PRE_MONTHS = 22  # two school years
POST_MONTHS = 22
MIN_PRE_MONTHS = 6
MIN_POST_MONTHS = 3
NEIGHBOURS = 5
GUARD_MONTHS = 4  # school months right before the start: out of matching and of the estimate's "before"
ANCHOR_MONTHS = 6  # the event study's reference: these months before the guard
SIZE_WEIGHT = 0.5  # size's weight beside the level's in the matching distance
CALIPER = 1.0  # standard deviations of the level before beyond which a school is not comparable
# |standardised mean difference| of the level before above which regression adjustment (the
# fixed effects) is not to be trusted (Rubin 2001). The common 0.25 fired in 14 % of random
# assignments of 5-15 schools: matching neighbours of the extreme schools lie on one side.
BALANCE_LIMIT = 0.5
FEW_TREATED = 5  # below this the t reference has not been checked by simulation
MIN_GROUP_SCHOOLS = MIN_POOLED_SCHOOLS  # below this a group is neither estimated nor described
PARALLEL_P = 0.05
WARNINGS = ("pre_trend", "imbalance", "few_treated")
MATCHED_ON = ("level_before", "pupils")  # what matching used; the guard months are the pre-period test's
METHOD = ("stacked difference-in-differences with Wing et al. (2024) stack weights: school×cohort and calendar "
          "month×cohort fixed effects (pyhdfe), standard errors clustered by school (linearmodels), Student's t on "
          f"clusters − 1 degrees of freedom; {GUARD_MONTHS} school months before the start left out of matching and "
          "of the before period")


class NotEstimated(ValueError):
    """Too few schools to estimate (or to show) anything; `reason` is a translation key."""

    def __init__(self, reason: str, **values) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


@dataclass(frozen=True)
class Question:
    measure: str
    outcome: str = "absence_rate"
    grade_band: str | None = None  # None: all grades

    def __post_init__(self) -> None:
        if self.measure not in contract.MEASURES:
            raise ValueError(f"unknown measure {self.measure!r}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}")
        if self.grade_band is not None and self.grade_band not in contract.GRADE_BANDS:
            raise ValueError(f"grade band must be one of {tuple(contract.GRADE_BANDS)}")


@dataclass(frozen=True)
class Impact:
    question: Question
    estimate: float  # percentage points, treated minus comparison, after minus before
    ci_low: float
    ci_high: float
    std_error: float
    n_treated: int
    n_control: int
    event_study: pd.DataFrame  # event_month, estimate, ci_low, ci_high
    pretrend: float | None  # difference in slope before the start, points per school month
    pretrend_p: float | None  # joint test of the months before the start; None: too few to test
    groups: pd.DataFrame  # group, schools, school_types
    treated: pd.DataFrame  # school_key, school_name, start_month
    controls: pd.DataFrame  # school_key, school_name
    excluded: int  # schools in scope with the measure but without enough months before or after
    balance: pd.DataFrame = None  # variable, treated, comparison, standardised_difference
    unmatched: int = 0  # treated schools left out: no comparable school within the caliper
    guard_shift: float | None = None  # the groups' difference in the guard months against before them
    breakdown_drift: float | None = None  # drift (points a month) that would overturn the conclusion
    warnings: tuple[str, ...] = ()
    method: str = METHOD

    @property
    def parallel_before(self) -> bool | None:
        return None if self.pretrend_p is None else self.pretrend_p >= PARALLEL_P

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0

    def as_json(self) -> dict:
        return {"measure": self.question.measure, "outcome": self.question.outcome,
                "grade_band": self.question.grade_band, "estimate": round(self.estimate, 4),
                "ci_low": round(self.ci_low, 4), "ci_high": round(self.ci_high, 4),
                "std_error": round(self.std_error, 4), "n_treated": self.n_treated, "n_control": self.n_control,
                "pretrend_slope": None if self.pretrend is None else round(self.pretrend, 4),
                "pretrend_p": None if self.pretrend_p is None else round(self.pretrend_p, 4),
                "guard_shift": None if self.guard_shift is None else round(self.guard_shift, 4),
                "breakdown_drift": None if self.breakdown_drift is None else round(self.breakdown_drift, 4),
                "balance": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
                            for row in self.balance.to_dict("records")] if self.balance is not None else [],
                "unmatched": self.unmatched, "excluded": self.excluded, "warnings": list(self.warnings),
                "method": self.method}


def school_months(panel: MeasurePanel, outcome: str) -> pd.DataFrame:
    """One row per school and month with the outcome, and the school month's ordinal `t` among
    the months that have the outcome; in the order of t (the panel's order within a month)."""
    rated, month_code = _rated(panel.rows)
    has = rated[outcome].notna().to_numpy()
    present = np.unique(month_code[has])  # codes of the months with the outcome, in order
    t = month_code[has] if len(present) == month_code.max(initial=-1) + 1 else np.searchsorted(present, month_code[has])
    out = rated.loc[has, ["school_key", "school_type", "in_scope", "school_year", "month", "pupils", "lesson_hours", outcome]]
    out.insert(5, "t", t)
    return out


_RATED: Kept[tuple[pd.DataFrame, pd.DataFrame, np.ndarray]] = Kept(4)


def _rated(rows: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The panel's school months with every rate, in month order (stable), and each row's month
    as a code in that order. Kept per panel frame (queries keeps the panel per data version and
    scope): a new outcome then only selects its column; rating and ordering the national panel
    was a third of a new question's time."""
    kept = _RATED.get(id(rows))
    if kept is not None and kept[0] is rows:  # the very frame, not one that took its id after it
        return kept[1], kept[2]
    counts = ["pupils", "lesson_hours", *metrics.HOURS, *metrics.TIER_COUNTS]
    columns = ["school_key", "school_type", "in_scope", "school_year", "month", *counts]
    codes, months = pd.factorize(rows["month"], sort=True)
    order = np.argsort(codes, kind="stable")
    rated = metrics.add_rates(rows[list(dict.fromkeys(columns))]).iloc[order]
    _RATED.put(id(rows), (rows, rated, codes[order]))
    return rated, codes[order]


def _ordinal_of(months: list[str], month: str, after: bool) -> int:
    """The ordinal of the first data month at or after `month` (after=True) or the last one at or
    before it."""
    position = int(np.searchsorted(months, month, side="left" if after else "right"))
    return position if after else position - 1


def treatment_periods(panel: MeasurePanel, months: list[str], keys: tuple[str, ...] = ("school_key",)) -> pd.DataFrame:
    """Per school that ever used the measure (per `keys`: also per measure when the periods hold
    several): its first start and that period's end, as ordinals of the data's months (`months`,
    in order)."""
    first = panel.periods.sort_values("start").groupby(list(keys), as_index=False).first()
    start_month = first["start"].map(lambda d: f"{d:%Y-%m}")
    end_month = first["end"].map(lambda d: None if d is None or pd.isna(d) else f"{d:%Y-%m}")
    return pd.DataFrame({
        **{key: first[key] for key in keys},
        "start_month": start_month,
        "start": [_ordinal_of(months, m, after=True) for m in start_month],
        "end": [len(months) if e is None else _ordinal_of(months, e, after=False) for e in end_month],
    })


def _nearest(treated: pd.DataFrame, candidates: pd.DataFrame, k: int) -> tuple[pd.Series, set[str]]:
    """Per treated school the k candidates of its type nearest in (log size, level before),
    standardised over the cohort's schools, among those whose level is within CALIPER standard
    deviations of its own (regression to the mean makes a far level no comparison): how often each
    comparison school was chosen (its matching weight, with replacement); and the treated schools
    that had none."""
    both = pd.concat([treated, candidates])
    spread = both[["log_size", "level"]].std(ddof=0).replace(0, 1)
    chosen: list[str] = []
    unmatched: set[str] = set()
    for school_type, group in treated.groupby("school_type"):
        same = candidates[candidates["school_type"] == school_type]
        # Treated × candidates at once: level apart in standard deviations, and the distance.
        level = (same["level"].to_numpy()[None, :] - group["level"].to_numpy()[:, None]) / spread["level"]
        size = (same["log_size"].to_numpy()[None, :] - group["log_size"].to_numpy()[:, None]) / spread["log_size"]
        # Size counts half as much as the level: the level is what regresses to the mean.
        distance = np.where(np.abs(level) <= CALIPER, (SIZE_WEIGHT * size) ** 2 + level ** 2, np.inf)
        order = np.argsort(distance, axis=1, kind="stable")[:, :k]
        names = same.index.to_numpy()
        for row, school in enumerate(group.index):
            near = [names[j] for j in order[row] if np.isfinite(distance[row, j])]
            if not near:
                unmatched.add(school)
            chosen.extend(near)
    return pd.Series(chosen, dtype=object).value_counts(), unmatched


def _between(rows: pd.DataFrame, low: int, high: int) -> pd.DataFrame:
    """The rows with low <= t < high, of rows sorted by t (a slice, not a scan: the national
    panel is hundreds of thousands of school-months, cut several times per cohort)."""
    t = rows["t"].to_numpy()
    return rows.iloc[int(np.searchsorted(t, low, "left")):int(np.searchsorted(t, high, "left"))]


@dataclass(frozen=True)
class _Grid:
    """The school months as school × month matrices: row i is school `keys[i]` (in key order, as
    a groupby gives them), column t the month's ordinal. Each cohort's windows are then column
    slices: grouping and filtering the national rows by school per cohort was most of a question."""

    keys: pd.Index
    outcome: np.ndarray  # NaN where the school has no such month
    pupils: np.ndarray
    counted: np.ndarray  # months with the outcome, cumulated over t (a leading column of zeros)
    school_type: np.ndarray

    def months(self, schools: np.ndarray, low, high) -> np.ndarray:
        """Per school (row numbers) its months with the outcome in low <= t < high (arrays or
        numbers, clipped to the data)."""
        width = self.outcome.shape[1]
        low, high = np.clip(low, 0, width), np.clip(high, 0, width)
        return self.counted[schools, high] - self.counted[schools, low]


def _grid(rows: pd.DataFrame, outcome: str) -> tuple[_Grid, np.ndarray]:
    """The grid of `rows` (school_months) and each row's school as a row number of it."""
    codes, keys = pd.factorize(rows["school_key"], sort=True)
    width = int(rows["t"].max()) + 1 if len(rows) else 0
    t = rows["t"].to_numpy()
    values, pupils = np.full((len(keys), width), np.nan), np.full((len(keys), width), np.nan)
    values[codes, t] = rows[outcome].to_numpy(dtype=float)
    pupils[codes, t] = rows["pupils"].to_numpy(dtype=float)
    present = np.zeros((len(keys), width), dtype=np.int64)
    present[codes, t] = 1
    counted = np.concatenate([np.zeros((len(keys), 1), dtype=np.int64), present.cumsum(axis=1)], axis=1)
    school_type = np.empty(len(keys), dtype=object)
    school_type[codes[::-1]] = rows["school_type"].to_numpy()[::-1]  # each school's first row's
    return _Grid(pd.Index(keys, name="school_key"), values, pupils, counted, school_type), codes


def _before_profile(grid: _Grid, schools: np.ndarray, start: int) -> pd.DataFrame:
    """Per school (row numbers of the grid) its level, size and months in the matching window: the
    PRE_MONTHS before the start less the guard (a spike right before the start is what selection
    follows). Schools without a month there are left out."""
    low, high = max(start - PRE_MONTHS, 0), max(start - GUARD_MONTHS, 0)
    months = grid.months(schools, low, high)
    schools = schools[months > 0]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a school whose pupils are all missing: NaN
        level = np.nanmean(grid.outcome[schools, low:high], axis=1)
        pupils = np.nanmean(grid.pupils[schools, low:high], axis=1)  # rows are the months with the outcome
    profile = pd.DataFrame({"level": level, "pupils": pupils, "months": months[months > 0],
                            "school_type": grid.school_type[schools]}, index=grid.keys[schools])
    profile["log_size"] = np.log(profile["pupils"].clip(lower=1))
    return profile


def _mixed_year_to_date(window: pd.DataFrame, start: int, outcome: str) -> pd.Series:
    """Rows whose year-to-date tier share mixes months before and after a mid-year start: the
    start year's months from the start on, unless the start is the school year's first month."""
    if outcome != "tier23_share":
        return pd.Series(False, index=window.index)
    at_start = window.loc[window["t"] == start, ["school_year", "month"]]
    if at_start.empty or str(at_start["month"].iloc[0]).endswith("-08"):
        return pd.Series(False, index=window.index)
    return (window["school_year"] == at_start["school_year"].iloc[0]) & (window["t"] >= start)


def stack(panel: MeasurePanel, question: Question) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """The stacked rows (cohort, school_key, t, event, treated, weight, outcome), the treated
    schools, how many schools in scope had the measure but too few months around its start, and
    how many had no comparable school."""
    rows = school_months(panel, question.outcome).sort_values("t", kind="stable", ignore_index=True)
    periods = treatment_periods(panel, sorted(rows["month"].unique()))
    grid, row_school = _grid(rows, question.outcome)
    rows = rows.assign(_school=row_school)
    last = rows["t"].max() if not rows.empty else -1
    in_scope = set(rows.loc[rows["in_scope"], "school_key"])
    never = np.flatnonzero(~grid.keys.isin(set(periods["school_key"])))  # the comparison pool
    stacks, treated_rows, excluded, unmatched = [], [], 0, 0
    for start, cohort in periods[periods["school_key"].isin(in_scope)].groupby("start"):
        starting = cohort["school_key"].nunique()
        cohort = cohort[cohort["school_key"].isin(grid.keys)]  # a school without months has no profile
        members = grid.keys.get_indexer(cohort["school_key"])
        order = np.argsort(members, kind="stable")  # in key order, as the profile lists them
        members, ends = members[order], cohort["end"].to_numpy()[order]
        profile = _before_profile(grid, members, start)
        # A treated school's months after the start count only while the measure is in use.
        used = pd.Series(grid.months(members, start, np.minimum(start + POST_MONTHS, ends + 1)), index=grid.keys[members])
        enough = profile.index[(profile["months"] >= MIN_PRE_MONTHS) & (used.reindex(profile.index) >= MIN_POST_MONTHS)]
        excluded += starting - len(enough)
        if len(enough) == 0 or start > last:
            continue
        candidates = _before_profile(grid, never, start)
        after = pd.Series(grid.months(grid.keys.get_indexer(candidates.index), start, start + POST_MONTHS),
                          index=candidates.index)
        candidates = candidates[(candidates["months"] >= MIN_PRE_MONTHS) & (after >= MIN_POST_MONTHS)]
        controls, alone = _nearest(profile.loc[enough], candidates, NEIGHBOURS)
        unmatched += len(alone)
        matched = [key for key in enough if key not in alone]
        if not matched:
            continue
        window = _between(rows, start - PRE_MONTHS, start + POST_MONTHS)
        window = window[~_mixed_year_to_date(window, start, question.outcome)]
        school = window["_school"].to_numpy()
        treated_part = window[np.isin(school, grid.keys.get_indexer(matched))]
        ends_by_school = cohort.set_index("school_key")["end"]
        treated_part = treated_part[treated_part["t"] <= treated_part["school_key"].map(ends_by_school)]
        control_part = window[np.isin(school, grid.keys.get_indexer(controls.index))]
        # Matching with replacement: a comparison school chosen by three treated schools counts
        # three times (else the pooled neighbours of far-apart schools are unlike them on average).
        control_part = control_part.assign(matched=control_part["school_key"].map(controls / controls.mean()))
        part = pd.concat([treated_part.assign(treated=1, matched=1.0), control_part.assign(treated=0)])
        stacks.append(part.drop(columns="_school").assign(cohort=int(start), event=part["t"] - start))
        treated_rows.append(cohort[cohort["school_key"].isin(matched)])
    stacked = pd.concat(stacks, ignore_index=True) if stacks else pd.DataFrame(
        columns=["school_key", "t", "event", "treated", "cohort", "matched", "lesson_hours", question.outcome])
    treated = pd.concat(treated_rows, ignore_index=True) if treated_rows else periods.iloc[0:0]
    return stacked.assign(weight=stack_weights(stacked)), treated, excluded, unmatched


def window_weights(outside: pd.DataFrame) -> np.ndarray:
    """Per row, a factor that makes each stack count in the pooled difference-in-differences by its
    treated schools even when the stacks' windows differ (data ending, the guard cut out): a stack
    of T months of which a share p is after the start enters a two-way fixed-effects regression in
    proportion to T · p (1 − p), so its rows are divided by that (normalised to mean 1). Review
    finding: +2 in one cohort of several came out 28 % short of the treated-weighted average."""
    months = outside.groupby("cohort")["event"].agg(total="nunique")
    months["after"] = outside[outside["event"] >= 0].groupby("cohort")["event"].nunique()
    share = (months["after"].fillna(0) / months["total"]).clip(1e-9, 1 - 1e-9)
    factor = 1 / (months["total"] * share * (1 - share))
    factor = factor / factor.mean()
    return outside["cohort"].map(factor).to_numpy(float)


def stack_weights(stacked: pd.DataFrame) -> pd.Series:
    """Wing, Freedman & Hollingsworth (2024): treated rows weigh 1; a comparison school in stack a
    weighs (N_a^D / N^D) / (N_a^C / N^C), N^D and N^C the treated and comparison schools of the
    stack (a) and of all stacks, times its matching weight (times chosen over the stack's mean). Unweighted, a cohort with many comparison schools counted more
    than its treated schools warrant (a −2 effect of one cohort came out −1.16 against −1.38)."""
    if stacked.empty:
        return pd.Series(dtype=float)
    counts = stacked.groupby(["cohort", "treated"])["school_key"].nunique().unstack(fill_value=0)
    counts = counts.reindex(columns=[0, 1], fill_value=0)
    share = (counts[1] / counts[1].sum()) / (counts[0] / counts[0].sum())
    control_weight = stacked["cohort"].map(share).astype(float) * stacked["matched"].astype(float)
    return control_weight.where(stacked["treated"] == 0, 1.0).to_numpy()


@dataclass(frozen=True)
class Fit:
    """What the estimate reads of a fitted model: coefficients, standard errors, covariance."""

    params: pd.Series
    std_errors: pd.Series
    cov: pd.DataFrame


def _fit(stacked: pd.DataFrame, outcome: str, regressors: pd.DataFrame) -> Fit:
    """Weighted least squares of the outcome on `regressors` with school × cohort and month × cohort
    fixed effects, errors clustered by school: linearmodels PanelOLS's two-way weighted model
    (entity and other effects, debiased, group-debiased), with the effects absorbed by pyhdfe's
    method of alternating projections and the covariance from linearmodels' own clustered
    estimator, given the effects' degrees of freedom as PanelOLS counts them. PanelOLS itself
    spent two seconds of a new national question on its general demeaning and on statistics the
    page never shows (tests/test_impact.py checks the two against each other)."""
    import pyhdfe  # heavy: imported only when an estimate is asked for
    from linearmodels.panel.covariance import ClusteredCovariance
    from linearmodels.panel.utility import not_absorbed

    weights = stacked["weight"].to_numpy(float)  # strictly positive, as PanelOLS requires
    # Numbered in order of first appearance (grouping, not joining texts: a tenth of a second a question).
    entity = pd.factorize(stacked.groupby(["cohort", "school_key"], sort=False).ngroup())[0]
    cohort_month = pd.factorize(stacked.groupby(["cohort", "t"], sort=False).ngroup())[0]
    absorber = pyhdfe.create(np.column_stack([entity, cohort_month]), drop_singletons=False, compute_degrees=False,
                             residualize_method="map", options={"tol": 1e-12})
    values = np.column_stack([stacked[outcome].to_numpy(float), regressors.to_numpy(float)])
    absorbed = absorber.residualize(values, weights=weights[:, None]) * np.sqrt(weights)[:, None]
    # A regressor the effects explain, alone or with the regressors before it, is left out with
    # PanelOLS's own rule (drop_absorbed): an event month with no treated rows made the intervals
    # of the others numerically meaningless, or the fit singular (review finding).
    retained = not_absorbed(absorbed[:, 1:], x_orig=np.sqrt(weights)[:, None] * values[:, 1:])
    if not retained:  # as PanelOLS: nothing left to estimate
        raise ValueError("All columns in exog have been fully absorbed by the included effects.")
    y, x = absorbed[:, :1], absorbed[:, 1:][:, retained]
    params = np.linalg.lstsq(x, y, rcond=None)[0]
    effects = int(entity.max() + 1 + cohort_month.max())  # both sets, one level of the second dropped
    cov = ClusteredCovariance(y, x, params, entity[:, None], cohort_month[:, None], debiased=True, extra_df=effects,
                              clusters=pd.factorize(stacked["school_key"])[0], group_debias=True).cov
    names = [regressors.columns[i] for i in retained]
    return Fit(pd.Series(params[:, 0], index=names), pd.Series(np.sqrt(np.diag(cov)), index=names),
               pd.DataFrame(cov, index=names, columns=names))


def usable_starts(panel: MeasurePanel) -> pd.DataFrame:
    """Per measure (`panel.periods` with a `measure` column): how many schools started it with
    enough months before (in the matching window) and after the start to enter an estimate, in the
    scope (`own`) and in the scope's regions (`region`). Matching may still leave some out."""
    rows = school_months(panel, "absence_rate")[["school_key", "in_scope", "month", "t"]]
    months = sorted(rows["month"].unique())
    first = treatment_periods(panel, months, keys=("measure", "school_key"))
    joined = first.merge(rows, on="school_key")
    offset = joined["t"] - joined["start"]
    joined["before"] = offset.between(-PRE_MONTHS, -GUARD_MONTHS - 1)
    joined["after"] = offset.between(0, POST_MONTHS - 1) & (joined["t"] <= joined["end"])
    counts = joined.groupby(["measure", "school_key"]).agg(before=("before", "sum"), after=("after", "sum"),
                                                           in_scope=("in_scope", "first"))
    usable = counts[(counts["before"] >= MIN_PRE_MONTHS) & (counts["after"] >= MIN_POST_MONTHS)].reset_index()
    out = usable.groupby("measure").agg(own=("in_scope", "sum"), region=("school_key", "nunique"))
    return out.reindex(list(contract.MEASURES), fill_value=0).astype(int)


def default_view(engine: Engine, scope: Scope, regional: bool = True) -> tuple[str, bool]:
    """The measure and area the page opens on: one that can be estimated (review finding: it
    opened on "not estimated, 2 schools (3 needed)"). The user's own area for the measure most of
    its schools started, else (`regional`: users who may look at their regions) the region's."""
    rows, schools = queries.school_month_panel(engine, scope)
    counts = usable_starts(MeasurePanel(rows, schools, queries.measure_periods(engine, scope, None)))
    preferred = "school_coach"  # the programme's own measure wins a tie
    order = sorted(counts.index, key=lambda m: (m != preferred, list(contract.MEASURES).index(m)))
    counts = counts.loc[order]
    if counts["own"].max() >= MIN_GROUP_SCHOOLS or not regional:
        return str(counts["own"].idxmax()), False
    if counts["region"].max() >= MIN_GROUP_SCHOOLS:
        return str(counts["region"].idxmax()), True
    return preferred, False


def analyse(engine: Engine, scope: Scope, question: Question) -> Impact:
    """The estimate for the scope's schools (the page, the command line)."""
    return estimate(queries.measure_panel(engine, scope, question.measure, question.grade_band), question)


def _guard(stacked: pd.DataFrame) -> pd.Series:
    return stacked["event"].between(-GUARD_MONTHS, -1)


def estimate(panel: MeasurePanel, question: Question) -> Impact:
    stacked, treated, excluded, unmatched = stack(panel, question)
    n_treated = stacked.loc[stacked["treated"] == 1, "school_key"].nunique() if not stacked.empty else 0
    n_control = stacked.loc[stacked["treated"] == 0, "school_key"].nunique() if not stacked.empty else 0
    if n_treated < MIN_GROUP_SCHOOLS:
        raise NotEstimated("impact.too_few_treated", n=n_treated, minimum=MIN_GROUP_SCHOOLS, excluded=excluded + unmatched)
    if n_control < MIN_GROUP_SCHOOLS:
        raise NotEstimated("impact.too_few_controls", n=n_control, minimum=MIN_GROUP_SCHOOLS)
    outcome = question.outcome
    critical = _critical(stacked)
    # The guard months are neither "before" nor "after": a spike that drew the measure there
    # would otherwise read as its success.
    outside = stacked[~_guard(stacked)].reset_index(drop=True)
    outside = outside.assign(weight=outside["weight"] * window_weights(outside))
    after = (outside["treated"] * (outside["event"] >= 0)).astype(float)
    did = _fit(outside, outcome, pd.DataFrame({"treated_after": after.to_numpy()}))
    # Intervals from Student's t on clusters − 1 degrees of freedom, not the thousands of residual
    # ones: with a few dozen school clusters the latter covered a placebo's zero in 92 % of runs.
    point, error = float(did.params["treated_after"]), float(did.std_errors["treated_after"])
    low, high = point - critical * error, point + critical * error
    event_study = _event_study(stacked, outcome, critical)
    guard_shift, pretrend_p = _pretrend(stacked, outcome)
    pretrend = _pre_slope(event_study, stacked) if pretrend_p is not None else None
    balance = _balance(stacked, outcome)
    breakdown = _breakdown_drift(outside, point, critical * error)
    warnings = tuple(code for code, fired in (
        ("pre_trend", pretrend_p is not None and pretrend_p < PARALLEL_P),
        ("imbalance", bool((balance.loc[balance["variable"].isin(MATCHED_ON), "standardised_difference"].abs()
                            > BALANCE_LIMIT).any())),
        ("few_treated", n_treated < FEW_TREATED)) if fired)
    return Impact(question, point, float(low), float(high), error, int(n_treated), int(n_control), event_study,
                  pretrend, pretrend_p, _groups(stacked), _treated_list(panel, treated),
                  _control_list(panel, stacked), excluded, balance, unmatched, guard_shift, breakdown, warnings)


def _event_study(stacked: pd.DataFrame, outcome: str, critical: float) -> pd.DataFrame:
    """One coefficient per school month from the start, anchored on the lesson-hour weighted
    average of the ANCHOR_MONTHS months before the guard (the earliest of them is left out of the
    regression, and every coefficient is re-expressed against the weighted average with its
    covariance)."""
    events = sorted(int(e) for e in stacked["event"].unique())
    anchor = [e for e in events if -GUARD_MONTHS - ANCHOR_MONTHS <= e < -GUARD_MONTHS] or [e for e in events if e < 0][-1:]
    omitted = anchor[0]
    shown = [e for e in events if e != omitted]
    treated = stacked["treated"] == 1
    dummies = pd.DataFrame({f"e{e}": ((stacked["event"] == e) & treated).astype(float).to_numpy() for e in shown})
    study = _fit(stacked, outcome, dummies)
    names = list(dummies.columns)
    params = study.params.reindex(names).fillna(0.0).to_numpy()
    cov = study.cov.reindex(index=names, columns=names).fillna(0.0).to_numpy()
    hours = stacked[treated].groupby("event")["lesson_hours"].sum().reindex(anchor).fillna(0.0)
    weights = (hours / hours.sum()).to_numpy() if hours.sum() > 0 else np.full(len(anchor), 1 / len(anchor))
    # Contrast of each event against the anchor average: full vectors over (omitted, shown...).
    position = {e: i for i, e in enumerate(shown)}
    reference = np.zeros(len(shown))
    for e, w in zip(anchor, weights):
        if e != omitted:
            reference[position[e]] += w
    out = []
    for e in events:
        contrast = -reference.copy()
        if e != omitted:
            contrast[position[e]] += 1.0
        value = float(contrast @ params)
        width = critical * math.sqrt(max(float(contrast @ cov @ contrast), 0.0))
        out.append({"event_month": e, "estimate": value, "ci_low": value - width, "ci_high": value + width})
    present = set(stacked.loc[treated, "event"].astype(int))
    frame = pd.DataFrame(out)
    frame = frame[frame["event_month"].isin(present)]
    # To 0.01 points: a month's coefficient is a difference of a few schools' exact monthly means.
    return frame.sort_values("event_month", ignore_index=True).round({"estimate": 2, "ci_low": 2, "ci_high": 2})


def _pretrend(stacked: pd.DataFrame, outcome: str) -> tuple[float | None, float | None]:
    """Did the treated schools drift apart from their comparison schools before the start? One
    joint test of three departures over the months before it, with the same fixed effects and
    clustered errors: a difference in slope, in curvature (a bend a straight line misses), and a
    shift in the guard months (a spike that drew the measure). Returns the guard shift (points)
    and the joint test's p-value (F on treated clusters − 1); the slope alone is read from the
    event study (`_pre_slope`). Three parameters, not one per month: a joint test of twenty
    monthly coefficients with a few dozen school clusters rejects far too often."""
    before = stacked[stacked["event"] < 0].reset_index(drop=True)
    if before["event"].nunique() < 4:
        return None, None
    treated = before["treated"].astype(float)
    centred = before["event"] - before.loc[before["treated"] == 1, "event"].mean()
    regressors = pd.DataFrame({"slope": (treated * centred).to_numpy(),
                               "curvature": (treated * (centred ** 2 - (centred ** 2).mean())).to_numpy(),
                               "guard": (treated * _guard(before)).to_numpy()})
    if not (_guard(before) & (before["treated"] == 1)).any() or (~_guard(before)).sum() == 0:
        regressors = regressors.drop(columns="guard")
    fit = _fit(before, outcome, regressors)
    names = list(regressors.columns)
    params = fit.params.reindex(names).to_numpy()
    cov = fit.cov.reindex(index=names, columns=names).to_numpy()
    from scipy.stats import f  # with linearmodels: only when an estimate is asked for

    try:
        statistic = float(params @ np.linalg.solve(cov, params)) / len(names)
    except np.linalg.LinAlgError:
        return None, None
    # On (treated school clusters − 1): the treated schools carry the departures tested, and with
    # all clusters' degrees of freedom the test warned in 10 % of random assignments (5 % here).
    treated_clusters = int(before.loc[before["treated"] == 1, "school_key"].nunique())
    p_value = float(f.sf(statistic, len(names), max(treated_clusters - 1, 1)))
    shift = float(fit.params["guard"]) if "guard" in names else None
    return shift, p_value


def _pre_slope(event_study: pd.DataFrame, stacked: pd.DataFrame) -> float | None:
    """The difference in slope before the start, points a month: a line through the event
    study's months before the guard, weighted by the treated schools' rows in each (the same
    line a separate regression would draw through them, without fitting one more model)."""
    treated = stacked[stacked["treated"] == 1]
    counts = treated[treated["event"] < -GUARD_MONTHS].groupby("event").size()
    study = event_study.set_index("event_month")["estimate"].reindex(counts.index).dropna()
    if len(study) < 3:
        return None
    weights = counts.reindex(study.index).to_numpy(float)
    x = study.index.to_numpy(float)
    centre = np.average(x, weights=weights)
    return float(np.sum(weights * (x - centre) * study.to_numpy()) / np.sum(weights * (x - centre) ** 2))


def _breakdown_drift(outside: pd.DataFrame, point: float, half_width: float) -> float | None:
    """How large a drift between the groups (points per school month), going on from before the
    start, would move the interval's nearer end to zero: a drift δ biases the estimate by δ times
    the distance between the treated schools' average month after and before the start. None when
    the interval already includes zero (there is no conclusion to overturn)."""
    if abs(point) <= half_width:
        return None
    treated = outside[outside["treated"] == 1]
    distance = treated.loc[treated["event"] >= 0, "event"].mean() - treated.loc[treated["event"] < 0, "event"].mean()
    if not distance or math.isnan(distance):
        return None
    return (abs(point) - half_width) / float(distance)


def _clusters(stacked: pd.DataFrame) -> int:
    return int(stacked["school_key"].nunique())


def _critical(stacked: pd.DataFrame) -> float:
    """The 97.5 % point of Student's t on (school clusters − 1) degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(0.975, _clusters(stacked) - 1))


def _standardised_difference(per_school: pd.DataFrame) -> tuple[float, float, float]:
    """Treated and comparison means of `value` (comparison schools weighted by stack) and their
    difference over the pooled standard deviation of schools."""
    groups = [per_school[per_school["treated"] == flag] for flag in (1, 0)]
    means = [float(np.average(g["value"], weights=g["weight"])) if len(g) else math.nan for g in groups]
    variances = [float(g["value"].var(ddof=1)) for g in groups if len(g) > 1]
    pooled = math.sqrt(sum(variances) / len(variances)) if variances else 0.0
    return means[0], means[1], (means[0] - means[1]) / pooled if pooled > 0 else 0.0


def _balance(stacked: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """The matched groups side by side on what matching used (the level in the matching window,
    size) and on the guard months' level, which matching left out: treated and comparison means
    and the standardised mean difference (size compared on its logarithm). Levels to 0.1 and
    pupils to ten, like every figure of a handful of pseudonymous schools."""
    keys = ["cohort", "school_key", "treated"]

    def per_school(rows: pd.DataFrame, column: str) -> pd.DataFrame:
        return rows.groupby(keys).agg(value=(column, "mean"), weight=("weight", "first")).reset_index()

    rows = []
    for variable, part in (("level_before", stacked[stacked["event"] < -GUARD_MONTHS]), ("level_guard", stacked[_guard(stacked)])):
        schools = per_school(part, outcome)
        if schools["treated"].nunique() == 2:
            treated, comparison, difference = _standardised_difference(schools)
            rows.append({"variable": variable, "treated": round(treated, disclosure.RATE_DECIMALS),
                         "comparison": round(comparison, disclosure.RATE_DECIMALS), "standardised_difference": difference})
    sizes = per_school(stacked, "pupils")
    _, _, difference = _standardised_difference(sizes.assign(value=np.log(sizes["value"].clip(lower=1))))
    treated, comparison, _ = _standardised_difference(sizes)
    shown = disclosure.rounded_pupils(pd.Series([treated, comparison]))
    rows.append({"variable": "pupils", "treated": float(shown[0]), "comparison": float(shown[1]),
                 "standardised_difference": difference})
    out = pd.DataFrame(rows, columns=["variable", "treated", "comparison", "standardised_difference"])
    return out.round({"standardised_difference": 2})


def _groups(stacked: pd.DataFrame) -> pd.DataFrame:
    """Who was compared with whom, in numbers: per group the schools and their types (their
    levels and size are in the balance table, weighted as the estimate weighs them)."""
    out = []
    for flag, group in (("treated", 1), ("comparison", 0)):
        per_school = stacked[stacked["treated"] == group].groupby("school_key")["school_type"].first()
        out.append({"group": flag, "schools": len(per_school), "school_types": per_school.value_counts().to_dict()})
    return pd.DataFrame(out)


def _names(panel: MeasurePanel) -> pd.DataFrame:
    """Each school's name and municipality by key (None where not visible, or where a panel
    built without them, as the simulations build theirs, has none)."""
    return panel.schools.set_index("school_key").reindex(columns=["school_name", "municipality_code"])


def _treated_list(panel: MeasurePanel, treated: pd.DataFrame) -> pd.DataFrame:
    named = _names(panel)
    return (treated.assign(school_name=treated["school_key"].map(named["school_name"]),
                           municipality_code=treated["school_key"].map(named["municipality_code"]))
            [["school_key", "school_name", "municipality_code", "start_month"]]
            .sort_values(["start_month", "school_key"], ignore_index=True))


def _control_list(panel: MeasurePanel, stacked: pd.DataFrame) -> pd.DataFrame:
    keys = sorted(stacked.loc[stacked["treated"] == 0, "school_key"].unique())
    named = _names(panel)
    return pd.DataFrame({"school_key": keys, "school_name": [named["school_name"].get(k) for k in keys],
                         "municipality_code": [named["municipality_code"].get(k) for k in keys]})


def sentence(impact: Impact, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    """The result in one plain sentence, e.g. 'absence rate 1.2 points lower … (95 % interval 0.4–2.0)'."""
    def t(key: str, **values) -> str:
        return i18n.t(key, language, **values)

    def number(value: float) -> str:
        return i18n.number(round(value, 1) + 0.0, language, 1)  # + 0.0: no "−0,0"

    measure, outcome = t(f"measure.{impact.question.measure}"), t(f"metric.{impact.question.outcome}").lower()
    low, high = impact.ci_low, impact.ci_high
    if low > 0 or high < 0:
        # Both ends on one side: say "lower" or "higher" and give the interval as sizes of that change.
        lower = high < 0
        interval = t("impact.interval", low=number(abs(high) if lower else low), high=number(abs(low) if lower else high))
        return t("impact.lower" if lower else "impact.higher", measure=measure, outcome=outcome,
                 points=number(abs(impact.estimate)), interval=interval)
    interval = t("impact.interval_across_zero", low=i18n.points(low, language), high=i18n.points(high, language))
    return t("impact.no_difference", measure=measure, outcome=outcome, estimate=number(impact.estimate), interval=interval)


def parallel_note(impact: Impact, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    if impact.pretrend_p is None:
        return i18n.t("impact.parallel_untested", language)
    key = "impact.parallel_ok" if impact.parallel_before else "impact.parallel_warning"
    return i18n.t(key, language, slope=i18n.points(impact.pretrend, language, 2),
                  shift=i18n.points(impact.guard_shift or 0.0, language, 2), guard=GUARD_MONTHS,
                  p=i18n.number(impact.pretrend_p, language, 2))


def notes(impact: Impact, language: str = i18n.DEFAULT_LANGUAGE) -> list[tuple[str, str]]:
    """Every check of the estimate in words, each with its kind ("warning" or "info"): the
    pre-period test, the groups' balance, too few treated schools, schools left without comparison
    and the sensitivity statement. The page and the command line print these."""
    out = [("warning" if "pre_trend" in impact.warnings else "info", parallel_note(impact, language))]
    if "imbalance" in impact.warnings:
        unlike = impact.balance[impact.balance["variable"].isin(MATCHED_ON)
                                & (impact.balance["standardised_difference"].abs() > BALANCE_LIMIT)]
        for row in unlike.itertuples():
            def shown(value: float, variable: str = row.variable) -> str:
                return i18n.number(value, language, 0) if variable == "pupils" else i18n.percent(value, language)

            out.append(("warning", i18n.t("impact.imbalance", language,
                                          what=i18n.t(f"impact.balance.{row.variable}", language).lower(),
                                          treated=shown(row.treated), comparison=shown(row.comparison),
                                          difference=i18n.number(row.standardised_difference, language, 2))))
    if "few_treated" in impact.warnings:
        out.append(("warning", i18n.t("impact.few_treated", language, n=impact.n_treated, minimum=FEW_TREATED)))
    if impact.unmatched:
        out.append(("info", i18n.t("impact.unmatched", language, n=impact.unmatched,
                                   caliper=i18n.number(CALIPER, language, 1))))
    if impact.breakdown_drift is not None:
        # Rambachan & Roth's comparison in one line: would the drift seen before the start, going
        # on in the same direction as the estimate, overturn the conclusion?
        fragile = impact.pretrend is None or (impact.pretrend * impact.estimate > 0
                                              and abs(impact.pretrend) >= impact.breakdown_drift)
        out.append(("warning" if fragile else "info",
                    i18n.t("impact.sensitivity_fragile" if fragile else "impact.sensitivity_holds", language,
                           drift=i18n.number(impact.breakdown_drift, language, 3),
                           slope=i18n.points(impact.pretrend or 0.0, language, 3))))
    else:
        out.append(("info", i18n.t("impact.sensitivity_open", language, low=i18n.points(impact.ci_low, language, 1),
                                   high=i18n.points(impact.ci_high, language, 1))))
    return out
