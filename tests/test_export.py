"""Chart tables as downloads: formula injection neutralised, numbers kept numeric."""

from __future__ import annotations

import io

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
    assert "4,0 %" in svg or "4,5 %" in svg  # the axis in the Finnish way, as on the page
    png = export.chart_png(chart, scale=2)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") >= 2 * export.IMAGE_WIDTH
    layered = alt.layer(chart, chart)
    assert export.chart_pdf(layered).startswith(b"%PDF")
