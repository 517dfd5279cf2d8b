"""Names and numbers as the charts' tables and the pages' pickers write them."""

from __future__ import annotations

import pandas as pd

from lasnaolo import disclosure, i18n, reference


def pupils_column(pupils: pd.Series) -> pd.Series:
    """Pupils as a table shows them: whole numbers as they arrive (empty where withheld)."""
    return pupils.astype(float).round().astype("Int64")


def pupils_or_class(frame: pd.DataFrame, language: str) -> pd.Series:
    """Pupils of schools some of which are shown only by their size class (pupils_low /
    pupils_high, "40–80"): text throughout, so exact sizes and classes sit in one column."""
    if "pupils_low" not in frame or frame["pupils_low"].isna().all():
        return pupils_column(frame["pupils"])
    exact = frame["pupils"].map(lambda v: "" if pd.isna(v) else i18n.number(v, language, 0))
    classes = pd.Series([disclosure.size_text(lo, hi) for lo, hi in zip(frame["pupils_low"], frame["pupils_high"])],
                        index=frame.index)
    return classes.where(frame["pupils_low"].notna(), exact)


def school_names(frame: pd.DataFrame, language: str) -> list[object]:
    """The frame's `school_name`s as a list shows them (`reference.school_labels`); None where the
    name is not shown."""
    if "school_name" not in frame:
        return [None] * len(frame)
    codes = frame["municipality_code"] if "municipality_code" in frame else [None] * len(frame)
    return reference.school_labels(frame["school_name"].tolist(), list(codes), language)


def metric_label(metric: str, language: str) -> str:
    if metric.startswith("survey:"):
        return i18n.t(f"indicator.{metric.removeprefix('survey:')}", language)
    return i18n.t(f"metric.{metric}", language)


def target_units(overview: pd.DataFrame, language: str) -> list[str]:
    """Each target's unit as lists name it: a municipality by its name in the UI language, a
    school by its name (with its municipality where the targets are of several)."""
    schools = overview["unit_level"] == "school"
    labels = iter(school_names(overview[schools].rename(columns={"unit_name": "school_name"}), language))
    return [next(labels) if level == "school" else reference.municipality_name(code, language)
            for level, code in zip(overview["unit_level"], overview["unit_code"])]


def unit_names(frame: pd.DataFrame, language: str) -> list[str]:
    return [reference.municipality_name(code, language) if level == "municipality" else name
            for level, code, name in zip(frame["unit_level"], frame["unit_code"], frame["unit_name"])]


def month_labels(frame: pd.DataFrame, language: str) -> pd.Series:
    return frame["month"].map(lambda m: i18n.month(m, language))

