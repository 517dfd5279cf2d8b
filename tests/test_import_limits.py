"""The importer's limits (issue #15, finding 11) on real SQLite and PostgreSQL databases: oversized
headers are refused before the file is parsed, every length and number the database enforces is
checked before writing, control and text-direction characters are refused, each with a located
problem and an unchanged database."""

from __future__ import annotations

import pandas as pd
import pytest

from lasnaolo import contract, importer, store
from lasnaolo.contract import ImportLimits

from support.helpers import ABSENCES, SCHOOLS, files, rejected, snapshot

SCHOOLS_HEADER = "school_id,school_name,municipality_code,school_type,language\n"


def located(problems) -> set[tuple]:
    return {(p.file, p.row, p.column, p.code) for p in problems}


@pytest.fixture
def no_parsing(monkeypatch):
    """Fails the test if the importer hands any file to the CSV parser."""
    def parse(*args, **kwargs):
        raise AssertionError("the file was parsed")
    monkeypatch.setattr(importer.pd, "read_csv", parse)


def test_header_of_100000_columns_is_refused_unparsed_as_a_header_row_without_end(engine, no_parsing):
    header = ",".join(f"c{i}" for i in range(100_000))
    content = (header + "\n" + ",".join("1" for _ in range(100_000)) + "\n").encode()
    problems = rejected(engine, [("absences.csv", content)])
    assert located(problems) == {("absences.csv", 1, None, "header_too_long")}
    assert "4096" in problems[0].reason


def test_header_of_30_short_columns_is_refused_unparsed_as_too_many_columns(engine, no_parsing):
    header = ABSENCES.splitlines()[0] + "," + ",".join(f"x{i}" for i in range(18))
    problems = rejected(engine, [("absences.csv", (header + "\n").encode())])
    assert located(problems) == {("absences.csv", 1, None, "too_many_columns")}
    assert "30 columns; at most 21" in problems[0].reason  # the widest file (absences, 13) plus 8


def test_a_few_extra_columns_within_the_margin_are_still_named_one_by_one(engine):
    header = ABSENCES.splitlines()[0] + ",comment,extra"
    content = header + "\n" + "\n".join(line + ",x,y" for line in ABSENCES.splitlines()[1:]) + "\n"
    problems = rejected(engine, files(absences_csv=content))
    assert {("absences.csv", 1, "comment", "unknown_column"), ("absences.csv", 1, "extra", "unknown_column")} <= located(problems)


def test_school_name_of_20_mb_is_refused_as_too_long_and_the_problem_keeps_only_its_start(engine):
    name = "K" * 20_000_000
    content = SCHOOLS_HEADER + f"00123,{name},091,primary,fi\n04567,Testskola B,049,comprehensive,sv\n"
    problems = rejected(engine, files(schools_csv=content))
    assert located(problems) == {("schools.csv", 2, "school_name", "too_long")}
    assert problems[0].reason == "20000000 characters; at most 200"
    assert len(problems[0].value) <= importer.SHOWN_VALUE_CHARS + 1


@pytest.mark.parametrize("name, code", [
    ('"Koulu\r=1+1"', "control_character"),
    ('"Koulu\n=1+1"', "control_character"),
    ("Koulu\t=1+1", "control_character"),
    ("Koulu\x85", "control_character"),  # C1 (NEL)
    ("Koulu\x1b[31m", "control_character"),  # an ANSI escape for terminals reading the log
    ("\u202eiluok", "bidi_character"),  # RIGHT-TO-LEFT OVERRIDE
    ("Koulu\u2066x\u2069", "bidi_character"),
    ("Koulu\u200f", "bidi_character"),
    ("Koulu\u061c", "bidi_character"),
], ids=["CR", "LF", "tab", "C1-NEL", "ANSI-escape", "RLO", "isolate", "RLM", "ALM"])
def test_school_name_with_a_control_or_text_direction_character_is_refused_at_its_cell(engine, name, code):
    content = SCHOOLS_HEADER + f"00123,{name},091,primary,fi\n04567,Testskola B,049,comprehensive,sv\n"
    problems = rejected(engine, files(schools_csv=content.encode("utf-8")))
    assert located(problems) == {("schools.csv", 2, "school_name", code)}
    assert problems[0].value.startswith(("Koulu", "\\u")) and "\\u" in problems[0].value  # the character is visible
    assert not importer._INVISIBLE.search(problems[0].value)


def test_school_name_with_a_nul_character_is_refused_as_a_binary_file(engine):
    content = SCHOOLS_HEADER + "00123,Koulu\x00,091,primary,fi\n"
    problems = rejected(engine, [("schools.csv", content.encode())])
    assert located(problems) == {("schools.csv", None, None, "binary_file")}


def test_control_character_in_a_numeric_column_is_refused_at_its_cell(engine):
    lines = ABSENCES.splitlines()
    lines[2] = lines[2].replace(",21,", ',"2\t1",')
    problems = rejected(engine, files(absences_csv="\n".join(lines) + "\n"))
    assert located(problems) == {("absences.csv", 3, "pupils", "control_character")}


@pytest.mark.parametrize("kind, content, row, column, code", [
    ("schools", SCHOOLS_HEADER + "0" * 21 + ",Koulu,091,primary,fi\n", 2, "school_id", "too_long"),
    ("schools", SCHOOLS_HEADER + "00123," + "N" * 201 + ",091,primary,fi\n", 2, "school_name", "too_long"),
    ("schools", SCHOOLS_HEADER + "00123,Koulu,0910,primary,fi\n", 2, "municipality_code", "too_long"),
    ("schools", SCHOOLS_HEADER + "00123,Koulu,091,primary,fin\n", 2, "language", "too_long"),
    ("absences", ABSENCES.replace("00123,2024-2025,2024-09,1,20,1680,", "00123,2024-2025,2024-09,1,20,3000000000,", 1),
     2, "lesson_hours", "too_big"),
    ("wellbeing", "unit_type,unit_id,survey_year,grade_group,indicator,respondents,value_pct\n"
                  "municipality," + "9" * 25 + ",2025,4-5,likes_school,900,73.5\n", 2, "unit_id", "too_long"),
    ("wellbeing", "unit_type,unit_id,survey_year,grade_group,indicator,respondents,value_pct\n"
                  "municipality,091,2025,4-5," + "x" * 41 + ",900,73.5\n", 2, "indicator", "too_long"),
    ("measures", "school_id,measure,tier,start,end,fte\n04567," + "m" * 61 + ",1,2024-08-01,,1.0\n", 2, "measure", "too_long"),
    ("measures", "school_id,measure,tier,start,end,fte\n04567,school_coach,1,2024-08-01,,1e999\n", 2, "fte", "not_number"),
], ids=["school_id-21", "school_name-201", "municipality-4", "language-3", "integer-over-32-bit", "unit_id-25",
        "indicator-41", "measure-61", "infinite-fte"])
def test_values_the_database_would_refuse_are_located_in_preview_and_import_and_nothing_is_written(engine, kind, content, row, column, code):
    """On PostgreSQL these used to pass the preview and fail mid-import with a DataError."""
    for dry_run in (True, False):
        problems = rejected(engine, files(**{f"{kind}_csv": content}), dry_run=dry_run)
        assert (f"{kind}.csv", row, column, code) in located(problems), [str(p) for p in problems]


def test_values_exactly_at_the_database_limits_import_and_are_stored_exactly(engine):
    school_id, name = "1" * 20, "N" * 200
    schools = SCHOOLS_HEADER + f"{school_id},{name},091,comprehensive,fi\n"
    absences = (ABSENCES.splitlines()[0] + f"\n{school_id},2024-2025,2024-09,7,{contract.MAX_INTEGER},"
                f"{contract.MAX_INTEGER},0,0,0,0,0,0\n")
    importer.import_files(engine, [("schools.csv", schools.encode()), ("absences.csv", absences.encode())])
    data = snapshot(engine)
    assert (school_id, name, "091", "comprehensive", "fi") in data["school"]
    assert any(r[0] == school_id and r[4] == str(contract.MAX_INTEGER) for r in data["absence"])


def test_every_text_column_is_bounded_by_its_database_column():
    for kind, spec in contract.FILE_SPECS.items():
        table = store.TABLE_OF_KIND[kind]
        for column in spec.columns:
            length = getattr(table.c[column.name].type, "length", None)
            if length is not None:
                assert column.max_length <= length, (kind, column.name)
            assert column.max_length <= 200


def test_file_name_over_the_import_logs_300_characters_is_refused(engine):
    long_name = "a" * 297 + ".csv"
    problems = rejected(engine, [(long_name, SCHOOLS.encode())])
    assert [(p.row, p.code) for p in problems] == [(None, "too_long")]
    assert len(problems[0].file) <= importer.SHOWN_VALUE_CHARS + 1


def test_file_name_with_a_right_to_left_override_is_refused(engine):
    problems = rejected(engine, [("schools\u202ecsv.exe", SCHOOLS.encode())])
    assert [(p.file, p.code) for p in problems] == [("schools\\u202ecsv.exe", "bidi_character")]


def test_files_over_the_upload_total_are_refused_together_before_reading(engine, no_parsing):
    limits = ImportLimits(max_upload_mb=len(SCHOOLS + ABSENCES) / 1024 / 1024)
    problems = rejected(engine, files(), limits=limits)
    assert [(p.row, p.code) for p in problems] == [(None, "upload_too_large")]
    assert "MB together" in problems[0].reason


def test_file_over_the_row_limit_is_refused_before_parsing(engine, no_parsing):
    problems = rejected(engine, [("absences.csv", ABSENCES.encode())], limits=ImportLimits(max_rows=3))
    assert located(problems) == {("absences.csv", None, None, "too_many_rows")}


def test_file_at_the_row_limit_imports(engine):
    importer.import_files(engine, files(), limits=ImportLimits(max_rows=4))
    assert len(snapshot(engine)["absence"]) == 4


def test_quoted_names_with_commas_quotes_and_markdown_import_literally(engine):
    content = SCHOOLS_HEADER + '00123,"Koulu, ""A"" **bold** <img src=x> :red[x]",091,primary,fi\n'
    importer.import_files(engine, [("schools.csv", content.encode())])
    assert ("00123", 'Koulu, "A" **bold** <img src=x> :red[x]', "091", "primary", "fi") in snapshot(engine)["school"]


def test_imported_by_over_the_logs_100_characters_is_refused_before_anything_is_written(engine):
    before = snapshot(engine)
    with pytest.raises(ValueError):
        importer.import_files(engine, files(), imported_by="u" * 101)
    assert snapshot(engine) == before


def test_problem_values_show_control_characters_escaped_and_long_values_cut():
    assert importer.shown("a\u202eb\r\n") == "a\\u202eb\\u000d\\u000a"
    assert importer.shown("x" * 500) == "x" * importer.SHOWN_VALUE_CHARS + "…"
    assert importer.shown(None) is None


def test_problems_table_of_the_upload_page_shows_no_raw_control_characters(engine):
    from lasnaolo.ui import upload

    content = SCHOOLS_HEADER + "00123,\u202eKoulu,091,primary,fi\n"
    with pytest.raises(importer.ImportRejected) as caught:
        importer.import_files(engine, [("schools.csv", content.encode())], dry_run=True)
    table = upload.problems_table(caught.value.problems.items)
    assert not any(importer._INVISIBLE.search(str(v)) for v in table.to_numpy().ravel() if isinstance(v, str))
    assert isinstance(table, pd.DataFrame) and len(table) == 1


def test_a_ragged_row_after_a_field_over_the_csv_modules_limit_is_a_located_problem_not_a_crash(engine):
    content = SCHOOLS_HEADER + "00123," + "K" * 200_000 + ",091,primary,fi\n04567,x,049,comprehensive,sv,extra\n"
    problems = rejected(engine, [("schools.csv", content.encode())])
    assert located(problems) == {("schools.csv", 2, None, "unreadable_row")}
