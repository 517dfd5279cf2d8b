"""Chart tables as downloads: formula injection neutralised, numbers kept numeric."""

from __future__ import annotations

import io
import re

import pandas as pd
from openpyxl import load_workbook

from lasnaolo import export

TABLE = pd.DataFrame({"Koulu": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "Tavallinen"],
                      "Poissaoloprosentti": [12.3456, 5.0, 7.25, 0.0, 100.0],
                      "Oppilaita": pd.array([20, 30, None, 5, 6], dtype="Int64")})


def test_values_a_spreadsheet_would_run_are_neutralised():
    safe = export.safe_frame(TABLE)
    assert safe["Koulu"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "Tavallinen"]
    assert safe["Poissaoloprosentti"].tolist() == TABLE["Poissaoloprosentti"].tolist()  # numbers untouched


def test_nordic_csv_uses_semicolons_and_decimal_comma_with_bom():
    data = export.table_csv(TABLE, "fi")
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "Koulu;Poissaoloprosentti;Oppilaita"
    assert lines[1].endswith(";12,346;20") and lines[1].startswith('"\'=HYPERLINK')  # quoted, as it holds quotes
    assert export.table_csv(TABLE, "en").decode("utf-8-sig").splitlines()[2] == "'+1,5.000,30"


def test_xlsx_keeps_numbers_as_numbers():
    sheet = load_workbook(io.BytesIO(export.table_xlsx(TABLE))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Koulu", "Poissaoloprosentti", "Oppilaita")
    assert rows[1] == ("'=HYPERLINK(\"http://x\")", 12.3456, 20)
    assert rows[3][2] is None


def test_display_frame_writes_percentages_and_counts_the_languages_way():
    shown = export.display_frame(TABLE, "fi")
    assert shown["Poissaoloprosentti"].tolist()[0] == "12,3\u00a0%"
    assert shown["Oppilaita"].tolist() == ["20", "30", "–", "5", "6"]
    assert export.display_frame(TABLE, "en")["Poissaoloprosentti"].tolist()[0] == "12.3%"


def test_chart_downloads_render_what_the_page_shows():
    import altair as alt
    import pandas as pd

    from lasnaolo import charts

    monthly = pd.DataFrame({"school_year": ["2024-2025"] * 2, "month": ["2024-09", "2024-10"],
                            "absence_rate": [4.25, 6.5]})
    chart = charts.seasonal_rate_chart(monthly, "fi")
    svg = export.chart_svg(chart).decode()
    # The axis in the Finnish way, as on the page: a decimal comma and a space before the sign.
    ticks = re.findall(r">([^<]*%)<", svg)
    assert ticks[:3] == ["0,0 %", "1,0 %", "2,0 %"], ticks
    assert not [tick for tick in ticks if "." in tick]
    png = export.chart_png(chart, scale=2)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") >= 2 * export.IMAGE_WIDTH
    layered = alt.layer(chart, chart)
    assert export.chart_pdf(layered).startswith(b"%PDF")


# Payloads that are live formulas in a spreadsheet unless neutralised: at the start, after an embedded
# line break or tab (LibreOffice runs "Koulu\r=1+1" as a formula), after leading spaces, full-width.
PAYLOADS = ["Koulu\r=1+1", "Koulu\n=HYPERLINK(\"http://x\")", "Koulu\r\n+cmd|' /C calc'!A0", "a\t-2+3",
            "x\n@SUM(A1)", "=1+1", "  =1+1", "\uff1d1+1", "Koulu\x0b=1+1", "\x01x\u2028-1", "Tavallinen koulu"]
FORMULA_CHARS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def text_frames() -> dict[str, pd.DataFrame]:
    """The payloads in every text dtype pandas has, as a column, a header and an index label."""
    frames = {}
    for dtype in (object, "string", "category"):
        frame = pd.DataFrame({"Koulu": pd.Series(PAYLOADS, dtype=dtype), "Arvo": range(len(PAYLOADS))})
        frame["=1+1\r=2"] = pd.Series(PAYLOADS[::-1], dtype=dtype)
        frames[str(dtype)] = frame
    return frames


def assert_inert(cell: object) -> None:
    """No line of the cell starts with a formula character, and it holds no control character
    (CR, LF, tab, or one openpyxl refuses) nor a Unicode line separator."""
    if not isinstance(cell, str):
        return
    assert not any(ord(c) < 0x20 or c in "\x7f\x85\u2028\u2029" for c in cell), repr(cell)
    for line in cell.splitlines() or [""]:
        assert not line.lstrip().startswith(FORMULA_CHARS), repr(cell)


def test_csv_cells_with_embedded_line_breaks_or_formula_starts_are_inert_in_object_string_and_category_columns():
    import csv

    for dtype, frame in text_frames().items():
        for language, delimiter in (("fi", ";"), ("en", ",")):
            text = export.table_csv(frame, language).decode("utf-8-sig")
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
            assert len(rows) == len(PAYLOADS) + 1, (dtype, language)  # no cell split into new rows
            for row in rows:
                assert len(row) == 3
                for cell in row:
                    assert_inert(cell)
            koulu = [r[0] for r in rows[1:]]
            assert koulu[0] == "'Koulu =1+1" and koulu[-1] == "Tavallinen koulu", (dtype, koulu)
            assert rows[0][2] == "'=1+1 =2"


def test_xlsx_has_no_formula_cells_and_no_cell_starting_a_line_with_a_formula_character_in_any_text_dtype():
    for dtype, frame in text_frames().items():
        workbook = load_workbook(io.BytesIO(export.workbook_xlsx({"=Sheet": frame, "toinen": frame})))
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (dtype, cell.coordinate, cell.value)
                    assert_inert(cell.value)
        values = [c.value for c in workbook.worksheets[0]["A"]]
        assert values[1] == "'Koulu =1+1" and values[-1] == "Tavallinen koulu"


def test_safe_frame_neutralises_index_labels_and_keeps_numbers_dates_and_missing_values():
    from datetime import date

    frame = pd.DataFrame({"n": [1, 2], "d": [date(2024, 8, 1), None], "s": pd.array(["=x", None], dtype="string")},
                         index=pd.Index(["@a", "b\nc"], name="+i"))
    safe = export.safe_frame(frame)
    assert safe.index.tolist() == ["'@a", "'b c"] and safe.index.name == "'+i"
    assert safe["n"].tolist() == [1, 2] and safe["d"].tolist() == [date(2024, 8, 1), None]
    assert safe["s"].iloc[0] == "'=x" and pd.isna(safe["s"].iloc[1])


def test_stored_data_download_neutralises_a_formula_school_name(engine):
    import zipfile

    from lasnaolo import importer
    from lasnaolo.scope import Scope

    schools = "school_id,school_name,municipality_code,school_type,language\n00123,=1+1,091,primary,fi\n"
    importer.import_files(engine, [("schools.csv", schools.encode())])
    archive = zipfile.ZipFile(io.BytesIO(export.stored_data_zip(engine, Scope.everything())))
    assert "00123,'=1+1,091,primary,fi" in archive.read("schools.csv").decode()


def test_screen_tables_write_percentages_with_a_sign_and_plain_numbers_without():
    from lasnaolo import export as export_module

    table = export_module.plain_numbers(pd.DataFrame({"Poissaolo": [8.26], "z": [-2.4], "Pisteet": [3.0]}),
                                        {"z": 1, "Pisteet": 0})
    shown = export_module.display_frame(table, "fi").iloc[0].tolist()
    assert shown == ["8,3\u00a0%", "\u22122,4", "3"]  # a true minus sign, as in print
    assert export_module.display_frame(table, "en").iloc[0, 1] == "\u22122.4"
