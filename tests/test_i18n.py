"""The one catalogue: complete in fi / sv / en, every key the code uses exists, Nordic formats."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from lasnaolo import contract, deck, i18n, risk, targets
from lasnaolo.accounts import PAGE_ROLES
from lasnaolo.scope import ROLES

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("lasnaolo/**/*.py")]


def test_every_key_has_every_language_and_the_same_placeholders():
    for key, texts in i18n.catalogue().items():
        assert set(texts) == set(i18n.LANGUAGES), key
        assert all(isinstance(v, str) and v.strip() for v in texts.values()), key
        placeholders = {lang: set(re.findall(r"{(\w+)}", text)) for lang, text in texts.items()}
        assert placeholders["fi"] == placeholders["sv"] == placeholders["en"], key


def test_every_literal_key_used_in_the_code_exists():
    pattern = re.compile(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z0-9_]+)+)["']""")
    used = {key for path in SOURCES for key in pattern.findall(path.read_text(encoding="utf-8"))}
    assert len(used) > 40  # the pattern really finds the keys
    missing = sorted(k for k in used if not i18n.has(k))
    assert missing == []


def test_every_catalogue_family_used_with_a_computed_key_is_complete():
    families = {
        "role": ROLES, "indicator": contract.INDICATORS, "measure": contract.MEASURES,
        "school_type": contract.SCHOOL_TYPES, "language": contract.SCHOOL_LANGUAGES,
        "category": contract.ABSENCE_CATEGORIES, "tier": contract.TIERS, "month": range(1, 13),
        "page": PAGE_ROLES, "grade_band": contract.GRADE_BANDS,
        "risk.feature": [f for f in (*risk.CLUSTER_FEATURES, *risk.FLAG_FEATURES) if not f.startswith("survey_")],
        "risk.trait": ("high", "low"),
        "deck.slide": deck.SLIDES, "deck.caption": deck.SLIDES,
        "targets.status": targets.STATUSES, "targets.action": ("create", "update", "delete", "comment"),
        "metric": ("absence_rate", "illness_rate", "authorised_rate", "unauthorised_rate", "tier1_share",
                   "tier2_share", "tier3_share", "tier23_share", "pupils"),
    }
    for family, codes in families.items():
        for code in codes:
            assert i18n.has(f"{family}.{code}"), f"{family}.{code}"


def test_every_problem_code_the_importer_raises_has_a_text():
    """Problem(file, row, column, value, code) and add_rows(file, frame, mask, column, code): the
    fifth argument is the code wherever the importer creates a problem."""
    tree = ast.parse((ROOT / "lasnaolo" / "importer.py").read_text(encoding="utf-8"))
    codes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and len(node.args) >= 5:
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in ("Problem", "add_rows") and isinstance(node.args[4], ast.Constant):
                codes.add(node.args[4].value)
    assert len(codes) >= 30
    assert sorted(c for c in codes if not i18n.has(f"problem.{c}")) == []


def test_problem_texts_differ_by_language():
    from lasnaolo.importer import Problem

    problem = Problem("absences.csv", 4, "pupils", "-3", "negative")
    assert problem.reason == "must not be negative"
    assert problem.reason_in("fi") == "ei saa olla negatiivinen"
    assert problem.reason_in("sv") == "får inte vara negativt"
    with pytest.raises(ValueError):
        Problem("x.csv", 1, None, None, "no_such_code")


@pytest.mark.parametrize(("language", "expected"), [("fi", "12,3\u00a0%"), ("sv", "12,3\u00a0%"), ("en", "12.3%")])
def test_percent(language, expected):
    assert i18n.percent(12.345, language) == expected


def test_numbers_dates_and_school_years():
    assert i18n.number(1234567.891, "fi", 2) == "1\u00a0234\u00a0567,89"
    assert i18n.number(1234567.891, "en", 2) == "1,234,567.89"
    assert i18n.day(date(2024, 9, 1), "fi") == "1.9.2024" == i18n.day(date(2024, 9, 1), "sv")
    assert i18n.day(date(2024, 9, 1), "en") == "1 Sep 2024"
    assert i18n.school_year("2024-2025") == "2024–2025"
    assert i18n.points(-0.44, "fi") == "\u22120,4" and i18n.points(1.25, "en") == "+1.2"
    assert i18n.percent(None) == "–" and i18n.percent(float("nan")) == "–"
    from datetime import datetime

    stored = datetime(2026, 11, 23, 17, 27)  # UTC, as the import log stores it
    assert i18n.timestamp(stored, "fi") == "23.11.2026 19.27"
    assert i18n.timestamp(datetime(2026, 7, 1, 9, 5), "sv") == "1.7.2026 12:05"  # summer time: UTC+3


def test_t_fills_placeholders_and_falls_back_to_finnish_for_unknown_languages():
    assert i18n.t("overview.data_up_to", "sv", date="31.3.2025", year="2024–2025") == \
        "Uppgifter till och med 31.3.2025 (läsåret 2024–2025)."
    assert i18n.t("page.overview", "de") == "Yleiskuva"
    with pytest.raises(KeyError):
        i18n.t("no.such.key")


def test_a_count_of_one_takes_the_singular_form_where_the_catalogue_has_one():
    assert i18n.t("evaluation.saved", "fi", n=1) == "Tallennettu: 1 muuttunut arvio."
    assert i18n.t("evaluation.saved", "fi", n=2) == "Tallennettu: 2 muuttunutta arviota."
    assert i18n.t("data.more_problems", "en", count=1) == "…and 1 more problem"
    assert i18n.t("scope.municipalities", "sv", names="Hyvinge", n=1) == "Hyvinge"
    assert i18n.t("scope.municipalities", "fi", names="Hyvinkää, Kerava", n=2) == "kunnat Hyvinkää, Kerava"
    # Every singular form belongs to a key that exists, in all three languages.
    for key in (k for k in i18n.catalogue() if k.endswith(".one")):
        assert key.removesuffix(".one") in i18n.catalogue(), key


def test_a_key_written_twice_in_the_catalogue_is_refused_with_its_line():
    import yaml

    with pytest.raises(ValueError, match="line 2: key 'a' appears twice"):
        yaml.load("a: {fi: x}\na: {fi: y}\n", Loader=i18n._UniqueKeyLoader)


def test_no_catalogue_text_holds_a_slip_the_browser_walk_looks_for():
    """"null"/"None"/"nan" and a doubled colon (the browser walk's SLIPS), in every text of the
    catalogue, including those only some data shows (an impact warning had 'Varoitus: … : ')."""
    import re

    slips = re.compile(r"\b(?:null|None|nan|NaN)\b|:\s[^:.!?\n]{1,60}:\s")
    found = [(key, language) for key, texts in i18n.catalogue().items() for language, text in texts.items()
             if slips.search(text)]
    assert found == []
