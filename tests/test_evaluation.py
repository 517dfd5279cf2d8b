"""Self-evaluation of the attendance model: who may record what, append-only history, invalid
input rejected whole, and the implementation profile next to hand-computed absence figures."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from lasnaolo import charts, contract, evaluation, export, importer, queries
from lasnaolo.evaluation import Assessment, InvalidAssessment
from lasnaolo.queries import NotAllowed
from lasnaolo.scope import Scope, Unit

from support.helpers import ABSENCES, files, snapshot

# The helpers' 2024-2025 rows, and school 00123's autumn a year earlier; November 2023 lies past
# the point 2024-2025 has reached (October), so it must not count in the comparison.
PREVIOUS_YEAR = """00123,2023-2024,2023-09,1,20,1680,50,10,0,3,1,0
00123,2023-2024,2023-10,1,20,1512,70,20,4,3,1,0
00123,2023-2024,2023-11,1,20,1600,200,0,0,3,1,0
"""
HELSINKI, ESPOO = "091", "049"
RECTOR = Scope("rector", school_ids=frozenset({"00123"}))
STEERING = Scope("steering_group", municipality_codes=frozenset({HELSINKI}))
DIRECTOR = Scope("director", municipality_codes=frozenset({HELSINKI}))
ALL = [Assessment(code, 2, f"{code} aloitettu") for code in contract.RECOMMENDATIONS]


@pytest.fixture
def loaded(engine):
    importer.import_files(engine, files(absences_csv=ABSENCES + PREVIOUS_YEAR))
    return engine


def self_evaluation_rows(engine) -> list[tuple]:
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT * FROM self_evaluation ORDER BY id").fetchall()


def test_a_rector_records_the_own_school_and_nothing_else(loaded):
    assert evaluation.record(loaded, RECTOR, "rehtori", Unit("school", "00123"), "2024-2025", ALL) == 7
    for unit in (Unit("school", "04567"), Unit("municipality", HELSINKI)):
        with pytest.raises(NotAllowed):
            evaluation.record(loaded, RECTOR, "rehtori", unit, "2024-2025", ALL)
    assert len(self_evaluation_rows(loaded)) == 7


def test_a_steering_group_records_its_municipality_and_its_schools_only(loaded):
    assert evaluation.record(loaded, STEERING, "olli", Unit("municipality", HELSINKI), "2024-2025", ALL[:2]) == 2
    assert evaluation.record(loaded, STEERING, "olli", Unit("school", "00123"), "2024-2025", ALL[:1]) == 1
    for unit in (Unit("school", "04567"), Unit("municipality", ESPOO)):
        with pytest.raises(NotAllowed):
            evaluation.record(loaded, STEERING, "olli", unit, "2024-2025", ALL)
    with pytest.raises(NotAllowed):  # directors read, the steering group records
        evaluation.record(loaded, DIRECTOR, "johtaja", Unit("municipality", HELSINKI), "2024-2025", ALL)
    assert len(self_evaluation_rows(loaded)) == 3
    assert set(evaluation.current(loaded, DIRECTOR, "2024-2025")["unit_code"]) == {HELSINKI, "00123"}
    with pytest.raises(NotAllowed):
        evaluation.current(loaded, Scope("coordinator"), "2024-2025")


def test_history_is_kept_and_only_changes_are_appended(loaded):
    unit = Unit("school", "00123")
    evaluation.record(loaded, RECTOR, "anna", unit, "2024-2025", ALL)
    assert evaluation.record(loaded, RECTOR, "anna", unit, "2024-2025", ALL) == 0  # nothing changed
    changed = [Assessment("staff_competence", 3, "koulutus pidetty"), *[a for a in ALL if a.recommendation != "staff_competence"]]
    assert evaluation.record(loaded, RECTOR, "ben", unit, "2024-2025", changed) == 1
    now = evaluation.current(loaded, RECTOR, "2024-2025").set_index("recommendation")
    assert len(now) == 7 and now.at["staff_competence", "score"] == 3 and now.at["staff_competence", "recorded_by"] == "ben"
    assert now.at["operating_model", "score"] == 2
    history = evaluation.history(loaded, RECTOR, unit)
    competence = history[history["recommendation"] == "staff_competence"]
    assert list(competence["score"]) == [3, 2] and list(competence["note"]) == ["koulutus pidetty", "staff_competence aloitettu"]
    assert len(history) == 8
    with pytest.raises(NotAllowed):
        evaluation.history(loaded, RECTOR, Unit("school", "04567"))



def test_current_assessments_and_history_hold_only_the_units_the_scope_reads(loaded):
    everyone = Scope.everything()
    for unit in (Unit("municipality", HELSINKI), Unit("school", "00123"), Unit("municipality", ESPOO), Unit("school", "04567")):
        evaluation.record(loaded, everyone, "admin", unit, "2024-2025", ALL[:2])
    other_year = [Assessment(code, 4, "toinen vuosi") for code in contract.RECOMMENDATIONS[:2]]
    evaluation.record(loaded, everyone, "admin", Unit("school", "00123"), "2023-2024", other_year)

    def units(scope):
        return set(zip(*evaluation.current(loaded, scope, "2024-2025")[["unit_level", "unit_code"]].T.values))

    assert units(everyone) == {("municipality", HELSINKI), ("school", "00123"), ("municipality", ESPOO), ("school", "04567")}
    assert units(DIRECTOR) == {("municipality", HELSINKI), ("school", "00123")}
    assert units(RECTOR) == {("school", "00123")}  # not the municipality's own records
    mine = evaluation.current(loaded, RECTOR, "2024-2025")  # the other year's newer rows left out
    assert list(mine["school_year"]) == ["2024-2025"] * 2 and set(mine["score"]) == {2}
    assert set(evaluation.current(loaded, RECTOR, "2023-2024")["score"]) == {4}
    assert len(evaluation.history(loaded, RECTOR, Unit("school", "00123"))) == 4
    assert len(evaluation.history(loaded, DIRECTOR, Unit("municipality", HELSINKI))) == 2
    for scope, unit in ((RECTOR, Unit("municipality", HELSINKI)), (RECTOR, Unit("school", "04567")),
                        (DIRECTOR, Unit("municipality", ESPOO)), (DIRECTOR, Unit("school", "04567"))):
        with pytest.raises(NotAllowed):
            evaluation.history(loaded, scope, unit)
    for read in (lambda: evaluation.current(loaded, Scope("coordinator"), "2024-2025"),
                 lambda: evaluation.history(loaded, Scope("coordinator"), Unit("school", "00123"))):
        with pytest.raises(NotAllowed):  # anonymised: no unit's own records
            read()

@pytest.mark.parametrize("bad, field", [
    (Assessment("staff_competence", 5), "score"),
    (Assessment("staff_competence", 0), "score"),
    (Assessment("more_money", 2), "recommendation"),
    (Assessment("operating_model", 3), "recommendation"),  # given twice
    (Assessment("staff_competence", 2, "x" * (contract.EVALUATION_NOTE_MAX + 1)), "note"),
])
def test_an_invalid_assessment_rejects_the_whole_save(loaded, bad, field):
    before = snapshot(loaded), self_evaluation_rows(loaded)
    with pytest.raises(InvalidAssessment) as rejected:
        evaluation.record(loaded, RECTOR, "anna", Unit("school", "00123"), "2024-2025", [ALL[0], bad])
    assert rejected.value.field == field and rejected.value.recommendation == bad.recommendation
    assert (snapshot(loaded), self_evaluation_rows(loaded)) == before


def test_the_profile_puts_scores_next_to_hand_computed_absence(loaded):
    unassessed = evaluation.profile(loaded, STEERING, "2024-2025", HELSINKI)
    assert len(unassessed) == 2 and unassessed["mean_score"].isna().all()
    assert unassessed["absence_rate"].notna().all()
    evaluation.record(loaded, STEERING, "olli", Unit("school", "00123"), "2024-2025",
                      [Assessment("operating_model", 4), Assessment("staff_competence", 1)])
    profile = evaluation.profile(loaded, STEERING, "2024-2025", HELSINKI).set_index(["unit_level", "unit_code"])
    school = profile.loc[("school", "00123")]
    # 2024-2025 through October: (60+20+4 + 90+30+6) / (1680+1512); a year earlier the same two
    # months: (50+10+0 + 70+20+4) / (1680+1512); November 2023 is left out.
    assert school["absence_rate"] == pytest.approx(210 / 3192 * 100)
    assert school["absence_rate_previous"] == pytest.approx(154 / 3192 * 100)
    assert school["absence_change"] == pytest.approx((210 - 154) / 3192 * 100)
    assert school["tier23_share"] == pytest.approx((2 + 1) / 21 * 100)  # the latest month's pupils
    assert school["operating_model"] == 4 and school["staff_competence"] == 1 and pd.isna(school["home_school_cooperation"])
    assert school["mean_score"] == pytest.approx(2.5)
    assert set(profile.index) == {("municipality", HELSINKI), ("school", "00123")}  # Espoo is outside
    assert pd.isna(profile.loc[("municipality", HELSINKI), "mean_score"])
    with pytest.raises(NotAllowed):
        evaluation.profile(loaded, RECTOR, "2024-2025")
    with pytest.raises(NotAllowed):
        evaluation.profile(loaded, STEERING, "2024-2025", ESPOO)


def test_without_a_municipality_the_profile_has_one_row_per_municipality(loaded):
    evaluation.record(loaded, Scope.everything(), "admin", Unit("municipality", ESPOO), "2024-2025",
                      [Assessment("staff_competence", 4)])
    profile = evaluation.profile(loaded, Scope.everything(), "2024-2025").set_index("unit_code")
    assert list(profile["unit_level"]) == ["municipality", "municipality"]
    assert profile.at[ESPOO, "staff_competence"] == 4 and pd.isna(profile.at[HELSINKI, "mean_score"])
    # Espoo's one school, 2024-09 only: (150+60+40 + 40+0+0) / (3780+378)
    assert profile.at[ESPOO, "absence_rate"] == pytest.approx(290 / 4158 * 100)
    assert profile.at[HELSINKI, "absence_rate"] == pytest.approx(210 / 3192 * 100)


def test_the_welfare_report_workbook_holds_the_profile_and_the_notes(loaded):
    evaluation.record(loaded, STEERING, "olli", Unit("municipality", HELSINKI), "2024-2025",
                      [Assessment("unified_monitoring", 3, "=HYPERLINK(\"x\")")])
    profile = charts.evaluation_profile_table(evaluation.profile(loaded, STEERING, "2024-2025", HELSINKI), "fi")
    names = dict(zip(*queries.schools(loaded, STEERING)[["school_id", "school_name"]].T.values))
    notes = charts.evaluation_notes_table(evaluation.current(loaded, STEERING, "2024-2025"), names, "fi")
    book = openpyxl.load_workbook(io.BytesIO(export.workbook_xlsx({"Toteutumisprofiili": profile, "Perustelut": notes})))
    assert book.sheetnames == ["Toteutumisprofiili", "Perustelut"]
    rows = list(book["Toteutumisprofiili"].values)
    header = rows[0]
    helsinki = next(r for r in rows[1:] if r[0] == "Helsinki")
    assert helsinki[header.index("Yhtenäinen seuranta ja tilastointi hyvinvointityön suunnittelussa")] == 3
    note_rows = list(book["Perustelut"].values)
    assert note_rows[1][note_rows[0].index("Perustelu")] == "'=HYPERLINK(\"x\")"  # never run as a formula


def test_the_data_version_grows_with_a_self_evaluation(loaded):
    before = queries.data_version(loaded)
    evaluation.record(loaded, RECTOR, "anna", Unit("school", "00123"), "2024-2025", ALL[:1])
    assert queries.data_version(loaded) > before


def test_a_scope_whose_municipalities_have_no_schools_yet_gets_an_empty_profile_not_an_error(loaded):
    """A municipality on the account with nothing imported for it yet (review: the empty frame's
    codes were numbers, and merging them with the scores' text failed)."""
    nothing_yet = Scope("director", municipality_codes=frozenset({"837"}))  # Tampere: no school in this data
    profile = evaluation.profile(loaded, nothing_yet, "2024-2025")
    assert profile.empty and "mean_score" in profile.columns
