"""Downloads: the stored data as the contract's CSV files in one ZIP, and every chart's table as
CSV or XLSX, safe against formula injection."""

from __future__ import annotations

import io
import re
import zipfile

import pandas as pd
from sqlalchemy.engine import Engine

from lasnaolo import contract, i18n, queries
from lasnaolo.scope import Scope


def stored_data_zip(engine: Engine, scope: Scope) -> bytes:
    """schools.csv, absences.csv, wellbeing.csv and measures.csv as stored; they re-import as is,
    except text a spreadsheet would run (a name starting with = + - @), which keeps its apostrophe."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for kind in contract.IMPORT_ORDER:
            frame = queries.stored_rows(engine, scope, kind)
            # Opened in a spreadsheet as often as re-imported: text is neutralised like every export
            # (the importer refuses line breaks, so only a name starting with = + - @ would differ).
            archive.writestr(contract.FILE_SPECS[kind].file_name, safe_frame(frame).to_csv(index=False))
    return buffer.getvalue()


# Tables behind the charts: percentages are float columns, counts integer columns.

# Formula injection (OWASP "CSV Injection", ASVS 5.0 1.2.10): a spreadsheet runs a cell that starts
# with one of these as a formula; LibreOffice also runs one that starts a line after an embedded
# line break, and a tab or line break inside a cell may split it into new cells on import.
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # full-width forms too
_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")  # CR, LF, tab, every C0 control, NEL, line/paragraph separator


def neutralise(value: object) -> object:
    """Text a spreadsheet could run as a formula becomes inert: line breaks, tabs and other control
    characters become spaces, and text that held any of them or that starts (after spaces) with
    = + - @ gets a leading apostrophe, which spreadsheets show as text. Non-text is returned as is."""
    if not isinstance(value, str):
        return value
    text, broken = _BREAKS.subn(" ", value)
    if broken or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _is_text(series: pd.Series) -> bool:
    return (series.dtype == object or isinstance(series.dtype, (pd.CategoricalDtype, pd.StringDtype))
            or pd.api.types.is_string_dtype(series.dtype))


def _safe_labels(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return pd.MultiIndex.from_tuples([tuple(neutralise(str(v)) for v in labels) for labels in index],
                                         names=[None if n is None else neutralise(str(n)) for n in index.names])
    if isinstance(index, pd.RangeIndex):
        return index
    values = [neutralise(v) if isinstance(v, str) else v for v in index]
    return pd.Index(values, name=None if index.name is None else neutralise(str(index.name)))


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell, column header and index label neutralised, whatever the
    column's dtype (object, string, category); numbers, dates and booleans are untouched. Every
    download (CSV, XLSX, the stored-data ZIP) goes through this one function."""
    out = frame.copy()
    out.columns = (_safe_labels(out.columns) if isinstance(out.columns, pd.MultiIndex)
                   else pd.Index([neutralise(str(c)) for c in out.columns]))
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if _is_text(column):
            out.isetitem(position, column.astype(object).map(neutralise))
    out.index = _safe_labels(out.index)
    return out


def table_csv(frame: pd.DataFrame, language: str) -> bytes:
    """CSV as a spreadsheet of that language opens it: ';' and decimal comma in fi / sv (Excel in
    Finland), ',' and decimal point in English; UTF-8 with BOM so Excel reads ä and ö."""
    nordic = language != "en"
    text = safe_frame(frame).to_csv(index=False, sep=";" if nordic else ",", decimal="," if nordic else ".",
                                    float_format="%.3f")
    return text.encode("utf-8-sig")


def table_xlsx(frame: pd.DataFrame, sheet: str = "Läsnäolo") -> bytes:
    """An .xlsx workbook with numeric cells (formatting is the spreadsheet's)."""
    return workbook_xlsx({sheet: frame})


def workbook_xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook with one sheet per table, in the given order."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for sheet, frame in sheets.items():
            safe_frame(frame).to_excel(writer, sheet_name=sheet[:31], index=False)
    return buffer.getvalue()


PLAIN_NUMBERS = "plain_numbers"  # DataFrame.attrs key: columns that are not percentages -> decimals


def plain_numbers(table: pd.DataFrame, decimals: dict[str, int]) -> pd.DataFrame:
    """Mark columns of a table as plain numbers (z-scores, coefficients, scores), so the screen
    writes them without a percent sign; files keep the numbers as they are."""
    table.attrs[PLAIN_NUMBERS] = {**table.attrs.get(PLAIN_NUMBERS, {}), **decimals}
    return table


def display_frame(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """The table as shown on screen: percentages, plain numbers and counts written the language's way."""
    out = frame.copy()
    plain = frame.attrs.get(PLAIN_NUMBERS, {})
    for column in out.columns:
        if column in plain:
            out[column] = out[column].map(lambda v, d=plain[column]: i18n.number(float(v), language, d) if pd.notna(v) else "–")
        elif pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].map(lambda v: i18n.percent(v, language))
        elif pd.api.types.is_integer_dtype(out[column]):
            out[column] = out[column].map(lambda v: "–" if pd.isna(v) else i18n.number(v, language, 0))
    return out


# Charts as images: rendered by vl-convert (the Vega renderer without a browser), so the files
# match what the page shows, numbers in the user's language included.

IMAGE_WIDTH = 900


def _fixed_width(chart, width: int | None):
    """Charts on the page stretch to their container; a file needs a width of its own.
    Concatenations are left as composed (their parts carry the widths)."""
    import altair as alt

    if width is None or isinstance(chart, (alt.VConcatChart, alt.HConcatChart, alt.ConcatChart)):
        return chart
    return chart.properties(width=width)


def chart_png(chart, scale: float = 3.0, width: int | None = IMAGE_WIDTH) -> bytes:
    """A high-resolution PNG (3× by default: sharp on a projector and in print)."""
    import vl_convert

    return vl_convert.vegalite_to_png(_fixed_width(chart, width).to_json(), scale=scale)


def chart_svg(chart, width: int | None = IMAGE_WIDTH) -> bytes:
    import vl_convert

    return vl_convert.vegalite_to_svg(_fixed_width(chart, width).to_json()).encode("utf-8")


def chart_pdf(chart, width: int | None = IMAGE_WIDTH) -> bytes:
    import vl_convert

    return vl_convert.vegalite_to_pdf(_fixed_width(chart, width).to_json())
