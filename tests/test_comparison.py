"""School comparison on the demo data: a rector sees their school against pseudonymous peers,
the verdict follows the funnel, and the figures agree with the administrator's."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lasnaolo import comparison, metrics, queries, stats
from lasnaolo.scope import Scope
from lasnaolo.stats import PeerCriteria


@pytest.fixture(scope="module")
def hyvinkaa_school(demo_engine):
    schools = queries.schools(demo_engine, Scope("director", municipality_codes=frozenset({"106"})))
    return schools[schools["school_type"] == "comprehensive"].iloc[0]


def test_a_rector_sees_own_school_and_only_pseudonyms_of_others(demo_engine, hyvinkaa_school):
    school = hyvinkaa_school["school_id"]
    rector = Scope("rector", school_ids=frozenset({school}))
    result = comparison.compare(demo_engine, rector, school, "2024-2025")
    everyone = set(queries.schools(demo_engine, Scope.everything())["school_id"])
    keys = set(result.schools["school_key"])
    assert school in keys and (keys - {school}).isdisjoint(everyone)  # no other school's code
    assert result.schools.set_index("school_key").loc[school, "in_scope"]
    named = result.schools.dropna(subset=["school_name"])
    assert named["school_key"].tolist() == [school]
    # Only the named school carries its municipality (it labels the name); the others carry none.
    placed = result.schools.dropna(subset=["municipality_code"])
    assert placed["school_key"].tolist() == [school] and placed["municipality_code"].tolist() == ["106"]
    with pytest.raises(queries.NotAllowed):  # nor can a rector start from another school
        other = next(iter(everyone - {school}))
        comparison.compare(demo_engine, rector, other, "2024-2025")


def test_peers_meet_the_criteria_and_the_verdict_follows_the_funnel(demo_engine, hyvinkaa_school):
    school = hyvinkaa_school["school_id"]
    result = comparison.compare(demo_engine, Scope.everything(), school, "2024-2025")
    me = result.schools.set_index("school_key").loc[school]
    members = result.peers.members
    assert len(members) >= comparison.MIN_PEERS
    assert (members["school_type"] == me["school_type"]).all()
    # The default criteria: same language, sizes within a factor of two (every member, no exceptions).
    assert result.peers.criteria.same_language and result.peers.criteria.size_factor == 2.0
    assert (members["language"] == me["language"]).all()
    assert members["pupils"].between(me["pupils"] / 2.0, me["pupils"] * 2.0).all()
    # The reference is the peers' pooled rate (hours over hours), without the school itself.
    pooled = members["absent_hours"].sum() / members["lesson_hours"].sum() * 100
    assert result.peer_rate == pytest.approx(round(pooled, 1))  # a pool's rate leaves to 0.1 points
    # The chance model: the peers' pupils' spread from their summed tiers, the between-school
    # variance among the peers, the school on the logit scale.
    tiers = members[["tier1_pupils", "tier2_pupils", "tier3_pupils"]].sum()
    variance = metrics.pupil_variance(pooled, members["pupils"].sum(), *tiers)
    slope = pooled / 100 * (1 - pooled / 100) * 100
    se = np.sqrt(variance / members["pupils"].to_numpy(dtype=float)) / slope
    between = stats.between_variance(stats.logit(members["absence_rate"].to_numpy(dtype=float)) - stats.logit(pooled), se)
    own_se = math.sqrt(variance / me["pupils"]) / slope
    z = (stats.logit(me["absence_rate"]) - stats.logit(pooled)) / math.sqrt(own_se ** 2 + between)
    # The words by hand: beyond the two-sided 99.8 % point (3.09) a side, beyond 95 % (1.96) "maybe".
    side = "higher" if z > 0 else "lower"
    expected = side if abs(z) > 3.0902 else f"maybe_{side}" if abs(z) > 1.96 else "within"
    assert result.verdict == expected
    assert result.school_rate == pytest.approx(me["absence_rate"])


def test_verdict_words():
    assert comparison.verdict_of(3.2) == "higher" and comparison.verdict_of(-3.2) == "lower"
    assert comparison.verdict_of(2.5) == "maybe_higher" and comparison.verdict_of(-2.0) == "maybe_lower"
    assert comparison.verdict_of(1.9) == "within"


def test_school_figures_equal_the_administrators(demo_engine, hyvinkaa_school):
    from lasnaolo import reports
    from lasnaolo.scope import Unit

    school = hyvinkaa_school["school_id"]
    result = comparison.compare(demo_engine, Scope.everything(), school, "2023-2024", PeerCriteria(size_factor=None))
    direct = reports.key_figures(demo_engine, Scope.everything(), Unit("school", school), "2023-2024")
    assert result.school_rate == pytest.approx(direct.absence_rate)


def test_positive_outliers_are_below_their_peers_and_name_their_measures(demo_engine):
    outliers = comparison.positive_outliers(demo_engine, Scope.everything(), "2024-2025")
    assert len(outliers) > 0
    assert (outliers["z"] < -stats.Z95).all() and (outliers["absence_rate"] < outliers["peer_rate"]).all()
    assert (outliers["beyond_998"] == (outliers["z"] < -stats.Z998)).all()
    measures = queries.measures_in_use(demo_engine, Scope.everything(), "2024-2025")
    first = outliers.iloc[0]
    assert first["measures"] == sorted(set(measures.loc[measures["school_id"] == first["school_id"], "measure"]))
    # A director's list holds only their own schools.
    director = Scope("director", municipality_codes=frozenset({"106"}))
    own = set(queries.schools(demo_engine, director)["school_id"])
    assert set(comparison.positive_outliers(demo_engine, director, "2024-2025")["school_id"]) <= own


def test_wellbeing_profile_by_hand(engine):
    from lasnaolo import importer

    from support.helpers import files

    survey = ("unit_type,unit_id,survey_year,grade_group,indicator,respondents,value_pct\n"
              "municipality,049,2025,8-9,belonging,200,70.0\n"
              "municipality,091,2025,8-9,belonging,300,50.0\n"
              "municipality,049,2025,8-9,anxiety,200,20.0\n"
              "school,04567,2025,8-9,anxiety,5,40.0\n")
    importer.import_files(engine, files() + [("wellbeing_more.csv", survey.encode())])
    rector = Scope("rector", school_ids=frozenset({"04567"}))
    profile = comparison.wellbeing_profile(engine, rector, "04567", "comprehensive").set_index("indicator")
    belonging = profile.loc["belonging"]
    assert belonging["school"] == pytest.approx(64.0) and belonging["municipality"] == pytest.approx(70.0)
    assert belonging["national"] == pytest.approx((70 * 200 + 50 * 300) / 500)  # 58.0, weighted by respondents
    assert belonging["difference"] == pytest.approx(6.0) and belonging["better"]  # higher belonging is better
    anxiety = profile.loc["anxiety"]
    assert anxiety["respondents"] == 5 and pd.isna(anxiety["school"]) and pd.isna(anxiety["difference"])  # withheld


def test_tier_shares_against_peers_are_pooled(demo_engine, hyvinkaa_school):
    school = hyvinkaa_school["school_id"]
    result = comparison.compare(demo_engine, Scope.everything(), school, "2024-2025")
    peers = result.peers.members
    pooled = peers["tier2_pupils"].sum() / peers["pupils"].sum() * 100
    tiers = result.tiers.set_index(["series", "tier"])["share"]
    assert tiers[("peers", 2)] == pytest.approx(round(pooled, 1))  # pooled shares leave to 0.1 points
    mine = result.schools.set_index("school_key").loc[school]
    assert tiers[("school", 3)] == pytest.approx(mine["tier3_share"])


def test_grades_and_municipality_lines_are_pooled_and_coarse(demo_engine, hyvinkaa_school):
    school = hyvinkaa_school["school_id"]
    rector = Scope("rector", school_ids=frozenset({school}))
    result = comparison.compare(demo_engine, rector, school, "2024-2025")
    months = sorted(result.monthly["month"].unique())
    # The peers' grade-8 rate is their hours pooled, computed here from the administrator's rows.
    everyone = queries.absence_totals(demo_engine, Scope.everything(), months=months, by=["school_id", "grade"])
    keys = set(result.peers.members["school_id"])
    from lasnaolo.scope import PEERS, pseudonym

    peers8 = everyone[(everyone["grade"] == 8) & everyone["school_id"].map(lambda s: pseudonym(s, PEERS, "2024-2025")).isin(keys)]
    expected = peers8[["illness_hours", "authorised_hours", "unauthorised_hours"]].sum().sum() / peers8["lesson_hours"].sum() * 100
    grades = result.grades.set_index(["grade", "series"])["absence_rate"]
    assert grades[(8, "peers")] == pytest.approx(round(expected, 1))  # pooled rates leave to 0.1 points
    # The municipality line is the whole municipality, month by month.
    municipality = result.monthly[result.monthly["series"] == "municipality"].set_index("month")["absence_rate"]
    whole = queries.absence_totals(demo_engine, Scope("director", municipality_codes=frozenset({"106"})), months=months)
    first = whole.iloc[0]
    assert municipality[first["month"]] == pytest.approx(round(
        (first["illness_hours"] + first["authorised_hours"] + first["unauthorised_hours"]) / first["lesson_hours"] * 100, 1))
    # A pool of fewer than three schools would show one school's grades: it is withheld.
    two = list(keys)[:2]
    assert queries.pooled_by_grade(demo_engine, rector, school, two, "2024-2025", months).empty
    # Nor may any grade row of a larger pool rest on fewer than three schools.
    pool = queries.pooled_by_grade(demo_engine, rector, school, list(keys), "2024-2025", months)
    per_row = everyone[everyone["school_id"].map(lambda s: pseudonym(s, PEERS, "2024-2025")).isin(keys) & (everyone["pupils"] > 0)]
    schools_in_row = per_row.groupby(["month", "grade"])["school_id"].nunique()
    shown = pool.dropna(subset=["pupils"]).set_index(["month", "grade"]).index
    assert (schools_in_row.reindex(shown) >= 3).all()


def test_a_municipality_may_let_rectors_see_its_schools_by_name(demo_engine, hyvinkaa_school):
    school = hyvinkaa_school["school_id"]
    rector = Scope("rector", school_ids=frozenset({school}), named_municipality_codes=frozenset({"106"}))
    result = comparison.compare(demo_engine, rector, school, "2024-2025", PeerCriteria(False, False, None))
    everyone = queries.schools(demo_engine, Scope.everything()).set_index("school_id")
    hyvinkaa = set(everyone.index[everyone["municipality_code"] == "106"])
    shown = result.schools.set_index("school_key")
    named = set(shown.index[shown["school_name"].notna()])
    assert named == hyvinkaa  # every Hyvinkää school by code and name ...
    assert not (set(shown.index) - named) & set(everyone.index)  # ... every other only as a pseudonym
    assert shown.loc[next(iter(hyvinkaa - {school})), "school_name"] == everyone.loc[next(iter(hyvinkaa - {school})), "school_name"]


def test_all_schools_placed_at_once_equal_one_funnel_per_school(demo_engine):
    from lasnaolo import stats
    from lasnaolo.contract import SuppressionPolicy

    policy = SuppressionPolicy()
    first = queries.schools(demo_engine, Scope.everything())["school_id"].iloc[0]
    rows = queries.peer_context(demo_engine, Scope.everything(), first, "2024-2025", policy)
    schools = comparison._school_figures(rows.dropna(subset=["pupils"]), policy)
    for criteria in (PeerCriteria(), PeerCriteria(False, False, None), PeerCriteria(True, True, 1.5)):
        placed = stats.peer_positions(schools.rename(columns={"school_key": "school_id"}), criteria,
                                      comparison.MIN_PEERS).set_index("school_id")
        for key in schools["school_key"]:
            peers, funnel, z = comparison._place(schools, key, criteria, comparison._size_classes(rows))
            assert placed.at[key, "peers"] == len(peers.members)
            assert placed.at[key, "reference_rate"] == pytest.approx(funnel.reference_rate)
            assert placed.at[key, "z"] == pytest.approx(z)


def test_a_rector_receives_peers_by_size_class_whole_classes_and_no_counts(demo_engine, hyvinkaa_school):
    school = hyvinkaa_school["school_id"]
    rector = Scope("rector", school_ids=frozenset({school}))
    result = comparison.compare(demo_engine, rector, school, "2024-2025")
    for frame in (result.schools, result.funnel.units, result.peers.members):
        others = frame[frame["school_name"].isna()]
        assert len(others) >= 5
        # A size class: both ends whole tens, drawn at its middle.
        assert (others["pupils_low"] % 10 == 0).all() and (others["pupils_high"] % 10 == 0).all()
        assert (others["pupils_low"] < others["pupils_high"]).all()
        assert (others["pupils"] == (others["pupils_low"] + others["pupils_high"]) / 2).all()
        assert others[["lesson_hours", "illness_hours", "tier3_pupils"]].isna().all().all()
        assert others["absence_rate"].notna().all()
        # A rate in full precision is a fraction a continued fraction turns back into counts.
        assert ((others["absence_rate"] * 10).round(6) % 1 == 0).all()
    # Classes enter the peer group whole: every class shown there is shown three times or more.
    members = result.peers.members
    shown = members[members["school_name"].isna()].groupby(["pupils_low", "pupils_high"]).size()
    assert (shown >= 3).all()
    own = result.schools[result.schools["school_key"] == school]
    assert own["lesson_hours"].notna().all() and own["pupils"].iloc[0] % 1 == 0
    # Every z leaves to 0.1 (the own school's exact z, rate and size would give the pool's exact rate).
    assert ((result.funnel.units["z"] * 10).round(6) % 1 == 0).all()
    # The funnel's curves pass through the sizes drawn, not the peers' exact sizes.
    # and through coarse parameters: the pupils' spread whole, the between-school variance to 0.001.
    assert result.funnel.variance % 1 == 0 and round(result.funnel.between, 3) == result.funnel.between
    expected = stats.funnel_limits(result.funnel.reference_rate, result.funnel.units["pupils"], result.funnel.variance,
                                   result.funnel.between)
    pd.testing.assert_frame_equal(result.funnel.limits.reset_index(drop=True), expected)


def test_the_attention_list_and_the_comparison_page_agree_for_a_director(demo_engine):
    """The list and the page place each school among the same peers (size classes entering whole
    on both), so a director reads one peer rate and one verdict for a school."""
    from lasnaolo import accounts

    director = accounts.demo_accounts(None)["johtaja"].scope()
    listed = comparison.school_verdicts(demo_engine, director, "2024-2025")
    assert len(listed) >= 3
    for row in listed.itertuples():
        page = comparison.compare(demo_engine, director, row.school_id, "2024-2025")
        assert row.latest_month == page.latest_month
        assert (row.n_peers, row.peer_rate) == (len(page.peers.members), page.peer_rate)
        side = "higher" if page.verdict.endswith("higher") else "lower" if page.verdict.endswith("lower") else "within"
        assert row.verdict == side


def test_an_attention_list_of_two_municipalities_names_each_school_with_its_municipality_in_the_ui_language(demo_engine):
    from lasnaolo import charts

    two = Scope("director", municipality_codes=frozenset({"106", "091"}))  # a joint education authority
    verdicts = comparison.school_verdicts(demo_engine, two, "2024-2025")
    directory = queries.schools(demo_engine, two).set_index("school_id")
    for language, places in (("fi", {"106": "Hyvinkää", "091": "Helsinki"}), ("sv", {"106": "Hyvinge", "091": "Helsingfors"})):
        shown = charts.attention_table(verdicts, language).iloc[:, 0].tolist()
        expected = [f"{directory.at[s, 'school_name']}, {places[directory.at[s, 'municipality_code']]}" for s in verdicts["school_id"]]
        assert shown == expected
    # One municipality's list names the schools alone.
    director = Scope("director", municipality_codes=frozenset({"106"}))
    alone = comparison.school_verdicts(demo_engine, director, "2024-2025")
    assert charts.attention_table(alone, "sv").iloc[:, 0].tolist() == alone["school_name"].tolist()


def test_the_attention_list_shows_the_latest_month_only_where_schools_differ_in_it(demo_engine):
    from lasnaolo import charts

    verdicts = comparison.school_verdicts(demo_engine, Scope("director", municipality_codes=frozenset({"106"})), "2024-2025")
    assert verdicts["latest_month"].nunique() == 1
    assert "Viimeisin kuukausi" not in charts.attention_table(verdicts, "fi").columns
    late = verdicts.assign(latest_month=["2025-04"] + list(verdicts["latest_month"].iloc[1:]))
    month = verdicts["latest_month"].iloc[0]
    expected = ["4/2025", f"{int(month[5:])}/{month[:4]}"]
    assert charts.attention_table(late, "fi")["Viimeisin kuukausi"].tolist()[:2] == expected


def test_each_regions_list_from_the_whole_scopes_placing_equals_that_region_placed_alone_and_the_comparison_page(tmp_path):
    """The pages place a scope's schools once and list one region at a time from it (placing each
    region apart took seconds nationally). Each region's list, late deliveries and the rounding
    of other roles included, must be exactly what placing that region alone gives."""
    from support import pupil_simulation as simulation
    from lasnaolo.scope import Unit

    schools, absences, truth = simulation.simulate(simulation.Design(regions=3, schools_per_region=14, seed=5))
    latest = absences["month"].max()
    late = truth.groupby("region_code")["school_id"].first()  # one school a region misses the latest month
    absences = absences[~(absences["school_id"].isin(late) & (absences["month"] == latest))]
    engine = simulation.imported(schools, absences, tmp_path)
    municipality_of = schools.set_index("school_id")["municipality_code"]
    regions = sorted(set(truth["region_code"]))
    two_regions = Scope("director", municipality_codes=frozenset(municipality_of[truth.groupby("region_code")["school_id"]
                                                                                     .first()[regions[:2]]]))
    for scope in (Scope.everything(), two_regions):
        placed = comparison.placed_schools(engine, scope, "2024-2025")
        for region in sorted(set(placed["region_code"])):
            listed = comparison.verdicts_within(placed, scope, Unit("region", region))
            municipalities = frozenset(municipality_of[truth.loc[truth["region_code"] == region, "school_id"]])
            alone = (Scope("admin", region_codes=frozenset({region})) if scope.role == "admin"
                     else Scope("director", municipality_codes=municipalities))
            pd.testing.assert_frame_equal(listed, comparison.school_verdicts(engine, alone, "2024-2025"))
            assert listed["school_id"].isin(late).sum() == 1
            assert (listed.loc[listed["school_id"].isin(late), "latest_month"] < latest).all()
            assert listed["verdict"].notna().all() and listed["change_verdict"].notna().all()
        if scope.role != "admin":
            assert (placed["z"].round(1) != placed["z"]).any()  # kept unrounded; listed rounded
            assert (listed["z"].round(1) == listed["z"]).all()
    # Anchored outside the placing's own code (review finding: both sides above share it): each
    # school as the comparison page places it, by its own peer group and funnel.
    for row in comparison.school_verdicts(engine, Scope.everything(), "2024-2025").itertuples():
        page = comparison.compare(engine, Scope.everything(), row.school_id, "2024-2025")
        own = page.funnel.units.set_index("school_key").loc[row.school_id]
        assert (row.latest_month, row.n_peers) == (page.latest_month, len(page.peers.members))
        assert round(row.peer_rate, 1) == page.peer_rate and abs(row.z - own["z"]) <= 0.05 + 1e-9
        assert row.school_rate == pytest.approx(page.school_rate, abs=1e-12)
    with pytest.raises(ValueError):  # another scope's placing is not listed for this one
        comparison.verdicts_within(comparison.placed_schools(engine, Scope.everything(), "2024-2025"), two_regions)
    engine.dispose()


def test_peer_rows_answered_from_a_kept_read_of_more_regions_equal_a_fresh_read_and_a_new_pseudonym_key_reads_afresh(tmp_path):
    """regional_peers keeps each scope's read of a year (a new year on the comparison page reads the
    year before it again); a question about fewer regions is answered from a kept read of more.
    Every scope's answer must equal a fresh read, pseudonyms and withheld schools included, and a
    rotated pseudonym key must never find frames made with the old one."""
    from support import pupil_simulation as simulation
    from lasnaolo import scope as scope_module

    schools, absences, truth = simulation.simulate(simulation.Design(regions=3, schools_per_region=14, seed=7))
    engine = simulation.imported(schools, absences, tmp_path)
    regions = sorted(set(truth["region_code"]))
    first = truth.groupby("region_code")["school_id"].first()
    municipality_of = schools.set_index("school_id")["municipality_code"]
    scopes = [Scope.everything(),
              Scope("director", municipality_codes=frozenset(municipality_of[first[regions[:2]]])),
              Scope("rector", school_ids=frozenset({first[regions[0]]}))]
    for scope in scopes:
        touched = frozenset(queries.schools(engine, scope)["region_code"])
        for year in ("2023-2024", "2024-2025"):
            for region in sorted(touched):
                queries._PEER_ROWS.clear()
                fresh = queries.regional_peers(engine, scope, frozenset({region}), year)
                queries._PEER_ROWS.clear()
                whole = queries.regional_peers(engine, scope, touched, year)
                kept = queries.regional_peers(engine, scope, frozenset({region}), year)
                assert len(queries._PEER_ROWS) == 1  # answered from the kept read of every region
                pd.testing.assert_frame_equal(kept, fresh)
                assert len(whole) > len(kept) or len(touched) == 1
                # The rector's neighbours under pseudonyms (the director's municipalities fill their regions).
                assert kept["school_key"].str.startswith("P").any() == (scope.role == "rector")
    rector = scopes[2]
    before = queries.regional_peers(engine, rector, frozenset(regions[:1]), "2024-2025")
    scope_module.configure_pseudonym_key("another-installation-key-" + "x" * 40)
    try:
        after = queries.regional_peers(engine, rector, frozenset(regions[:1]), "2024-2025")
    finally:
        scope_module.configure_pseudonym_key(None)
    hidden = before["school_key"].str.startswith("P")
    assert not set(before.loc[hidden, "school_key"]) & set(after["school_key"])
    engine.dispose()


def test_one_units_survey_rows_equal_the_scopes_rows_of_that_unit_and_stay_inside_the_scope(demo_engine):
    """The school's wellbeing profile reads its own rows only (the administrator's read of every
    school's survey took 0.8 s of a first visit nationally); the scope still decides."""
    from lasnaolo import accounts, queries
    from lasnaolo.scope import Scope

    director = accounts.demo_accounts(None)["johtaja"].scope()
    mine = sorted(queries.schools(demo_engine, director)["school_id"])[:2]
    surveyed = set(queries.wellbeing(demo_engine, Scope.everything(), unit_type="school")["unit_id"])
    other = sorted(surveyed - set(queries.schools(demo_engine, director)["school_id"]))[0]  # has rows, outside
    for scope in (Scope.everything(), director):
        for unit_type, ids in (("school", mine), ("municipality", ["106"])):
            every = queries.wellbeing(demo_engine, scope, unit_type=unit_type)
            some = queries.wellbeing(demo_engine, scope, unit_type=unit_type, unit_ids=ids)
            expected = every[every["unit_id"].isin(ids)]
            assert len(some) == len(expected) > 0
            pd.testing.assert_frame_equal(some.sort_values(list(some.columns)).reset_index(drop=True),
                                          expected.sort_values(list(some.columns)).reset_index(drop=True))
    assert not queries.wellbeing(demo_engine, Scope.everything(), unit_type="school", unit_ids=[other]).empty
    assert queries.wellbeing(demo_engine, director, unit_type="school", unit_ids=[other]).empty


def test_a_school_missing_a_month_is_incomplete_and_one_too_small_to_show_is_withheld(demo_files, tmp_path):
    """Review finding: a school whose every month was delivered but whose figures are withheld
    (fewer pupils than the threshold) was said to miss a month."""
    from lasnaolo import importer, store

    absences = pd.read_csv(demo_files / "absences.csv", dtype={"school_id": str})
    year = "2024-2025"
    this = absences[absences["school_year"] == year]
    small, gap = sorted(this["school_id"].unique())[:2]
    tiny = (absences["school_id"] == small) & (absences["school_year"] == year)
    grades = absences.loc[tiny, "grade"].unique()
    kept_grade = absences["grade"] == grades[0]
    absences = absences[~tiny | kept_grade]  # the small school: one grade left...
    absences.loc[tiny & kept_grade, ["pupils", "tier1_pupils", "tier2_pupils", "tier3_pupils"]] = [3, 0, 0, 0]  # ...of 3 pupils
    absences = absences[~((absences["school_id"] == gap) & (absences["month"] == "2024-09"))]  # September missing
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("schools.csv", "wellbeing.csv", "measures.csv"):
        (folder / name).write_bytes((demo_files / name).read_bytes())
    absences.to_csv(folder / "absences.csv", index=False)
    engine = store.make_engine(f"sqlite:///{tmp_path / 'lasnaolo.db'}")
    store.init_database(engine)
    importer.import_paths(engine, sorted(folder.glob("*.csv")))
    with pytest.raises(comparison.Withheld):
        comparison.compare(engine, Scope.everything(), small, year)
    with pytest.raises(comparison.Incomplete):
        comparison.compare(engine, Scope.everything(), gap, year)
    # The attention list and the CLI say the same reasons (the list said "a month is missing" for both).
    reasons = comparison.school_verdicts(engine, Scope.everything(), year).set_index("school_id")["not_compared"]
    assert reasons[small] == "withheld" and reasons[gap] == "incomplete"
    assert reasons.isna().sum() > 100  # the others are compared
    engine.dispose()


def test_a_school_with_pupils_but_no_lesson_hours_is_not_said_to_be_too_small(demo_files, tmp_path):
    """Review finding: a missing rate of another cause (no lesson hours) was blamed on too few pupils."""
    from lasnaolo import importer, store

    absences = pd.read_csv(demo_files / "absences.csv", dtype={"school_id": str})
    school = absences.loc[absences["pupils"] > 50, "school_id"].iloc[0]
    first = absences[(absences["school_id"] == school) & (absences["month"] == "2024-08")]
    first = first.assign(school_year="2025-2026", month="2025-08", lesson_hours=0, illness_hours=0,
                         authorised_hours=0, unauthorised_hours=0)
    engine = store.make_engine(f"sqlite:///{tmp_path / 'lasnaolo.db'}")
    store.init_database(engine)
    importer.import_paths(engine, sorted(demo_files.glob("*.csv")))
    first.to_csv(tmp_path / "absences.csv", index=False)
    importer.import_paths(engine, [tmp_path / "absences.csv"])
    with pytest.raises(comparison.NoData) as raised:
        comparison.compare(engine, Scope.everything(), school, "2025-2026")
    assert type(raised.value) is comparison.NoData
    engine.dispose()
