"""The documented contract and its templates agree with the contract the importer enforces."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lasnaolo import contract, importer
from lasnaolo.contract import FILE_SPECS, INDICATORS, MEASURES

from support.helpers import snapshot

DOC = (Path(__file__).resolve().parents[1] / "docs" / "data-contract.md").read_text(encoding="utf-8")


def documented_columns(file_name: str) -> list[str]:
    """The column names in the first table of the file's section."""
    section = DOC.split(f"## `{file_name}`", 1)[1].split("\n## ", 1)[0]
    first_table = re.search(r"(^\|.*\n)+", section, flags=re.M).group(0)
    return re.findall(r"^\| `(\w+)` \|", first_table, flags=re.M)


@pytest.mark.parametrize("kind", list(FILE_SPECS))
def test_every_column_is_documented_in_its_section(kind):
    spec = FILE_SPECS[kind]
    assert documented_columns(spec.file_name) == list(spec.column_names)


def test_every_catalogue_code_is_documented():
    for code in [*INDICATORS, *MEASURES]:
        assert f"`{code}`" in DOC, code
    for code, indicator in INDICATORS.items():
        direction = "better" if indicator.higher_is_better else "worse"
        assert re.search(rf"^\| `{code}` \| {direction} \|", DOC, flags=re.M), code


def test_every_indicator_has_a_national_level_in_the_demo_generator():
    from lasnaolo import demo

    assert set(demo.SURVEY_ANCHORS) == set(INDICATORS)


@pytest.mark.parametrize("kind", list(FILE_SPECS))
def test_template_header_is_the_contract(kind):
    header = contract.template(kind).decode("utf-8").splitlines()[0]
    assert header.split(",") == list(FILE_SPECS[kind].column_names)


def test_templates_import_cleanly_into_an_empty_database(engine):
    files = [(s.file_name, contract.template(k)) for k, s in FILE_SPECS.items()]
    summary = importer.import_files(engine, files)
    assert {f.kind: f.inserted for f in summary.files} == {"schools": 2, "absences": 3, "wellbeing": 3, "measures": 2}
    assert ("01234", "Esimerkkikoulu", "091", "primary", "fi") in snapshot(engine)["school"]


@pytest.mark.parametrize("kind", list(FILE_SPECS))
def test_every_text_columns_length_limit_is_documented_in_its_row(kind):
    spec = FILE_SPECS[kind]
    section = DOC.split(f"## `{spec.file_name}`", 1)[1].split("\n## ", 1)[0]
    for column in spec.columns:
        if column.kind == "text":
            assert re.search(rf"^\| `{column.name}` \| text, ≤ {column.max_length} characters \|", section, flags=re.M), column.name


def test_every_import_limit_is_documented_with_its_default():
    from dataclasses import fields

    from lasnaolo.contract import IMPORT_LIMITS, MAX_INTEGER, ImportLimits

    settings = IMPORT_LIMITS
    limits = DOC.split("### Limits", 1)[1].split("\n## ", 1)[0]
    for name in ("max_file_mb", "max_upload_mb", "max_header_bytes", "extra_columns_margin", "max_rows",
                 "max_file_name_chars"):
        assert f"`{name}`" in limits, name
        value = getattr(settings, name)
        assert f"{value:,g}" in limits or f"{value:,}" in limits, (name, value)
    assert f"{MAX_INTEGER:,}" in limits
    widest = max(len(s.columns) for s in FILE_SPECS.values())
    assert f"{widest + settings.extra_columns_margin}: the widest file's {widest}" in limits
    assert {f.name for f in fields(ImportLimits)} >= {"max_upload_mb", "max_rows"}
    for start, end in (("U+0000", "U+001F"), ("U+007F", "U+009F"), ("U+202A", "U+202E"), ("U+2066", "U+2069")):
        assert f"{start}–{end}" in limits
