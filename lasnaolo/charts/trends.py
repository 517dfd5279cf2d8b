"""The trends page: categories, tiers and groups over time, the municipalities' ranking, the
regions' tile map and choropleth, wellbeing against absence."""

from __future__ import annotations

import altair as alt
import pandas as pd

from lasnaolo import contract, i18n, reference
from lasnaolo.charts.labels import month_labels, pupils_column
from lasnaolo.charts.shown import only_what_is_shown
from lasnaolo.charts.style import (CATEGORY_COLOURS, CONTEXT_COLOUR, FOCUS_COLOUR, NO_DATA_GREY, OKABE_ITO,
                                   TEXT_GREY, TIER_COLOURS, percent_axis_labels)


def _period_labels(frame: pd.DataFrame, language: str) -> tuple[pd.Series, pd.Series, str]:
    """Sort keys, labels and the axis title of a frame by month, or else by school year."""
    if "month" in frame:
        return frame["month"], month_labels(frame, language), i18n.t("overview.month", language)
    return frame["school_year"], frame["school_year"].map(i18n.school_year), i18n.t("overview.school_year", language)


@only_what_is_shown
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


@only_what_is_shown
def tier_trend_chart(monthly: pd.DataFrame, language: str) -> alt.Chart:
    """Each tier's share of pupils at each month end (tiers are year to date, so they build up
    over the autumn and restart in August)."""
    long = pd.concat([
        pd.DataFrame({"month": monthly["month"], "month_label": month_labels(monthly, language),
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
    out = {i18n.t("overview.month", language): month_labels(monthly, language)}
    for t in contract.TIERS:
        out[i18n.t(f"tier.{t}", language)] = monthly[f"tier{t}_share"]
    return pd.DataFrame(out)


@only_what_is_shown
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


@only_what_is_shown
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
                       scale=alt.Scale(domain=domain, range=[FOCUS_COLOUR, CONTEXT_COLOUR]))
    tooltip = [alt.Tooltip("label:N", title=""), alt.Tooltip("rate_text:N", title=i18n.t("metric.absence_rate", language)),
               alt.Tooltip("interval_text:N", title=i18n.t("trends.interval", language))]
    rule = base.mark_rule(strokeWidth=2.5).encode(x=alt.X("ci_low:Q", title=i18n.t("metric.absence_rate", language),
                                                           scale=alt.Scale(zero=False),
                                                           axis=alt.Axis(labelExpr=percent_axis_labels(language))),
                                                  x2=alt.X2("ci_high:Q"), color=colour, tooltip=tooltip)
    dots = base.mark_point(filled=True, size=110).encode(x=alt.X("absence_rate:Q"), color=colour, tooltip=tooltip)
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


@only_what_is_shown
def region_tile_chart(regions: pd.DataFrame, metric: str, language: str, tile: int = 58, named: bool = False) -> alt.Chart:
    """The 19 regions as equal squares of `tile` pixels coloured by the metric (a sequential,
    colour-blind-safe scale), each with its abbreviation and value written on it; `named`: with a
    list beside them of what each coloured tile's abbreviation stands for (a slide has no tooltip)."""
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
    background = base.mark_rect(stroke="white", strokeWidth=3, color=NO_DATA_GREY).encode(tooltip=tooltip)
    squares = base.transform_filter("isValid(datum.value)").mark_rect(stroke="white", strokeWidth=3).encode(
        color=alt.Color("value:Q", title=i18n.t(f"metric.{metric}", language),
                        scale=alt.Scale(scheme="viridis", reverse=True), legend=scale_legend),
        tooltip=tooltip)
    # Dark text on light tiles and light text on dark ones keeps the labels readable.
    text_colour = alt.condition("isValid(datum.value)", alt.value("white"), alt.value(TEXT_GREY))
    labels = base.transform_filter("length(datum.abbreviation) <= 4").mark_text(
        baseline="bottom", dy=-1, fontWeight="bold", fontSize=round(tile * 0.2)).encode(text=alt.Text("abbreviation:N"), color=text_colour)
    # "Oma alue" / "Eget område" on two smaller lines above the figure: at the abbreviations'
    # size on one line it filled its tile edge to edge (review).
    small = round(tile * 0.17)
    own_labels = base.transform_filter("length(datum.abbreviation) > 4").mark_text(
        baseline="bottom", dy=-1 - round(small * 1.1), fontWeight="bold", fontSize=small, lineBreak=" ",
        lineHeight=round(small * 1.1)).encode(text=alt.Text("abbreviation:N"), color=text_colour)
    values = base.mark_text(baseline="top", dy=2, fontSize=round(tile * 0.18)).encode(text=alt.Text("value_text:N"), color=text_colour)
    # Its own size, never stretched to the page's width: the tiles are equal squares.
    tiles = (background + squares + labels + own_labels + values).properties(width=6 * tile, height=6 * tile)
    listed = frame[frame["value"].notna() & (frame["abbreviation"].str.len() <= 4)].sort_values(["row", "col"])
    if not named or listed.empty:
        return tiles.properties(autosize=alt.AutoSizeParams(type="pad"))
    listed = listed.assign(line=range(len(listed)), label=listed["abbreviation"] + "  " + listed["name"])
    key = alt.Chart(listed).mark_text(align="left", baseline="middle", fontSize=round(tile * 0.2), color=TEXT_GREY).encode(
        x=alt.value(0), y=alt.Y("line:O", axis=None, scale=alt.Scale(domain=list(range(max(len(listed), 12))))),
        text=alt.Text("label:N"),
    ).properties(width=round(3.5 * tile), height=6 * tile, view=alt.ViewBackground(stroke=None))
    return alt.hconcat(tiles, key, spacing=round(tile * 0.3)).properties(autosize=alt.AutoSizeParams(type="pad"))


def region_tile_table(regions: pd.DataFrame, metric: str, language: str) -> pd.DataFrame:
    frame = region_tile_frame(regions, metric, language).dropna(subset=["value"]).sort_values("value", ascending=False)
    return pd.DataFrame({i18n.t("trends.area", language): frame["name"], i18n.t(f"metric.{metric}", language): frame["value"]})


@only_what_is_shown
def choropleth_chart(boundaries: dict, ranking: pd.DataFrame, language: str) -> alt.Chart:
    """Municipalities on their official boundaries, coloured by absence rate; those without a
    figure in scope (or withheld) stay grey."""
    name = reference.name_column(language)
    values = ranking.assign(label=ranking[name], rate_text=ranking["absence_rate"].map(lambda v: i18n.percent(v, language)))
    lookup = alt.LookupData(values[["municipality_code", "absence_rate", "label", "rate_text"]], "municipality_code",
                            ["absence_rate", "label", "rate_text"])
    shapes = alt.Data(values=boundaries["features"])
    title = i18n.t("metric.absence_rate", language)
    background = alt.Chart(shapes).mark_geoshape(fill=NO_DATA_GREY, stroke="white", strokeWidth=0.3)
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


@only_what_is_shown
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
    names = base.mark_text(align="left", dx=9, dy=-7, color=TEXT_GREY).encode(text=alt.Text("label:N"))
    return (dots + names).properties(height=300)


def _size_legend_values(counts: pd.Series) -> list[int]:
    """Up to four round counts, none above the largest, for a dot-size legend (Vega's own
    legend began at 0, a dot no municipality has)."""
    known = pd.to_numeric(counts, errors="coerce").dropna()
    top = float(known.max()) if len(known) else 0.0
    if not top >= 1:
        return []
    # At most four steps up to the largest (31: 10, 20, 30; three steps gave a lone 20 there).
    step = min(c for c in (b * 10 ** e for e in range(9) for b in (1, 2, 5)) if top / c <= 4)
    return [int(step * k) for k in (1, 2, 3, 4) if step * k <= top]


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
