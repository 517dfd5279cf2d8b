"""Role × data: every query returns only rows inside the user's scope; coordinators receive only
pseudonymised, suppressed aggregates; administrator-only reads refuse everyone else."""

from __future__ import annotations

import pandas as pd
import pytest

from lasnaolo import accounts, queries, reports
from lasnaolo.contract import SuppressionPolicy
from lasnaolo.scope import DELIVERIES, IMPACT, PEERS, PROFILES, Scope, Unit, pseudonym


@pytest.fixture(scope="module")
def all_schools(demo_engine):
    return queries.schools(demo_engine, Scope.everything())


def demo_accounts(all_schools):
    hyvinkaa = all_schools[all_schools["municipality_code"] == accounts.DEMO_MUNICIPALITY]
    return accounts.demo_accounts(str(hyvinkaa["school_id"].iloc[0]))


def expected_school_ids(account, all_schools) -> set[str]:
    if account.role == "admin":
        return set(all_schools["school_id"])
    if account.role == "rector":
        return {account.school}
    return set(all_schools.loc[all_schools["municipality_code"].isin(account.municipalities), "school_id"])


@pytest.mark.parametrize("username", ["admin", "johtaja", "rehtori", "ohjausryhma", "koordinaattori"])
def test_every_query_keeps_to_the_scope(demo_engine, all_schools, username):
    account = demo_accounts(all_schools)[username]
    scope = account.scope()
    allowed = expected_school_ids(account, all_schools)
    as_seen = {pseudonym(s, PROFILES) for s in allowed} if scope.anonymised else allowed
    assert 0 < len(allowed) < len(all_schools) or username == "admin"

    assert set(queries.schools(demo_engine, scope)["school_id"]) == as_seen
    by_school = queries.absence_totals(demo_engine, scope, school_years=["2024-2025"], by=["school_id"])
    assert set(by_school["school_id"]) == as_seen
    deliveries = {pseudonym(s, DELIVERIES) for s in allowed} if scope.anonymised else allowed
    assert set(queries.latest_months_by_school(demo_engine, scope, "2024-2025")["school_id"]) == deliveries
    survey = queries.wellbeing(demo_engine, scope, unit_type="school")
    assert set(survey["unit_id"]) <= as_seen and not survey.empty

    # The whole scope's totals are exactly the sum over the allowed schools.
    admin_rows = queries.absence_totals(demo_engine, Scope.everything(), school_years=["2024-2025"], by=["school_id"])
    expected = admin_rows[admin_rows["school_id"].isin(allowed)]["lesson_hours"].sum()
    totals = queries.absence_totals(demo_engine, scope, school_years=["2024-2025"])
    assert totals["lesson_hours"].sum() == expected


def test_rectors_reach_no_other_school(demo_engine, all_schools):
    rector = demo_accounts(all_schools)["rehtori"]
    other = all_schools.loc[all_schools["school_id"] != rector.school, "school_id"].iloc[0]
    with pytest.raises(reports.UnknownUnit):
        reports.unit_report(demo_engine, rector.scope(), Unit("school", other), "2024-2025")
    with pytest.raises(reports.UnknownUnit):
        reports.unit_report(demo_engine, rector.scope(), Unit("municipality", "091"), "2024-2025")
    own = reports.unit_report(demo_engine, rector.scope(), Unit("school", rector.school), "2024-2025")
    assert own.figures.lesson_hours > 0


def test_coordinators_get_pseudonyms_and_no_names(demo_engine, all_schools):
    scope = demo_accounts(all_schools)["koordinaattori"].scope()
    schools = queries.schools(demo_engine, scope)
    assert schools["school_name"].isna().all()
    assert not set(schools["school_id"]) & set(all_schools["school_id"])
    survey = queries.wellbeing(demo_engine, scope, unit_type="school")
    policy = SuppressionPolicy()
    assert survey.loc[survey["respondents"] < policy.min_respondents, "value_pct"].isna().all()
    assert survey.loc[survey["respondents"] >= policy.min_respondents, "value_pct"].notna().all()


def test_coordinators_school_rows_withhold_a_small_grade_and_a_complement_in_the_same_school(engine):
    """Hand-made data: in 2024-09 school 04567 grade 8 has 3 pupils (withheld); its school's other
    cell, grade 7, is withheld too, so that the school's total cannot reveal grade 8. School 00123
    (one grade of 20 pupils) is shown; so is October's single cell of 21 pupils."""
    from lasnaolo import importer

    from support.helpers import files

    importer.import_files(engine, files())
    scope = Scope("coordinator", region_codes=frozenset({"01"}))
    rows = queries.absence_totals(engine, scope, by=["school_id", "grade"]).set_index(["month", "school_id", "grade"])
    september = rows.loc["2024-09"]
    assert september["suppressed"].to_dict() == {
        (pseudonym("00123", PROFILES), 1): False, (pseudonym("04567", PROFILES), 7): True, (pseudonym("04567", PROFILES), 8): True}
    assert september.loc[(pseudonym("00123", PROFILES), 1), "lesson_hours"] == 1680
    assert september.loc[[(pseudonym("04567", PROFILES), 7), (pseudonym("04567", PROFILES), 8)], "lesson_hours"].isna().all()
    assert rows.loc[("2024-10", pseudonym("00123", PROFILES), 1), "pupils"] == 21
    # The administrator sees every cell with its numbers.
    admin = queries.absence_totals(engine, Scope.everything(), by=["school_id", "grade"])
    assert admin["lesson_hours"].notna().all() and "suppressed" not in admin


@pytest.mark.parametrize("role", ["director", "rector", "steering_group", "coordinator"])
def test_administrator_reads_refuse_other_roles(demo_engine, role):
    scope = Scope(role, municipality_codes=frozenset({"106"}))
    with pytest.raises(queries.NotAllowed):
        queries.import_log(demo_engine, scope)
    with pytest.raises(queries.NotAllowed):
        queries.stored_rows(demo_engine, scope, "absences")


def test_stored_data_download_reimports_unchanged(demo_engine, tmp_path):
    import io
    import zipfile

    from lasnaolo import export, importer, store

    archive = zipfile.ZipFile(io.BytesIO(export.stored_data_zip(demo_engine, Scope.everything())))
    assert sorted(archive.namelist()) == ["absences.csv", "measures.csv", "schools.csv", "wellbeing.csv"]
    files = [(name, archive.read(name)) for name in archive.namelist()]
    summary = importer.import_files(demo_engine, files, dry_run=True)
    assert all(f.inserted == f.replaced == 0 and f.unchanged == f.rows_in_file > 0 for f in summary.files)
    copy = store.make_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    store.init_database(copy)
    importer.import_files(copy, files)
    pd.testing.assert_frame_equal(queries.schools(copy, Scope.everything()), queries.schools(demo_engine, Scope.everything()))


def test_a_school_has_a_different_pseudonym_in_every_kind_of_view(all_schools):
    """Peers, risk profiles, impact lists and delivery lists key their pseudonyms apart, so what one
    page shows beside a pseudonym cannot be joined to what another shows."""
    for school_id in all_schools["school_id"]:
        shown = [pseudonym(school_id, purpose) for purpose in ("", PEERS, PROFILES, IMPACT, DELIVERIES)]
        assert len(set(shown)) == 5
    with pytest.raises(ValueError):
        pseudonym("00123", "somewhere")

