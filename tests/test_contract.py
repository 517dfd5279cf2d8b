"""The documented contract and its templates agree with the contract the importer enforces."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lasnaolo import contract, importer
from lasnaolo.contract import FILE_SPECS, INDICATORS, MEASURES

from helpers import snapshot

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


@pytest.mark.parametrize("kind", list(FILE_SPECS))
def test_template_header_is_the_contract(kind):
    header = contract.template(kind).decode("utf-8").splitlines()[0]
    assert header.split(",") == list(FILE_SPECS[kind].column_names)


def test_templates_import_cleanly_into_an_empty_database(engine):
    files = [(s.file_name, contract.template(k)) for k, s in FILE_SPECS.items()]
    summary = importer.import_files(engine, files)
    assert {f.kind: f.inserted for f in summary.files} == {"schools": 2, "absences": 3, "wellbeing": 3, "measures": 2}
    assert ("01234", "Esimerkkikoulu", "091", "primary", "fi") in snapshot(engine)["school"]
