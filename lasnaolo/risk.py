"""Risk-factor clusters: which schools share a risk profile, and which factors go with high absence.

Features per school for one school year, all from rows the user's scope may read:
- absence by category and tier shares as standardised ratios (observed / expected from the
  school's own grade mix at the scope's pooled rates per grade, on a log scale): pupils in grades
  7-9 miss more lessons everywhere, so raw rates would only cluster schools by the age of their
  pupils;
- year-on-year change of the absence rate over the same months (percentage points);
- the survey indicators of the latest survey by the end of the year, as percentage points from
  the reference of the same grade group (queries.wellbeing_reference) (grades 8-9 for lower-secondary, 4-5 for primary,
  both, respondent-weighted, for comprehensive schools); results of too few respondents count as
  missing;
- size (log of pupils).
Missing values are imputed with the median and marked by one flag per source (absence withheld,
no previous year, no survey result) that enters the model as a feature of its own; a school with
no absence rows at all in the year is listed as not clustered, never dropped silently.

Clusters: k-means on the standardised features, k by the best silhouette over 2-8 unless the user
fixes it, a fixed seed; clusters are numbered by their mean standardised absence (1 = highest) and
named by their most distinctive features, so the same data always give the same labels. They are
named only when they beat data without structure (`null_test`); otherwise "no distinct profiles".
Factors: ridge regression of the standardised overall absence ratio on the standardised survey
indicators and size, with bootstrap intervals: school-level associations, not causes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from lasnaolo import comparison, contract, disclosure, i18n, metrics, queries
from lasnaolo.contract import SUPPRESSION, SuppressionPolicy
from lasnaolo.scope import PEERS, PROFILES, Scope, pseudonym

SEED = 20231
K_RANGE = range(2, 9)
DISTINCT_P = 0.05
MIN_SCHOOLS = 12
BOOTSTRAP_ROUNDS = 200

ABSENCE_FEATURES = ("illness_ratio", "authorised_ratio", "unauthorised_ratio")
TIER_FEATURES = ("tier1_ratio", "tier2_ratio", "tier3_ratio")
CHANGE_FEATURE = "absence_change"
SURVEY_FEATURES = tuple(f"survey_{code}" for code in contract.INDICATORS)
SIZE_FEATURE = "size"
FLAG_FEATURES = ("absence_withheld", "no_previous_year", "no_survey")
OUTCOME = "absence_ratio"
# The features' attrs key: per survey grade group, what the survey features are read against
# (queries.WellbeingReference: basis and number of units).
SURVEY_REFERENCE = "survey_reference"
# Which features fall back on which flag when missing.
FLAG_OF = {
    **{f: "absence_withheld" for f in (*ABSENCE_FEATURES, *TIER_FEATURES, OUTCOME, SIZE_FEATURE)},
    CHANGE_FEATURE: "no_previous_year",
    **{f: "no_survey" for f in SURVEY_FEATURES},
}
# Survey grade groups that describe a school of each type.
SURVEY_GROUPS = {"primary": ("4-5",), "lower_secondary": ("8-9",), "comprehensive": ("4-5", "8-9")}
_NO_SUPPRESSION = SuppressionPolicy(min_pupils=0, min_respondents=0)
ABSENT_HOURS = tuple(f"{c}_hours" for c in contract.ABSENCE_CATEGORIES)


class TooFewSchools(ValueError):
    """Fewer schools with data than clustering needs."""


class NoVariation(TooFewSchools):
    """The schools differ in fewer than two of the prepared features (or hardly any school differs
    from the rest): there is no profile to find and no factor to relate."""


# --- features ---------------------------------------------------------------------------------


def standardised_ratios(by_grade: pd.DataFrame) -> pd.DataFrame:
    """Observed / expected counts per school, the expectation from the school's grade mix at the
    pooled rates per grade of all rows given (indirect standardisation). `by_grade`: one row per
    school_id × grade with summed hours, lesson_hours and the latest month's pupils and tiers."""
    pooled = by_grade.groupby("grade")[[*metrics.HOURS, "pupils", *metrics.TIER_COUNTS]].sum()
    rate = pd.DataFrame(index=pooled.index)
    for hours in ABSENT_HOURS:
        rate[hours] = pooled[hours] / pooled["lesson_hours"]
    for tier in metrics.TIER_COUNTS:
        rate[tier] = pooled[tier] / pooled["pupils"]
    grade_rate = rate.loc[by_grade["grade"]].set_axis(by_grade.index)
    expected = pd.DataFrame({"school_id": by_grade["school_id"]})
    for hours in ABSENT_HOURS:
        expected[hours] = grade_rate[hours] * by_grade["lesson_hours"]
    for tier in metrics.TIER_COUNTS:
        expected[tier] = grade_rate[tier] * by_grade["pupils"]
    expected = expected.groupby("school_id").sum()
    observed = by_grade.groupby("school_id")[[*ABSENT_HOURS, *metrics.TIER_COUNTS]].sum()
    # Half a unit on both sides keeps a school with no unauthorised hour (or tier 3 pupil) finite.
    log_ratio = np.log((observed + 0.5) / (expected + 0.5))
    out = pd.DataFrame(index=observed.index)
    for category, hours in zip(contract.ABSENCE_CATEGORIES, ABSENT_HOURS):
        out[f"{category}_ratio"] = log_ratio[hours]
    for tier, column in zip(contract.TIERS, metrics.TIER_COUNTS):
        out[f"tier{tier}_ratio"] = log_ratio[column]
    absent = observed[list(ABSENT_HOURS)].sum(axis=1)
    out[OUTCOME] = np.log((absent + 0.5) / (expected[list(ABSENT_HOURS)].sum(axis=1) + 0.5))
    return out


def absence_features(rows: pd.DataFrame, school_year: str) -> pd.DataFrame:
    """Absence features per school from monthly rows (school_id, grade, school_year, month and the
    counts) of the school year and the one before; rows the data layer withheld (NaN counts) make
    the school's absence features missing rather than computed from what was left."""
    counts = [c for c in metrics.COUNT_COLUMNS]
    withheld = rows[counts].isna().any(axis=1).groupby(rows["school_id"]).any()
    current = rows[(rows["school_year"] == school_year) & ~rows["school_id"].map(withheld)]
    by_grade = metrics.figures_by(current, ["school_id", "grade"], _NO_SUPPRESSION)
    out = standardised_ratios(by_grade)
    school = metrics.figures_by(current, ["school_id"], _NO_SUPPRESSION).set_index("school_id")
    out[SIZE_FEATURE] = np.log(school["pupils"].clip(lower=1))
    for column in ("pupils", "absence_rate", "unauthorised_rate", "tier23_share", "latest_month"):
        out[column] = school[column]
    previous_rows = rows[rows["school_year"] == contract.previous_school_year(school_year)]
    if not current.empty and not previous_rows.empty:
        latest = str(current["month"].max())
        _, months = metrics.same_point_last_year(school_year, latest)
        previous = metrics.figures_by(previous_rows[previous_rows["month"].isin(months)], ["school_id"],
                                      _NO_SUPPRESSION).set_index("school_id")
        out[CHANGE_FEATURE] = out["absence_rate"] - previous["absence_rate"].reindex(out.index)
    else:
        out[CHANGE_FEATURE] = np.nan
    everyone = pd.Index(sorted(set(rows.loc[rows["school_year"] == school_year, "school_id"])), name="school_id")
    return out.reindex(everyone)


def survey_year_for(available: Sequence[int], school_year: str) -> int | None:
    """The latest survey held by the end of the school year (surveys run in spring)."""
    last_spring = contract.parse_school_year(school_year) + 1
    earlier = [y for y in available if y <= last_spring]
    return int(max(earlier)) if earlier else None


def survey_features(survey: pd.DataFrame, national: pd.DataFrame, school_types: pd.Series,
                    policy: SuppressionPolicy = SUPPRESSION) -> pd.DataFrame:
    """Percentage points from the national value of the same grade group, per school and indicator
    (columns survey_<indicator>); groups are chosen by school type and weighted by respondents."""
    usable = survey[(survey["respondents"] >= policy.min_respondents) & survey["value_pct"].notna()].copy()
    usable = usable[[g in SURVEY_GROUPS[school_types.get(s, "comprehensive")]
                     for s, g in zip(usable["unit_id"], usable["grade_group"])]]
    reference = national.set_index(["grade_group", "indicator"])["value_pct"]
    usable["reference"] = reference.reindex(pd.MultiIndex.from_frame(usable[["grade_group", "indicator"]])).to_numpy()
    usable = usable[usable["reference"].notna()]
    if usable.empty:  # no reference for any result (e.g. no survey rows to pool)
        return pd.DataFrame(columns=[f"survey_{c}" for c in contract.INDICATORS], index=pd.Index([], name="school_id"))
    usable["weighted"] = (usable["value_pct"] - usable["reference"]) * usable["respondents"]
    # The sampling variance under the reference's proportion, not the school's own: a school whose
    # twelve respondents all answered no would otherwise have variance 0 and keep its extreme value.
    usable["binomial"] = usable["reference"] / 100 * (1 - usable["reference"] / 100) * usable["respondents"]
    sums = usable.groupby(["unit_id", "indicator"])[["weighted", "respondents", "binomial"]].sum(min_count=1)
    difference = sums["weighted"] / sums["respondents"]
    sampling_variance = sums["binomial"] / sums["respondents"] ** 2 * 100**2
    table = shrunken(difference, sampling_variance).unstack("indicator")
    table = table.reindex(columns=list(contract.INDICATORS)).add_prefix("survey_")
    table.index.name = "school_id"
    return table


def shrunken(estimate: pd.Series, sampling_variance: pd.Series) -> pd.Series:
    """Empirical Bayes shrinkage toward zero (the national value): a school's estimate is weighted
    by its reliability tau² / (tau² + its sampling variance), tau² being the variance between
    schools beyond sampling noise, estimated per indicator (method of moments). A class of twelve
    respondents then no longer looks like the most extreme school in the region by chance alone."""
    by_indicator = estimate.groupby(level="indicator")
    tau2 = (by_indicator.transform(lambda e: float((e**2).mean())) - sampling_variance.groupby(level="indicator")
            .transform("mean")).clip(lower=1e-6)
    return estimate * tau2 / (tau2 + sampling_variance)


def school_features(engine: Engine, scope: Scope, school_year: str,
                    policy: SuppressionPolicy = SUPPRESSION) -> tuple[pd.DataFrame, int | None]:
    """The feature table of every school in scope with absence rows in the year, with school
    identity columns (pseudonyms for anonymised scopes), and the survey year used."""
    previous = contract.previous_school_year(school_year)
    rows = queries.absence_totals(engine, scope, school_years=[school_year, previous], by=["school_id", "grade"],
                                  policy=policy)
    features = absence_features(rows, school_year)
    directory = queries.schools(engine, scope).set_index("school_id")
    survey = queries.wellbeing(engine, scope, unit_type="school", policy=policy)
    year = survey_year_for(sorted(survey["survey_year"].unique()), school_year) if not survey.empty else None
    bases = {}
    if year is not None:
        references = {g: queries.wellbeing_reference(engine, year, g) for g in contract.SURVEY_GRADE_GROUPS}
        bases = {g: (r.basis, r.units) for g, r in references.items() if not r.values.empty}
        national = pd.concat([r.values.assign(grade_group=g) for g, r in references.items()])
        answers = survey_features(survey[survey["survey_year"] == year], national, directory["school_type"], policy)
        features = features.join(answers.reindex(features.index))
    else:
        for column in SURVEY_FEATURES:
            features[column] = np.nan
    features = directory[["school_name", "municipality_code", "school_type"]].join(features, how="inner")
    features.attrs[SURVEY_REFERENCE] = bases
    return features, year


# --- model ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trait:
    feature: str
    direction: str  # "high" | "low"
    z: float


@dataclass
class Clusters:
    school_year: str
    survey_year: int | None
    k: int
    k_chosen: bool  # True: chosen by silhouette, False: fixed by the user
    silhouettes: dict[int, float]
    schools: pd.DataFrame  # per school: identity, raw features, cluster, pc1, pc2
    profiles: pd.DataFrame  # cluster × feature: mean z-score
    sizes: pd.Series
    traits: dict[int, list[Trait]]
    features: list[str]
    explained_variance: tuple[float, float]
    not_clustered: list[str] = field(default_factory=list)
    imputed: dict[str, int] = field(default_factory=dict)
    shuffled_as_distinct: int = 0  # of NULL_ROUNDS shuffled data sets, how many clustered as well (`null_test`)
    survey_reference: dict = field(default_factory=dict)  # grade group -> (basis, units) of the survey features

    @property
    def null_p(self) -> float:
        """The Monte Carlo p-value: the data counted among the shuffled data sets."""
        return (1 + self.shuffled_as_distinct) / (1 + NULL_ROUNDS)

    @property
    def distinct(self) -> bool:
        """Whether the profiles beat chance (p <= DISTINCT_P): otherwise they are not named."""
        return self.null_p <= DISTINCT_P

    def name(self, cluster: int, language: str = i18n.DEFAULT_LANGUAGE) -> str:
        if not self.distinct:
            return i18n.t("risk.cluster_number", language, n=cluster)
        traits = self.traits[cluster]
        if not traits:
            return i18n.t("risk.trait.average", language)
        return ", ".join(i18n.t(f"risk.trait.{t.direction}", language, feature=_lower_first(i18n.feature_name(t.feature, language)))
                         for t in traits)


def survey_reference_text(result: Clusters, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    """What the survey features are read against, per grade group, in words."""
    return i18n.t("risk.survey_reference", language, reference="; ".join(
        i18n.t("risk.reference_of_grades", language, grades=group.replace("-", "–"),
               reference=_lower_first(i18n.t(f"reference.{basis}", language, units=units)))
        for group, (basis, units) in sorted(result.survey_reference.items())))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def prepare(features: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """Median imputation and standardisation, plus one 0 / 1 missing flag per source. Columns that
    do not vary (e.g. a flag no school raised) carry no information and are left out."""
    # scikit-learn is imported where a model is fitted, never to read a kept result (the import
    # was 0.9 s of a new server process's first visit to the risk page).
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    values = features[list(columns)].astype(float)
    flags = pd.DataFrame(index=values.index)
    for flag in FLAG_FEATURES:
        sources = [c for c in values.columns if FLAG_OF.get(c) == flag]
        flags[flag] = values[sources].isna().any(axis=1).astype(float) if sources else 0.0
    imputed = {c: int(n) for c, n in values.isna().sum().items() if n}
    all_missing = [c for c in values.columns if values[c].isna().all()]
    values = values.drop(columns=all_missing)
    filled = pd.DataFrame(SimpleImputer(strategy="median").fit_transform(values), index=values.index,
                          columns=values.columns)
    filled = filled.loc[:, filled.std(ddof=0) > 1e-12]
    scaled = (pd.DataFrame(StandardScaler().fit_transform(filled), index=filled.index, columns=filled.columns)
              if not filled.empty else filled)  # nothing varies: `cluster` and `absence_factors` say so
    # Flags stay 0 / 1: standardised, one flagged school of a hundred would sit ten standard
    # deviations out and become a cluster of its own.
    raised = flags.loc[:, flags.std(ddof=0) > 1e-12]
    return scaled.join(raised), imputed


CLUSTER_FEATURES = (*ABSENCE_FEATURES, *TIER_FEATURES, CHANGE_FEATURE, *SURVEY_FEATURES, SIZE_FEATURE)


def cluster(features: pd.DataFrame, school_year: str, survey_year: int | None = None, k: int | None = None,
            trait_threshold: float = 0.5) -> Clusters:
    """K-means clusters of schools (see the module notes)."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.metrics import silhouette_score

    has_data = features["pupils"].notna() | features[list(SURVEY_FEATURES)].notna().any(axis=1)
    not_clustered = list(features.index[~has_data])
    features = features[has_data]
    if len(features) < MIN_SCHOOLS:
        raise TooFewSchools(f"{len(features)} schools with data; clustering needs at least {MIN_SCHOOLS}")
    z, imputed = prepare(features, CLUSTER_FEATURES)
    distinct = len(z.drop_duplicates()) if z.shape[1] else 1
    if z.shape[1] < 2 or distinct <= min(K_RANGE) or (k is not None and k >= distinct):
        raise NoVariation(f"the schools differ in {z.shape[1]} feature(s), {distinct} distinct; "
                          f"clustering needs at least two features and more distinct schools than clusters")
    space = leading_components(z)
    candidates = [c for c in K_RANGE if c < distinct]
    silhouettes = {}
    fits = {}
    for candidate in ([k] if k else candidates):
        model = KMeans(n_clusters=candidate, n_init=20, random_state=SEED).fit(space)
        fits[candidate] = model.labels_
        silhouettes[candidate] = float(silhouette_score(space, model.labels_))
    chosen = k or max(silhouettes, key=lambda c: (round(silhouettes[c], 6), -c))
    raw_labels = pd.Series(fits[chosen], index=z.index)
    # Number clusters by risk: the mean standardised overall absence of their schools, highest first.
    risk = features[OUTCOME].fillna(features[OUTCOME].median()).groupby(raw_labels).mean()
    order = {raw: rank + 1 for rank, raw in enumerate(risk.sort_values(ascending=False, kind="stable").index)}
    labels = raw_labels.map(order)
    profiles = z.drop(columns=[f for f in FLAG_FEATURES if f in z]).groupby(labels).mean().sort_index()
    traits = {c: _traits(profiles.loc[c], trait_threshold) for c in profiles.index}
    pca = PCA(n_components=2, random_state=SEED).fit(z)
    coordinates = pca.transform(z)
    schools = features.assign(cluster=labels, pc1=coordinates[:, 0], pc2=coordinates[:, 1])
    return Clusters(
        school_year=school_year, survey_year=survey_year, k=chosen, k_chosen=k is None, silhouettes=silhouettes,
        schools=schools, profiles=profiles, sizes=labels.value_counts().sort_index(), traits=traits,
        features=list(z.columns), explained_variance=tuple(float(v) for v in pca.explained_variance_ratio_),
        not_clustered=not_clustered, imputed=imputed, shuffled_as_distinct=null_test(z, [k] if k else candidates),
        survey_reference=dict(features.attrs.get(SURVEY_REFERENCE, {})),
    )


def leading_components(z: pd.DataFrame, rounds: int = 50) -> np.ndarray:
    """The principal components that carry more variance than the same features would by chance
    (Horn's parallel analysis: each feature shuffled on its own, the 95th percentile of those
    eigenvalues as the bar). Shared structure stays; features varying alone are left out."""
    from sklearn.decomposition import PCA

    pca = PCA(random_state=SEED).fit(z)
    rng = np.random.default_rng(SEED)
    values = z.to_numpy()
    # The shuffled data's eigenvalues straight from their covariance (what PCA's explained_variance_
    # is), largest first: fifty PCA objects per call were most of the null test's time.
    chance = np.array([np.linalg.eigvalsh(np.cov(np.column_stack([rng.permutation(c) for c in values.T]), rowvar=False))[::-1]
                       for _ in range(rounds)])
    # With fewer schools than features PCA has only as many components as schools: the bar for those.
    bar = np.percentile(chance, 95, axis=0)[:len(pca.explained_variance_)]
    above = pca.explained_variance_ > bar
    leading = len(above) if above.all() else int(np.argmin(above))  # components before the first that fails
    # At least two: k-means needs a plane; whether what it finds there beats chance is `null_test`'s question.
    return pca.transform(z)[:, :max(2, leading)]


NULL_ROUNDS = 19  # data sets without structure to compare with: p >= 1/20 when none does worse
NULL_N_INIT = 2
NULL_SAMPLE = 600  # schools: silhouettes are quadratic in them; a fixed sample answers the question


def best_silhouette(space: np.ndarray, ks: Sequence[int], n_init: int = NULL_N_INIT) -> float:
    """The best silhouette over the candidate numbers of clusters, the same way for the data and
    for each data set without structure."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    return max(float(silhouette_score(space, KMeans(n_clusters=k, n_init=n_init, random_state=SEED).fit_predict(space)))
               for k in ks)


def null_test(z: pd.DataFrame, ks: Sequence[int], rounds: int = NULL_ROUNDS) -> int:
    """Does the clustering beat chance? Each feature is shuffled on its own (its distribution kept,
    every link between features broken), the whole search (leading components, k-means over `ks`,
    best silhouette) is run again, and the count of shuffled data sets that score at least as well
    as the data is returned (`Clusters.null_p` makes it a p-value). Skewed or lumpy single features
    score as well shuffled as not, so only shared structure counts."""
    rng = np.random.default_rng(SEED)
    if len(z) > NULL_SAMPLE:
        z = z.iloc[np.sort(rng.choice(len(z), NULL_SAMPLE, replace=False))]
    observed = best_silhouette(leading_components(z), ks)
    values = z.to_numpy()
    beaten = 0
    for _ in range(rounds):
        shuffled = pd.DataFrame(np.column_stack([rng.permutation(c) for c in values.T]), columns=z.columns)
        beaten += best_silhouette(leading_components(shuffled), ks) >= observed
    return beaten


def _traits(profile: pd.Series, threshold: float) -> list[Trait]:
    """A cluster's name: its most distinctive absence feature and its most distinctive survey
    feature (largest |mean z|, each only when over the threshold), strongest first. Flags and
    size describe the data, not risk, so they never name a cluster."""
    traits = []
    for family in ((*ABSENCE_FEATURES, *TIER_FEATURES, CHANGE_FEATURE), SURVEY_FEATURES):
        present = profile.reindex([f for f in family if f in profile.index])
        if present.empty:
            continue
        feature = present.abs().idxmax()
        if abs(present[feature]) >= threshold:
            traits.append(Trait(feature, "high" if present[feature] > 0 else "low", float(present[feature])))
    return sorted(traits, key=lambda t: -abs(t.z))


# --- factors ----------------------------------------------------------------------------------


FACTOR_FEATURES = (*SURVEY_FEATURES, SIZE_FEATURE)


@dataclass
class Factors:
    table: pd.DataFrame  # feature, correlation, coefficient, ci_low, ci_high (standardised), by |correlation|
    schools: int
    r_squared: float


RIDGE_ALPHAS = tuple(np.logspace(-1, 4, 26))


def absence_factors(features: pd.DataFrame, rounds: int = BOOTSTRAP_ROUNDS) -> Factors:
    """Each factor's plain correlation with the overall absence ratio, and its standardised ridge
    coefficient given the other survey indicators and size (the penalty chosen by cross-validation)
    with the 2.5-97.5 % range of the coefficient over bootstrap resamples (schools resampled, the
    penalty kept). Survey indicators move together; the penalty shares an effect among correlated
    indicators instead of letting one of them take it by chance, so a coefficient near zero does
    not mean "not associated", and the resampling range is no significance test (ridge pulls it
    toward zero). Sorted by the plain correlation."""
    from sklearn.linear_model import Ridge, RidgeCV

    usable = features[features[OUTCOME].notna()]
    if len(usable) < MIN_SCHOOLS:
        raise TooFewSchools(f"{len(usable)} schools with absence figures; the factor model needs {MIN_SCHOOLS}")
    x, _ = prepare(usable, FACTOR_FEATURES)
    if x.empty or usable[OUTCOME].nunique() < 2:
        raise NoVariation("no factor or the absence itself does not vary between the schools")
    y = usable[OUTCOME].to_numpy()
    y = (y - y.mean()) / (y.std() or 1.0)
    alpha = float(RidgeCV(alphas=RIDGE_ALPHAS).fit(x, y).alpha_)
    model = Ridge(alpha=alpha).fit(x, y)
    rng = np.random.default_rng(SEED)
    draws = np.empty((rounds, x.shape[1]))
    for i in range(rounds):
        pick = rng.integers(0, len(x), len(x))
        draws[i] = Ridge(alpha=alpha).fit(x.iloc[pick], y[pick]).coef_
    # Each factor alone: the plain correlation over the schools that have it (imputed values would
    # pull it toward zero). A leader reads "goes with high absence" from this; the coefficient says
    # what is left given the other indicators, shared among those that move together.
    raw = usable[[c for c in x.columns if c in usable.columns]].astype(float)
    correlation = raw.corrwith(usable[OUTCOME].astype(float)).reindex(x.columns)
    table = pd.DataFrame({
        "feature": x.columns,
        "correlation": correlation.to_numpy(),
        "coefficient": model.coef_,
        "ci_low": np.percentile(draws, 2.5, axis=0),
        "ci_high": np.percentile(draws, 97.5, axis=0),
    })
    order = table["correlation"].abs().fillna(table["coefficient"].abs())
    table = table.reindex(order.sort_values(ascending=False, kind="stable").index)
    return Factors(table.reset_index(drop=True), len(usable), float(model.score(x, y)))


def as_json(result: Clusters, language: str = "en") -> dict:
    """The command line's output: each school's cluster and every cluster's profile."""
    def clean(value):
        return None if isinstance(value, float) and math.isnan(value) else value

    return {
        "school_year": result.school_year,
        "survey_year": result.survey_year,
        "k": result.k,
        "k_chosen_by": "silhouette" if result.k_chosen else "user",
        "silhouettes": {str(k): round(v, 4) for k, v in result.silhouettes.items()},
        "distinct": result.distinct,
        "null_p": round(result.null_p, 3),
        "clusters": [
            {"cluster": int(c), "name": result.name(c, language), "schools": int(result.sizes[c]),
             "traits": [{"feature": t.feature, "direction": t.direction, "z": round(t.z, 3)} for t in result.traits[c]],
             "profile": {f: round(float(v), 3) for f, v in result.profiles.loc[c].items()}}
            for c in result.profiles.index
        ],
        "schools": [
            {"school_id": s, "cluster": int(row["cluster"]), "pc1": round(float(row["pc1"]), 4),
             "pc2": round(float(row["pc2"]), 4)}
            | {f: clean(round(float(row[f]), 4)) for f in CLUSTER_FEATURES if f in row}
            for s, row in result.schools.iterrows()
        ],
        "not_clustered": result.not_clustered,
        "imputed_values": result.imputed,
    }


@dataclass
class Analysis:
    clusters: Clusters
    factors: Factors


def analysis_features(engine: Engine, scope: Scope, school_year: str,
                      policy: SuppressionPolicy = SUPPRESSION) -> tuple[pd.DataFrame, int | None]:
    """The features `analyse` clusters (the expensive part, worth caching apart from k). A
    municipality with too few schools of its own is placed among all schools of its region, read
    under the coordinator's rules (other schools as pseudonyms, small groups withheld), its own
    schools named; `in_scope` tells them apart."""
    features, survey_year = school_features(engine, scope, school_year, policy)
    bases = features.attrs.get(SURVEY_REFERENCE, {})
    features["in_scope"] = True
    classes = None
    if features["pupils"].notna().sum() < MIN_SCHOOLS and scope.role in queries.CONTEXT_ROLES and not scope.anonymised:
        own = queries.schools(engine, scope).set_index("school_id")["school_name"]
        regional = queries.regional_scope(engine, scope)
        features, survey_year = school_features(engine, regional, school_year, policy)
        bases = features.attrs.get(SURVEY_REFERENCE, {})
        real_id = {pseudonym(school_id, PROFILES): school_id for school_id in own.index}
        features = features.rename(index=lambda key: real_id.get(key, key))
        features["in_scope"] = features.index.isin(own.index)
        features["school_name"] = features.index.map(own).where(features["in_scope"])
        features["municipality_code"] = features["municipality_code"].where(features["in_scope"])
        # The other schools of the region take the size classes the comparison page shows them
        # in: one partition, so that linking a school across the pages by its rate gains nothing.
        region_schools = queries.schools(engine, Scope("admin", region_codes=regional.region_codes))["school_id"]
        as_profile = {pseudonym(s, PEERS, school_year): pseudonym(s, PROFILES) for s in region_schools}
        classes = comparison.region_size_classes(engine, scope, regional.region_codes, school_year, policy)
        classes = classes.rename(index=as_profile)
    # Schools under pseudonyms: one year's pseudonym (two years' size classes cannot be laid over
    # each other), clustered and shown by their size class, so a register of sizes fits 3 or more.
    hidden = pd.Series(scope.anonymised, index=features.index) | ~features["in_scope"].astype(bool)
    if classes is None:  # a coordinator's own area: classes among the schools it shows
        classes = disclosure.size_classes(features[hidden])
    features = features.rename(index=lambda key: pseudonym(key, PROFILES, school_year) if hidden[key] else key)
    classes = classes.rename(index=lambda key: pseudonym(key, PROFILES, school_year))
    hidden = hidden.set_axis(features.index)
    classes = classes.reindex(features.index)
    # Fewer than three of them with a size: they cannot be shown, nor clustered among the others.
    unclassed = hidden & features["pupils"].notna() & classes["size_class"].isna()
    features, classes, hidden = features[~unclassed], classes[~unclassed], hidden[~unclassed]
    features[["pupils_low", "pupils_high"]] = classes[["pupils_low", "pupils_high"]]
    features["pupils"] = features["pupils"].where(~hidden, classes["pupils"])
    features[SIZE_FEATURE] = features[SIZE_FEATURE].where(~hidden, np.log(features["pupils"].clip(lower=1)))
    shown_rates = features[["absence_rate", "unauthorised_rate"]]
    features[shown_rates.columns] = disclosure.rounded_rates(shown_rates, hidden)
    # A share of pupils to 0.1 fits only a few sizes: beside a pseudonym it would name the school.
    features["tier23_share"] = features["tier23_share"].where(~hidden)
    features[CHANGE_FEATURE] = features[CHANGE_FEATURE].where(~hidden, features[CHANGE_FEATURE].round(disclosure.RATE_DECIMALS))
    # A pseudonym beside its municipality and type is often a register lookup away from a name.
    features["municipality_code"] = features["municipality_code"].where(~hidden)
    features.attrs[SURVEY_REFERENCE] = bases
    return features, survey_year


def analyse_features(features: pd.DataFrame, school_year: str, survey_year: int | None, k: int | None = None,
                     factors: Factors | None = None) -> Analysis:
    """`analyse` from the features (`analysis_features`); `factors` when already known
    (`analyse_factors`: they do not depend on the number of clusters)."""
    clusters = cluster(features, school_year, survey_year, k)
    # A school under a pseudonym is placed on the map to 0.1: its exact position is a sum of its
    # exact standardised features, and nothing the map is for needs more.
    hidden = clusters.schools["school_name"].isna()
    clusters.schools.loc[hidden, ["pc1", "pc2"]] = clusters.schools.loc[hidden, ["pc1", "pc2"]].round(1)
    # The model's inputs stay in the model: a pseudonymous row leaves with what the page shows.
    inputs = [c for c in (*CLUSTER_FEATURES, *FLAG_FEATURES, OUTCOME) if c in clusters.schools.columns]
    clusters.schools.loc[hidden, inputs] = np.nan
    if "school_type" in clusters.schools.columns:
        clusters.schools["school_type"] = clusters.schools["school_type"].astype(object).where(~hidden, None)
    return Analysis(clusters, factors if factors is not None else absence_factors(features))


def analyse_factors(engine: Engine, scope: Scope, school_year: str, policy: SuppressionPolicy = SUPPRESSION) -> Factors:
    """The absence factors of `analyse` alone: the page keeps them apart, so that another number of
    clusters does not fit the bootstrap's two hundred ridge models again."""
    features, _ = analysis_features(engine, scope, school_year, policy)
    return absence_factors(features)


def analyse(engine: Engine, scope: Scope, school_year: str, k: int | None = None,
            policy: SuppressionPolicy = SUPPRESSION) -> Analysis:
    """Clusters and absence factors of the scope's schools for one school year (the page's and the
    command line's one entry point; see `analysis_features`). Raises TooFewSchools when the
    scope, or its region, has too few schools."""
    features, survey_year = analysis_features(engine, scope, school_year, policy)
    return analyse_features(features, school_year, survey_year, k)
