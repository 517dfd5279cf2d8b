"""The project's own reference tables against the official 2023 division in ../shared."""

from __future__ import annotations

import pandas as pd
import pytest

from lasnaolo import reference

from conftest import SHARED

OFFICIAL = SHARED / "data" / "geo" / "municipalities-2023.csv"


@pytest.mark.skipif(not OFFICIAL.exists(), reason=f"official municipality table not found at {OFFICIAL}")
def test_municipalities_match_the_official_table_exactly():
    official = pd.read_csv(OFFICIAL, dtype=str, keep_default_na=False).set_index("municipality_code")
    ours = reference.municipalities().set_index("municipality_code")
    assert sorted(ours.index) == sorted(official.index)
    mismatches = []
    for code, row in official.iterrows():
        mine = ours.loc[code]
        for theirs, column in (("name_fi", "name_fi"), ("name_sv", "name_sv"), ("region_code", "region_code"),
                               ("region_fi", "region_name_fi"), ("region_sv", "region_name_sv")):
            if row[theirs] != mine[column]:
                mismatches.append((code, theirs, row[theirs], mine[column]))
    assert mismatches == []


def test_reference_tables_are_complete():
    munis = reference.municipalities()
    assert len(munis) == 309 and munis["municipality_code"].str.fullmatch(r"\d{3}").all()
    assert len(reference.regions()) == 19
    assert set(munis["region_code"]) == set(reference.regions()["region_code"])
    # Every municipality outside Åland belongs to a wellbeing services county (or Helsinki).
    mainland = munis[munis["region_code"] != "21"]
    assert (mainland["county_name_fi"] != "").all()
    assert (munis.loc[munis["region_code"] == "21", "wellbeing_county_code"] == "").all()
    # Uusimaa is the one region split into several counties.
    uusimaa = munis[munis["region_code"] == "01"].groupby("wellbeing_county_code").size().to_dict()
    assert uusimaa == {"02": 7, "03": 6, "04": 10, "05": 2, "90": 1}
    others = mainland[mainland["region_code"] != "01"].groupby("region_code")["wellbeing_county_code"].nunique()
    assert (others == 1).all()


def test_region_tiles_cover_every_region_once_with_a_unique_abbreviation_per_language_and_follow_the_map():
    tiles = reference.region_tiles()
    assert sorted(tiles["region_code"]) == sorted(reference.regions()["region_code"])
    assert not tiles.duplicated(["col", "row"]).any()
    for language in ("fi", "sv", "en"):
        assert tiles[f"abbreviation_{language}"].is_unique and tiles[f"abbreviation_{language}"].str.len().between(2, 3).all()
    # Each abbreviation opens with the name's first letter in its language (NYL for Nyland).
    named = tiles.merge(reference.regions(), on="region_code")
    for language in ("fi", "sv"):
        assert (named[f"abbreviation_{language}"].str[0] == named[f"name_{language}"].str.upper().str[0]).sum() >= 15
    official = SHARED / "data" / "geo" / "municipalities-2023.csv"
    if not official.exists():
        pytest.skip(f"{official} not present")
    centres = pd.read_csv(official, dtype={"region_code": str}).groupby("region_code")[["lon", "lat"]].mean()
    placed = tiles.set_index("region_code").join(centres)
    # North at the top and east to the right: rows follow latitude, columns longitude.
    assert placed["row"].corr(-placed["lat"], method="spearman") > 0.85
    assert placed["col"].corr(placed["lon"], method="spearman") > 0.7


def test_a_list_of_schools_adds_the_municipality_in_the_ui_language_only_when_it_holds_several():
    one = reference.school_labels(["Koulu A", "Skola B"], ["106", "106"], "sv")
    assert one == ["Koulu A", "Skola B"]
    several = reference.school_labels(["Koulu A", "Skola B", None], ["106", "091", None], "sv")
    assert several == ["Koulu A, Hyvinge", "Skola B, Helsingfors", None]
    assert reference.school_labels(["Skola B", "Koulu A"], ["091", "106"], "fi") == ["Skola B, Helsinki", "Koulu A, Hyvinkää"]
    # A hidden school's municipality never counts (its name is not shown); one school alone says where it is.
    assert reference.school_labels(["Koulu A", "Koulu B", None], ["106", "106", "091"], "fi") == ["Koulu A", "Koulu B", None]
    assert reference.school_labels(["Koulu A", None], ["106", "091"], "sv") == ["Koulu A, Hyvinge", None]
