"""The school comparison page: the funnel, the school against its peers month by month, by grade
and by tier, its wellbeing profile, the attention list and positive outliers."""

from __future__ import annotations

import altair as alt
import pandas as pd

from lasnaolo import contract, export, i18n
from lasnaolo.charts.labels import month_labels, pupils_column, pupils_or_class, school_names
from lasnaolo.charts.shown import only_what_is_shown
from lasnaolo.charts.style import (BETTER_COLOUR, CONTEXT_COLOUR, FOCUS_COLOUR, WORSE_COLOUR, LINE_LEGEND,
                                   OKABE_ITO, SERIES_COLOURS, SERIES_DASHES, TIER_AXIS, percent_axis_labels)


@only_what_is_shown
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
        detail=alt.Detail("limit:N"), strokeDash=alt.StrokeDash("level:N", scale=alt.Scale(domain=["95", "998"], range=[[4, 3], [1, 0]]),
                                                     legend=None))
    reference_line = alt.Chart(pd.DataFrame({"rate": [funnel.reference_rate]})).mark_rule(color=OKABE_ITO["grey"]).encode(y=alt.Y("rate:Q"))
    tooltip = [alt.Tooltip("rate_text:N", title=y_title), alt.Tooltip("pupils_text:N", title=i18n.t("metric.pupils", language))]
    dots = alt.Chart(units).mark_point(filled=True, opacity=0.85).encode(
        x=x, y=alt.Y("absence_rate:Q"),
        color=alt.Color("who:N", legend=None, scale=alt.Scale(domain=["self", "peer"], range=[FOCUS_COLOUR, CONTEXT_COLOUR])),
        size=alt.Size("who:N", legend=None, scale=alt.Scale(domain=["self", "peer"], range=[260, 50])),
        shape=alt.Shape("who:N", legend=None, scale=alt.Scale(domain=["self", "peer"], range=["diamond", "circle"])),
        tooltip=tooltip)
    return (lines + reference_line + dots).properties(height=340)


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
        # Short headers: at 1400 px the table's last columns needed scrolling (issue 18).
        i18n.t("attention.rate", language): order["school_rate"].astype(float).to_numpy(),
        i18n.t("compare.peer_group", language): order["peer_rate"].astype(float).to_numpy(),
        i18n.t("attention.verdict", language): [
            i18n.t(f"attention.verdict.{v}", language) if isinstance(v, str)
            else i18n.t(f"attention.not_compared.{why if isinstance(why, str) else 'no_peers'}", language)
            for v, why in zip(order["verdict"], order["not_compared"])],
        i18n.t("attention.change", language): [i18n.points(v, language) for v in order["change_points"]],
        i18n.t("attention.change_against_region", language): [
            i18n.t(f"attention.change.{c}", language) if isinstance(c, str) and pd.notna(v) else "–"
            for v, c in zip(order["change_points"], order["change_verdict"])],
        i18n.t("attention.tier23", language): order["tier23_share"].astype(float).to_numpy(),
    })
    if order["latest_month"].nunique(dropna=False) > 1:  # else the page's caption names the one month
        table[i18n.t("attention.latest_month", language)] = [i18n.month(m, language) if isinstance(m, str) else "–"
                                                             for m in order["latest_month"]]
    return table


def _series_labels(language: str) -> dict[str, str]:
    return {"school": i18n.t("compare.this_school", language), "peers": i18n.t("compare.peer_group", language),
            "municipality": i18n.t("compare.municipality", language)}


@only_what_is_shown
def school_vs_peers_chart(monthly: pd.DataFrame, language: str) -> alt.Chart:
    """The school's months against its peer group's and its whole municipality's."""
    labels = _series_labels(language)
    series = [s for s in ("school", "peers", "municipality") if s in set(monthly["series"])]
    frame = monthly.assign(label=monthly["series"].map(labels), month_label=month_labels(monthly, language),
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


@only_what_is_shown
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


@only_what_is_shown
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
                            scale=alt.Scale(domain=domain, range=[FOCUS_COLOUR, CONTEXT_COLOUR])),
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


@only_what_is_shown
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
            color=alt.Color("verdict:N", title=None, scale=alt.Scale(domain=domain, range=[BETTER_COLOUR, WORSE_COLOUR])),
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
