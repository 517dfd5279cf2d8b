"""Reference data: municipalities (2023 division), regions (maakunnat), wellbeing services counties.

The tables live in the package (`reference_data/`), so the product needs nothing outside itself.
Codes and names follow the official 2023 division; Åland has no wellbeing services county.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import pandas as pd


def _read(name: str) -> pd.DataFrame:
    with resources.files("lasnaolo.reference_data").joinpath(name).open("r", encoding="utf-8") as f:
        return pd.read_csv(f, dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def municipalities() -> pd.DataFrame:
    """One row per municipality with region and wellbeing county codes and names."""
    frame = _read("municipalities.csv")
    regions_ = regions().add_prefix("region_").rename(columns={"region_region_code": "region_code"})
    counties = wellbeing_counties().add_prefix("county_").rename(
        columns={"county_wellbeing_county_code": "wellbeing_county_code"}
    )
    return frame.merge(regions_, on="region_code", how="left").merge(
        counties, on="wellbeing_county_code", how="left"
    ).fillna("")


@lru_cache(maxsize=1)
def regions() -> pd.DataFrame:
    return _read("regions.csv")


@lru_cache(maxsize=1)
def wellbeing_counties() -> pd.DataFrame:
    return _read("wellbeing_counties.csv")


@lru_cache(maxsize=1)
def municipality_codes() -> frozenset[str]:
    return frozenset(municipalities()["municipality_code"])


def municipalities_of_region(region_code: str) -> list[str]:
    frame = municipalities()
    return frame.loc[frame["region_code"] == region_code, "municipality_code"].tolist()


@lru_cache(maxsize=2)
def _municipality_names(column: str) -> dict[str, str]:
    return dict(zip(municipalities()["municipality_code"], municipalities()[column]))


def name_column(language: str, english: bool = False) -> str:
    """The column of a reference table's name in the UI language: Swedish in Swedish, else
    Finnish (municipalities have no English names; regions do, asked with `english`)."""
    return "name_sv" if language == "sv" else "name_en" if english and language == "en" else "name_fi"


def municipality_name(code: str, language: str = "fi") -> str:
    """The Finnish (or, in Swedish, the Swedish) name; KeyError for an unknown code."""
    return _municipality_names(name_column(language))[code]


def school_labels(names: Sequence[object], municipality_codes: Sequence[object], language: str) -> list[object]:
    """Schools as a list names them: the name alone where several named schools are all of one
    municipality, else "name, municipality" with the municipality in the UI language (names
    repeat across municipalities; a list of one school says nothing of where it is). A missing
    name stays missing (the caller shows the key)."""
    named = [(n, c) for n, c in zip(names, municipality_codes) if isinstance(n, str) and isinstance(c, str)]
    if len({c for _, c in named}) == 1 and len(named) > 1:
        return list(names)
    return [f"{n}, {municipality_name(c, language)}" if isinstance(n, str) and isinstance(c, str) else n
            for n, c in zip(names, municipality_codes)]


def region_name(code: str, language: str = "fi") -> str:
    """The region's name in the language (fi, sv or en); KeyError for an unknown code."""
    return regions().set_index("region_code").at[code, name_column(language, english=True)]


@lru_cache(maxsize=1)
def region_tiles() -> pd.DataFrame:
    """The project's own equal-area tile layout of the 19 regions: one square each, placed to
    keep neighbours next to each other (north at the top), with a short abbreviation in each
    language (`abbreviation_fi`, `_sv`, `_en`)."""
    frame = _read("region_tiles.csv")
    return frame.astype({"col": int, "row": int})
