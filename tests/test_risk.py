"""Risk-factor clusters and absence factors: hand-computed features, planted structure recovered
from the demo data on SQLite and PostgreSQL, scope rules, and the command line."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from lasnaolo import cli, queries, risk
from lasnaolo.scope import PROFILES, Scope, pseudonym

YEAR = "2024-2025"


def month_row(school, grade, lessons, illness, authorised, unauthorised, pupils, tiers=(0, 0, 0),
              year=YEAR, month="2024-09"):
    return {"school_id": school, "grade": grade, "school_year": year, "month": month, "pupils": pupils,
            "lesson_hours": lessons, "illness_hours": illness, "authorised_hours": authorised,
            "unauthorised_hours": unauthorised, "tier1_pupils": tiers[0], "tier2_pupils": tiers[1],
            "tier3_pupils": tiers[2]}


def test_standardised_ratios_take_the_grade_mix_into_account():
    # Grade 1 misses 5 % of lessons to illness, grade 8 misses 10 %, pooled over both schools.
    rows = pd.DataFrame([
        month_row("A", 1, 1000, 40, 10, 0, 10, (2, 0, 0)),
        month_row("A", 8, 1000, 120, 20, 9, 10, (4, 2, 1)),
        month_row("B", 1, 3000, 160, 30, 0, 30, (6, 0, 0)),
        month_row("B", 8, 1000, 80, 20, 3, 10, (4, 2, 0)),
    ])
    by_grade = rows.drop(columns=["school_year", "month"])
    ratios = risk.standardised_ratios(by_grade)
    # Expected illness hours of A: 1000 × 200/4000 + 1000 × 200/2000 = 150; observed 160.
    assert ratios.at["A", "illness_ratio"] == pytest.approx(math.log(160.5 / 150.5))
    # B: 3000 × 0.05 + 1000 × 0.10 = 250 expected, 240 observed.
    assert ratios.at["B", "illness_ratio"] == pytest.approx(math.log(240.5 / 250.5))
    # Unauthorised only in grade 8 (12 h in 2000 lessons): A expects 6, has 9; B expects 6, has 3.
    assert ratios.at["A", "unauthorised_ratio"] == pytest.approx(math.log(9.5 / 6.5))
    assert ratios.at["B", "unauthorised_ratio"] == pytest.approx(math.log(3.5 / 6.5))
    # Tier 3: 1 of 20 grade-8 pupils; each school has 10 of them, so each expects 0.5.
    assert ratios.at["A", "tier3_ratio"] == pytest.approx(math.log(1.5 / 1.0))
    # The overall ratio: A absent 199 h of expected 150 + 30 + 6 (illness, authorised, unauthorised).
    authorised_a = 1000 * 40 / 4000 + 1000 * 40 / 2000
    assert ratios.at["A", "absence_ratio"] == pytest.approx(math.log(199.5 / (150 + authorised_a + 6 + 0.5)))


def test_absence_features_mark_withheld_schools_missing_instead_of_summing_what_is_left():
    rows = pd.DataFrame([
        month_row("A", 7, 1000, 50, 10, 5, 20),
        month_row("A", 8, 1000, 60, 10, 5, 20),
        month_row("B", 7, 1000, 80, 10, 5, 20),
        month_row("B", 8, 1000, 60, 10, 5, 3),  # a small grade the data layer withheld for a coordinator
        month_row("A", 7, 1000, 40, 10, 5, 20, year="2023-2024", month="2023-09"),
        month_row("A", 8, 1000, 40, 10, 5, 20, year="2023-2024", month="2023-09"),
    ])
    rows.loc[3, ["pupils", "lesson_hours", "illness_hours"]] = np.nan
    features = risk.absence_features(rows, YEAR)
    assert list(features.index) == ["A", "B"]  # B is kept, not dropped
    assert features.loc["B", ["illness_ratio", "absence_rate", "size"]].isna().all()
    assert features.at["A", "absence_rate"] == pytest.approx(140 / 2000 * 100)
    # Change over the same months: 7,0 % now against 110/2000 = 5,5 % a year earlier.
    assert features.at["A", "absence_change"] == pytest.approx(7.0 - 5.5)


def test_survey_features_use_the_school_types_grades_weighted_and_shrunk():
    survey = pd.DataFrame([
        # Primary school P: only grades 4-5 count; lower-secondary L: only 8-9; comprehensive C: both.
        ("P", "4-5", "belonging", 100, 90.0), ("P", "8-9", "belonging", 100, 10.0),
        ("L", "4-5", "belonging", 100, 10.0), ("L", "8-9", "belonging", 100, 55.0),
        ("C", "4-5", "belonging", 100, 70.0), ("C", "8-9", "belonging", 300, 65.0),
        ("S", "8-9", "belonging", 6, 90.0),  # too few respondents: missing
    ], columns=["unit_id", "grade_group", "indicator", "respondents", "value_pct"])
    national = pd.DataFrame([("4-5", "belonging", 80.0), ("8-9", "belonging", 65.0)],
                            columns=["grade_group", "indicator", "value_pct"])
    types = pd.Series({"P": "primary", "L": "lower_secondary", "C": "comprehensive", "S": "lower_secondary"})
    table = risk.survey_features(survey, national, types)
    # Unshrunk differences: P +10, L -10, C (100 × -10 + 300 × 0) / 400 = -2.5.
    raw = pd.Series({"C": -2.5, "L": -10.0, "P": 10.0})
    # Sampling variances under the reference's proportion (80 % in 4-5, 65 % in 8-9), not the school's own.
    variance = pd.Series({"C": (100 * 0.8 * 0.2 + 300 * 0.65 * 0.35) / 400**2, "L": 0.65 * 0.35 / 100,
                          "P": 0.8 * 0.2 / 100}) * 100**2
    tau2 = (raw**2).mean() - variance.mean()
    expected = raw * tau2 / (tau2 + variance)
    assert table["survey_belonging"].sort_index().to_numpy() == pytest.approx(expected.sort_index().to_numpy())
    assert "S" not in table.index
    # Shrinkage pulls the noisier of two equal differences further toward zero.
    assert abs(table.at["P", "survey_belonging"]) > abs(table.at["L", "survey_belonging"])


def test_prepare_imputes_the_median_and_raises_one_flag_per_source():
    features = pd.DataFrame({
        "illness_ratio": [0.1, 0.2, 0.3, np.nan], "size": [3.0, 4.0, 5.0, np.nan],
        "absence_change": [1.0, np.nan, 3.0, 4.0],
        "survey_belonging": [np.nan, 1.0, 2.0, 9.0], "survey_anxiety": [np.nan, 5.0, 1.0, 1.0],
    }, index=list("abcd"))
    z, imputed = risk.prepare(features, list(features.columns))
    assert imputed == {"illness_ratio": 1, "size": 1, "absence_change": 1, "survey_belonging": 1, "survey_anxiety": 1}
    # One flag per source, not one per column: two survey columns missing together raise one flag.
    assert set(z.columns) == set(features.columns) | {"absence_withheld", "no_previous_year", "no_survey"}
    filled = features["survey_belonging"].fillna(2.0)  # the median of 1, 2, 9
    assert z["survey_belonging"].to_numpy() == pytest.approx(((filled - filled.mean()) / filled.std(ddof=0)).to_numpy())
    assert z["no_survey"].tolist() == [1, 0, 0, 0] and z["absence_withheld"].tolist() == [0, 0, 0, 1]
    assert z["no_previous_year"].tolist() == [0, 1, 0, 0]  # flags stay 0 / 1, not standardised
    continuous = z.drop(columns=list(risk.FLAG_FEATURES))
    assert continuous.mean().abs().max() < 1e-9 and (continuous.std(ddof=0) - 1).abs().max() < 1e-9


@pytest.fixture(scope="module")
def demo_analysis(demo_engine):
    return risk.analyse(demo_engine, Scope.everything(), YEAR)


def test_clusters_recover_the_planted_risk_profiles(demo_analysis, demo_data):
    result = demo_analysis.clusters
    truth = pd.Series(demo_data.truth["profiles"]).reindex(result.schools.index)
    assert result.k_chosen and result.k == max(result.silhouettes, key=result.silhouettes.get)
    assert adjusted_rand_score(truth, result.schools["cluster"]) >= 0.8
    # Clusters are numbered by risk: cluster 1 holds the highest standardised absence.
    mean_absence = result.schools.groupby("cluster")["absence_ratio"].mean()
    assert list(mean_absence.index) == sorted(mean_absence.index) and mean_absence.is_monotonic_decreasing
    # Each planted risk profile lands mostly in one cluster, named after what was planted.
    home = pd.crosstab(truth, result.schools["cluster"]).idxmax(axis=1)
    traits = {p: {(t.feature, t.direction) for t in result.traits[home[p]]} for p in home.index}
    assert ("unauthorised_ratio", "high") in traits["disengaged"]
    assert {("survey_anxiety", "high"), ("survey_poor_health", "high"), ("survey_concentration", "high")} & traits["strained"]
    assert home["disengaged"] == 1  # the highest-absence profile is cluster 1
    assert result.name(home["typical"], "en") == "close to average"


def test_the_factors_kept_apart_from_the_clusters_equal_the_analysis_and_another_k_uses_them_as_given(demo_engine, demo_analysis):
    """The risk page keeps the factors apart (another number of clusters refitted two hundred ridge
    models): apart, they are the analysis's own; given, they are used as they are."""
    factors = risk.analyse_factors(demo_engine, Scope.everything(), YEAR)
    pd.testing.assert_frame_equal(factors.table, demo_analysis.factors.table)
    assert (factors.schools, factors.r_squared) == (demo_analysis.factors.schools, demo_analysis.factors.r_squared)
    features, survey_year = risk.analysis_features(demo_engine, Scope.everything(), YEAR)
    again = risk.analyse_features(features, YEAR, survey_year, 4, factors)
    assert again.factors is factors and again.clusters.k == 4


def test_clusters_are_stable_and_the_user_may_fix_k(demo_engine, demo_analysis):
    again = risk.analyse(demo_engine, Scope.everything(), YEAR).clusters
    assert again.schools["cluster"].equals(demo_analysis.clusters.schools["cluster"])
    assert [again.name(c) for c in again.profiles.index] == [demo_analysis.clusters.name(c) for c in again.profiles.index]
    fixed = risk.analyse(demo_engine, Scope.everything(), YEAR, k=6).clusters
    assert fixed.k == 6 and not fixed.k_chosen and sorted(fixed.schools["cluster"].unique()) == [1, 2, 3, 4, 5, 6]


def test_factor_model_ranks_the_planted_strongest_factors_first(demo_analysis, demo_data):
    planted = demo_data.truth["absence_associations"]
    table = demo_analysis.factors.table.set_index("feature")
    ranked = [f.removeprefix("survey_") for f in table.index]
    strongest = sorted(planted, key=lambda c: -abs(planted[c]))
    assert strongest[0] in ranked[:3]
    for code in ranked[:3]:  # the top three are planted links, with the planted direction
        assert abs(planted[code]) >= 0.5 and np.sign(table.at[f"survey_{code}", "coefficient"]) == np.sign(planted[code])
    # No planted link: ranked in the lower half, and its interval covers zero.
    unlinked = [c for c, v in planted.items() if v == 0]
    assert unlinked
    for code in unlinked:
        assert ranked.index(code) >= len(ranked) // 2
        assert table.at[f"survey_{code}", "ci_low"] <= 0 <= table.at[f"survey_{code}", "ci_high"]
    assert (table["ci_low"] <= table["coefficient"]).all() and (table["coefficient"] <= table["ci_high"]).all()


def test_each_factor_shows_its_plain_correlation_beside_the_coefficient_given_the_others(demo_analysis):
    """Review finding: truancy (r = 0.39 with absence) had a ridge interval covering 0 and read as
    'not associated'. The plain correlation stands beside it, computed over the schools that have
    the indicator, and orders the factors."""
    features = demo_analysis.clusters.schools
    table = demo_analysis.factors.table.set_index("feature")
    usable = features[features[risk.OUTCOME].notna()]
    for feature in ("survey_truancy", "survey_bullied_weekly"):
        both = usable[[feature, risk.OUTCOME]].dropna()
        assert table.at[feature, "correlation"] == pytest.approx(np.corrcoef(both[feature], both[risk.OUTCOME])[0, 1])
    assert table["correlation"].abs().is_monotonic_decreasing
    assert table.at["survey_truancy", "correlation"] > 0.2


def test_clusters_stay_inside_the_scope_coordinators_see_one_years_pseudonyms_size_classes_and_coarse_positions(demo_engine):
    region = Scope("coordinator", region_codes=frozenset({"01"}))
    result = risk.analyse(demo_engine, region, YEAR).clusters
    everyone = queries.schools(demo_engine, Scope.everything())
    assert result.schools["school_name"].isna().all()
    this_year = {pseudonym(pseudonym(s, PROFILES), PROFILES, YEAR) for s in everyone["school_id"]}
    assert set(result.schools.index) <= this_year
    assert not set(result.schools.index) & set(everyone["school_id"])
    # Another year's analysis shows the same schools under other pseudonyms.
    previous = risk.analyse(demo_engine, region, "2023-2024").clusters
    assert len(previous.schools) >= risk.MIN_SCHOOLS and not set(previous.schools.index) & set(result.schools.index)
    # Sizes as classes of three or more schools, the rates shown beside a pseudonym to 0.1 points.
    shown = result.schools.dropna(subset=["pupils"])
    assert (shown["pupils_low"] % 10 == 0).all() and (shown["pupils_high"] % 10 == 0).all()
    assert (shown.groupby(["pupils_low", "pupils_high"]).size() >= 3).all()
    assert ((result.schools[["pc1", "pc2"]] * 10).round(6) % 1 == 0).all().all()  # placed on the map to 0.1
    for column in ("absence_rate", "unauthorised_rate", "tier23_share"):
        assert ((shown[column].dropna() * 10).round(6) % 1 == 0).all()
    espoo = Scope("steering_group", municipality_codes=frozenset({"049"}))
    own = set(queries.schools(demo_engine, espoo)["school_id"])
    assert set(risk.analyse(demo_engine, espoo, YEAR).clusters.schools.index) == own
    with pytest.raises(risk.TooFewSchools):
        risk.analyse(demo_engine, Scope("rector", school_ids=frozenset(sorted(own)[:1])), YEAR)


def test_a_small_municipality_sees_its_schools_among_the_regions_under_pseudonyms(demo_engine):
    hyvinkaa = Scope("steering_group", municipality_codes=frozenset({"106"}))
    own = queries.schools(demo_engine, hyvinkaa).set_index("school_id")["school_name"]
    assert 0 < len(own) < risk.MIN_SCHOOLS
    schools = risk.analyse(demo_engine, hyvinkaa, YEAR).clusters.schools
    inside = schools[schools["in_scope"]]
    assert set(inside.index) == set(own.index) and inside["school_name"].to_dict() == own.to_dict()
    outside = schools[~schools["in_scope"]]
    region = queries.schools(demo_engine, Scope("admin", region_codes=frozenset({"01"})))
    assert len(outside) == len(region) - len(own)
    assert outside["school_name"].isna().all() and outside["municipality_code"].isna().all()
    assert not set(outside.index) & set(region["school_id"])  # pseudonyms only


def test_cli_prints_the_same_clusters_as_json(demo_engine, demo_analysis, capsys):
    url = demo_engine.url.render_as_string(hide_password=False)
    assert cli.main(["clusters", "--year", YEAR, "--db", url, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["k"] == demo_analysis.clusters.k and printed["k_chosen_by"] == "silhouette"
    by_school = {s["school_id"]: s["cluster"] for s in printed["schools"]}
    assert by_school == demo_analysis.clusters.schools["cluster"].to_dict()
    assert [c["schools"] for c in printed["clusters"]] == demo_analysis.clusters.sizes.tolist()
    assert printed["clusters"][0]["name"] == demo_analysis.clusters.name(1, "en")
    assert cli.main(["clusters", "--year", YEAR, "--db", url, "--k", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["k_chosen_by"] == "user"
    assert cli.main(["clusters", "--year", "2024-2026", "--db", url]) == cli.EXIT_REJECTED


def structureless_features(seed: int, schools: int = 100) -> pd.DataFrame:
    """Every clustering feature drawn independently for every school: no profiles to find. Pupils
    lognormal and the change chi-square: skewed as real ones are."""
    rng = np.random.default_rng(seed)
    columns = list(risk.CLUSTER_FEATURES)
    features = pd.DataFrame(rng.normal(size=(schools, len(columns))), columns=columns,
                            index=[f"S{i:03d}" for i in range(schools)])
    features["pupils"] = rng.lognormal(5.5, 0.5, schools).round()
    features[risk.SIZE_FEATURE] = np.log(features["pupils"])
    features[risk.CHANGE_FEATURE] = rng.chisquare(2, schools)
    features[risk.OUTCOME] = rng.normal(size=schools)
    return features


def test_data_without_structure_give_no_distinct_profiles_and_the_clusters_go_unnamed():
    results = [risk.cluster(structureless_features(seed), YEAR) for seed in range(20)]
    assert sum(not r.distinct for r in results) >= 18  # at least 90 % of seeds
    undistinct = next(r for r in results if not r.distinct)
    assert [undistinct.name(c, "en") for c in undistinct.profiles.index] == [f"Cluster {c}" for c in undistinct.profiles.index]


def test_the_planted_demo_profiles_beat_chance(demo_analysis):
    assert demo_analysis.clusters.distinct and demo_analysis.clusters.null_p == pytest.approx(1 / 20)
    assert demo_analysis.clusters.shuffled_as_distinct == 0


def test_parallel_analysis_keeps_the_shared_components_and_no_more():
    rng = np.random.default_rng(5)
    noise = pd.DataFrame(rng.normal(size=(300, 12)))
    assert risk.leading_components(noise).shape[1] == 2  # none beat chance; two for the plane
    shared = rng.normal(size=(300, 3))
    planted = pd.DataFrame(np.column_stack([shared[:, i % 3] + 0.5 * rng.normal(size=300) for i in range(12)]))
    assert risk.leading_components(planted).shape[1] == 3


def test_fewer_schools_than_features_get_leading_components_and_a_null_test_instead_of_an_error():
    """A director's municipality of 16 schools against 18 features crashed the risk page (PCA has
    only as many components as schools; the chance bar had one per feature)."""
    rng = np.random.default_rng(8)
    few = pd.DataFrame(rng.normal(size=(16, 18)))
    space = risk.leading_components(few)
    assert space.shape[0] == 16 and 2 <= space.shape[1] <= 16
    assert risk.null_test(few, [2, 3]) >= 0


def test_a_school_whose_few_respondents_all_answered_alike_is_shrunk_toward_the_reference():
    """Review finding: the school's own share gave 0 positive answers a sampling variance of 0 and
    weight 1, so twelve respondents kept the most extreme value of the region."""
    survey = pd.DataFrame([("Z", "8-9", "truancy", 12, 0.0), *[(f"S{i}", "8-9", "truancy", 200, 30.0 + (i % 5 - 2))
                                                               for i in range(20)]],
                          columns=["unit_id", "grade_group", "indicator", "respondents", "value_pct"])
    national = pd.DataFrame([("8-9", "truancy", 30.0)], columns=["grade_group", "indicator", "value_pct"])
    types = pd.Series("lower_secondary", index=survey["unit_id"])
    table = risk.survey_features(survey, national, types)
    assert -30.0 < table.at["Z", "survey_truancy"] < -3.0  # pulled most of the way toward 0, not kept at -30


def test_a_survey_of_school_rows_only_is_read_against_the_schools_in_the_data(demo_data, tmp_path):
    """The contract allows school rows only; clustering crashed on a reference taken from absent
    municipality rows, and the pages called any reference national."""
    from lasnaolo import comparison, importer, store

    demo_data.write(tmp_path)
    wellbeing = pd.read_csv(tmp_path / "wellbeing.csv", dtype={"unit_id": str})
    wellbeing[wellbeing["unit_type"] == "school"].to_csv(tmp_path / "wellbeing.csv", index=False)
    engine = store.make_engine(f"sqlite:///{tmp_path / 'lasnaolo.db'}")
    store.init_database(engine)
    importer.import_paths(engine, sorted(tmp_path.glob("*.csv")))
    result = risk.analyse(engine, Scope.everything(), YEAR).clusters
    assert {basis for basis, _ in result.survey_reference.values()} == {"schools"}
    assert result.schools["survey_belonging"].notna().sum() > 50
    school = queries.schools(engine, Scope.everything()).iloc[0]
    profile = comparison.wellbeing_profile(engine, Scope.everything(), school["school_id"], school["school_type"])
    assert set(profile["reference_basis"]) == {"schools"} and (profile["reference_units"] >= 3).all()
    engine.dispose()


def test_a_survey_reference_is_named_for_what_it_is(demo_engine, demo_analysis, demo_data):
    """The demo's municipality rows are not the whole country: the reference says how many they are."""
    municipal = demo_data.wellbeing[demo_data.wellbeing["unit_type"] == "municipality"]
    assert 0 < municipal["unit_id"].nunique() < 309
    for group, (basis, units) in demo_analysis.clusters.survey_reference.items():
        rows = municipal[(municipal["survey_year"] == demo_analysis.clusters.survey_year) & (municipal["grade_group"] == group)]
        assert (basis, units) == ("municipalities", rows["unit_id"].nunique())


def test_the_reference_is_national_only_when_every_municipality_is_in_it(engine):
    from lasnaolo import importer, reference

    codes = list(reference.municipality_codes())
    lines = ["unit_type,unit_id,survey_year,grade_group,indicator,respondents,value_pct"]
    lines += [f"municipality,{code},2025,8-9,belonging,100,{60 + i % 10}" for i, code in enumerate(codes)]
    importer.import_files(engine, [("wellbeing.csv", "\n".join(lines[:-1]).encode())])
    assert queries.wellbeing_reference(engine, 2025, "8-9").basis == "municipalities"
    importer.import_files(engine, [("wellbeing.csv", "\n".join(lines).encode())])
    whole = queries.wellbeing_reference(engine, 2025, "8-9")
    assert (whole.basis, whole.units) == ("national", len(codes))
    expected = sum(60 + i % 10 for i in range(len(codes))) / len(codes)  # equal respondents: the plain mean
    assert whole.values.set_index("indicator").at["belonging", "value_pct"] == pytest.approx(expected)


def test_schools_that_differ_in_fewer_than_two_features_or_hardly_at_all_are_said_to_give_nothing_to_cluster():
    """Noticed in issue 17: identical schools or a single varying feature crashed the page with
    LinAlgError / ValueError instead of a sentence. Two varying features still cluster."""
    varied = structureless_features(1, 60)
    identical = varied.copy()
    for column in identical.columns:
        identical[column] = identical[column].iloc[0]
    one = identical.assign(**{risk.CLUSTER_FEATURES[0]: varied[risk.CLUSTER_FEATURES[0]]})
    two_groups = one.assign(**{risk.CLUSTER_FEATURES[0]: np.where(np.arange(60) < 30, 1.0, 2.0),
                               risk.CLUSTER_FEATURES[1]: np.where(np.arange(60) < 30, 3.0, 5.0)})
    for frame in (identical, one, two_groups):
        with pytest.raises(risk.NoVariation):
            risk.cluster(frame, YEAR)
    with pytest.raises(risk.NoVariation):
        risk.absence_factors(identical)
    two = one.assign(**{risk.CLUSTER_FEATURES[1]: varied[risk.CLUSTER_FEATURES[1]]})
    assert risk.cluster(two, YEAR).k in risk.K_RANGE
    assert risk.cluster(two, YEAR, k=3).k == 3
    assert isinstance(risk.NoVariation("x"), risk.TooFewSchools)  # every caller's "nothing to cluster" holds


@pytest.mark.parametrize("neighbour_pupils", [None, 3])
def test_a_new_school_years_first_delivery_gives_too_few_schools_not_a_crash(demo_files, tmp_path, neighbour_pupils):
    """Review findings: one school's August of a new year (the usual first delivery) crashed the
    risk profiles with KeyError 'region_code' when nobody was shown under a pseudonym, and then,
    with a neighbour of 3 pupils outside the director's scope, with a TypeError (an empty frame of
    text columns)."""
    from lasnaolo import accounts, importer, queries, store

    engine = store.make_engine(f"sqlite:///{tmp_path / 'lasnaolo.db'}")
    store.init_database(engine)
    importer.import_paths(engine, sorted(demo_files.glob("*.csv")))
    director = accounts.demo_accounts(None)["johtaja"].scope()
    mine = queries.schools(engine, director)
    every = queries.schools(engine, Scope.everything())
    neighbour = every[(every["region_code"] == mine["region_code"].iloc[0])
                      & ~every["school_id"].isin(mine["school_id"])]["school_id"].iloc[0]
    delivering = [mine["school_id"].iloc[0]] + ([neighbour] if neighbour_pupils else [])
    absences = pd.read_csv(demo_files / "absences.csv", dtype={"school_id": str})
    first = absences[absences["school_id"].isin(delivering) & (absences["month"] == "2024-08")]
    first = first.assign(school_year="2025-2026", month="2025-08")
    if neighbour_pupils:  # one grade of a few pupils: withheld, under a pseudonym for the director
        grade = first.loc[first["school_id"] == neighbour, "grade"].iloc[0]
        first = first[(first["school_id"] != neighbour) | (first["grade"] == grade)]
        first.loc[first["school_id"] == neighbour, ["pupils", "tier1_pupils", "tier2_pupils", "tier3_pupils"]] = [
            neighbour_pupils, 0, 0, 0]
    first.to_csv(tmp_path / "absences.csv", index=False)
    importer.import_paths(engine, [tmp_path / "absences.csv"])
    for scope in (Scope.everything(), director):
        with pytest.raises(risk.TooFewSchools):
            risk.analyse(engine, scope, "2025-2026")
    engine.dispose()
