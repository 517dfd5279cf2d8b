"""The data page (Streamlit AppTest) with the importer's limits: a hostile upload is explained in
the user's language, located, shown without its control characters, and nothing is written."""

from __future__ import annotations

from support.helpers import SCHOOLS, snapshot
from test_app import admin_on_data_page, empty_db, main_uploader, visible_text  # noqa: F401 (fixture)

SCHOOLS_HEADER = SCHOOLS.splitlines()[0]


def check(at, uploads):
    main_uploader(at).set_value([(name, content, "text/csv") for name, content in uploads]).run()
    [button] = [b for b in at.button if b.label == "Tarkista tiedostot"]
    button.click().run()
    assert not at.exception


def test_a_right_to_left_override_and_a_20_mb_name_are_located_in_finnish_and_nothing_is_written(empty_db):
    at = admin_on_data_page()
    before = snapshot(empty_db)
    content = f"{SCHOOLS_HEADER}\n00123,\u202eiluok,091,primary,fi\n04567,{'K' * 20_000_000},049,comprehensive,sv\n"
    check(at, [("schools.csv", content.encode())])
    assert "2 ongelmaa – mitään ei tallennettu" in visible_text(at)
    problems = at.dataframe[0].value
    assert problems.iloc[0].to_dict() == {
        "Tiedosto": "schools.csv", "Rivi": 2, "Sarake": "school_name", "Arvo": "\\u202eiluok",
        "Syy": "sisältää näkymättömän tekstin suuntaa muuttavan merkin (esim. U+202E), näytetty muodossa \\uXXXX"}
    assert problems.iloc[1]["Syy"] == "20000000 merkkiä; enintään 200" and len(problems.iloc[1]["Arvo"]) == 101
    assert not [b for b in at.button if b.label == "Tuo tiedot tietokantaan"]
    assert snapshot(empty_db) == before


def test_a_header_of_100000_columns_is_refused_with_one_located_problem(empty_db):
    at = admin_on_data_page()
    header = ",".join(f"c{i}" for i in range(100_000))
    check(at, [("absences.csv", (header + "\n").encode())])
    problems = at.dataframe[0].value
    assert len(problems) == 1
    assert problems.iloc[0][["Tiedosto", "Rivi"]].tolist() == ["absences.csv", 1]
    assert "4096" in problems.iloc[0]["Syy"]
