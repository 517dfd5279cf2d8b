"""The risk profiles page: cluster profiles and members, the principal-component scatter, the
factors that go with high absence."""

from __future__ import annotations

import altair as alt
import pandas as pd

from lasnaolo import export, i18n
from lasnaolo.charts.labels import pupils_or_class, school_names
from lasnaolo.charts.shown import only_what_is_shown
from lasnaolo.charts.style import CLUSTER_COLOURS, OKABE_ITO


def _cluster_labels(result, language: str) -> dict[int, str]:
    return {c: f"{c}: {result.name(c, language)}" for c in result.profiles.index}


@only_what_is_shown
def cluster_profile_chart(result, language: str) -> alt.Chart:
    """Heatmap of each cluster's mean z-score per feature: red above the average of the schools
    clustered, blue below, white at the average (diverging, symmetric around zero)."""
    labels = {c: i18n.t("risk.cluster_number", language, n=c) for c in result.profiles.index}
    frame = result.profiles.reset_index(names="cluster").melt("cluster", var_name="feature", value_name="z")
    frame = frame.assign(cluster_label=frame["cluster"].map(labels),
                         feature_label=frame["feature"].map(lambda f: i18n.feature_name(f, language)),
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
    table = result.profiles.T.astype(float)
    table.columns = list(_cluster_labels(result, language).values())
    table.insert(0, i18n.t("risk.feature", language), [i18n.feature_name(f, language) for f in table.index])
    table = table.reset_index(drop=True)
    return export.plain_numbers(table, {c: 2 for c in table.columns[1:]})  # standardised means, not percentages


def cluster_sizes_table(result, language: str) -> pd.DataFrame:
    return pd.DataFrame({
        i18n.t("risk.cluster", language): [i18n.t("risk.cluster_number", language, n=c) for c in result.sizes.index],
        i18n.t("risk.name", language): [result.name(c, language) for c in result.sizes.index],
        i18n.t("risk.schools", language): result.sizes.astype("Int64").to_numpy(),
    })


@only_what_is_shown
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


@only_what_is_shown
def factors_chart(factors, language: str) -> alt.Chart:
    """Each factor twice: its plain correlation with absence (alone) and its coefficient given the
    other indicators, side by side; to the right goes with more absence, to the left with less.
    No whiskers: the ridge resampling range is not a significance test (it is in the table)."""
    table = factors.table
    kinds = {"correlation": i18n.t("risk.alone", language), "coefficient": i18n.t("risk.given_others", language)}
    frame = table.melt(id_vars="feature", value_vars=list(kinds), var_name="kind", value_name="value").dropna(subset=["value"])
    frame = frame.assign(label=frame["feature"].map(lambda f: i18n.feature_name(f, language)),
                         kind=frame["kind"].map(kinds),
                         text=frame["value"].map(lambda v: i18n.number(v, language, 2)))
    order = [i18n.feature_name(f, language) for f in table["feature"]]
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
    table = factors.table
    columns = {"correlation": "risk.alone", "coefficient": "risk.given_others", "ci_low": "risk.resampled_low",
               "ci_high": "risk.resampled_high"}
    out = pd.DataFrame({i18n.t("risk.feature", language): table["feature"].map(lambda f: i18n.feature_name(f, language))})
    for column, key in columns.items():
        out[i18n.t(key, language)] = table[column].astype(float)
    return out.pipe(export.plain_numbers, {i18n.t(key, language): 2 for key in columns.values()})


def silhouette_table(result, language: str) -> pd.DataFrame:
    return pd.DataFrame({
        i18n.t("risk.k", language): [str(k) for k in result.silhouettes],
        i18n.t("risk.silhouette", language): [float(v) for v in result.silhouettes.values()],
    }).pipe(export.plain_numbers, {i18n.t("risk.silhouette", language): 2})
