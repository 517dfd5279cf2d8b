"""Pupil-level absence aggregated to the contract (issue 19): the figures against an independent
day-by-day computation, the decree's lesson hours, and located problems that never name a pupil."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

import pandas as pd
import pytest

from lasnaolo import contract, pupils

YEAR = "2024-2025"
CALENDAR = pd.DataFrame([
    ("term", date(2024, 8, 8), date(2024, 12, 21)),
    ("holiday", date(2024, 10, 14), date(2024, 10, 18)),  # syysloma
    ("term", date(2025, 1, 7), date(2025, 5, 31)),
    ("holiday", date(2025, 2, 24), date(2025, 2, 28)),  # talviloma
    ("holiday", date(2025, 4, 18), date(2025, 4, 21)),  # pääsiäinen
    ("school_day", date(2024, 9, 28), date(2024, 9, 28)),  # a Saturday school day
], columns=["kind", "start", "end"]).assign(school_year=YEAR)


def synthetic(seed: int = 3, size: int = 60):
    """A roster of two schools (grades 1, 7, 8; some pupils move school or leave mid-year) and
    random markings on school days."""
    rng = random.Random(seed)
    days = pupils.school_days(CALENDAR, YEAR, "00001")
    roster, marks = [], []
    for n in range(size):
        pupil, grade = f"oppilas-{n:03d}", rng.choice([1, 7, 8])
        school = rng.choice(["00001", "00002"])
        if n % 10 == 0:  # moves to the other school on a January day
            move = date(2025, 1, 20)
            roster.append((pupil, school, grade, None, move - timedelta(1)))
            roster.append((pupil, "00002" if school == "00001" else "00001", grade, move, None))
        elif n % 10 == 1:  # arrives in October
            roster.append((pupil, school, grade, date(2024, 10, 21), None))
        else:
            roster.append((pupil, school, grade, None, None))
        propensity = rng.choice([0.0, 0.02, 0.05, 0.12, 0.3])
        first = date(2024, 10, 21) if n % 10 == 1 else date(2024, 8, 1)
        for day in days:
            if day >= first and rng.random() < propensity:
                marks.append((pupil, day, rng.choice([1, 2, 6]), rng.choice(pupils.CATEGORIES)))
    roster = pd.DataFrame(roster, columns=["pupil", "school_id", "grade", "start", "end"])
    marks = pd.DataFrame(marks, columns=["pupil", "date", "hours", "category"])
    return (roster.assign(file="oppilaat.csv", row=range(2, len(roster) + 2)),
            marks.assign(file="poissaolot.csv", row=range(2, len(marks) + 2)))


def by_hand(roster: pd.DataFrame, marks: pd.DataFrame) -> dict:
    """The same figures day by day, pupil by pupil, written as plainly as possible."""
    days = pupils.school_days(CALENDAR, YEAR, "any")
    month_end = {}
    for day in days:
        month_end[day.strftime("%Y-%m")] = day  # the last school day of each month
    absent = defaultdict(float)
    for pupil, day, hours, category in marks[["pupil", "date", "hours", "category"]].itertuples(index=False):
        absent[(pupil, day, category)] += hours
    cells = defaultdict(lambda: defaultdict(float))
    so_far_scheduled, so_far_absent = defaultdict(float), defaultdict(float)
    for day in days:
        for pupil, school, grade, start, end in roster[["pupil", "school_id", "grade", "start", "end"]].itertuples(index=False):
            start = start if isinstance(start, date) else date(2024, 8, 1)
            end = end if isinstance(end, date) else date(2025, 7, 31)
            if not start <= day <= end:
                continue
            cell = cells[(school, day.strftime("%Y-%m"), grade)]
            weekly = {1: 20, 7: 30, 8: 29}[grade]  # VNA 112/2023, in force from 1.8.2024
            cell["lesson_hours"] += weekly / 5
            so_far_scheduled[pupil] += weekly / 5
            for category in pupils.CATEGORIES:
                cell[f"{category}_hours"] += absent[(pupil, day, category)]
                so_far_absent[pupil] += absent[(pupil, day, category)]
            if day == month_end[day.strftime("%Y-%m")]:
                share = so_far_absent[pupil] / so_far_scheduled[pupil] * 100
                cell["pupils"] += 1
                cell["tier1_pupils"] += 5 <= share < 10
                cell["tier2_pupils"] += 10 <= share <= 20
                cell["tier3_pupils"] += share > 20
                cell["pupil_share_squares"] += share ** 2
    return cells


def test_aggregates_equal_a_day_by_day_computation_pupil_by_pupil():
    roster, marks = synthetic()
    assert pupils.problems_in(roster, marks, CALENDAR, YEAR) == []
    rows = pupils.aggregate(roster, marks, CALENDAR, YEAR)
    expected = by_hand(roster, marks)
    assert len(rows) == len(expected) and list(rows.columns) == [c.name for c in contract.ABSENCES.columns]
    for row in rows.itertuples(index=False):
        cell = expected[(row.school_id, row.month, row.grade)]
        assert row.lesson_hours == round(cell["lesson_hours"])
        for column in ("illness_hours", "authorised_hours", "unauthorised_hours", "pupils",
                       "tier1_pupils", "tier2_pupils", "tier3_pupils"):
            assert getattr(row, column) == round(cell[column]), (row.school_id, row.month, row.grade, column)
        assert row.pupil_share_squares == pytest.approx(cell["pupil_share_squares"], abs=1e-3)
    # The planted structure is there: pupils in every tier, absence in every category.
    assert rows[["tier1_pupils", "tier2_pupils", "tier3_pupils"]].sum().min() > 0
    assert rows[["illness_hours", "authorised_hours", "unauthorised_hours"]].sum().min() > 0
    assert not rows.astype(str).apply(lambda c: c.str.contains("oppilas-")).any().any()  # no pupil in the output


def test_school_days_are_weekdays_of_terms_less_holidays_plus_extra_days():
    days = pupils.school_days(CALENDAR, YEAR, "00001")
    assert date(2024, 8, 8) in days and date(2024, 8, 10) not in days  # a Saturday
    assert date(2024, 9, 28) in days  # the Saturday school day
    assert not [d for d in days if date(2024, 10, 14) <= d <= date(2024, 10, 18)]
    assert len([d for d in days if d.month == 8]) == 17  # 8.-30.8.2024 (the 31st is a Saturday)
    own = pd.concat([CALENDAR, pd.DataFrame([("holiday", date(2024, 8, 8), date(2024, 8, 9), YEAR)],
                                            columns=["kind", "start", "end", "school_year"])])
    own = own.assign(school_id=["*"] * len(CALENDAR) + ["00002"])
    assert date(2024, 8, 8) in pupils.school_days(own, YEAR, "00001")
    # A school's own rows add to the shared calendar (its own two days off), never replace it.
    assert pupils.school_days(own, YEAR, "00002") == [d for d in days if d not in (date(2024, 8, 8), date(2024, 8, 9))]
    # Weekday public holidays are never school days, whatever the calendar says.
    assert not {date(2024, 12, 6), date(2025, 4, 18), date(2025, 4, 21), date(2025, 5, 1), date(2025, 5, 29)} & set(days)


def test_the_decree_in_force_gives_the_minimum_weekly_hours():
    assert pupils.minimum_weekly_hours(1, date(2019, 9, 1)) == 19  # VNA 423/2012
    assert pupils.minimum_weekly_hours(1, date(2020, 1, 7)) == 20  # VNA 794/2018
    assert pupils.minimum_weekly_hours(7, date(2024, 6, 1)) == 29
    assert pupils.minimum_weekly_hours(7, date(2024, 8, 1)) == 30  # VNA 112/2023
    timetable = pd.DataFrame({"school_id": ["00001"], "grade": [7], "weekly_hours": [32.0]})
    roster, marks = synthetic()
    with_timetable = pupils.aggregate(roster, marks, CALENDAR, YEAR, timetable)
    default = pupils.aggregate(roster, marks, CALENDAR, YEAR)
    seventh = (default["school_id"] == "00001") & (default["grade"] == 7)
    assert (with_timetable.loc[seventh, "lesson_hours"] > default.loc[seventh, "lesson_hours"]).all()
    assert with_timetable.loc[~seventh, "lesson_hours"].tolist() == default.loc[~seventh, "lesson_hours"].tolist()


def test_each_impossible_input_is_located_by_file_row_and_column_and_never_names_the_pupil():
    roster, marks = synthetic(size=12)
    roster = pd.concat([roster, pd.DataFrame([
        ("oppilas-900", "00001", 10, None, None, "oppilaat.csv", 90),  # no grade 10
        ("oppilas-901", "00001", 7, date(2025, 3, 1), date(2025, 2, 1), "oppilaat.csv", 91),  # ends first
        ("oppilas-002", "00002", 8, date(2025, 1, 1), None, "oppilaat.csv", 92),  # a second grade at once
    ], columns=roster.columns)], ignore_index=True)
    marks = pd.concat([marks, pd.DataFrame([
        ("oppilas-003", date(2024, 10, 15), 2, "illness", "poissaolot.csv", 900),  # autumn holiday
        ("oppilas-777", date(2024, 9, 2), 2, "illness", "poissaolot.csv", 901),  # not in the roster
        ("oppilas-004", date(2024, 9, 3), 0, "illness", "poissaolot.csv", 902),
        ("oppilas-004", date(2024, 9, 4), 12, "illness", "poissaolot.csv", 903),
        ("oppilas-011", date(2024, 9, 5), 1, "illness", "poissaolot.csv", 904),  # arrived in October
    ], columns=marks.columns)], ignore_index=True)
    found = {(p.file, p.row, p.column, p.code) for p in pupils.problems_in(roster, marks, CALENDAR, YEAR)}
    # A day's marks that add up to more than a day holds are all pointed at.
    same_day = marks[(marks["pupil"] == "oppilas-004") & (marks["date"] == date(2024, 9, 4)) & (marks["row"] < 900)]
    assert found == {*(("poissaolot.csv", int(r), "hours", "impossible_hours") for r in same_day["row"]),
        ("oppilaat.csv", 90, "grade", "grade_range"),
        ("oppilaat.csv", 91, "end", "end_before_start"),
        ("oppilaat.csv", 92, "start", "enrolled_twice"),
        ("poissaolot.csv", 900, "date", "not_a_school_day"),
        ("poissaolot.csv", 901, "pupil", "pupil_not_in_roster"),
        ("poissaolot.csv", 902, "hours", "impossible_hours"),
        ("poissaolot.csv", 903, "hours", "impossible_hours"),
        ("poissaolot.csv", 904, "date", "outside_enrolment"),
    }
    shown = [str(p) + p.reason_in("fi") + p.reason_in("sv") for p in pupils.problems_in(roster, marks, CALENDAR, YEAR)]
    assert shown and not [text for text in shown if "oppilas-" in text]


# --- files as exported ------------------------------------------------------------------------

from lasnaolo import pupil_import  # noqa: E402

REASON_TEXTS = {"fi": {"illness": "Luvallinen sairauspoissaolo", "authorised": "Koulun hyväksymä poissaolo",
                       "unauthorised": "Selvittämätön poissaolo"},
                "sv": {"illness": "Sjukfrånvaro", "authorised": "Tillåten frånvaro", "unauthorised": "Outredd frånvaro"}}


def exported(roster: pd.DataFrame, marks: pd.DataFrame, language: str) -> dict[str, bytes]:
    """The synthetic pupils as a student-information system exports them: Finnish headers, `;`,
    Windows-1252, decimal comma and D.M.YYYY dates; or Swedish headers, `,`, UTF-8 with BOM, ISO dates."""
    finnish = language == "fi"

    def day(d):
        return "" if not isinstance(d, date) else (f"{d.day}.{d.month}.{d.year}" if finnish else d.isoformat())

    roster_out = pd.DataFrame({("Oppilas" if finnish else "Elev"): roster["pupil"],
                               ("Koulun tunnus" if finnish else "Skolkod"): roster["school_id"],
                               ("Luokka-aste" if finnish else "Årskurs"): roster["grade"],
                               ("Alkaen" if finnish else "Från"): roster["start"].map(day),
                               ("Päättyen" if finnish else "Till"): roster["end"].map(day)})
    marks_out = pd.DataFrame({("Oppilas" if finnish else "Elev"): marks["pupil"],
                              ("Päivämäärä" if finnish else "Datum"): marks["date"].map(day),
                              ("Tunnit" if finnish else "Timmar"): marks["hours"].map(
                                  lambda h: f"{h:.1f}".replace(".", ",") if finnish else f"{h:.1f}"),
                              ("Poissaolon syy" if finnish else "Orsak"): marks["category"].map(REASON_TEXTS[language])})
    encoding, sep = ("cp1252", ";") if finnish else ("utf-8-sig", ",")
    return {f"oppilaat-{language}.csv": roster_out.to_csv(index=False, sep=sep).encode(encoding),
            f"poissaolot-{language}.csv": marks_out.to_csv(index=False, sep=sep).encode(encoding)}


def calendar_file() -> tuple[str, bytes]:
    frame = CALENDAR.assign(kind=CALENDAR["kind"].map({"term": "lukukausi", "holiday": "loma", "school_day": "koulupäivä"}),
                            start=CALENDAR["start"].map(lambda d: f"{d.day}.{d.month}.{d.year}"),
                            end=CALENDAR["end"].map(lambda d: f"{d.day}.{d.month}.{d.year}"))
    return "kalenteri.csv", frame.rename(columns={"school_year": "Lukuvuosi", "kind": "Tyyppi", "start": "Alkaa",
                                                  "end": "Päättyy"}).to_csv(index=False, sep=";").encode("utf-8")


def test_finnish_and_swedish_exports_give_the_same_aggregates_as_the_frames():
    roster, marks = synthetic()
    expected = pupils.aggregate(roster, marks, CALENDAR, YEAR)
    mapping = pupil_import.load_mapping("wilma")
    for language in ("fi", "sv"):
        rows = pupil_import.aggregate_exports(exported(roster, marks, language), calendar_file(), mapping)
        pd.testing.assert_frame_equal(rows, expected)


def test_an_unknown_reason_text_is_listed_once_with_its_first_row_a_rare_one_is_not_shown_and_nothing_is_aggregated():
    roster, marks = synthetic(size=20)
    files = exported(roster, marks, "fi")
    lines = files["poissaolot-fi.csv"].decode("cp1252").splitlines()
    # Every illness marking renamed (a category many pupils share), and one marking carrying a
    # name in its reason (free text: it must not be shown).
    lines = [line.replace("Luvallinen sairauspoissaolo", "Terveydenhoitajalla") for line in lines]
    lines[5] = lines[5].rsplit(";", 1)[0] + ";Virtanen Matti soitti"
    files["poissaolot-fi.csv"] = ("\n".join(lines) + "\n").encode("cp1252")
    with pytest.raises(pupils.PupilDataError) as refused:
        pupil_import.aggregate_exports(files, calendar_file(), pupil_import.load_mapping("wilma"))
    found = {(p.file, p.row, p.column, p.value, p.code) for p in refused.value.problems}
    first = next(n for n, line in enumerate(lines, start=1) if "Terveydenhoitajalla" in line)
    assert found == {("poissaolot-fi.csv", first, "Poissaolon syy", "Terveydenhoitajalla", "unknown_reason"),
                     ("poissaolot-fi.csv", 6, "Poissaolon syy", None, "unknown_reason_rare")}
    shown = " ".join(str(p) + p.reason_in("fi") for p in refused.value.problems)
    assert "wilma" in shown and "oppilas-" not in shown and "Virtanen" not in shown


def test_the_command_line_writes_absences_csv_that_imports_cleanly_or_refuses_with_nothing_written(tmp_path, capsys):
    from lasnaolo import cli, importer, store

    roster, marks = synthetic()
    for name, data in exported(roster, marks, "fi").items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "kalenteri.csv").write_bytes(calendar_file()[1])
    out = tmp_path / "out"
    assert cli.main(["aggregate", str(tmp_path / "oppilaat-fi.csv"), str(tmp_path / "poissaolot-fi.csv"),
                     "--calendar", str(tmp_path / "kalenteri.csv"), "--out", str(out)]) == 0
    written = pd.read_csv(out / "absences.csv", dtype={"school_id": str})
    pd.testing.assert_frame_equal(written, pupils.aggregate(roster, marks, CALENDAR, YEAR), check_dtype=False)
    # The aggregates go through the one importer (the schools first).
    schools = tmp_path / "schools.csv"
    schools.write_text("school_id,school_name,municipality_code,school_type,language\n"
                       "00001,Koulu A,106,comprehensive,fi\n00002,Koulu B,106,comprehensive,fi\n", encoding="utf-8")
    engine = store.make_engine(f"sqlite:///{tmp_path / 'l.db'}")
    store.init_database(engine)
    summary = importer.import_paths(engine, [schools, out / "absences.csv"])  # raises on any problem
    assert [(f.kind, f.inserted) for f in summary.files] == [("schools", 2), ("absences", len(written))]
    # A marking on the autumn holiday: refused, located, nothing written, no pupil named.
    text = (tmp_path / "poissaolot-fi.csv").read_bytes().decode("cp1252") + "oppilas-005;15.10.2024;2,0;Luvaton poissaolo\n"
    (tmp_path / "poissaolot-fi.csv").write_bytes(text.encode("cp1252"))
    (out / "absences.csv").unlink()
    capsys.readouterr()
    assert cli.main(["aggregate", str(tmp_path / "oppilaat-fi.csv"), str(tmp_path / "poissaolot-fi.csv"),
                     "--calendar", str(tmp_path / "kalenteri.csv"), "--out", str(out)]) == cli.EXIT_REJECTED
    error = capsys.readouterr().err
    assert f"poissaolot-fi.csv, row {len(text.splitlines())}, column date" in error and "not a school day" in error
    assert "oppilas-" not in error and not (out / "absences.csv").exists()


def test_the_reference_export_goes_through_aggregate_and_import_to_the_same_report_figures(tmp_path, capsys):
    """The synthetic pupil-level export (`demo --pupil-level`), aggregated by the command line and
    imported, gives the overview the figures computed straight from its pupils."""
    from lasnaolo import cli, pupil_demo, reports, store
    from lasnaolo.scope import Scope

    assert cli.main(["demo", "--pupil-level", "--out", str(tmp_path / "export")]) == 0
    export = pupil_demo.generate()
    files = [str(tmp_path / "export" / n) for n in ("oppilaat.csv", "poissaolot.csv")]
    assert cli.main(["aggregate", *files, "--calendar", str(tmp_path / "export" / "kalenteri.csv"),
                     "--timetable", str(tmp_path / "export" / "tuntijako.csv"), "--out", str(tmp_path / "out")]) == 0
    url = f"sqlite:///{tmp_path / 'l.db'}"
    engine = store.make_engine(url)
    # Before its schools are imported, the figures are refused at the school and nothing is written.
    capsys.readouterr()
    assert cli.main(["aggregate", *files, "--calendar", str(tmp_path / "export" / "kalenteri.csv"),
                     "--timetable", str(tmp_path / "export" / "tuntijako.csv"), "--out", str(tmp_path / "first"),
                     "--import", "--db", url]) == cli.EXIT_REJECTED
    assert "not in the database" in capsys.readouterr().err and not (tmp_path / "first").exists()
    # The reference export comes with its schools in the contract's shape: the README's path.
    assert cli.main(["import", str(tmp_path / "export" / "schools.csv"), "--db", url]) == 0
    # One command from the export to imported figures.
    assert cli.main(["aggregate", *files, "--calendar", str(tmp_path / "export" / "kalenteri.csv"),
                     "--timetable", str(tmp_path / "export" / "tuntijako.csv"), "--out", str(tmp_path / "out"),
                     "--import", "--db", url]) == 0
    printed = capsys.readouterr().out
    assert "imported absences.csv (absences): 90 rows, 90 new" in printed and "demo-" not in printed
    report = reports.overview(engine, Scope.everything(), "2024-2025").report.figures
    # Straight from the pupils: absent hours over scheduled hours, the scheduled hours from the
    # decree for grades 1-6 and the timetable's 30 a week for grades 7-9.
    days = pupils.school_days(export.calendar, "2024-2025", "00001")
    scheduled = 0.0
    for _, pupil in export.roster.iterrows():
        inside = [d for d in days if (pupil["start"] is None or d >= pupil["start"]) and (pupil["end"] is None or d <= pupil["end"])]
        weekly = 30.0 if pupil["grade"] >= 7 else pupils.minimum_weekly_hours(int(pupil["grade"]), days[0])
        scheduled += len(inside) * weekly / 5
    assert report.absence_rate == pytest.approx(export.marks["hours"].sum() / scheduled * 100, abs=0.01)
    assert 3 < report.absence_rate < 15 and "demo-" not in capsys.readouterr().out


def calendar_bytes(frame: pd.DataFrame) -> tuple[str, bytes]:
    text = frame.assign(start=frame["start"].map(lambda d: f"{d.day}.{d.month}.{d.year}"),
                        end=frame["end"].map(lambda d: f"{d.day}.{d.month}.{d.year}"))
    return "kalenteri.csv", text[["school_year", "kind", "start", "end"]].to_csv(index=False, sep=";").encode("utf-8")


def test_a_calendar_of_two_years_adds_no_year_the_markings_do_not_cover_and_a_july_row_is_located():
    roster, marks = synthetic(size=20)
    files = exported(roster, marks, "fi")
    earlier = CALENDAR.assign(school_year="2023-2024", start=CALENDAR["start"].map(lambda d: d.replace(year=d.year - 1)),
                              end=CALENDAR["end"].map(lambda d: d.replace(year=d.year - 1)))
    rows = pupil_import.aggregate_exports(files, calendar_bytes(pd.concat([earlier, CALENDAR])), pupil_import.load_mapping("wilma"))
    assert set(rows["school_year"]) == {YEAR}  # no invented year of perfect attendance
    july = pd.concat([CALENDAR, pd.DataFrame([("school_day", date(2025, 7, 5), date(2025, 7, 5), YEAR)],
                                             columns=["kind", "start", "end", "school_year"])])
    with pytest.raises(pupils.PupilDataError) as refused:
        pupil_import.aggregate_exports(files, calendar_bytes(july), pupil_import.load_mapping("wilma"))
    assert {(p.row, p.column, p.code) for p in refused.value.problems} == {(len(july) + 1, "start", "calendar_outside_year"),
                                                                           (len(july) + 1, "end", "calendar_outside_year")}


def test_broken_files_are_located_without_a_traceback_or_a_cell_and_an_empty_markings_file_means_no_absence():
    roster, marks = synthetic(size=10)
    files = exported(roster, marks, "fi")
    mapping = pupil_import.load_mapping("wilma")
    header, *rows = files["poissaolot-fi.csv"].decode("cp1252").splitlines()
    for broken in (rows[0] + ";extra;Virtanen", '"Virtanen Matti;2.9.2024;2,0;Luvaton poissaolo'):
        bad = dict(files, **{"poissaolot-fi.csv": "\n".join([header, broken, *rows[1:]]).encode("cp1252")})
        with pytest.raises(pupils.PupilDataError) as refused:
            pupil_import.aggregate_exports(bad, calendar_file(), mapping)
        assert [(p.file, p.code) for p in refused.value.problems] in (
            [("poissaolot-fi.csv", "ragged_row")], [("poissaolot-fi.csv", "unreadable_csv")])
        assert "Virtanen" not in " ".join(str(p) for p in refused.value.problems)
    # Columns swapped by hand: the name lands in the date column and is not repeated.
    swapped = "\n".join([header, "2.9.2024;Virtanen Matti;2,0;Luvaton poissaolo"]).encode("cp1252")
    with pytest.raises(pupils.PupilDataError) as refused:
        pupil_import.aggregate_exports(dict(files, **{"poissaolot-fi.csv": swapped}), calendar_file(), mapping)
    assert ("poissaolot-fi.csv", 2, "Päivämäärä", None, "not_date") in {
        (p.file, p.row, p.column, p.value, p.code) for p in refused.value.problems}
    assert "Virtanen" not in " ".join(str(p) for p in refused.value.problems)
    # A school with no absence at all: a markings file with its header only.
    empty = dict(files, **{"poissaolot-fi.csv": (header + "\n").encode("cp1252")})
    rows = pupil_import.aggregate_exports(empty, calendar_file(), mapping)
    assert rows[["illness_hours", "authorised_hours", "unauthorised_hours"]].sum().sum() == 0 and rows["pupils"].max() > 0


def test_rows_after_blank_lines_and_a_quoted_line_break_are_located_by_their_line_in_the_file():
    roster, marks = synthetic(size=10)
    files = exported(roster, marks, "fi")
    header, *rows = files["poissaolot-fi.csv"].decode("cp1252").splitlines()
    pupil = rows[0].split(";")[0]
    # line 2: a good row; lines 3-4 blank; line 5: a reason text broken over two lines; line 7: a bad date
    text = "\n".join([header, rows[0], "", "", f'{pupil};2.9.2024;1,0;"Luvaton\npoissaolo"', f"{pupil};31.2.2024;1,0;Luvaton poissaolo"])
    with pytest.raises(pupils.PupilDataError) as refused:
        pupil_import.aggregate_exports(dict(files, **{"poissaolot-fi.csv": text.encode("cp1252")}), calendar_file(),
                                       pupil_import.load_mapping("wilma"))
    assert ("poissaolot-fi.csv", 7, "Päivämäärä", "not_date") in {(p.file, p.row, p.column, p.code) for p in refused.value.problems}
    assert all(p.row in (5, 7) for p in refused.value.problems if p.file == "poissaolot-fi.csv"), refused.value.problems


def test_a_wide_export_of_month_totals_gives_the_same_aggregates_as_the_markings_day_by_day():
    """One row per pupil and month, a column of hours per reason text: each month's hours go on the
    pupil's last school day of the month, so the month-end tiers are those of the daily markings.
    (A pupil who changes school within a month cannot be split by a month total: their month
    goes to the later school; such pupils are left out of this comparison.)"""
    roster, marks = synthetic()
    movers = set(roster.loc[roster["pupil"].duplicated(), "pupil"])
    roster, marks = roster[~roster["pupil"].isin(movers)], marks[~marks["pupil"].isin(movers)]
    files = exported(roster, marks, "fi")
    monthly = (marks.assign(period=[f"{d.month}/{d.year}" for d in marks["date"]],
                            reason=marks["category"].map(REASON_TEXTS["fi"]))
               .pivot_table(index=["pupil", "period"], columns="reason", values="hours", aggfunc="sum", fill_value=0)
               .reset_index().rename(columns={"pupil": "Oppilas", "period": "Kuukausi"}))
    monthly.columns.name = None
    wide = monthly.to_csv(index=False, sep=";", decimal=",").encode("cp1252")
    rows = pupil_import.aggregate_exports({"oppilaat-fi.csv": files["oppilaat-fi.csv"], "kuukausittain.csv": wide},
                                          calendar_file(), pupil_import.load_mapping("wilma"))
    pd.testing.assert_frame_equal(rows, pupils.aggregate(roster, marks, CALENDAR, YEAR))
    # A month total for a month the pupil was not enrolled: located at its row and reason column.
    late = roster.loc[roster["start"].notna()].iloc[0]  # arrived in October
    extra = monthly.iloc[:0].copy()
    extra.loc[0] = [late["pupil"], "9/2024", *([0] * (len(monthly.columns) - 3)), 4]
    broken = pd.concat([monthly, extra]).to_csv(index=False, sep=";", decimal=",").encode("cp1252")
    with pytest.raises(pupils.PupilDataError) as refused:
        pupil_import.aggregate_exports({"oppilaat-fi.csv": files["oppilaat-fi.csv"], "kuukausittain.csv": broken},
                                       calendar_file(), pupil_import.load_mapping("wilma"))
    assert [(p.row, p.column, p.code) for p in refused.value.problems] == [(len(monthly) + 2, monthly.columns[-1], "outside_enrolment")]


def test_second_review_findings_are_refused_or_located_without_a_traceback_or_a_name():
    mapping = pupil_import.load_mapping("wilma")
    roster = "Oppilas;Koulun tunnus;Luokka-aste\nMatti Meikäläinen;00001;3\nMaija Virtanen;00001;3\n".encode("utf-8")
    week = pd.DataFrame([("term", date(2024, 9, 2), date(2024, 9, 6))], columns=["kind", "start", "end"]).assign(school_year=YEAR)
    # A wide export with a roster without dates works; an unknown reason column is located, not dropped.
    wide = "Oppilas;Kuukausi;Luvallinen sairauspoissaolo;Luvaton poissaolo\nMatti Meikäläinen;9/2024;4;\nMaija Virtanen;9/2024;;2\n"
    rows = pupil_import.aggregate_exports({"r.csv": roster, "w.csv": wide.encode("utf-8")}, calendar_bytes(week), mapping)
    assert rows[["lesson_hours", "illness_hours", "unauthorised_hours", "tier1_pupils", "tier2_pupils"]].iloc[0].tolist() == [44, 4, 2, 1, 1]
    with pytest.raises(pupils.PupilDataError) as refused:
        unknown = ("Oppilas;Kuukausi;Luvallinen sairauspoissaolo;Luvaton poissaolo;Muu poissaolo\n"
                   "Matti Meikäläinen;9/2024;4;;10\nMaija Virtanen;9/2024;;2;10\n")
        pupil_import.aggregate_exports({"r.csv": roster, "w.csv": unknown.encode("utf-8")}, calendar_bytes(week), mapping)
    assert [(p.column, p.code) for p in refused.value.problems] == [("Muu poissaolo", "unknown_reason")]
    # More absence in a month than scheduled (grade 3: 4,4 hours a day): located, nothing written.
    marks = "Oppilas;Päivämäärä;Tunnit;Syy\n" + "".join(f"Matti Meikäläinen;{d}.9.2024;5;Luvallinen sairauspoissaolo\n" for d in range(2, 7))
    with pytest.raises(pupils.PupilDataError) as refused:
        pupil_import.aggregate_exports({"r.csv": roster, "m.csv": marks.encode("utf-8")}, calendar_bytes(week), mapping)
    assert [(p.row, p.column, p.code) for p in refused.value.problems] == [(2, "hours", "hours_beyond_schedule")]
    # 2,5 + 1,5 hours of 4,4: whole hours that still fit the lesson hours.
    one_day = pd.DataFrame([("term", date(2024, 9, 2), date(2024, 9, 2))], columns=["kind", "start", "end"]).assign(school_year=YEAR)
    marks = "Oppilas;Päivämäärä;Tunnit;Syy\nMatti Meikäläinen;2.9.2024;2,5;Luvallinen sairauspoissaolo\nMatti Meikäläinen;2.9.2024;1,5;Luvaton poissaolo\n"
    rows = pupil_import.aggregate_exports({"r.csv": roster, "m.csv": marks.encode("utf-8")}, calendar_bytes(one_day), mapping)
    assert rows[["lesson_hours", "illness_hours", "unauthorised_hours"]].iloc[0].tolist() == [9, 3, 1]
    # A broken mapping, or a pupil file given as one: refused without quoting it.
    for text in ("roster: [oppilas\n  pupil: : :", "Maija Virtanen: 00001;3\n", "roster: {pupil: oppilas}\nmarks: {}\nreasons: {}\n"):
        with pytest.raises(ValueError) as broken:
            pupil_import.ExportMapping.from_yaml(text, "m.yaml")
        assert "Virtanen" not in str(broken.value) and "m.yaml" in str(broken.value)
    # A month total for a month without school days (July), and a timetable row for a school the
    # roster does not have: each located with its own reason.
    july = "Oppilas;Kuukausi;Luvaton poissaolo\nMatti Meikäläinen;9/2024;1\nMaija Virtanen;7/2025;2\n"
    timetable = ("tuntijako.csv", "Koulun tunnus;Luokka-aste;Viikkotunnit\n00001;3;23\n00010;3;23\n".encode("utf-8"))
    with pytest.raises(pupils.PupilDataError) as refused:
        pupil_import.aggregate_exports({"r.csv": roster, "w.csv": july.encode("utf-8")}, calendar_bytes(week), mapping, timetable)
    assert {(p.file, p.row, p.code) for p in refused.value.problems} == {
        ("w.csv", 3, "month_without_school_days"), ("tuntijako.csv", 3, "school_not_in_roster")}
    # Header-only roster and markings: refused, no traceback.
    with pytest.raises(pupils.PupilDataError):
        pupil_import.aggregate_exports({"r.csv": b"Oppilas;Koulun tunnus;Luokka-aste\n", "m.csv": b"Oppilas;Paivamaara;Tunnit;Syy\n"},
                                       calendar_bytes(week), mapping)


def test_two_grades_in_one_month_are_located_and_one_row_per_missed_lesson_counts_an_hour_each():
    mapping = pupil_import.load_mapping("wilma")
    week = pd.DataFrame([("term", date(2024, 9, 2), date(2024, 10, 11))], columns=["kind", "start", "end"]).assign(school_year=YEAR)
    moved = ("Oppilas;Koulun tunnus;Luokka-aste;Alkaen;Päättyen\nA;00001;3;;4.9.2024\nA;00001;4;5.9.2024;\n"
             "B;00001;3;;30.9.2024\nB;00001;4;1.10.2024;\n").encode("utf-8")
    lessons = "Oppilas;Päivämäärä;Syy\nA;9.9.2024;Luvaton poissaolo\nB;9.9.2024;Luvaton poissaolo\nB;9.9.2024;Luvaton poissaolo\n"
    with pytest.raises(pupils.PupilDataError) as refused:
        pupil_import.aggregate_exports({"r.csv": moved, "m.csv": lessons.encode("utf-8")}, calendar_bytes(week), mapping)
    assert [(p.row, p.column, p.code) for p in refused.value.problems] == [(3, "grade", "two_grades_in_month")]
    # B changed grade at a month's turn: fine; each row of the markings is one lesson.
    at_turn = ("Oppilas;Koulun tunnus;Luokka-aste;Alkaen;Päättyen\nB;00001;3;;30.9.2024\nB;00001;4;1.10.2024;\n").encode("utf-8")
    only_b = "\n".join(line for line in lessons.splitlines() if not line.startswith("A;")) + "\n"
    rows = pupil_import.aggregate_exports({"r.csv": at_turn, "m.csv": only_b.encode("utf-8")}, calendar_bytes(week), mapping)
    assert rows["unauthorised_hours"].sum() == 2 and set(rows["grade"]) == {3, 4}
    assert date(2024, 12, 24) not in pupils.school_days(CALENDAR, YEAR, "00001")  # a term up to Christmas Eve


def test_a_share_of_exactly_five_ten_or_twenty_percent_takes_the_tier_the_model_gives_it():
    """Grade 3 (22 hours a week, 4,4 a day) from Tuesday 27.8.2024 to Monday 30.9.2024: 25 school
    days, 110 hours. 5,5 hours is 5 % (tier 1), 11 hours 10 % (tier 2), 22 hours 20 % (tier 2:
    tier 3 is over 20 %). Summed day fractions are not exact in binary (third review finding)."""
    term = pd.DataFrame([("term", date(2024, 8, 27), date(2024, 9, 30))], columns=["kind", "start", "end"]).assign(school_year=YEAR)
    roster = "Oppilas;Koulun tunnus;Luokka-aste\nT05;00001;3\nT10;00001;3\nT20;00001;3\n"
    marks = "Oppilas;Päivämäärä;Tunnit;Syy\n" + "".join(
        f"{pupil};{day}.9.2024;{hours};Luvaton poissaolo\n" for pupil, total in (("T05", 5.5), ("T10", 11), ("T20", 22))
        for day, hours in zip((2, 3, 4, 5, 6, 9), [str(total / 5).replace(".", ",")] * 5))
    rows = pupil_import.aggregate_exports({"r.csv": roster.encode("utf-8"), "m.csv": marks.encode("utf-8")},
                                          calendar_bytes(term), pupil_import.load_mapping("wilma"))
    september = rows[rows["month"] == "2024-09"].iloc[0]
    assert (september["pupils"], september["lesson_hours"]) == (3, 277)  # 21 September days × 4,4 h × 3 pupils
    assert [september[f"tier{t}_pupils"] for t in (1, 2, 3)] == [1, 2, 0]


# A week of school and a roster of two pupils whose names must never show in a problem.
WEEK = calendar_bytes(pd.DataFrame([("term", date(2024, 9, 2), date(2024, 9, 6))], columns=["kind", "start", "end"])
                      .assign(school_year=YEAR))
TWO_PUPILS = "Oppilas;Koulun tunnus;Luokka-aste\nMatti Virtanen;00001;3\nMaija Virtanen;00001;3\n".encode("utf-8")


def refused(*args, **kwargs) -> set[tuple]:
    """(file, row, code) of every problem aggregate_exports finds; none may name a pupil."""
    with pytest.raises(pupils.PupilDataError) as error:
        pupil_import.aggregate_exports(*args, **kwargs)
    assert "Virtanen" not in " ".join(str(p) for p in error.value.problems)
    return {(p.file, p.row, p.code) for p in error.value.problems}


def test_third_review_findings_are_refused_or_located_without_a_traceback_or_a_name(tmp_path, capsys):
    from lasnaolo import cli

    mapping, week, roster = pupil_import.load_mapping("wilma"), WEEK, TWO_PUPILS
    marks = "Oppilas;Päivämäärä;Tunnit;Syy\nMatti Virtanen;2.9.2024 8:15;2;Luvaton poissaolo\n".encode("utf-8")  # a time too
    assert pupil_import.aggregate_exports({"r.csv": roster, "m.csv": marks}, week, mapping)["unauthorised_hours"].sum() == 2
    # Two files of one name (two folders' exports): refused, never one silently kept.
    assert refused([("oppilaat.csv", roster), ("oppilaat.csv", roster), ("m.csv", marks)], week, mapping) == {
        ("oppilaat.csv", None, "same_file_name")}
    # A name in the school column, and pupil identifiers there (columns swapped): located, not shown.
    named = "Oppilas;Koulun tunnus;Luokka-aste\n00001;Virtanen Matti;3\n"
    assert refused({"r.csv": named.encode("utf-8"), "m.csv": marks}, week, mapping) >= {("r.csv", 2, "not_school_code")}
    swapped = "Oppilas;Koulun tunnus;Luokka-aste\n" + "".join(f"00001;{10000 + i};3\n" for i in range(6))
    assert ("r.csv", 1, "school_column_holds_pupils") in refused({"r.csv": swapped.encode("utf-8"), "m.csv": marks}, week, mapping)
    # A school the database does not have, when the database is known.
    assert refused({"r.csv": roster, "m.csv": marks}, week, mapping, known_schools={"00002"}) == {
        ("r.csv", 2, "school_not_known"), ("r.csv", 3, "school_not_known")}
    # A wide export with a pupil's month twice, a trailing ';' and CR-only line ends.
    wide = "Oppilas;Kuukausi;Luvaton poissaolo;\rMatti Virtanen;9/2024;2;\rMatti Virtanen;9/2024;2;\r"
    assert refused({"r.csv": roster, "w.csv": wide.encode("utf-8")}, week, mapping) == {("w.csv", 3, "duplicate_key")}
    once = "Oppilas;Kuukausi;Luvaton poissaolo;\rMatti Virtanen;9/2024;2;\r"
    assert pupil_import.aggregate_exports({"r.csv": roster, "w.csv": once.encode("utf-8")}, week, mapping)["unauthorised_hours"].sum() == 2
    # A calendar row and a timetable row of a school the roster lacks; a timetable of 2 hours a week.
    typo = f"Lukuvuosi;Tyyppi;Alkaa;Päättyy;Koulu\n{YEAR};lukukausi;2.9.2024;6.9.2024;\n{YEAR};loma;3.9.2024;3.9.2024;00010\n"
    assert refused({"r.csv": roster, "m.csv": marks}, ("k.csv", typo.encode("utf-8")), mapping) == {("k.csv", 3, "school_not_in_roster")}
    timetable = ("t.csv", "Koulu;Luokka-aste;Viikkotunnit\n00001;3;2\n".encode("utf-8"))
    assert refused({"r.csv": roster, "m.csv": marks}, week, mapping, timetable) == {("t.csv", 2, "weekly_hours_range")}
    # Two school years from a roster without dates; a year before the first decree without a timetable.
    two_years = calendar_bytes(pd.DataFrame([("term", date(2024, 9, 2), date(2024, 9, 6)), ("term", date(2025, 9, 1), date(2025, 9, 5))],
                                            columns=["kind", "start", "end"]).assign(school_year=[YEAR, "2025-2026"]))
    both = marks + "Maija Virtanen;2.9.2025;1;Luvaton poissaolo\n".encode("utf-8")
    assert refused({"r.csv": roster, "m.csv": both}, two_years, mapping) == {("r.csv", 2, "enrolment_spans_years")}
    old = calendar_bytes(pd.DataFrame([("term", date(2011, 9, 5), date(2011, 9, 9))], columns=["kind", "start", "end"])
                         .assign(school_year="2011-2012"))
    old_marks = "Oppilas;Päivämäärä;Tunnit;Syy\nMatti Virtanen;5.9.2011;2;Luvaton poissaolo\n".encode("utf-8")
    assert refused({"r.csv": roster, "m.csv": old_marks}, old, mapping) == {("r.csv", None, "no_minimum_hours")}
    given = ("t.csv", "Koulu;Luokka-aste;Viikkotunnit\n00001;3;22\n".encode("utf-8"))
    assert pupil_import.aggregate_exports({"r.csv": roster, "m.csv": old_marks}, old, mapping, given)["lesson_hours"].sum() == 44
    # A reason text under two categories: the mapping is refused (the last one would win silently).
    with pytest.raises(ValueError, match="both illness and unauthorised"):
        pupil_import.ExportMapping.from_yaml("roster: {pupil: [a]}\nmarks: {pupil: [a]}\n"
                                             "reasons: {illness: [Sairas], unauthorised: [sairas]}\n", "m.yaml")
    # The command line: an --out that is a file is refused without a traceback.
    for name, data in (("r.csv", roster), ("m.csv", marks), ("k.csv", week[1])):
        (tmp_path / name).write_bytes(data)
    (tmp_path / "taken").write_text("")
    capsys.readouterr()
    assert cli.main(["aggregate", str(tmp_path / "r.csv"), str(tmp_path / "m.csv"), "--calendar", str(tmp_path / "k.csv"),
                     "--out", str(tmp_path / "taken")]) == cli.EXIT_REJECTED
    assert "refused" in capsys.readouterr().err


def test_fourth_review_findings_are_refused_or_located_and_import_waits_for_a_writable_out(tmp_path, capsys):
    from lasnaolo import cli

    mapping, week, roster = pupil_import.load_mapping("wilma"), WEEK, TWO_PUPILS
    marks = "Oppilas;Päivämäärä;Tunnit;Syy\nMatti Virtanen;2.9.2024;2;Luvaton poissaolo\n".encode("utf-8")
    # An enrolment with a start years back and no end, over two converted years: its grade would hold in both.
    two_years = calendar_bytes(pd.DataFrame([("term", date(2023, 9, 4), date(2023, 9, 8)), ("term", date(2024, 9, 2), date(2024, 9, 6))],
                                            columns=["kind", "start", "end"]).assign(school_year=["2023-2024", YEAR]))
    open_ended = "Oppilas;Koulun tunnus;Luokka-aste;Alkaen;Päättyen\nMatti Virtanen;00001;3;1.8.2020;\nMaija Virtanen;00001;3;1.8.2020;31.5.2024\n"
    both = marks + "Matti Virtanen;4.9.2023;1;Luvaton poissaolo\n".encode("utf-8")
    assert refused({"r.csv": open_ended.encode("utf-8"), "m.csv": both}, two_years, mapping) == {("r.csv", 2, "enrolment_spans_years")}
    # One file under two names, a month total in two wide files, a total and daily markings of one month.
    assert refused([("r.csv", roster), ("m.csv", marks), ("m (1).csv", marks)], week, mapping) == {("m (1).csv", None, "same_content")}
    wide = "Oppilas;Kuukausi;Luvaton poissaolo\nMatti Virtanen;9/2024;2\n"
    assert refused({"r.csv": roster, "a.csv": wide.encode("utf-8"), "b.csv": (wide + "Maija Virtanen;9/2024;1\n").encode("utf-8")},
                   week, mapping) == {("b.csv", 2, "month_total_twice")}
    assert refused({"r.csv": roster, "a.csv": wide.encode("utf-8"), "m.csv": marks}, week, mapping) == {("a.csv", 2, "total_and_markings")}
    # A roster school without a school day in the calendar (only another school's rows): located, not dropped.
    own_rows = f"Lukuvuosi;Tyyppi;Alkaa;Päättyy;Koulu\n{YEAR};lukukausi;2.9.2024;6.9.2024;00001\n".encode("utf-8")
    second = roster + "Kalle Korhonen;00002;3\n".encode("utf-8")
    assert refused({"r.csv": second, "m.csv": marks}, ("k.csv", own_rows), mapping) == {("r.csv", 4, "school_without_days")}
    # Five-digit pupil numbers in the school column of a small roster; non-ASCII digits; a far date; an infinite grade.
    small = "Oppilas;Koulun tunnus;Luokka-aste\n00001;54321;5\n00001;54322;5\n00001;54323;5\n"
    assert ("r.csv", 1, "school_column_holds_pupils") in refused({"r.csv": small.encode("utf-8"), "m.csv": marks}, week, mapping)
    arabic = "Oppilas;Koulun tunnus;Luokka-aste\nMatti Virtanen;١٢٣٤٥;3\nMaija Virtanen;00001;3\n"
    assert ("r.csv", 2, "not_school_code") in refused({"r.csv": arabic.encode("utf-8"), "m.csv": marks}, week, mapping)
    far = "Oppilas;Päivämäärä;Tunnit;Syy\nMatti Virtanen;31.12.9999;2;Luvaton poissaolo\n".encode("utf-8")
    assert refused({"r.csv": roster, "m.csv": far}, week, mapping) == {("m.csv", 2, "not_date")}
    infinite = "Oppilas;Koulun tunnus;Luokka-aste\nMatti Virtanen;00001;inf\nMaija Virtanen;00001;3\n"
    assert refused({"r.csv": infinite.encode("utf-8"), "m.csv": marks}, week, mapping) == {("r.csv", 2, "not_integer")}
    # --import with an --out that cannot be written: refused before anything is imported.
    from lasnaolo import importer, store
    for name, data in (("r.csv", roster), ("m.csv", marks), ("k.csv", week[1])):
        (tmp_path / name).write_bytes(data)
    url = f"sqlite:///{tmp_path / 'l.db'}"
    engine = store.make_engine(url)
    store.init_database(engine)
    importer.import_files(engine, [("schools.csv", b"school_id,school_name,municipality_code,school_type,language\n"
                                                   b"00001,Koulu,106,primary,fi\n")])
    (tmp_path / "taken").write_text("")
    capsys.readouterr()
    assert cli.main(["aggregate", str(tmp_path / "r.csv"), str(tmp_path / "m.csv"), "--calendar", str(tmp_path / "k.csv"),
                     "--out", str(tmp_path / "taken" / "x"), "--import", "--db", url]) == cli.EXIT_REJECTED
    assert "nothing written or imported" in capsys.readouterr().err
    with engine.connect() as connection:
        assert connection.exec_driver_sql("select count(*) from absence").scalar_one() == 0
    assert cli.main(["aggregate", str(tmp_path / "r.csv"), str(tmp_path / "m.csv"), "--calendar", str(tmp_path / "k.csv"),
                     "--out", str(tmp_path / "out"), "--import", "--db", url]) == 0
    with engine.connect() as connection:
        assert connection.exec_driver_sql("select count(*) from absence").scalar_one() == 1


def test_fifth_review_findings_a_resaved_copy_a_start_only_roster_an_open_end_and_a_moved_pupil(tmp_path, capsys):
    mapping = pupil_import.load_mapping("wilma")
    marks = "Oppilas;Päivämäärä;Tunnit;Syy\nMatti Virtanen;2.9.2024;2;Luvaton poissaolo\n".encode("utf-8")
    # The same markings saved again with CRLF line ends and a BOM: still the same rows, refused.
    resaved = b"\xef\xbb\xbf" + marks.replace(b"\n", b"\r\n")
    assert refused([("r.csv", TWO_PUPILS), ("m.csv", marks), ("m (1).csv", resaved)], WEEK, mapping) == {
        ("m (1).csv", None, "same_content")}
    # Two schools' empty markings files are alike and fine.
    empty = "Oppilas;Päivämäärä;Tunnit;Syy\n".encode("utf-8")
    assert pupil_import.aggregate_exports([("r.csv", TWO_PUPILS), ("a.csv", empty), ("b.csv", empty)], WEEK, mapping)["pupils"].sum() == 2
    # A start-only roster with a pupil starting next autumn; an end of 31.12.9999 means no end.
    roster = ("Oppilas;Koulun tunnus;Luokka-aste;Alkaen;Päättyen\nMatti Virtanen;00001;3;1.8.2019;31.12.9999\n"
              "Maija Virtanen;00001;3;11.8.2025;\n").encode("utf-8")
    rows = pupil_import.aggregate_exports({"r.csv": roster, "m.csv": marks}, WEEK, mapping)
    assert rows["pupils"].tolist() == [1] and rows["unauthorised_hours"].sum() == 2
    start_only = "Oppilas;Koulun tunnus;Luokka-aste;Alkaen\nMatti Virtanen;00001;3;1.8.2019\nMaija Virtanen;00001;3;11.8.2025\n"
    assert pupil_import.aggregate_exports({"r.csv": start_only.encode("utf-8"), "m.csv": marks}, WEEK, mapping)["pupils"].tolist() == [1]
    # One pupil who moved between two schools is not a swapped roster.
    moved = ("Oppilas;Koulun tunnus;Luokka-aste;Alkaen;Päättyen\nMatti Virtanen;00001;3;;3.9.2024\n"
             "Matti Virtanen;00002;3;4.9.2024;\n").encode("utf-8")
    assert set(pupil_import.aggregate_exports({"r.csv": moved, "m.csv": marks}, WEEK, mapping)["school_id"]) == {"00001", "00002"}
