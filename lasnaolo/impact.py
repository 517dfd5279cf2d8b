"""Impact of a measure: did schools that started it move differently from comparable schools that
did not? A stacked difference-in-differences with an event study.

Design (the same for every measure, outcome and scope):
- Treated: schools in the user's scope whose first period of the measure starts inside the data,
  with at least MIN_PRE_MONTHS school months before the start and MIN_POST_MONTHS after it. A
  school's months after its measure ended are left out (the estimate is "while in use").
- Cohorts: treated schools that started in the same month. For each cohort a comparison group of
  never-treated schools of the same school type from the regions the scope touches: for every
  treated school its NEIGHBOURS nearest by size and by the outcome's level before the start.
- Stacked regression (Cengiz et al. 2019): each cohort with its controls is a stack; school ×
  stack fixed effects (levels differ) and calendar month × stack fixed effects (seasonality and
  anything that hit every school at once, such as an epidemic), errors clustered by school and
  intervals and tests on Student's t with (school clusters − 1) degrees of freedom. The
  difference-in-differences coefficient is the treated schools' change after the start minus the
  comparison schools' change; the event study replaces it with one coefficient per school month
  relative to the start (the month before the start is the reference, zero by construction).
- Parallel trends: a test that the two groups' slopes did not differ before the start (one
  coefficient, see `_pretrend`); when it fails, the result says so in plain words.
Time is counted in school months: the months present in the data, in order (no July), so the
month before an August start is June.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqlalchemy.engine import Engine

from lasnaolo import contract, disclosure, i18n, metrics, queries
from lasnaolo.queries import MIN_POOLED_SCHOOLS, MeasurePanel
from lasnaolo.scope import Scope

OUTCOMES = ("absence_rate", "unauthorised_rate", "tier23_share")
PRE_MONTHS = 22  # two school years
POST_MONTHS = 22
MIN_PRE_MONTHS = 6
MIN_POST_MONTHS = 3
NEIGHBOURS = 5
MIN_GROUP_SCHOOLS = MIN_POOLED_SCHOOLS  # below this a group is neither estimated nor described
PARALLEL_P = 0.05
METHOD = ("stacked difference-in-differences: school×cohort and calendar month×cohort fixed effects, "
          "standard errors clustered by school (linearmodels PanelOLS), Student's t on clusters − 1 degrees of freedom")


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
    pretrend_p: float | None  # None: too few months before the start to test
    groups: pd.DataFrame  # group, schools, school_types, mean_pupils, level_before
    treated: pd.DataFrame  # school_key, school_name, start_month
    controls: pd.DataFrame  # school_key, school_name
    excluded: int  # schools in scope with the measure but without enough months before or after
    method: str = METHOD

    @property
    def parallel_before(self) -> bool | None:
        return None if self.pretrend_p is None else self.pretrend_p >= PARALLEL_P

    def as_json(self) -> dict:
        return {"measure": self.question.measure, "outcome": self.question.outcome,
                "grade_band": self.question.grade_band, "estimate": round(self.estimate, 4),
                "ci_low": round(self.ci_low, 4), "ci_high": round(self.ci_high, 4),
                "std_error": round(self.std_error, 4), "n_treated": self.n_treated, "n_control": self.n_control,
                "pretrend_slope": None if self.pretrend is None else round(self.pretrend, 4),
                "pretrend_p": None if self.pretrend_p is None else round(self.pretrend_p, 4),
                "excluded": self.excluded, "method": self.method}


def school_months(panel: MeasurePanel, outcome: str) -> pd.DataFrame:
    """One row per school and month with the outcome, and the school month's ordinal."""
    rows = metrics.add_rates(panel.rows)
    rows = rows[rows[outcome].notna()]
    months = sorted(rows["month"].unique())
    ordinal = {m: i for i, m in enumerate(months)}
    return rows.assign(t=rows["month"].map(ordinal))[["school_key", "school_type", "in_scope", "month", "t", "pupils", outcome]]


def _ordinal_of(months: list[str], month: str, after: bool) -> int:
    """The ordinal of the first data month at or after `month` (after=True) or the last one at or
    before it."""
    position = int(np.searchsorted(months, month, side="left" if after else "right"))
    return position if after else position - 1


def treatment_periods(panel: MeasurePanel, months: list[str]) -> pd.DataFrame:
    """Per school that ever used the measure: its first start and that period's end, as ordinals
    of the data's months (`months`, in order)."""
    first = panel.periods.sort_values("start").groupby("school_key", as_index=False).first()
    start_month = first["start"].map(lambda d: f"{d:%Y-%m}")
    end_month = first["end"].map(lambda d: None if d is None or pd.isna(d) else f"{d:%Y-%m}")
    return pd.DataFrame({
        "school_key": first["school_key"],
        "start_month": start_month,
        "start": [_ordinal_of(months, m, after=True) for m in start_month],
        "end": [len(months) if e is None else _ordinal_of(months, e, after=False) for e in end_month],
    })


def _nearest(treated: pd.DataFrame, candidates: pd.DataFrame, k: int) -> set[str]:
    """Per treated school the k candidates of its type nearest in (log size, level before),
    standardised over the cohort's schools."""
    both = pd.concat([treated, candidates])
    spread = both[["log_size", "level"]].std(ddof=0).replace(0, 1)
    chosen: set[str] = set()
    for school in treated.itertuples():
        same = candidates[candidates["school_type"] == school.school_type]
        distance = (((same["log_size"] - school.log_size) / spread["log_size"]) ** 2
                    + ((same["level"] - school.level) / spread["level"]) ** 2)
        chosen |= set(distance.nsmallest(k).index)
    return chosen


def _before_profile(rows: pd.DataFrame, outcome: str, start: int) -> pd.DataFrame:
    before = rows[(rows["t"] < start) & (rows["t"] >= start - PRE_MONTHS)]
    profile = before.groupby("school_key").agg(level=(outcome, "mean"), pupils=("pupils", "mean"),
                                               months=("t", "nunique"), school_type=("school_type", "first"))
    profile["log_size"] = np.log(profile["pupils"].clip(lower=1))
    return profile


def stack(panel: MeasurePanel, question: Question) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The stacked rows (cohort, school_key, t, event, treated, outcome) and the treated schools;
    also how many schools in scope had the measure but too few months around its start."""
    rows = school_months(panel, question.outcome)
    periods = treatment_periods(panel, sorted(rows["month"].unique()))
    ever = set(periods["school_key"])
    last = rows["t"].max() if not rows.empty else -1
    in_scope = set(rows.loc[rows["in_scope"], "school_key"])
    candidates_pool = rows[~rows["school_key"].isin(ever)]
    stacks, treated_rows, excluded = [], [], 0
    for start, cohort in periods[periods["school_key"].isin(in_scope)].groupby("start"):
        profile = _before_profile(rows[rows["school_key"].isin(cohort["school_key"])], question.outcome, start)
        after = rows[(rows["t"] >= start) & (rows["t"] < start + POST_MONTHS)]
        post_counts = after.groupby("school_key")["t"].nunique()
        enough = profile.index[(profile["months"] >= MIN_PRE_MONTHS)
                               & (post_counts.reindex(profile.index).fillna(0) >= MIN_POST_MONTHS)]
        excluded += cohort["school_key"].nunique() - len(enough)
        if len(enough) == 0 or start > last:
            continue
        candidates = _before_profile(candidates_pool, question.outcome, start)
        candidates = candidates[(candidates["months"] >= MIN_PRE_MONTHS)
                                & (post_counts.reindex(candidates.index).fillna(0) >= MIN_POST_MONTHS)]
        controls = _nearest(profile.loc[enough], candidates, NEIGHBOURS)
        window = rows[(rows["t"] >= start - PRE_MONTHS) & (rows["t"] < start + POST_MONTHS)]
        ends = cohort.set_index("school_key")["end"]
        treated_part = window[window["school_key"].isin(enough)]
        treated_part = treated_part[treated_part["t"] <= treated_part["school_key"].map(ends)]
        control_part = window[window["school_key"].isin(controls)]
        part = pd.concat([treated_part.assign(treated=1), control_part.assign(treated=0)])
        stacks.append(part.assign(cohort=int(start), event=part["t"] - start))
        treated_rows.append(cohort[cohort["school_key"].isin(enough)])
    stacked = pd.concat(stacks, ignore_index=True) if stacks else pd.DataFrame(
        columns=["school_key", "t", "event", "treated", "cohort", question.outcome])
    treated = pd.concat(treated_rows, ignore_index=True) if treated_rows else periods.iloc[0:0]
    return stacked, treated, excluded


def _fit(stacked: pd.DataFrame, outcome: str, regressors: pd.DataFrame):
    from linearmodels import PanelOLS  # heavy: imported only when an estimate is asked for

    entity = stacked["cohort"].astype(str) + ":" + stacked["school_key"]
    index = pd.MultiIndex.from_arrays([entity, stacked["t"]], names=["unit", "t"])
    month_effect = pd.DataFrame({"cohort_month": pd.factorize(stacked["cohort"].astype(str) + ":" + stacked["t"].astype(str))[0]},
                                index=index)
    clusters = pd.DataFrame({"school": pd.factorize(stacked["school_key"])[0]}, index=index)
    model = PanelOLS(pd.Series(stacked[outcome].to_numpy(float), index=index, name=outcome),
                     regressors.set_axis(index), entity_effects=True, other_effects=month_effect,
                     drop_absorbed=True, check_rank=False)
    return model.fit(cov_type="clustered", clusters=clusters, debiased=True, group_debias=True)


def analyse(engine: Engine, scope: Scope, question: Question) -> Impact:
    """The estimate for the scope's schools (the page, the command line)."""
    return estimate(queries.measure_panel(engine, scope, question.measure, question.grade_band), question)


def estimate(panel: MeasurePanel, question: Question) -> Impact:
    stacked, treated, excluded = stack(panel, question)
    n_treated = stacked.loc[stacked["treated"] == 1, "school_key"].nunique() if not stacked.empty else 0
    n_control = stacked.loc[stacked["treated"] == 0, "school_key"].nunique() if not stacked.empty else 0
    if n_treated < MIN_GROUP_SCHOOLS:
        raise NotEstimated("impact.too_few_treated", n=n_treated, minimum=MIN_GROUP_SCHOOLS, excluded=excluded)
    if n_control < MIN_GROUP_SCHOOLS:
        raise NotEstimated("impact.too_few_controls", n=n_control, minimum=MIN_GROUP_SCHOOLS)
    outcome = question.outcome
    after = (stacked["treated"] * (stacked["event"] >= 0)).astype(float)
    did = _fit(stacked, outcome, pd.DataFrame({"treated_after": after.to_numpy()}))
    # Intervals from Student's t on clusters − 1 degrees of freedom, not the thousands of residual
    # ones: with a few dozen school clusters the latter covered a placebo's zero in 92 % of runs.
    half_width = _critical(stacked) * float(did.std_errors["treated_after"])
    low, high = float(did.params["treated_after"]) - half_width, float(did.params["treated_after"]) + half_width

    events = sorted(e for e in stacked["event"].unique() if e != -1)
    dummies = pd.DataFrame({f"e{e}": ((stacked["event"] == e) & (stacked["treated"] == 1)).astype(float).to_numpy()
                            for e in events})
    study = _fit(stacked, outcome, dummies)
    coefficients = study.params.reindex(dummies.columns).to_numpy()
    half_widths = _critical(stacked) * study.std_errors.reindex(dummies.columns).to_numpy()
    event_study = pd.DataFrame({"event_month": events, "estimate": coefficients,
                                "ci_low": coefficients - half_widths, "ci_high": coefficients + half_widths})
    event_study = pd.concat([event_study, pd.DataFrame([{"event_month": -1, "estimate": 0.0, "ci_low": 0.0, "ci_high": 0.0}])])
    # To 0.01 points: a month's coefficient is a difference of a few schools' exact monthly means.
    event_study = event_study.dropna().sort_values("event_month", ignore_index=True).round(
        {"estimate": 2, "ci_low": 2, "ci_high": 2})
    pretrend, pretrend_p = _pretrend(stacked, outcome)
    return Impact(question, float(did.params["treated_after"]), float(low), float(high),
                  float(did.std_errors["treated_after"]), int(n_treated), int(n_control), event_study, pretrend, pretrend_p,
                  _groups(stacked, outcome), _treated_list(panel, treated), _control_list(panel, stacked), excluded)


def _pretrend(stacked: pd.DataFrame, outcome: str) -> tuple[float | None, float | None]:
    """Did the treated schools drift apart from their comparison schools before the start? The
    difference in linear slope over the months before it, with the same fixed effects and
    clustered errors. One parameter, not one per month: a joint test of twenty monthly
    coefficients with a few dozen school clusters rejects far too often."""
    before = stacked[stacked["event"] < 0].reset_index(drop=True)
    if before["event"].nunique() < 3:
        return None, None
    slope = pd.DataFrame({"treated_slope": (before["treated"] * before["event"]).astype(float).to_numpy()})
    fit = _fit(before, outcome, slope)
    from scipy.stats import t  # with linearmodels: only when an estimate is asked for

    statistic = float(fit.params["treated_slope"]) / float(fit.std_errors["treated_slope"])
    return float(fit.params["treated_slope"]), float(2 * t.sf(abs(statistic), _clusters(before) - 1))


def _clusters(stacked: pd.DataFrame) -> int:
    return int(stacked["school_key"].nunique())


def _critical(stacked: pd.DataFrame) -> float:
    """The 97.5 % point of Student's t on (school clusters − 1) degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(0.975, _clusters(stacked) - 1))


def _groups(stacked: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Who was compared with whom, in numbers: per group the schools, their types, size and the
    outcome's level before the start."""
    out = []
    for flag, group in (("treated", 1), ("comparison", 0)):
        part = stacked[stacked["treated"] == group]
        per_school = part.groupby("school_key").agg(school_type=("school_type", "first"), pupils=("pupils", "mean"))
        before = part[part["event"] < 0].groupby("school_key")[outcome].mean()
        out.append({"group": flag, "schools": len(per_school),
                    "school_types": per_school["school_type"].value_counts().to_dict(),
                    # A mean, to ten: a median of an odd group is one school's size, which a
                    # register of school sizes turns into a name.
                    "mean_pupils": float(disclosure.rounded_pupils(pd.Series([per_school["pupils"].mean()])).iloc[0]),
                    # To 0.1 like every figure of a handful of pseudonymous schools.
                    "level_before": round(float(before.mean()), disclosure.RATE_DECIMALS) if not before.empty else math.nan})
    return pd.DataFrame(out)


def _treated_list(panel: MeasurePanel, treated: pd.DataFrame) -> pd.DataFrame:
    names = panel.schools.set_index("school_key")["school_name"]
    return (treated.assign(school_name=treated["school_key"].map(names))[["school_key", "school_name", "start_month"]]
            .sort_values(["start_month", "school_key"], ignore_index=True))


def _control_list(panel: MeasurePanel, stacked: pd.DataFrame) -> pd.DataFrame:
    keys = sorted(stacked.loc[stacked["treated"] == 0, "school_key"].unique())
    names = panel.schools.set_index("school_key")["school_name"]
    return pd.DataFrame({"school_key": keys, "school_name": [names.get(k) for k in keys]})


def sentence(impact: Impact, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    """The result in one plain sentence, e.g. 'absence rate 1.2 points lower … (95 % interval 0.4–2.0)'."""
    def t(key: str, **values) -> str:
        return i18n.t(key, language, **values)

    def number(value: float) -> str:
        return i18n.number(value, language, 1)

    measure, outcome = t(f"measure.{impact.question.measure}"), t(f"metric.{impact.question.outcome}").lower()
    low, high = impact.ci_low, impact.ci_high
    if low > 0 or high < 0:
        # Both ends on one side: say "lower" or "higher" and give the interval as sizes of that change.
        lower = high < 0
        interval = t("impact.interval", low=number(abs(high) if lower else low), high=number(abs(low) if lower else high))
        return t("impact.lower" if lower else "impact.higher", measure=measure, outcome=outcome,
                 points=number(abs(impact.estimate)), interval=interval)
    interval = t("impact.interval", low=number(low), high=number(high))
    return t("impact.no_difference", measure=measure, outcome=outcome, estimate=number(impact.estimate), interval=interval)


def parallel_note(impact: Impact, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    if impact.pretrend_p is None:
        return i18n.t("impact.parallel_untested", language)
    key = "impact.parallel_ok" if impact.parallel_before else "impact.parallel_warning"
    return i18n.t(key, language, slope=i18n.points(impact.pretrend, language, 2),
                  p=i18n.number(impact.pretrend_p, language, 2))
