"""Altair chart builders. They take small, already aggregated and suppressed frames and return
charts; numbers on axes and in tooltips follow the user's language (decimal comma in fi / sv).

Colours come from the Okabe-Ito palette, which stays distinguishable with the common forms of
colour blindness, and each category keeps its colour in every chart.
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd
from altair.utils.schemapi import SchemaBase

from lasnaolo import contract, disclosure, export, i18n, reference

OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
             "grey": "#7A7A7A"}
CATEGORY_COLOURS = {"illness": OKABE_ITO["blue"], "authorised": OKABE_ITO["orange"],
                    "unauthorised": OKABE_ITO["vermillion"]}
TIER_COLOURS = {1: OKABE_ITO["sky"], 2: OKABE_ITO["orange"], 3: OKABE_ITO["vermillion"]}
CURRENT_COLOUR, EARLIER_COLOUR = OKABE_ITO["blue"], OKABE_ITO["grey"]
TEXT_GREY = "#444444"  # text drawn on a chart (names beside dots, a grey tile's words): 9.7:1 on white
# Tier labels are long ("Taso 1: kiinnittymisen tukeminen (5–9 %)"): the range goes on a line of
# its own and nothing is cut (review finding: "Taso 1: kiinnittymisen tu…").
TIER_AXIS = alt.Axis(labelLimit=0, labelOverlap=False, labelExpr="split(replace(datum.label, ' (', '\\n('), '\\n')")

# A dashed series' legend entry drawn as a short line in its dash (a dashed circle read as a blot).
LINE_LEGEND = alt.Legend(symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=500)



# What the browser receives -------------------------------------------------------------------
#
# A chart's data goes to the browser whole (the page's websocket, "View source", the PNG / SVG
# download), so a column a chart does not draw would be readable there even though the page never
# shows it. Every builder's result therefore passes through `only_encoded_fields`: each data
# frame keeps only the columns its view (or a view inheriting its data) names in an encoding,
# transform, filter, selection or condition, and loses its index.

_PLACEHOLDER = "lasnaolo_frame_"
_CHILD_VIEWS = ("layer", "hconcat", "vconcat", "concat", "spec")
_FIELD_LISTS = frozenset({"fields", "groupby", "fold", "flatten"})
# Transform operands that name a field (a string), each with the key that marks its transform.
_TRANSFORM_OPERANDS = {"lookup": "lookup", "pivot": "pivot", "impute": "impute", "density": "density",
                       "regression": "regression", "loess": "loess", "quantile": "quantile", "extent": "extent",
                       "stack": "groupby", "value": "pivot", "key": "impute", "on": ("regression", "loess")}
_DATUM = re.compile(r"""datum\s*(?:\.\s*([A-Za-z_$][\w$]*)|\[\s*(['"])(.*?)\2\s*\])""")


def _map_frames(obj: Any, replace: Callable[[pd.DataFrame], Any], memo: dict[int, Any],
                inline: Callable[[Any], Any] | None = None) -> Any:
    """A copy of an Altair object with every pandas frame in it replaced (the same frame by the
    same object, so layers that share data still share it). Data objects (inline values such as
    GeoJSON features, names, URLs) are kept as they are, or given to `inline`."""
    if isinstance(obj, pd.DataFrame):
        if id(obj) not in memo:
            memo[id(obj)] = replace(obj)
        return memo[id(obj)]
    if isinstance(obj, alt.Data):  # also InlineData, NamedData, UrlData
        if inline is None or obj._kwds.get("values", alt.Undefined) is alt.Undefined:
            return obj
        if id(obj) not in memo:
            memo[id(obj)] = inline(obj)
        return memo[id(obj)]
    if isinstance(obj, SchemaBase):
        args = [_map_frames(a, replace, memo, inline) for a in obj._args]
        kwds = {k: _map_frames(v, replace, memo, inline) for k, v in obj._kwds.items()}
        with alt.utils.schemapi.debug_mode(False):
            return obj.__class__(*args, **kwds)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map_frames(v, replace, memo, inline) for v in obj)
    if isinstance(obj, dict):
        return {k: _map_frames(v, replace, memo, inline) for k, v in obj.items()}
    return obj


def _placeholder(data: Any) -> str | None:
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name.startswith(_PLACEHOLDER) else None


def _references(node: Any, found: set[str], lookups: list[tuple[str, set[str] | None]]) -> None:
    """Field names `node` (a part of one view's spec, its sub-views excluded) refers to: field
    definitions, transform operands, `datum.x` / `datum['x']` in expressions. A lookup's own
    data gets its key and fields (all of its columns when it names none)."""
    if isinstance(node, str):
        found.update(m.group(1) or m.group(3) for m in _DATUM.finditer(node))
    elif isinstance(node, list):
        for item in node:
            _references(item, found, lookups)
    elif isinstance(node, dict):
        source = node.get("from")
        if "lookup" in node and isinstance(source, dict) and _placeholder(source.get("data")):
            fields = source.get("fields")
            wanted = None if not fields else {*fields, source.get("key")}
            lookups.append((_placeholder(source["data"]), wanted))
        for key, value in node.items():
            if key in ("data", "datasets", "labelExpr") or (key == "from" and "lookup" in node):
                continue
            marker = _TRANSFORM_OPERANDS.get(key)
            if key == "field" and isinstance(value, str):
                found.add(value)
            elif key in _FIELD_LISTS and isinstance(value, list):
                found.update(v for v in value if isinstance(v, str))
            elif marker and isinstance(value, str) and any(m in node for m in ((marker,) if isinstance(marker, str) else marker)):
                found.add(value)
            elif key == "repeat":
                found.update(v for part in (value.values() if isinstance(value, dict) else [value])
                             for v in (part if isinstance(part, list) else []) if isinstance(v, str))
            else:
                _references(value, found, lookups)


def _fields_by_frame(view: dict, data: str | None, inherited: frozenset[str], out: dict[str, set[str] | None]) -> None:
    """For each placeholder frame, the fields named by the views that read it."""
    data = _placeholder(view.get("data")) or data
    found: set[str] = set()
    lookups: list[tuple[str, set[str] | None]] = []
    _references({k: v for k, v in view.items() if k not in _CHILD_VIEWS}, found, lookups)
    fields = inherited | found
    for name, wanted in [(data, set(fields)), *lookups]:
        if name is None:
            continue
        if wanted is None or out.get(name, set()) is None:
            out[name] = None
        else:
            out.setdefault(name, set()).update(wanted)
    for key in _CHILD_VIEWS:
        children = view.get(key)
        for child in children if isinstance(children, list) else [children] if isinstance(children, dict) else []:
            if isinstance(child, dict):
                _fields_by_frame(child, data, fields, out)


def _column_names(fields: set[str]) -> set[str]:
    """The columns `fields` may mean: the name itself, unescaped, and the top of a nested one
    ("properties.code" reads column "properties"; "a\\.b" is column "a.b")."""
    names = set()
    for field in fields:
        names.add(field)
        names.add(re.sub(r"\\(.)", r"\1", field))
        names.add(re.sub(r"\\(.)", r"\1", re.split(r"(?<!\\)[.\[]", field)[0]))
    return names


def only_encoded_fields(chart):
    """The chart with each of its data frames reduced to the columns the chart refers to (see
    the notes above); a frame no view reads keeps its rows but no columns. The chart given is
    not changed."""
    names: dict[int, str] = {}

    def placeholder(frame: pd.DataFrame) -> alt.Data:
        names[id(frame)] = f"{_PLACEHOLDER}{len(names)}"
        return alt.Data(name=names[id(frame)])

    # Inline values (GeoJSON features: public boundaries, already reduced to their code) stay as
    # they are; in the skeleton a name stands for them, so their geometry is not serialised here.
    skeleton = _map_frames(chart, placeholder, {}, inline=lambda data: alt.Data(name="lasnaolo_inline"))
    if not names:
        return chart
    wanted: dict[str, set[str] | None] = {}
    _fields_by_frame(skeleton.to_dict(validate=False), None, frozenset(), wanted)

    def reduce(frame: pd.DataFrame) -> pd.DataFrame:
        fields = wanted.get(names[id(frame)], set())
        if fields is None:
            return frame.reset_index(drop=True)
        keep = _column_names(fields)
        return frame.loc[:, [c for c in frame.columns if str(c) in keep]].reset_index(drop=True)

    return _map_frames(chart, reduce, {})


def _only_what_is_shown(builder):
    """Decorates a chart builder: its chart leaves with only the columns it draws."""
    @functools.wraps(builder)
    def build(*args, **kwargs):
        return only_encoded_fields(builder(*args, **kwargs))

    build.only_encoded_fields = True
    return build


def percent_axis_labels(language: str) -> str:
    """A Vega expression that writes axis values as 12,3 % (fi, sv) or 12.3% (en)."""
    if language == "en":
        return "format(datum.value, '.1f') + '%'"
    return "replace(format(datum.value, '.1f'), '.', ',') + ' %'"


def month_name(month_number: int, language: str) -> str:
    return i18n.t(f"month.{month_number}", language)


@_only_what_is_shown
def seasonal_rate_chart(monthly: pd.DataFrame, language: str, metric: str = "absence_rate") -> alt.Chart:
    """One line per school year over August..June, so a year is read against the same months
    of earlier years. `monthly` has school_year, month and the metric."""
    newest = monthly["school_year"].max()
    frame = monthly.assign(
        month_label=monthly["month"].map(lambda m: month_name(int(m[5:7]), language)),
        series=monthly["school_year"].map(i18n.school_year),
        value_text=monthly[metric].map(lambda v: i18n.percent(v, language)),
    )
    order = [month_name(m, language) for m in contract.SCHOOL_YEAR_MONTHS]
    series = sorted(frame["series"].unique())
    colours = [CURRENT_COLOUR if s == i18n.school_year(newest) else EARLIER_COLOUR for s in series]
    return (
        alt.Chart(frame)
        .mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=alt.X("month_label:N", sort=order, title=i18n.t("overview.month", language), axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"{metric}:Q", title=i18n.t(f"metric.{metric}", language),
                    axis=alt.Axis(labelExpr=percent_axis_labels(language))),
            color=alt.Color("series:N", title=i18n.t("overview.series", language),
                            scale=alt.Scale(domain=series, range=colours), legend=LINE_LEGEND),
            # Dashes as well as colours, so the years differ without colour vision too.
            strokeDash=alt.StrokeDash("series:N", title=i18n.t("overview.series", language),
                                      scale=alt.Scale(domain=series, range=[[1, 0] if c == CURRENT_COLOUR else [5, 3] for c in colours])),
            tooltip=[alt.Tooltip("series:N", title=i18n.t("overview.series", language)),
                     alt.Tooltip("month_label:N", title=i18n.t("overview.month", language)),
                     alt.Tooltip("value_text:N", title=i18n.t(f"metric.{metric}", language))],
        )
        .properties(height=260)
    )


@_only_what_is_shown
def tier_chart(shares: pd.DataFrame, language: str) -> alt.Chart:
    """Horizontal bars of the tier shares; `shares` has tier (1-3) and share (percent)."""
    frame = shares.assign(
        label=shares["tier"].map(lambda t: i18n.t(f"tier.{t}", language)),
        share_text=shares["share"].map(lambda v: i18n.percent(v, language)),
    )
    labels = [i18n.t(f"tier.{t}", language) for t in contract.TIERS]
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort=labels, title=None, axis=TIER_AXIS),
            x=alt.X("share:Q", title=i18n.t("overview.share", language),
                    axis=alt.Axis(labelExpr=percent_axis_labels(language))),
            color=alt.Color("label:N", legend=None,
                            scale=alt.Scale(domain=labels, range=[TIER_COLOURS[t] for t in contract.TIERS])),
            tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("share_text:N", title=i18n.t("overview.share", language))],
        )
        .properties(height=140)
    )


# Text alternatives: the same numbers as the charts, as tables in the user's language.

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


def seasonal_rate_table(monthly: pd.DataFrame, language: str, metric: str = "absence_rate") -> pd.DataFrame:
    ordered = monthly.sort_values(["school_year", "month"])
    return pd.DataFrame({
        i18n.t("overview.series", language): ordered["school_year"].map(i18n.school_year),
        i18n.t("overview.month", language): ordered["month"].map(lambda m: i18n.month(m, language)),
        i18n.t(f"metric.{metric}", language): ordered[metric],
    })


def tier_table(shares: pd.DataFrame, language: str) -> pd.DataFrame:
    return pd.DataFrame({
        "": shares["tier"].map(lambda t: i18n.t(f"tier.{t}", language)),
        i18n.t("overview.share", language): shares["share"],
    })


def tier_shares(figures) -> pd.DataFrame:
    """tier, share for the tiers whose share is not withheld (from KeyFigures)."""
    shares = pd.DataFrame({"tier": list(contract.TIERS),
                           "share": [getattr(figures, f"tier{t}_share") for t in contract.TIERS]})
    return shares.dropna().reset_index(drop=True)


# Trends page ----------------------------------------------------------------------------------

def _month_labels(frame: pd.DataFrame, language: str) -> pd.Series:
    return frame["month"].map(lambda m: i18n.month(m, language))


def _period_labels(frame: pd.DataFrame, language: str) -> tuple[pd.Series, pd.Series, str]:
    """Sort keys, labels and the axis title of a frame by month, or else by school year."""
    if "month" in frame:
        return frame["month"], _month_labels(frame, language), i18n.t("overview.month", language)
    return frame["school_year"], frame["school_year"].map(i18n.school_year), i18n.t("overview.school_year", language)


@_only_what_is_shown
def category_chart(frame: pd.DataFrame, language: str) -> alt.Chart:
    """The absence rate of each month (or, without a month column, each school year), stacked
    by category (illness / authorised / unauthorised)."""
    long = category_table_long(frame, language)
    order = [i18n.t(f"category.{c}", language) for c in contract.ABSENCE_CATEGORIES]
    _, _, period_title = _period_labels(frame, language)
    many = long["period_label"].nunique() > 12
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("period_label:N", sort=list(dict.fromkeys(long["period_label"])), title=period_title,
                    axis=alt.Axis(labelAngle=-90 if many else 0, labelOverlap=True)),
            y=alt.Y("rate:Q", stack="zero", title=i18n.t("metric.absence_rate", language),
                    axis=alt.Axis(labelExpr=percent_axis_labels(language))),
            color=alt.Color("category:N", sort=order, title=None,
                            scale=alt.Scale(domain=order, range=[CATEGORY_COLOURS[c] for c in contract.ABSENCE_CATEGORIES])),
            order=alt.Order("category_order:Q"),
            tooltip=[alt.Tooltip("period_label:N", title=period_title),
                     alt.Tooltip("category:N", title=""), alt.Tooltip("rate_text:N", title=i18n.t("metric.absence_rate", language))],
        )
        .properties(height=280 if many else 220)
    )


def category_table_long(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    keys, labels, _ = _period_labels(frame, language)
    parts = []
    for position, category in enumerate(contract.ABSENCE_CATEGORIES):
        parts.append(pd.DataFrame({
            "period": keys, "period_label": labels,
            "category": i18n.t(f"category.{category}", language), "category_order": position,
            "rate": frame[f"{category}_rate"],
            "rate_text": frame[f"{category}_rate"].map(lambda v: i18n.percent(v, language)),
        }))
    return pd.concat(parts, ignore_index=True).sort_values(["period", "category_order"], ignore_index=True)


def category_table(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    _, labels, period_title = _period_labels(frame, language)
    out = {period_title: labels}
    for category in contract.ABSENCE_CATEGORIES:
        out[i18n.t(f"category.{category}", language)] = frame[f"{category}_rate"]
    out[i18n.t("metric.absence_rate", language)] = frame["absence_rate"]
    return pd.DataFrame(out)


@_only_what_is_shown
def tier_trend_chart(monthly: pd.DataFrame, language: str) -> alt.Chart:
    """Each tier's share of pupils at each month end (tiers are year to date, so they build up
    over the autumn and restart in August)."""
    long = pd.concat([
        pd.DataFrame({"month": monthly["month"], "month_label": _month_labels(monthly, language),
                      "tier": i18n.t(f"tier.{t}", language), "share": monthly[f"tier{t}_share"],
                      "share_text": monthly[f"tier{t}_share"].map(lambda v: i18n.percent(v, language))})
        for t in contract.TIERS], ignore_index=True)
    labels = [i18n.t(f"tier.{t}", language) for t in contract.TIERS]
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("month_label:N", sort=list(dict.fromkeys(long.sort_values("month")["month_label"])),
                    title=i18n.t("overview.month", language), axis=alt.Axis(labelAngle=-90, labelOverlap=True)),
            y=alt.Y("share:Q", title=i18n.t("overview.share", language), axis=alt.Axis(labelExpr=percent_axis_labels(language))),
            color=alt.Color("tier:N", sort=labels, title=None,
                            scale=alt.Scale(domain=labels, range=[TIER_COLOURS[t] for t in contract.TIERS])),
            tooltip=[alt.Tooltip("month_label:N", title=i18n.t("overview.month", language)), alt.Tooltip("tier:N", title=""),
                     alt.Tooltip("share_text:N", title=i18n.t("overview.share", language))],
        )
        .properties(height=260)
    )


def tier_trend_table(monthly: pd.DataFrame, language: str) -> pd.DataFrame:
    out = {i18n.t("overview.month", language): _month_labels(monthly, language)}
    for t in contract.TIERS:
        out[i18n.t(f"tier.{t}", language)] = monthly[f"tier{t}_share"]
    return pd.DataFrame(out)


@_only_what_is_shown
def group_trend_chart(by_group: pd.DataFrame, group: str, labels: dict[str, str], metric: str, language: str) -> alt.Chart:
    """One line per group (grade band, school type, language) over the school years."""
    frame = by_group.assign(
        label=by_group[group].map(labels), year=by_group["school_year"].map(i18n.school_year),
        value_text=by_group[metric].map(lambda v: i18n.percent(v, language)))
    palette = [OKABE_ITO[c] for c in ("blue", "orange", "green", "purple", "vermillion")]
    domain = [labels[k] for k in labels if k in set(by_group[group])]
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("year:N", title=i18n.t("overview.school_year", language)),
            y=alt.Y(f"{metric}:Q", title=i18n.t(f"metric.{metric}", language),
                    axis=alt.Axis(labelExpr=percent_axis_labels(language))),
            color=alt.Color("label:N", title=None, scale=alt.Scale(domain=domain, range=palette[: len(domain)])),
            tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("year:N", title=i18n.t("overview.school_year", language)),
                     alt.Tooltip("value_text:N", title=i18n.t(f"metric.{metric}", language))],
        )
        .properties(height=220)
    )


def group_trend_table(by_group: pd.DataFrame, group: str, labels: dict[str, str], metric: str, language: str) -> pd.DataFrame:
    table = by_group.assign(label=by_group[group].map(labels), year=by_group["school_year"].map(i18n.school_year))
    wide = table.pivot(index="label", columns="year", values=metric)
    return wide.reset_index().rename(columns={"label": ""}).rename_axis(columns=None)


@_only_what_is_shown
def ranking_chart(ranking: pd.DataFrame, language: str) -> alt.Chart:
    """Municipalities as dots with 95 % intervals, highest first; the user's own highlighted."""
    name = reference.name_column(language)
    # One highlighted municipality is named: in a deck narrowed to it, "your area" is the
    # presenter's whole area on the region tile (review finding: one label, two meanings).
    own_names = ranking.loc[ranking["own"].astype(bool), name]
    own_label = own_names.iloc[0] if len(own_names) == 1 else i18n.t("trends.own_area_short", language)
    frame = ranking.assign(
        label=ranking[name], rate_text=ranking["absence_rate"].map(lambda v: i18n.percent(v, language)),
        interval_text=[f"{i18n.percent(lo, language)} – {i18n.percent(hi, language)}"
                       for lo, hi in zip(ranking["ci_low"], ranking["ci_high"])],
        highlight=ranking["own"].map({True: own_label, False: i18n.t("trends.other_municipalities", language)}))
    order = frame["label"].tolist()
    base = alt.Chart(frame).encode(y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelOverlap=False)))
    # The highlight is explained by a legend (review finding: orange and blue dots, no key).
    domain = [own_label, i18n.t("trends.other_municipalities", language)]
    # Without any municipality of the user's own (all data, a region) there is nothing to highlight.
    colour = alt.Color("highlight:N", title=None,
                       legend=alt.Legend(orient="top", columnPadding=24) if ranking["own"].any() else None,
                       scale=alt.Scale(domain=domain, range=[OKABE_ITO["vermillion"], OKABE_ITO["blue"]]))
    tooltip = [alt.Tooltip("label:N", title=""), alt.Tooltip("rate_text:N", title=i18n.t("metric.absence_rate", language)),
               alt.Tooltip("interval_text:N", title=i18n.t("trends.interval", language))]
    rule = base.mark_rule(strokeWidth=2.5).encode(x=alt.X("ci_low:Q", title=i18n.t("metric.absence_rate", language),
                                                           scale=alt.Scale(zero=False),
                                                           axis=alt.Axis(labelExpr=percent_axis_labels(language))),
                                                  x2="ci_high:Q", color=colour, tooltip=tooltip)
    dots = base.mark_point(filled=True, size=110).encode(x="absence_rate:Q", color=colour, tooltip=tooltip)
    return (rule + dots).properties(height=max(160, 20 * len(frame)))


def ranking_table(ranking: pd.DataFrame, language: str) -> pd.DataFrame:
    name = reference.name_column(language)
    interval = i18n.t("trends.interval", language)
    return pd.DataFrame({
        i18n.t("trends.municipality", language): ranking[name],
        i18n.t("metric.absence_rate", language): ranking["absence_rate"],
        f"{interval} ↓": ranking["ci_low"],
        f"{interval} ↑": ranking["ci_high"],
        i18n.t("metric.pupils", language): pupils_column(ranking["pupils"]),
    })


def region_tile_frame(regions: pd.DataFrame, metric: str, language: str) -> pd.DataFrame:
    """Every region's tile with the metric where the scope has data (other tiles stay empty, so
    the country's shape is always there)."""
    tiles = reference.region_tiles().merge(reference.regions(), on="region_code")
    values = regions.set_index("region_code")[metric] if not regions.empty else pd.Series(dtype=float)
    frame = tiles.assign(name=tiles[reference.name_column(language, english=True)],
                         abbreviation=tiles[f"abbreviation_{language if language in ('sv', 'en') else 'fi'}"], value=tiles["region_code"].map(values).astype(float),
                         value_text=lambda f: f["value"].map(lambda v: i18n.percent(v, language)))
    # Where the scope is only part of a region, its tile says so instead of the region's name.
    part = set(regions.loc[~regions["whole_region"].astype(bool), "region_code"]) if "whole_region" in regions else set()
    own = frame["region_code"].isin(part)
    frame.loc[own, "abbreviation"] = i18n.t("trends.own_area_short", language)
    counts = regions.set_index("region_code")["part_municipalities"] if "part_municipalities" in regions else pd.Series(dtype=float)
    frame.loc[own, "name"] = [
        i18n.t("trends.own_area_of", language, region=n, n=int(counts[code])) if code in counts.index and pd.notna(counts[code])
        else i18n.t("trends.own_area_in", language, region=n)
        for n, code in zip(frame.loc[own, "name"], frame.loc[own, "region_code"])]
    return frame


@_only_what_is_shown
def region_tile_chart(regions: pd.DataFrame, metric: str, language: str, tile: int = 58) -> alt.Chart:
    """The 19 regions as equal squares of `tile` pixels coloured by the metric (a sequential,
    colour-blind-safe scale), each with its abbreviation and value written on it."""
    frame = region_tile_frame(regions, metric, language)
    # A grey tile has no figure: it stays blank (the caption says why), not "–"; one coloured
    # tile needs no colour scale (its figure is written on it).
    frame["value_text"] = frame["value_text"].where(frame["value"].notna(), "")
    scale_legend = alt.Legend(labelExpr=percent_axis_labels(language)) if frame["value"].notna().sum() > 1 else None
    base = alt.Chart(frame).encode(x=alt.X("col:O", axis=None), y=alt.Y("row:O", axis=None))
    tooltip = [alt.Tooltip("name:N", title=i18n.t("trends.area", language)),
               alt.Tooltip("value_text:N", title=i18n.t(f"metric.{metric}", language))]
    # Every tile in grey first (Vega-Lite drops marks whose colour value is missing), then the
    # regions with data coloured on top.
    background = base.mark_rect(stroke="white", strokeWidth=3, color="#E6E6E6").encode(tooltip=tooltip)
    squares = base.transform_filter("isValid(datum.value)").mark_rect(stroke="white", strokeWidth=3).encode(
        color=alt.Color("value:Q", title=i18n.t(f"metric.{metric}", language),
                        scale=alt.Scale(scheme="viridis", reverse=True), legend=scale_legend),
        tooltip=tooltip)
    # Dark text on light tiles and light text on dark ones keeps the labels readable.
    text_colour = alt.condition("isValid(datum.value)", alt.value("white"), alt.value(TEXT_GREY))
    labels = base.transform_filter("length(datum.abbreviation) <= 4").mark_text(
        baseline="bottom", dy=-1, fontWeight="bold", fontSize=round(tile * 0.2)).encode(text="abbreviation:N", color=text_colour)
    # "Oma alue" / "Eget område" on two smaller lines above the figure: at the abbreviations'
    # size on one line it filled its tile edge to edge (review).
    small = round(tile * 0.17)
    own_labels = base.transform_filter("length(datum.abbreviation) > 4").mark_text(
        baseline="bottom", dy=-1 - round(small * 1.1), fontWeight="bold", fontSize=small, lineBreak=" ",
        lineHeight=round(small * 1.1)).encode(text="abbreviation:N", color=text_colour)
    values = base.mark_text(baseline="top", dy=2, fontSize=round(tile * 0.18)).encode(text="value_text:N", color=text_colour)
    # Its own size, never stretched to the page's width: the tiles are equal squares.
    return (background + squares + labels + own_labels + values).properties(width=6 * tile, height=6 * tile,
                                                                            autosize=alt.AutoSizeParams(type="pad"))


def region_tile_table(regions: pd.DataFrame, metric: str, language: str) -> pd.DataFrame:
    frame = region_tile_frame(regions, metric, language).dropna(subset=["value"]).sort_values("value", ascending=False)
    return pd.DataFrame({i18n.t("trends.area", language): frame["name"], i18n.t(f"metric.{metric}", language): frame["value"]})


# School comparison ----------------------------------------------------------------------------

@_only_what_is_shown
def funnel_chart(funnel, school_key: str, language: str) -> alt.Chart:
    """Each school's absence rate against its pupils, with the 95 % (dashed) and 99.8 % (solid)
    limits around the peers' rate; the school in focus large and vermillion."""
    units = funnel.units.assign(
        who=funnel.units["school_key"].map(lambda k: "self" if k == school_key else "peer"),
        rate_text=funnel.units["absence_rate"].map(lambda v: i18n.percent(v, language)),
        pupils_text=pupils_or_class(funnel.units, language).astype(str))
    # The axis spans the limits' whole range (a little beyond the schools), so no marker sits on
    # the edge and the funnel's shape shows even when the peers' sizes are close together.
    sizes = funnel.limits["pupils"] if not funnel.limits.empty else units["pupils"]
    x = alt.X("pupils:Q", scale=alt.Scale(type="log", nice=False, domain=[float(sizes.min()), float(sizes.max())]),
              title=i18n.t("metric.pupils", language))
    y_title = i18n.t("metric.absence_rate", language)
    limits = funnel.limits.melt("pupils", var_name="limit", value_name="rate")
    limits["level"] = limits["limit"].str.split("_").str[1]
    lines = alt.Chart(limits).mark_line(color=OKABE_ITO["grey"]).encode(
        x=x, y=alt.Y("rate:Q", title=y_title, axis=alt.Axis(labelExpr=percent_axis_labels(language))),
        detail="limit:N", strokeDash=alt.StrokeDash("level:N", scale=alt.Scale(domain=["95", "998"], range=[[4, 3], [1, 0]]),
                                                     legend=None))
    reference_line = alt.Chart(pd.DataFrame({"rate": [funnel.reference_rate]})).mark_rule(color=OKABE_ITO["grey"]).encode(y="rate:Q")
    tooltip = [alt.Tooltip("rate_text:N", title=y_title), alt.Tooltip("pupils_text:N", title=i18n.t("metric.pupils", language))]
    dots = alt.Chart(units).mark_point(filled=True, opacity=0.85).encode(
        x=x, y="absence_rate:Q",
        color=alt.Color("who:N", legend=None, scale=alt.Scale(domain=["self", "peer"], range=[OKABE_ITO["vermillion"], OKABE_ITO["blue"]])),
        size=alt.Size("who:N", legend=None, scale=alt.Scale(domain=["self", "peer"], range=[260, 50])),
        shape=alt.Shape("who:N", legend=None, scale=alt.Scale(domain=["self", "peer"], range=["diamond", "circle"])),
        tooltip=tooltip)
    return (lines + reference_line + dots).properties(height=340)


def school_names(frame: pd.DataFrame, language: str) -> list[object]:
    """The frame's `school_name`s as a list shows them (`reference.school_labels`); None where the
    name is not shown."""
    if "school_name" not in frame:
        return [None] * len(frame)
    codes = frame["municipality_code"] if "municipality_code" in frame else [None] * len(frame)
    return reference.school_labels(frame["school_name"].tolist(), list(codes), language)


def funnel_table(funnel, school_key: str, language: str) -> pd.DataFrame:
    units = funnel.units.sort_values("absence_rate", ascending=False)
    return pd.DataFrame({
        i18n.t("overview.school", language): [
            i18n.t("compare.this_school", language) if key == school_key else name if isinstance(name, str) else key
            for key, name in zip(units["school_key"], school_names(units, language))],
        i18n.t("metric.pupils", language): pupils_or_class(units, language),
        i18n.t("metric.absence_rate", language): units["absence_rate"],
        "z": units["z"].astype(float).round(2),
    }).pipe(export.plain_numbers, {"z": 1})


def attention_table(verdicts: pd.DataFrame, language: str) -> pd.DataFrame:
    """The scope's schools, those furthest above their peers first: rate, the peers' rate, the
    verdict, the change against the same months last year with its verdict, tiers 2-3 and the
    latest month delivered, in the order given. Verdicts are written out; the change in signed
    points (its unit in the header) and its reading against the region's change in a column of
    its own, so the table fits a page's width."""
    order = verdicts

    table = pd.DataFrame({
        i18n.t("overview.school", language): school_names(order, language),
        i18n.t("metric.absence_rate", language): order["school_rate"].astype(float).to_numpy(),
        i18n.t("compare.peer_group", language): order["peer_rate"].astype(float).to_numpy(),
        i18n.t("attention.verdict", language): [
            i18n.t(f"attention.verdict.{v}", language) if isinstance(v, str) else i18n.t("attention.not_compared", language)
            for v in order["verdict"]],
        i18n.t("attention.change", language): [i18n.points(v, language) for v in order["change_points"]],
        i18n.t("attention.change_against_region", language): [
            i18n.t(f"attention.change.{c}", language) if isinstance(c, str) and pd.notna(v) else "–"
            for v, c in zip(order["change_points"], order["change_verdict"])],
        i18n.t("metric.tier23_share", language): order["tier23_share"].astype(float).to_numpy(),
    })
    if order["latest_month"].nunique(dropna=False) > 1:  # else the page's caption names the one month
        table[i18n.t("attention.latest_month", language)] = [i18n.month(m, language) if isinstance(m, str) else "–"
                                                             for m in order["latest_month"]]
    return table


def _series_labels(language: str) -> dict[str, str]:
    return {"school": i18n.t("compare.this_school", language), "peers": i18n.t("compare.peer_group", language),
            "municipality": i18n.t("compare.municipality", language)}


SERIES_COLOURS = {"school": OKABE_ITO["vermillion"], "peers": OKABE_ITO["blue"], "municipality": OKABE_ITO["grey"]}
SERIES_DASHES = {"school": [1, 0], "peers": [5, 3], "municipality": [2, 2]}


@_only_what_is_shown
def school_vs_peers_chart(monthly: pd.DataFrame, language: str) -> alt.Chart:
    """The school's months against its peer group's and its whole municipality's."""
    labels = _series_labels(language)
    series = [s for s in ("school", "peers", "municipality") if s in set(monthly["series"])]
    frame = monthly.assign(label=monthly["series"].map(labels), month_label=_month_labels(monthly, language),
                           rate_text=monthly["absence_rate"].map(lambda v: i18n.percent(v, language)))
    domain = [labels[s] for s in series]
    return (
        alt.Chart(frame).mark_line(point=True).encode(
            x=alt.X("month_label:N", sort=list(dict.fromkeys(frame.sort_values("month")["month_label"])),
                    title=i18n.t("overview.month", language)),
            y=alt.Y("absence_rate:Q", title=i18n.t("metric.absence_rate", language),
                    axis=alt.Axis(labelExpr=percent_axis_labels(language))),
            color=alt.Color("label:N", title=None, scale=alt.Scale(domain=domain, range=[SERIES_COLOURS[s] for s in series]),
                            legend=LINE_LEGEND),
            strokeDash=alt.StrokeDash("label:N", title=None, scale=alt.Scale(domain=domain, range=[SERIES_DASHES[s] for s in series])),
            tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("month_label:N", title=i18n.t("overview.month", language)),
                     alt.Tooltip("rate_text:N", title=i18n.t("metric.absence_rate", language))])
        .properties(height=260)
    )


def _series_table(frame: pd.DataFrame, index: str, heading: str, label_of, language: str) -> pd.DataFrame:
    """Absence rate per `index` value, one column per series (this school, peers, municipality)."""
    labels = _series_labels(language)
    wide = frame.pivot(index=index, columns="series", values="absence_rate").reset_index()
    out = {heading: wide[index].map(label_of)}
    for series in ("school", "peers", "municipality"):
        if series in wide:
            out[labels[series]] = wide[series]
    return pd.DataFrame(out)


def school_vs_peers_table(monthly: pd.DataFrame, language: str) -> pd.DataFrame:
    return _series_table(monthly, "month", i18n.t("overview.month", language), lambda m: i18n.month(m, language), language)


@_only_what_is_shown
def grades_vs_peers_chart(grades: pd.DataFrame, language: str) -> alt.Chart:
    """The school's absence rate in each grade beside its peers' (pooled) in the same grade."""
    labels = _series_labels(language)
    series = [s for s in ("school", "peers") if s in set(grades["series"])]
    frame = grades.assign(label=grades["series"].map(labels), grade_label=grades["grade"].astype(str),
                          rate_text=grades["absence_rate"].map(lambda v: i18n.percent(v, language)))
    domain = [labels[s] for s in series]
    return (
        alt.Chart(frame).mark_bar().encode(
            x=alt.X("grade_label:N", title=i18n.t("trends.grades", language), sort=[str(g) for g in range(1, 10)],
                    axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("label:N", sort=domain),
            y=alt.Y("absence_rate:Q", title=i18n.t("metric.absence_rate", language),
                    axis=alt.Axis(labelExpr=percent_axis_labels(language))),
            color=alt.Color("label:N", title=None, sort=domain,
                            scale=alt.Scale(domain=domain, range=[SERIES_COLOURS[s] for s in series])),
            tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("grade_label:N", title=i18n.t("trends.grades", language)),
                     alt.Tooltip("rate_text:N", title=i18n.t("metric.absence_rate", language))])
        .properties(height=240)
    )


def grades_vs_peers_table(grades: pd.DataFrame, language: str) -> pd.DataFrame:
    return _series_table(grades, "grade", i18n.t("trends.grades", language), str, language)

@_only_what_is_shown
def tiers_vs_peers_chart(tiers: pd.DataFrame, language: str) -> alt.Chart:
    labels = {"school": i18n.t("compare.this_school", language), "peers": i18n.t("compare.peer_group", language)}
    frame = tiers.assign(label=tiers["series"].map(labels), tier_label=tiers["tier"].map(lambda t: i18n.t(f"tier.{t}", language)),
                         share_text=tiers["share"].map(lambda v: i18n.percent(v, language)))
    domain = [labels["school"], labels["peers"]]
    return (
        alt.Chart(frame).mark_bar().encode(
            y=alt.Y("tier_label:N", title=None, sort=[i18n.t(f"tier.{t}", language) for t in contract.TIERS],
                    axis=TIER_AXIS),
            yOffset=alt.YOffset("label:N", sort=domain),
            x=alt.X("share:Q", title=i18n.t("overview.share", language), axis=alt.Axis(labelExpr=percent_axis_labels(language))),
            color=alt.Color("label:N", title=None, sort=domain,
                            scale=alt.Scale(domain=domain, range=[OKABE_ITO["vermillion"], OKABE_ITO["blue"]])),
            tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("tier_label:N", title=""),
                     alt.Tooltip("share_text:N", title=i18n.t("overview.share", language))])
        .properties(height=180)
    )


def tiers_vs_peers_table(tiers: pd.DataFrame, language: str) -> pd.DataFrame:
    wide = tiers.pivot(index="tier", columns="series", values="share").reset_index()
    return pd.DataFrame({"": wide["tier"].map(lambda t: i18n.t(f"tier.{t}", language)),
                         i18n.t("compare.this_school", language): wide.get("school"),
                         i18n.t("compare.peer_group", language): wide.get("peers")})


def reference_name(profile: pd.DataFrame, language: str, in_sentence: bool = False) -> str:
    """What a wellbeing profile's reference is, in words ("Whole country", "The 12 schools in the
    data"; "the 12 schools in the data" inside a sentence)."""
    basis = profile["reference_basis"].iloc[0] if "reference_basis" in profile and len(profile) else "national"
    units = int(profile["reference_units"].iloc[0]) if "reference_units" in profile and len(profile) else 0
    text = i18n.t(f"reference.{basis}", language, units=units)
    return text[:1].lower() + text[1:] if in_sentence else text


@_only_what_is_shown
def wellbeing_profile_chart(profile: pd.DataFrame, language: str) -> alt.Chart:
    """Diverging bars: each indicator's difference from the national value in points, coloured by
    whether it is better or worse for pupils (each indicator's own direction)."""
    shown = profile.dropna(subset=["difference"])
    verdicts = {True: i18n.t("compare.better", language), False: i18n.t("compare.worse", language)}
    frame = shown.assign(
        label=shown["indicator"].map(lambda c: i18n.t(f"indicator.{c}", language)),
        verdict=shown["better"].map(verdicts),
        school_text=shown["school"].map(lambda v: i18n.percent(v, language)),
        national_text=shown["national"].map(lambda v: i18n.percent(v, language)),
        difference_text=shown["difference"].map(lambda v: i18n.points(v, language)))
    domain = [verdicts[True], verdicts[False]]
    difference_title = i18n.t("compare.points_vs_reference", language, reference=reference_name(profile, language, True))
    return (
        alt.Chart(frame).mark_bar().encode(
            y=alt.Y("label:N", title=None, sort=None, axis=alt.Axis(labelLimit=0)),
            x=alt.X("difference:Q", title=difference_title),
            color=alt.Color("verdict:N", title=None, scale=alt.Scale(domain=domain, range=[OKABE_ITO["blue"], OKABE_ITO["vermillion"]])),
            tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("school_text:N", title=i18n.t("compare.this_school", language)),
                     alt.Tooltip("national_text:N", title=reference_name(profile, language)),
                     alt.Tooltip("difference_text:N", title=difference_title)])
        .properties(height=30 * max(len(frame), 1))
    )


def wellbeing_profile_table(profile: pd.DataFrame, language: str) -> pd.DataFrame:
    return pd.DataFrame({
        "": profile["indicator"].map(lambda c: i18n.t(f"indicator.{c}", language)),
        i18n.t("compare.this_school", language): profile["school"].astype(float),
        i18n.t("trends.municipality", language): profile["municipality"].astype(float),
        reference_name(profile, language): profile["national"].astype(float),
        i18n.t("trends.respondents", language): profile["respondents"].astype("Int64"),
    })


@_only_what_is_shown
def choropleth_chart(boundaries: dict, ranking: pd.DataFrame, language: str) -> alt.Chart:
    """Municipalities on their official boundaries, coloured by absence rate; those without a
    figure in scope (or withheld) stay grey."""
    name = reference.name_column(language)
    values = ranking.assign(label=ranking[name], rate_text=ranking["absence_rate"].map(lambda v: i18n.percent(v, language)))
    lookup = alt.LookupData(values[["municipality_code", "absence_rate", "label", "rate_text"]], "municipality_code",
                            ["absence_rate", "label", "rate_text"])
    shapes = alt.Data(values=boundaries["features"])
    title = i18n.t("metric.absence_rate", language)
    background = alt.Chart(shapes).mark_geoshape(fill="#E6E6E6", stroke="white", strokeWidth=0.3)
    coloured = (
        alt.Chart(shapes).mark_geoshape(stroke="white", strokeWidth=0.3)
        .transform_lookup(lookup="properties.municipality_code", from_=lookup)
        .transform_filter("isValid(datum.absence_rate)")
        .encode(color=alt.Color("absence_rate:Q", title=title, scale=alt.Scale(scheme="viridis", reverse=True),
                                legend=alt.Legend(labelExpr=percent_axis_labels(language))),
                tooltip=[alt.Tooltip("label:N", title=i18n.t("trends.municipality", language)),
                         alt.Tooltip("rate_text:N", title=title)])
    )
    return (background + coloured).project(type="transverseMercator", rotate=[-27, 0, 0]).properties(height=520)


def outliers_table(outliers: pd.DataFrame, language: str) -> pd.DataFrame:
    return pd.DataFrame({
        i18n.t("overview.school", language): school_names(outliers, language),
        i18n.t("metric.absence_rate", language): outliers["absence_rate"].astype(float),
        i18n.t("compare.peer_group", language): outliers["peer_rate"].astype(float),
        i18n.t("metric.pupils", language): pupils_column(outliers["pupils"]),
        i18n.t("compare.strong", language): outliers["beyond_998"].map(lambda b: i18n.t("compare.yes", language) if b else ""),
        i18n.t("compare.measures", language): outliers["measures"].map(
            lambda codes: "; ".join(i18n.t(f"measure.{c}", language) for c in codes)),
    })



@_only_what_is_shown
def wellbeing_chart(wellbeing: pd.DataFrame, indicator: str, language: str) -> alt.Chart:
    """The newest survey: each municipality's indicator value against its absence rate in the
    school year the survey closed; dot size shows respondents. Withheld results are left out."""
    newest = wellbeing[wellbeing["survey_year"] == wellbeing["survey_year"].max()].dropna(subset=["value", "absence_rate"])
    name = reference.name_column(language)
    frame = newest.assign(label=newest[name], value_text=newest["value"].map(lambda v: i18n.percent(v, language)),
                          rate_text=newest["absence_rate"].map(lambda v: i18n.percent(v, language)),
                          respondents_text=newest["respondents"].map(lambda v: i18n.number(v, language, 0)))
    x_title = i18n.t(f"indicator.{indicator}", language)
    y_title = i18n.t("metric.absence_rate", language)
    respondents = i18n.t("trends.respondents", language)
    base = alt.Chart(frame).encode(
        x=alt.X("value:Q", title=x_title, scale=alt.Scale(zero=False), axis=alt.Axis(labelExpr=percent_axis_labels(language))),
        y=alt.Y("absence_rate:Q", title=y_title, scale=alt.Scale(zero=False), axis=alt.Axis(labelExpr=percent_axis_labels(language))))
    dots = base.mark_circle(opacity=0.75, color=OKABE_ITO["blue"]).encode(
        size=alt.Size("respondents:Q", title=respondents, scale=alt.Scale(range=[30, 600]),
                      legend=alt.Legend(orient="right", values=_size_legend_values(frame["respondents"]),
                                        symbolFillColor=OKABE_ITO["blue"], symbolStrokeColor=OKABE_ITO["blue"])),
        tooltip=[alt.Tooltip("label:N", title=i18n.t("trends.municipality", language)),
                 alt.Tooltip("value_text:N", title=x_title), alt.Tooltip("rate_text:N", title=y_title),
                 alt.Tooltip("respondents_text:N", title=respondents)])
    if len(frame) > MAX_NAMED_DOTS:  # a region's worth of names would cover the dots; the tooltip and table name them
        return dots.properties(height=300)
    names = base.mark_text(align="left", dx=9, dy=-7, color=TEXT_GREY).encode(text="label:N")
    return (dots + names).properties(height=300)


def _size_legend_values(counts: pd.Series) -> list[int]:
    """Up to three round counts, none above the largest, for a dot-size legend (Vega's own
    legend began at 0, a dot no municipality has)."""
    top = float(counts.max()) if len(counts) else 0.0
    if not top >= 1:
        return []
    step = min(c for c in (b * 10 ** e for e in range(9) for b in (1, 2, 5)) if top / c <= 3)
    return [int(step * k) for k in (1, 2, 3) if step * k <= top]


MAX_NAMED_DOTS = 12  # up to this many municipalities, each dot carries its name (a pilot group, a slide)


def wellbeing_table(wellbeing: pd.DataFrame, indicator: str, language: str) -> pd.DataFrame:
    name = reference.name_column(language)
    return pd.DataFrame({
        i18n.t("trends.municipality", language): wellbeing[name],
        i18n.t("trends.survey_year", language): wellbeing["survey_year"].astype(str),
        i18n.t("trends.respondents", language): wellbeing["respondents"].astype("Int64"),
        i18n.t(f"indicator.{indicator}", language): wellbeing["value"].astype(float),
        i18n.t("metric.absence_rate", language): wellbeing["absence_rate"].astype(float),
    })


# --- risk-factor clusters ---------------------------------------------------------------------

CLUSTER_COLOURS = [OKABE_ITO[c] for c in ("vermillion", "orange", "purple", "blue", "green", "sky", "yellow", "black")]


def _cluster_labels(result, language: str) -> dict[int, str]:
    return {c: f"{c}: {result.name(c, language)}" for c in result.profiles.index}


@_only_what_is_shown
def cluster_profile_chart(result, language: str) -> alt.Chart:
    """Heatmap of each cluster's mean z-score per feature: red above the average of the schools
    clustered, blue below, white at the average (diverging, symmetric around zero)."""
    from lasnaolo.risk import feature_label

    labels = {c: i18n.t("risk.cluster_number", language, n=c) for c in result.profiles.index}
    frame = result.profiles.reset_index(names="cluster").melt("cluster", var_name="feature", value_name="z")
    frame = frame.assign(cluster_label=frame["cluster"].map(labels),
                         feature_label=frame["feature"].map(lambda f: feature_label(f, language)),
                         z_text=frame["z"].map(lambda v: i18n.number(v, language, 2)))
    limit = max(1.0, float(frame["z"].abs().max()))
    title = i18n.t("risk.mean_z", language)
    return (
        alt.Chart(frame).mark_rect().encode(
            x=alt.X("cluster_label:N", title=None, sort=list(labels.values()), axis=alt.Axis(labelAngle=0, orient="top")),
            y=alt.Y("feature_label:N", title=None, sort=None, axis=alt.Axis(labelLimit=0)),
            color=alt.Color("z:Q", title=title, scale=alt.Scale(scheme="blueorange", domain=[-limit, limit])),
            tooltip=[alt.Tooltip("cluster_label:N", title=i18n.t("risk.cluster", language)),
                     alt.Tooltip("feature_label:N", title=i18n.t("risk.feature", language)),
                     alt.Tooltip("z_text:N", title=title)])
        .properties(height=24 * result.profiles.shape[1])
    )


def cluster_profile_table(result, language: str) -> pd.DataFrame:
    from lasnaolo.risk import feature_label

    table = result.profiles.T.astype(float)
    table.columns = list(_cluster_labels(result, language).values())
    table.insert(0, i18n.t("risk.feature", language), [feature_label(f, language) for f in table.index])
    table = table.reset_index(drop=True)
    return export.plain_numbers(table, {c: 2 for c in table.columns[1:]})  # standardised means, not percentages


def cluster_sizes_table(result, language: str) -> pd.DataFrame:
    return pd.DataFrame({
        i18n.t("risk.cluster", language): [i18n.t("risk.cluster_number", language, n=c) for c in result.sizes.index],
        i18n.t("risk.name", language): [result.name(c, language) for c in result.sizes.index],
        i18n.t("risk.schools", language): result.sizes.astype("Int64").to_numpy(),
    })


@_only_what_is_shown
def cluster_scatter_chart(result, language: str) -> alt.Chart:
    """The schools on the first two principal components, coloured by cluster."""
    labels = _cluster_labels(result, language)
    schools = result.schools
    names = pd.Series(school_names(schools, language), index=schools.index).fillna(schools.index.to_series())
    own = i18n.t("risk.own_school", language)
    frame = pd.DataFrame({"pc1": schools["pc1"], "pc2": schools["pc2"], "school": names.to_numpy(),
                          "cluster_label": schools["cluster"].map(labels),
                          "whose": schools["in_scope"].map({True: own, False: i18n.t("risk.other_school", language)})})
    first, second = result.explained_variance
    return (
        alt.Chart(frame).mark_circle(size=70, opacity=0.8).encode(
            # The share on a line of its own: the vertical title was cut at the chart's height.
            x=alt.X("pc1:Q", title=_component_title(1, first, language)),
            y=alt.Y("pc2:Q", title=_component_title(2, second, language)),
            color=alt.Color("cluster_label:N", title=i18n.t("risk.cluster", language),
                            scale=alt.Scale(domain=list(labels.values()), range=CLUSTER_COLOURS[:len(labels)]),
                            legend=alt.Legend(orient="bottom", columns=1, labelLimit=900)),
            shape=alt.Shape("whose:N", title=None, scale=alt.Scale(
                domain=[own, i18n.t("risk.other_school", language)], range=["diamond", "circle"]),
                legend=None if schools["in_scope"].all() else alt.Legend(orient="bottom")),
            tooltip=[alt.Tooltip("school:N", title=i18n.t("overview.school", language)),
                     alt.Tooltip("cluster_label:N", title=i18n.t("risk.cluster", language))])
        .properties(height=380)
    )


def _component_title(n: int, share: float, language: str) -> list[str]:
    return [i18n.t("risk.component", language, n=n),
            i18n.t("risk.component_share", language, share=i18n.percent(share * 100, language, 0))]


def cluster_members_table(result, language: str) -> pd.DataFrame:
    """The schools of each cluster with their plain figures (names only where the scope shows them)."""
    schools = result.schools.sort_values(["in_scope", "cluster", "absence_rate"], ascending=[False, True, False])
    names = pd.Series(school_names(schools, language), index=schools.index).fillna(schools.index.to_series())
    own = schools["in_scope"].map({True: i18n.t("risk.own_school", language), False: ""})
    return pd.DataFrame({
        i18n.t("risk.cluster", language): schools["cluster"].astype("Int64").to_numpy(),
        i18n.t("overview.school", language): names.to_numpy(),
        **({} if schools["in_scope"].all() else {i18n.t("risk.own_school", language): own.to_numpy()}),
        i18n.t("metric.pupils", language): pupils_or_class(schools, language).to_numpy(),
        i18n.t("metric.absence_rate", language): schools["absence_rate"].astype(float).to_numpy(),
        i18n.t("metric.unauthorised_rate", language): schools["unauthorised_rate"].astype(float).to_numpy(),
        i18n.t("metric.tier23_share", language): schools["tier23_share"].astype(float).to_numpy(),
    })


@_only_what_is_shown
def factors_chart(factors, language: str) -> alt.Chart:
    """Each factor twice: its plain correlation with absence (alone) and its coefficient given the
    other indicators, side by side; to the right goes with more absence, to the left with less.
    No whiskers: the ridge resampling range is not a significance test (it is in the table)."""
    from lasnaolo.risk import feature_label

    table = factors.table
    kinds = {"correlation": i18n.t("risk.alone", language), "coefficient": i18n.t("risk.given_others", language)}
    frame = table.melt(id_vars="feature", value_vars=list(kinds), var_name="kind", value_name="value").dropna(subset=["value"])
    frame = frame.assign(label=frame["feature"].map(lambda f: feature_label(f, language)),
                         kind=frame["kind"].map(kinds),
                         text=frame["value"].map(lambda v: i18n.number(v, language, 2)))
    order = [feature_label(f, language) for f in table["feature"]]
    return alt.Chart(frame).mark_bar().encode(
        y=alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelLimit=0)),
        yOffset=alt.YOffset("kind:N", sort=list(kinds.values())),
        x=alt.X("value:Q", title=i18n.t("risk.association", language)),
        color=alt.Color("kind:N", title=None, sort=list(kinds.values()),
                        scale=alt.Scale(domain=list(kinds.values()), range=[OKABE_ITO["blue"], OKABE_ITO["orange"]]),
                        legend=alt.Legend(orient="top", labelLimit=400)),
        tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("kind:N", title=""), alt.Tooltip("text:N", title="")],
    ).properties(height=34 * len(table))


def factors_table(factors, language: str) -> pd.DataFrame:
    from lasnaolo.risk import feature_label

    table = factors.table
    columns = {"correlation": "risk.alone", "coefficient": "risk.given_others", "ci_low": "risk.resampled_low",
               "ci_high": "risk.resampled_high"}
    out = pd.DataFrame({i18n.t("risk.feature", language): table["feature"].map(lambda f: feature_label(f, language))})
    for column, key in columns.items():
        out[i18n.t(key, language)] = table[column].astype(float)
    return out.pipe(export.plain_numbers, {i18n.t(key, language): 2 for key in columns.values()})


def silhouette_table(result, language: str) -> pd.DataFrame:
    return pd.DataFrame({
        i18n.t("risk.k", language): [str(k) for k in result.silhouettes],
        i18n.t("risk.silhouette", language): [float(v) for v in result.silhouettes.values()],
    }).pipe(export.plain_numbers, {i18n.t("risk.silhouette", language): 2})


# --- targets ----------------------------------------------------------------------------------

STATUS_COLOURS = {"achieved": OKABE_ITO["green"], "on_track": OKABE_ITO["blue"], "at_risk": OKABE_ITO["orange"],
                  "off_track": OKABE_ITO["vermillion"], "missed": OKABE_ITO["black"], "waiting": OKABE_ITO["grey"]}


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


def targets_table(overview: pd.DataFrame, language: str) -> pd.DataFrame:
    """The steering group's meeting table: one row per target with its status."""
    units = target_units(overview, language)
    return pd.DataFrame({
        i18n.t("targets.unit", language): units,
        i18n.t("targets.metric", language): overview["metric"].map(lambda m: metric_label(m, language)),
        i18n.t("targets.baseline", language): overview["baseline"].astype(float),
        i18n.t("targets.target", language): overview["target"].astype(float),
        i18n.t("targets.current", language): overview["current"].astype(float),
        i18n.t("targets.projected", language): overview["projected"].astype(float),
        i18n.t("targets.status", language): overview["status"].map(lambda s: i18n.t(f"targets.status.{s}", language)),
        i18n.t("targets.measures", language): overview["measures"].map(
            lambda codes: "; ".join(i18n.t(f"measure.{c}", language) for c in codes)),
        i18n.t("targets.responsible", language): overview["responsible"],
    })


@_only_what_is_shown
def target_progress_chart(monthly: pd.DataFrame, baseline: float, target: float, language: str) -> alt.Chart:
    """Year to date month by month: the target year, the baseline year, and the pace the target
    needs (the baseline year's same months scaled by target / baseline)."""
    this_year, last_year = sorted(monthly["school_year"].unique())[-1], sorted(monthly["school_year"].unique())[0]
    base = monthly[monthly["school_year"] == last_year]
    needed = base.assign(value=base["value"] * (target / baseline if baseline else 1.0), series=i18n.t("targets.pace", language))
    frame = pd.concat([monthly.assign(series=monthly["school_year"].map(i18n.school_year)), needed], ignore_index=True)
    frame = frame.assign(month_label=frame["month"].map(lambda m: month_name(int(m[5:7]), language)),
                         value_text=frame["value"].map(lambda v: i18n.percent(v, language, 2)))
    order = [month_name(m, language) for m in contract.SCHOOL_YEAR_MONTHS]
    domain = [i18n.school_year(this_year), i18n.school_year(last_year), i18n.t("targets.pace", language)]
    return (
        alt.Chart(frame).mark_line(point=True).encode(
            x=alt.X("month_label:N", title=None, sort=order),
            y=alt.Y("value:Q", title=i18n.t("targets.ytd", language), axis=alt.Axis(labelExpr=percent_axis_labels(language))),
            color=alt.Color("series:N", title=None, scale=alt.Scale(domain=domain, range=[CURRENT_COLOUR, EARLIER_COLOUR, OKABE_ITO["green"]]),
                            legend=alt.Legend(orient="bottom", labelLimit=400)),
            strokeDash=alt.StrokeDash("series:N", legend=None, scale=alt.Scale(domain=domain, range=[[1, 0], [1, 0], [6, 4]])),
            tooltip=[alt.Tooltip("series:N", title=""), alt.Tooltip("month_label:N", title=i18n.t("overview.month", language)),
                     alt.Tooltip("value_text:N", title=i18n.t("targets.ytd", language))])
        .properties(height=300)
    )


def target_progress_table(monthly: pd.DataFrame, language: str) -> pd.DataFrame:
    wide = monthly.pivot(index="month_index", columns="school_year", values="value").sort_index()
    table = pd.DataFrame({i18n.t("overview.month", language): [month_name(contract.SCHOOL_YEAR_MONTHS[i], language) for i in wide.index]})
    for year in wide.columns:
        table[i18n.school_year(year)] = wide[year].astype(float).to_numpy()
    return table


def target_history_table(history: pd.DataFrame, language: str) -> pd.DataFrame:
    """Who changed what and when, in words: each field by its name and each value the way the
    form shows it (decimal commas, measures and school years by name)."""
    def value(field: str, raw) -> str:
        if raw is None or raw == "":
            return "–"
        if field in ("baseline_value", "target_value"):
            return i18n.percent(float(raw), language, 2)
        if field == "measures":
            return "; ".join(i18n.t(f"measure.{c}", language) for c in str(raw).split(",") if c) or "–"
        if field == "baseline_year":
            return i18n.school_year(str(raw))
        if field == "metric":
            return metric_label(str(raw), language)
        return str(raw)

    def describe(old, new):
        if new and "comment" in new:
            return new["comment"]
        old, new = old or {}, new or {}
        shown = [k for k in sorted(set(old) | set(new)) if i18n.has(f"targets.field.{k}") and k not in ("unit_level", "unit_code")]
        parts = []
        for k in shown:
            name = i18n.t(f"targets.field.{k}", language)
            before, after = value(k, old.get(k)), value(k, new.get(k))
            parts.append(f"{name}: {after}" if not old else f"{name}: {before} → {after}")
        return "; ".join(parts)

    return pd.DataFrame({
        i18n.t("targets.when", language): history["at"].map(lambda v: i18n.timestamp(v, language)),
        i18n.t("targets.who", language): history["actor"],
        i18n.t("targets.action", language): history["action"].map(lambda a: i18n.t(f"targets.action.{a}", language)),
        i18n.t("targets.version", language): history["version"].astype("Int64"),
        i18n.t("targets.change", language): [describe(o, n) for o, n in zip(history["old"], history["new"])],
    })


@_only_what_is_shown
def status_counts_chart(counts: pd.Series, language: str) -> alt.Chart:
    frame = pd.DataFrame({"status": counts.index, "count": counts.to_numpy()})
    frame["label"] = frame["status"].map(lambda s: i18n.t(f"targets.status.{s}", language))
    title = i18n.t("deck.targets_count", language)
    return (
        alt.Chart(frame).mark_bar().encode(
            y=alt.Y("label:N", title=None, sort=list(frame["label"])),
            x=alt.X("count:Q", title=title, axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("status:N", legend=None, scale=alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values()))),
            tooltip=[alt.Tooltip("label:N", title=i18n.t("targets.status", language)), alt.Tooltip("count:Q", title=title)])
        .properties(height=40 * max(len(frame), 1))
    )


def status_counts_table(counts: pd.Series, language: str) -> pd.DataFrame:
    return pd.DataFrame({
        i18n.t("targets.status", language): [i18n.t(f"targets.status.{s}", language) for s in counts.index],
        i18n.t("deck.targets_count", language): counts.astype("Int64").to_numpy(),
    })


@_only_what_is_shown
def headline_chart(changes: dict, metrics: list[str], language: str, scale: float = 1.0) -> alt.Chart:
    """The headline figures as large numbers with their change against the same point last year;
    `scale` enlarges the type (a slide)."""
    rows = []
    for metric in metrics:
        change = changes.get(metric)
        withheld = change is None or change.current is None
        rows.append({
            "label": i18n.t(f"metric.{metric}", language),
            "value": i18n.t("deck.withheld_short", language) if withheld else i18n.percent(change.current, language),
            "delta": "" if withheld or change.difference is None else
            i18n.t("deck.vs_last_year", language, change=i18n.points(change.difference, language)),
        })
    return figures_chart(rows, scale)


@_only_what_is_shown
def figures_chart(rows: list[dict[str, str]], scale: float = 1.0) -> alt.Chart:
    """A few figures side by side as large numbers: each row's label above, value, and a line
    below (`delta`)."""
    base = alt.Chart(pd.DataFrame(rows).assign(position=range(len(rows)))).encode(x=alt.X("position:O", axis=None))
    return alt.layer(
        base.mark_text(fontSize=18 * scale, dy=-55 * scale).encode(text="label:N"),
        base.mark_text(fontSize=44 * scale, fontWeight="bold", color=CURRENT_COLOUR).encode(text="value:N"),
        base.mark_text(fontSize=16 * scale, dy=45 * scale).encode(text="delta:N"),
    ).properties(height=220 * scale).configure_view(strokeWidth=0)  # figures, not a plot: no frame


# Numbers Vega writes itself (axis ticks, legends) follow the language: a decimal comma and a
# no-break thousands space in Finnish and Swedish (review finding: "1,000" and "2.00" on Finnish
# pages), and a true minus sign everywhere.
NUMBER_LOCALES = {
    "fi": {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", "\u00a0€"], "minus": "\u2212"},
    "sv": {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", "\u00a0€"], "minus": "\u2212"},
    "en": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["€", ""], "minus": "\u2212"},
}


def keeps_own_size(chart) -> bool:
    """Whether the chart is drawn at its own size (autosize pad), not fitted to the page."""
    autosize = getattr(chart, "autosize", alt.Undefined)
    return autosize is not alt.Undefined and getattr(autosize, "type", None) == "pad"


def as_shown(chart, language: str):
    """The chart as every page and file shows it: Vega's own numbers in the language, legend
    labels never cut (review finding: "Taso 1: kiinnittymisen tu…"), the width fitted and the
    height the plot's; other config is kept."""
    chart = chart.copy(deep=False)
    if chart.autosize is alt.Undefined and isinstance(chart, (alt.Chart, alt.LayerChart)):
        # The width fits the page; the height is the plot's own. Streamlit's default ("fit") takes
        # the legend and axes out of the height: a ranking of eight rows drew 45 px tall (review).
        chart.autosize = alt.AutoSizeParams(type="fit-x", contains="padding")
    chart.config = alt.Config() if chart.config is alt.Undefined else chart.config.copy(deep=False)
    chart.config.locale = alt.Locale(number=NUMBER_LOCALES.get(language, NUMBER_LOCALES[i18n.DEFAULT_LANGUAGE]))
    legend = alt.LegendConfig() if chart.config.legend is alt.Undefined else chart.config.legend.copy(deep=False)
    legend.labelLimit = 0
    chart.config.legend = legend
    return chart


# Slides: type sizes in pixels of a 1920 × 1080 projector, where about 18 px is the smallest text
# a room reads (review finding: 10 px axis text, labels dropped where rows were too tight).
SLIDE_TEXT = 22
SLIDE_TITLE_TEXT = 24


def for_slide(chart, width: int | None, height: int | None):
    """The chart drawn for a slide's chart box (pixels): the whole drawing, axes and legend
    included, fitted to the box, at projector type sizes; band axes keep every label. Without a
    box (a map of fixed squares) the chart keeps its own size."""
    if width is not None and height is not None:
        chart = chart.properties(width=width, height=height, autosize=alt.AutoSizeParams(type="fit", contains="padding"))
    return (chart.configure_axis(labelFontSize=SLIDE_TEXT, titleFontSize=SLIDE_TITLE_TEXT, titlePadding=12)
            .configure_axisBand(labelOverlap=False)
            .configure_legend(labelFontSize=SLIDE_TEXT, titleFontSize=SLIDE_TITLE_TEXT, symbolSize=200, labelLimit=0,
                              titleLimit=0)
            .configure_header(labelFontSize=SLIDE_TEXT, titleFontSize=SLIDE_TITLE_TEXT)
            .configure_text(fontSize=SLIDE_TEXT)  # text marks without a size of their own (names beside dots)
            .configure_title(fontSize=SLIDE_TITLE_TEXT))


@_only_what_is_shown
def event_study_chart(impact, language: str) -> alt.Chart:
    """The difference between the groups by school month relative to the start, with intervals:
    before the start (left of the dashed line) the points should hover around zero."""
    frame = impact.event_study.assign(
        text=[f"{i18n.points(e, language, 2)} ({i18n.number(lo, language, 2)} – {i18n.number(hi, language, 2)})"
              for e, lo, hi in zip(impact.event_study["estimate"], impact.event_study["ci_low"], impact.event_study["ci_high"])])
    x = alt.X("event_month:Q", title=i18n.t("impact.event_month", language))
    title = i18n.t("impact.difference", language)
    band = alt.Chart(frame).mark_area(opacity=0.2, color=OKABE_ITO["blue"]).encode(x=x, y="ci_low:Q", y2="ci_high:Q")
    line = alt.Chart(frame).mark_line(point=True, color=OKABE_ITO["blue"]).encode(
        x=x, y=alt.Y("estimate:Q", title=title),
        tooltip=[alt.Tooltip("event_month:Q", title=i18n.t("impact.event_month", language)),
                 alt.Tooltip("text:N", title=title)])
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color=OKABE_ITO["black"]).encode(y="y:Q")
    start = alt.Chart(pd.DataFrame({"x": [-0.5]})).mark_rule(color=OKABE_ITO["grey"], strokeDash=[4, 4]).encode(x="x:Q")
    return (band + line + zero + start).properties(height=320)


def event_study_table(impact, language: str) -> pd.DataFrame:
    study = impact.event_study
    return pd.DataFrame({
        i18n.t("impact.event_month", language): study["event_month"].astype(int),
        i18n.t("impact.difference", language): study["estimate"].astype(float),
        i18n.t("impact.ci_low", language): study["ci_low"].astype(float),
        i18n.t("impact.ci_high", language): study["ci_high"].astype(float),
    })


def impact_groups_table(impact, language: str) -> pd.DataFrame:
    groups = impact.groups
    types = [", ".join(f"{i18n.name_of('school_type', k, language)} {v}" for k, v in mix.items())
             for mix in groups["school_types"]]
    return pd.DataFrame({
        i18n.t("impact.group", language): groups["group"].map(lambda g: i18n.t(f"impact.group.{g}", language)),
        i18n.t("impact.schools", language): groups["schools"].astype(int),
        i18n.t("impact.school_types", language): types,
    })


def impact_balance_table(impact, language: str) -> pd.DataFrame:
    """One row per measure of likeness; its rows hold levels (percent) and pupils (a count), so
    the groups' values are written here, each by its kind."""
    balance = impact.balance

    def value(variable: str, number: float) -> str:
        if pd.isna(number):
            return "–"
        return i18n.number(number, language, 0) if variable == "pupils" else i18n.percent(number, language)

    difference = i18n.t("impact.balance.standardised_difference", language)
    table = pd.DataFrame({
        i18n.t("impact.balance.variable", language): balance["variable"].map(lambda v: i18n.t(f"impact.balance.{v}", language)),
        i18n.t("impact.group.treated", language): [value(v, n) for v, n in zip(balance["variable"], balance["treated"])],
        i18n.t("impact.group.comparison", language): [value(v, n) for v, n in zip(balance["variable"], balance["comparison"])],
        difference: balance["standardised_difference"].astype(float),
    })
    return export.plain_numbers(table, {difference: 2})


def impact_schools_table(schools: pd.DataFrame, language: str) -> pd.DataFrame:
    """Treated or comparison schools by name where the user may see it, else by pseudonym."""
    out = {i18n.t("impact.school", language): pd.Series(school_names(schools, language), index=schools.index)
           .fillna(schools["school_key"])}
    if "start_month" in schools:
        out[i18n.t("impact.start_month", language)] = schools["start_month"].map(
            lambda m: i18n.month(m, language) if isinstance(m, str) else m)
    return pd.DataFrame(out)


def _unit_names(frame: pd.DataFrame, language: str) -> list[str]:
    return [reference.municipality_name(code, language) if level == "municipality" else name
            for level, code, name in zip(frame["unit_level"], frame["unit_code"], frame["unit_name"])]


def evaluation_profile_table(profile: pd.DataFrame, language: str) -> pd.DataFrame:
    """The implementation profile: a unit per row, its score on each recommendation and its absence."""
    out = {i18n.t("evaluation.unit_name", language): _unit_names(profile, language)}
    for code in contract.RECOMMENDATIONS:
        out[i18n.t(f"recommendation.{code}", language)] = profile[code].astype(float)
    out[i18n.t("evaluation.mean_score", language)] = profile["mean_score"].astype(float).round(2)
    out[i18n.t("evaluation.absence_now", language)] = profile["absence_rate"].astype(float)
    out[i18n.t("evaluation.absence_before", language)] = profile["absence_rate_previous"].astype(float)
    out[i18n.t("evaluation.absence_change", language)] = profile["absence_change"].astype(float)
    out[i18n.t("evaluation.tier23", language)] = profile["tier23_share"].astype(float)
    scores = {i18n.t(f"recommendation.{code}", language): 0 for code in contract.RECOMMENDATIONS}
    return export.plain_numbers(pd.DataFrame(out), {**scores, i18n.t("evaluation.mean_score", language): 2})


@_only_what_is_shown
def evaluation_profile_chart(profile: pd.DataFrame, language: str) -> alt.Chart:
    """Units × recommendations, each cell coloured and labelled by its score (1-4); grey: not
    assessed. The absence rate follows the unit's name, so the two are read side by side."""
    labels = [f"{name} ({i18n.percent(rate, language)})" for name, rate in zip(_unit_names(profile, language), profile["absence_rate"])]
    long = profile.assign(unit=labels).melt(id_vars=["unit"], value_vars=list(contract.RECOMMENDATIONS),
                                            var_name="recommendation", value_name="score")
    long["recommendation"] = long["recommendation"].map(lambda c: i18n.t(f"recommendation.{c}", language))
    long["recommendation_lines"] = long["recommendation"].map(lambda text: "|".join(textwrap.wrap(text, 16, break_long_words=False)))
    long["level"] = long["score"].map(lambda s: i18n.t("evaluation.not_assessed", language) if pd.isna(s)
                                      else i18n.t(f"evaluation.level.{int(s)}", language))
    domain = [i18n.t(f"evaluation.level.{n}", language) for n in contract.IMPLEMENTATION_LEVELS]
    domain.append(i18n.t("evaluation.not_assessed", language))
    colours = [OKABE_ITO["vermillion"], OKABE_ITO["orange"], OKABE_ITO["sky"], OKABE_ITO["blue"], "#E8E8E8"]
    # Long recommendation names on lines of their own, every label kept, units in alphabetical order
    # (review finding: 2 of 7 column labels drawn, cut; every other unit dropped).
    base = alt.Chart(long).encode(
        x=alt.X("recommendation_lines:N", title=None, sort=None,
                axis=alt.Axis(labelAngle=0, labelLimit=0, labelOverlap=False, labelExpr="split(datum.label, '|')")),
        y=alt.Y("unit:N", title=None, sort=sorted(labels), axis=alt.Axis(labelLimit=0, labelOverlap=False)))
    cells = base.mark_rect().encode(
        color=alt.Color("level:N", title=i18n.t("evaluation.score", language), scale=alt.Scale(domain=domain, range=colours)),
        tooltip=[alt.Tooltip("unit:N", title=i18n.t("evaluation.unit_name", language)),
                 alt.Tooltip("recommendation:N", title=i18n.t("evaluation.recommendation", language)),
                 alt.Tooltip("level:N", title=i18n.t("evaluation.score", language))])
    # Scores only where there is one: an empty cell is grey, never the word "null".
    text = base.transform_filter("isValid(datum.score)").mark_text().encode(text=alt.Text("score:Q", format=".0f"))
    return (cells + text).properties(height=max(120, 26 * len(profile)), width=alt.Step(115))  # a column per wrapped label


def evaluation_notes_table(assessed: pd.DataFrame, names: dict[str, str], language: str) -> pd.DataFrame:
    """Assessments with their notes (the current ones, or a unit's history)."""
    units = [reference.municipality_name(code, language) if level == "municipality"
             else names.get(code, code) for level, code in zip(assessed["unit_level"], assessed["unit_code"])]
    return pd.DataFrame({
        i18n.t("evaluation.unit_name", language): units,
        i18n.t("overview.school_year", language): assessed["school_year"].map(i18n.school_year),
        i18n.t("evaluation.recommendation", language): assessed["recommendation"].map(lambda c: i18n.t(f"recommendation.{c}", language)),
        i18n.t("evaluation.score", language): assessed["score"].astype(int),
        i18n.t("evaluation.note", language): assessed["note"],
        i18n.t("evaluation.recorded_by", language): assessed["recorded_by"],
        i18n.t("evaluation.recorded_at", language): assessed["recorded_at"].map(lambda v: i18n.timestamp(v, language)),
    })
