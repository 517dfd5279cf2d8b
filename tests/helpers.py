"""Small hand-made files and a database snapshot for comparing before and after."""

from __future__ import annotations

import sqlalchemy as sa

SCHOOLS = """school_id,school_name,municipality_code,school_type,language
00123,Testikoulu A,091,primary,fi
04567,Testskola B,049,comprehensive,sv
"""

# Two months of school 00123 grade 1, one month of 04567 grades 7 and 8.
ABSENCES = """school_id,school_year,month,grade,pupils,lesson_hours,illness_hours,authorised_hours,unauthorised_hours,tier1_pupils,tier2_pupils,tier3_pupils
00123,2024-2025,2024-09,1,20,1680,60,20,4,3,1,0
00123,2024-2025,2024-10,1,21,1512,90,30,6,4,2,1
04567,2024-2025,2024-09,7,30,3780,150,60,40,5,3,1
04567,2024-2025,2024-09,8,3,378,40,0,0,0,1,1
"""

WELLBEING = """unit_type,unit_id,survey_year,grade_group,indicator,respondents,value_pct
school,04567,2025,8-9,belonging,25,64.0
municipality,091,2025,4-5,likes_school,900,73.5
"""

MEASURES = """school_id,measure,tier,start,end,fte
04567,school_coach,1,2024-08-01,,1.0
00123,class_grouping,1,1.8.2024,31.5.2025,
"""

VALID = {"schools.csv": SCHOOLS, "absences.csv": ABSENCES, "wellbeing.csv": WELLBEING, "measures.csv": MEASURES}


def files(**overrides: str | bytes) -> list[tuple[str, bytes]]:
    """The valid set with some files replaced (keys use _ for .: absences_csv)."""
    contents = dict(VALID)
    for key, value in overrides.items():
        contents[key.replace("_csv", ".csv")] = value
    return [(n, v if isinstance(v, bytes) else v.encode("utf-8")) for n, v in contents.items() if v is not None]


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every data table, sorted, so two snapshots compare exactly."""
    tables = ("school", "absence", "wellbeing", "measure", "import_log")
    out = {}
    with engine.connect() as connection:
        for table in tables:
            rows = connection.execute(sa.text(f"SELECT * FROM {table}")).fetchall()
            out[table] = sorted(tuple(str(v) for v in r) for r in rows)
    return out
