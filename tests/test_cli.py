"""The command line end to end: demo files -> import -> report, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lasnaolo import cli, reference

from support.helpers import snapshot


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def expected_report(absences: pd.DataFrame, school_ids: list[str], year: str) -> dict:
    """The report figures computed directly from the CSV, independently of lasnaolo.metrics."""
    rows = absences[absences["school_id"].isin(school_ids) & (absences["school_year"] == year)]
    latest = rows[rows["month"] == rows["month"].max()]
    lessons = rows["lesson_hours"].sum()
    hours = {c: int(rows[f"{c}_hours"].sum()) for c in ("illness", "authorised", "unauthorised")}
    pupils = int(latest["pupils"].sum())
    return {
        "pupils": pupils,
        "lesson_hours": int(lessons),
        **{f"{c}_hours": h for c, h in hours.items()},
        "absence_rate": sum(hours.values()) / lessons * 100,
        **{f"{c}_rate": h / lessons * 100 for c, h in hours.items()},
        **{f"tier{t}_share": latest[f"tier{t}_pupils"].sum() / pupils * 100 for t in (1, 2, 3)},
    }


def test_demo_import_report_round_trip(engine, demo_files, capsys):
    db = url_of(engine)
    code, out, _ = run(capsys, "import", *[str(p) for p in sorted(demo_files.glob("*.csv"))], "--db", db)
    assert code == 0 and out.startswith("imported ")
    absences = pd.read_csv(demo_files / "absences.csv", dtype={"school_id": str})
    schools = pd.read_csv(demo_files / "schools.csv", dtype={"school_id": str, "municipality_code": str})

    code, out, _ = run(capsys, "report", "--municipality", "106", "--year", "2024-2025", "--db", db, "--json")
    assert code == 0
    report = json.loads(out)
    expected = expected_report(absences, schools.loc[schools.municipality_code == "106", "school_id"].tolist(), "2024-2025")
    assert report["unit"] == "municipality:106" and report["school_year"] == "2024-2025"
    assert report["suppressed"] == []
    for key, value in expected.items():
        assert report[key] == pytest.approx(value, rel=1e-12), key

    uusimaa = schools.loc[schools.municipality_code.isin(reference.municipalities_of_region("01")), "school_id"].tolist()
    code, out, _ = run(capsys, "report", "--region", "01", "--year", "2023-2024", "--db", db, "--json")
    report = json.loads(out)
    for key, value in expected_report(absences, uusimaa, "2023-2024").items():
        assert report[key] == pytest.approx(value, rel=1e-12), key

    school = schools["school_id"].iloc[0]
    code, out, _ = run(capsys, "report", "--school", school, "--year", "2022-2023", "--db", db)
    assert code == 0 and "absence_rate" in out and "2022–2023" in out


def test_report_of_a_33_pupil_school_withholds_nothing_and_a_municipality_rate_matches_the_files(engine, capsys):
    from lasnaolo import importer

    from support.helpers import files

    importer.import_files(engine, files())
    code, out, _ = run(capsys, "report", "--school", "04567", "--year", "2024-2025", "--db", url_of(engine), "--json")
    report = json.loads(out)
    assert report["pupils"] == 33 and report["suppressed"] == []
    code, out, _ = run(capsys, "report", "--municipality", "049", "--year", "2024-2025", "--db", url_of(engine), "--json")
    assert json.loads(out)["absence_rate"] == pytest.approx(290 / 4158 * 100)


def test_report_of_unknown_unit_or_bad_year_exits_2(engine, capsys):
    code, _, err = run(capsys, "report", "--school", "nope", "--year", "2024-2025", "--db", url_of(engine))
    assert code == 2 and "nope" in err
    code, _, err = run(capsys, "report", "--school", "nope", "--year", "2024", "--db", url_of(engine))
    assert code == 2 and "school year" in err


def test_import_of_bad_file_exits_2_with_located_problems_and_writes_nothing(engine, tmp_path, capsys):
    from support.helpers import ABSENCES, SCHOOLS

    (tmp_path / "schools.csv").write_text(SCHOOLS)
    bad = ABSENCES.replace(",20,1680,", ",-20,1680,").replace("04567,2024-2025,2024-09,8,", "04567,2024-2025,2024-09,8x,")
    (tmp_path / "absences.csv").write_text(bad)
    before = snapshot(engine)
    code, out, err = run(capsys, "import", str(tmp_path / "schools.csv"), str(tmp_path / "absences.csv"),
                         "--db", url_of(engine), "--max-problems", "1")
    assert code == 2 and out == ""
    assert "rejected: 2 problem(s)" in err
    assert "absences.csv, row 2, column pupils, value '-20': must not be negative" in err
    assert "... and 1 more problems" in err
    assert snapshot(engine) == before


def test_demo_command_writes_every_file_and_the_truth(tmp_path, capsys):
    code, out, _ = run(capsys, "demo", "--out", str(tmp_path), "--seed", "7")
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["absences.csv", "measures.csv", "schools.csv", "truth.json", "wellbeing.csv"]
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["seed"] == 7 and truth["coach_effect"]["points"] < 0


def test_compare_command_agrees_with_the_comparison_page_and_rejects_bad_input(demo_engine, capsys):
    from lasnaolo import comparison
    from lasnaolo.scope import Scope

    db = url_of(demo_engine)
    code, out, _ = run(capsys, "compare", "--municipality", "106", "--year", "2024-2025", "--db", db, "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["school_id"] for r in rows] == sorted(r["school_id"] for r in rows) and len(rows) >= 3
    assert set(rows[0]) == set(cli.COMPARE_FIELDS)
    agreed = 0
    for row in rows:
        page = comparison.compare(demo_engine, Scope.everything(), row["school_id"], "2024-2025")
        if page.latest_month != row["latest_month"]:
            continue  # the page compares up to the school's own latest month, the command the region's
        agreed += 1
        z = page.funnel.units.set_index("school_key").at[row["school_id"], "z"]
        assert row["peer_rate"] == pytest.approx(page.peer_rate, abs=0.05)
        side = "higher" if z > 0 else "lower"
        assert row["verdict"] == (side if page.verdict in (side, f"maybe_{side}") else "within")
        assert row["verdict_998"] == (side if page.verdict == side else "within")
        assert row["lower_95"] < row["peer_rate"] < row["upper_95"] and row["lower_998"] < row["lower_95"]
        assert row["change_low"] < row["change_points"] < row["change_high"]
    assert agreed >= 3
    code, _, err = run(capsys, "compare", "--school", "99999", "--year", "2024-2025", "--db", db)
    assert code == 2 and "no school '99999'" in err
    code, _, err = run(capsys, "compare", "--year", "2024-25", "--db", db)
    assert code == 2 and "not a school year" in err


def test_report_withholds_every_figure_of_a_school_of_three_pupils_in_json_and_in_words(engine, capsys):
    from lasnaolo import importer

    importer.import_files(engine, [
        ("schools.csv", b"school_id,school_name,municipality_code,school_type,language\n00777,Pikkukoulu,091,primary,fi\n"),
        ("absences.csv", b"school_id,school_year,month,grade,pupils,lesson_hours,illness_hours,authorised_hours,"
                         b"unauthorised_hours,tier1_pupils,tier2_pupils,tier3_pupils\n"
                         b"00777,2024-2025,2024-09,1,3,252,30,0,0,1,1,0\n")])
    code, out, _ = run(capsys, "report", "--school", "00777", "--year", "2024-2025", "--db", url_of(engine), "--json")
    report = json.loads(out)
    assert code == 0 and report["absence_rate"] is None and report["pupils"] is None
    assert set(report["suppressed"]) >= {"absence_rate", "pupils", "tier1_share", "unauthorised_rate"}
    code, out, _ = run(capsys, "report", "--school", "00777", "--year", "2024-2025", "--db", url_of(engine))
    assert code == 0 and "suppressed" in out and "11.90" not in out  # 30 / 252 would be 11.90 %


def test_an_import_computes_again_the_page_results_asked_before_it_and_results_clear_deletes_them(engine, demo_files, capsys):
    from sqlalchemy import select

    from lasnaolo import queries, reports, results
    from lasnaolo.scope import Scope
    from lasnaolo.store import ComputedResult

    db = url_of(engine)
    assert run(capsys, "import", str(demo_files / "schools.csv"), str(demo_files / "absences.csv"), "--db", db)[0] == 0
    before = results.import_version(engine)
    results.computed(engine, before, "lasnaolo.reports.overview", Scope.everything(), ("2024-2025",),
                     lambda: reports.overview(engine, Scope.everything(), "2024-2025"))
    code, out, _ = run(capsys, "import", str(demo_files / "measures.csv"), "--db", db)
    assert code == 0 and "computed again for the new data: 1 result(s)" in out
    with engine.connect() as connection:
        versions = connection.execute(select(ComputedResult.data_version)).scalars().all()
    assert versions == [".".join(map(str, results.import_version(engine)))]
    code, out, _ = run(capsys, "results", "--db", db)
    assert code == 0 and out.startswith("1 kept result(s), ")
    code, out, _ = run(capsys, "results", "--clear", "--db", db)
    assert code == 0 and out == "deleted 1 kept result(s)\n"
    assert results.kept(engine) == (0, 0)
