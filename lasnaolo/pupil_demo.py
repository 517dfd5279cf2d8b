"""A synthetic pupil-level export (fictional pupils), in the shapes a student-information system
exports: a roster, absence markings with Finnish reason texts, the school calendar and a
timetable. `python -m lasnaolo demo --pupil-level --out DIR` writes it with the two schools'
`schools.csv`, so a new user can try the whole path (import the schools, aggregate, import) and
the tests have a fixture."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from lasnaolo import contract, pupils

REASON_TEXTS = {"illness": "Luvallinen sairauspoissaolo", "authorised": "Koulun hyväksymä poissaolo",
                "unauthorised": "Selvittämätön poissaolo"}
REASON_SHARES = (0.6, 0.3, 0.1)
SCHOOLS = (("00001", (1, 2, 3, 4, 5, 6)), ("00002", (7, 8, 9)))  # fictional codes no demo school has
# The two schools in the contract's schools.csv, to be imported before their figures.
SCHOOL_DIRECTORY = pd.DataFrame({"school_id": ["00001", "00002"], "school_name": ["Esimerkkikoulu", "Esimerkin yläkoulu"],
                                 "municipality_code": ["106", "106"], "school_type": ["primary", "lower_secondary"],
                                 "language": ["fi", "fi"]})


def calendar(autumn: int) -> pd.DataFrame:
    """A typical Finnish school year: autumn term from the second Thursday of August to the
    Saturday before Christmas, spring term from 7 January to the last Saturday of May, autumn,
    Christmas-free winter and Easter holidays."""
    def weekday_on_or_after(day: date, weekday: int) -> date:
        return day + timedelta((weekday - day.weekday()) % 7)

    start = weekday_on_or_after(date(autumn, 8, 8), 3)
    autumn_break = weekday_on_or_after(date(autumn, 10, 14), 0)
    winter_break = weekday_on_or_after(date(autumn + 1, 2, 24), 0)
    end = weekday_on_or_after(date(autumn + 1, 5, 25), 5)
    rows = [("term", start, date(autumn, 12, 21)), ("holiday", autumn_break, autumn_break + timedelta(4)),
            ("term", date(autumn + 1, 1, 7), end), ("holiday", winter_break, winter_break + timedelta(4))]
    return pd.DataFrame(rows, columns=["kind", "start", "end"]).assign(school_year=f"{autumn}-{autumn + 1}")


@dataclass
class PupilExport:
    roster: pd.DataFrame
    marks: pd.DataFrame
    calendar: pd.DataFrame
    timetable: pd.DataFrame

    def write(self, out: str | Path) -> list[Path]:
        """Finnish headers, ';', Windows-1252, decimal comma and D.M.YYYY dates, as exported."""
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)

        def day(value) -> str:
            return f"{value.day}.{value.month}.{value.year}" if isinstance(value, date) else ""

        files = {
            "oppilaat.csv": pd.DataFrame({"Oppilas": self.roster["pupil"], "Koulun tunnus": self.roster["school_id"],
                                          "Luokka-aste": self.roster["grade"], "Alkaen": self.roster["start"].map(day),
                                          "Päättyen": self.roster["end"].map(day)}),
            "poissaolot.csv": pd.DataFrame({"Oppilas": self.marks["pupil"], "Päivämäärä": self.marks["date"].map(day),
                                            "Tunnit": self.marks["hours"].map(lambda h: f"{h:g}".replace(".", ",")),
                                            "Poissaolon syy": self.marks["category"].map(REASON_TEXTS)}),
            "kalenteri.csv": pd.DataFrame({"Lukuvuosi": self.calendar["school_year"],
                                           "Tyyppi": self.calendar["kind"].map({"term": "lukukausi", "holiday": "loma",
                                                                                "school_day": "koulupäivä"}),
                                           "Alkaa": self.calendar["start"].map(day), "Päättyy": self.calendar["end"].map(day)}),
            "tuntijako.csv": self.timetable.rename(columns={"school_id": "Koulu", "grade": "Luokka-aste",
                                                            "weekly_hours": "Viikkotunnit"}),
        }
        paths = []
        for name, frame in files.items():
            path = folder / name
            path.write_bytes(frame.to_csv(index=False, sep=";", decimal=",").encode("cp1252"))
            paths.append(path)
        # Not part of the export: the schools in the contract's shape, for the importer.
        schools = folder / contract.SCHOOLS.file_name
        schools.write_bytes(SCHOOL_DIRECTORY.to_csv(index=False).encode("utf-8"))
        return [*paths, schools]


def generate(autumn: int = 2024, pupils_per_grade: int = 24, seed: int = 2025) -> PupilExport:
    """Pupils with an absence propensity of their own (most miss a little, a few a lot), each
    absence a whole school day (the grade's daily lessons) or an hour or two; a few pupils arrive
    or leave during the year."""
    rng = np.random.default_rng(seed)
    days_table = calendar(autumn)
    year = f"{autumn}-{autumn + 1}"
    roster, marks = [], []
    number = 0
    for school_id, grades in SCHOOLS:
        days = pupils.school_days(days_table, year, school_id)
        for grade in grades:
            for _ in range(pupils_per_grade):
                number += 1
                pupil = f"demo-{number:05d}"
                start = end = None
                if rng.random() < 0.05:
                    start = days[int(rng.integers(20, len(days) - 20))]
                elif rng.random() < 0.05:
                    end = days[int(rng.integers(20, len(days) - 20))]
                roster.append((pupil, school_id, grade, start, end))
                propensity = 0.08 * rng.gamma(1.5, 1 / 1.5)
                daily = pupils.minimum_weekly_hours(grade, days[0]) / 5
                for day in days:
                    if (start and day < start) or (end and day > end) or rng.random() >= propensity:
                        continue
                    hours = round(daily) if rng.random() < 0.7 else int(rng.integers(1, 3))
                    marks.append((pupil, day, hours, pupils.CATEGORIES[int(rng.choice(3, p=REASON_SHARES))]))
    timetable = pd.DataFrame({"school_id": ["00002"] * 3, "grade": [7, 8, 9], "weekly_hours": [30.0, 30.0, 30.0]})
    return PupilExport(pd.DataFrame(roster, columns=["pupil", "school_id", "grade", "start", "end"]),
                       pd.DataFrame(marks, columns=["pupil", "date", "hours", "category"]), days_table, timetable)
