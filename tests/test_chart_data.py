"""What a chart sends the browser (issue #15, finding 5): a chart's data reaches the page whole
(the websocket, "View source", the PNG / SVG download), so it may hold only the fields the chart
draws or uses. Three layers: `charts.only_encoded_fields` on hand-made specs; every chart builder
on realistic frames from the demo data (with counts the charts never draw added on purpose);
and what the running app actually sends, page by page and role by role (Streamlit's AppTest).

The field names a spec refers to are collected here independently of lasnaolo.charts (a plain
walk of the Vega-Lite JSON), so the tests do not merely repeat the code they test."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from types import SimpleNamespace

import altair as alt
import pandas as pd
import pyarrow as pa
import pytest

from lasnaolo import accounts, charts, comparison, contract, deck, environment, reports, risk, trends

from support.helpers import drawn_sections, open_section, open_tables
from test_app import ROLE_OF, app_env, demo_db, login  # noqa: F401 (app_env and demo_db are fixtures)

YEAR = "2024-2025"
HOURS = ("lesson_hours", "illness_hours", "authorised_hours", "unauthorised_hours", "absent_hours")
TIER_COUNTS = ("tier1_pupils", "tier2_pupils", "tier3_pupils")
COUNTS = (*HOURS, *TIER_COUNTS)
ROOT = Path(__file__).resolve().parents[1]
SHARED_GEOJSON = ROOT.parent / "shared" / "data" / "geo" / "kuntarajat-2023.geojson"

# --- the test's own reading of a spec ----------------------------------------------------------

_DATUM = re.compile(r"""datum\s*(?:\.\s*([A-Za-z_$][\w$]*)|\[\s*['"]([^'"]+)['"]\s*\])""")


def spec_fields(node) -> set[str]:
    """Every field name a Vega-Lite spec refers to: `field` of any definition (encodings, sort,
    predicates, transforms), the field lists of transforms and selections, a lookup's fields
    and key, and `datum.x` / `datum['x']` in expressions. Data values, and axis label
    expressions (whose datum is the axis value), are not references."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("datasets", "data", "values", "labelExpr"):
                if key == "data" and isinstance(value, dict):
                    found |= spec_fields({k: v for k, v in value.items() if k != "values"})
                continue
            if key in ("field", "lookup", "key") and isinstance(value, str):
                found.add(value)
            elif key in ("groupby", "fields", "fold", "flatten") and isinstance(value, list):
                found |= {v for v in value if isinstance(v, str)}
            else:
                found |= spec_fields(value)
    elif isinstance(node, list):
        for item in node:
            found |= spec_fields(item)
    elif isinstance(node, str):
        found |= {a or b for a, b in _DATUM.findall(node)}
    return found


def referenced(column: str, fields: set[str]) -> bool:
    """A column is referenced by its name, or as the top of a nested field ("properties.code")."""
    return column in fields or any(f.startswith(column + ".") for f in fields)


def feature_columns(rows: list) -> set[str]:
    """A GeoJSON feature's data are its properties ("properties.x"); type and geometry are shape."""
    return {f"properties.{k}" for row in rows for k in (row.get("properties") or {})}


def dataset_columns(spec: dict) -> dict[str, set[str]]:
    """The columns of each dataset a chart's to_dict() carries (Altair gathers inline data in
    `datasets`), GeoJSON features by their properties."""
    out = {}
    for name, rows in spec.get("datasets", {}).items():
        if rows and isinstance(rows[0], dict) and rows[0].get("type") == "Feature":
            out[name] = feature_columns(rows)
        else:
            out[name] = {k for row in rows for k in row}
    return out


def chart_dict(chart) -> dict:
    with alt.data_transformers.enable("default", max_rows=None):
        return chart.to_dict()


def unreferenced_columns(chart) -> dict[str, set[str]]:
    spec = chart_dict(chart)
    fields = spec_fields(spec)
    return {name: {c for c in columns if not referenced(c, fields)}
            for name, columns in dataset_columns(spec).items() if any(not referenced(c, fields) for c in columns)}


def all_columns(chart) -> set[str]:
    return set().union(*dataset_columns(chart_dict(chart)).values())


# --- charts.only_encoded_fields on hand-made charts ---------------------------------------------

def frame(**extra) -> pd.DataFrame:
    base = {"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"], "c": [3, 2, 1], "lesson_hours": [100, 200, None],
            "tier1_pupils": [1, None, 3], "suppressed": [False, True, False]}
    return pd.DataFrame({**base, **extra}, index=["s1", "s2", "s3"])


def test_only_encoded_fields_drops_every_column_the_chart_does_not_name():
    chart = charts.only_encoded_fields(alt.Chart(frame()).mark_point().encode(x="a:Q", y="b:N"))
    assert all_columns(chart) == {"a", "b"}


def test_only_encoded_fields_keeps_shorthand_aggregate_tooltip_order_and_detail_fields():
    chart = alt.Chart(frame(d=[1, 1, 2], e=["p", "q", "r"])).mark_bar().encode(
        x="sum(a):Q", y=alt.Y("b:N", sort=alt.EncodingSortField("c", op="max")), detail="d:N",
        tooltip=[alt.Tooltip("e:N")])
    assert all_columns(charts.only_encoded_fields(chart)) == {"a", "b", "c", "d", "e"}


def test_only_encoded_fields_keeps_fields_read_by_calculate_filter_fold_window_and_conditions():
    chart = (alt.Chart(frame(d=[1, 2, 3], e=[4, 5, 6], f=[7, 8, 9], g=[0, 1, 0]))
             .transform_filter("datum.g > 0")
             .transform_calculate(h="datum['d'] * 2")
             .transform_fold(["e"], as_=["key", "value"])
             .transform_window(rank="rank()", groupby=["b"], sort=[alt.SortField("f")])
             .mark_point().encode(x="h:Q", y="value:Q",
                                  color=alt.condition("datum.a > 1", alt.value("red"), alt.value("blue"))))
    assert all_columns(charts.only_encoded_fields(chart)) == {"a", "b", "d", "e", "f", "g"}


def test_only_encoded_fields_cuts_each_layer_to_what_it_reads_and_keeps_shared_data_shared():
    points, lines = frame(), frame(d=[5, 6, 7])
    chart = (alt.Chart(points).mark_point().encode(x="a:Q") + alt.Chart(lines).mark_line().encode(x="a:Q", y="d:Q")
             + alt.Chart(points).mark_text().encode(x="a:Q", text="b:N"))
    pruned = charts.only_encoded_fields(chart)
    assert pruned.layer[0].data is pruned.layer[2].data  # the same frame stays one dataset
    assert list(pruned.layer[0].data.columns) == ["a", "b"] and list(pruned.layer[1].data.columns) == ["a", "d"]
    assert not unreferenced_columns(pruned)


def test_only_encoded_fields_reads_encodings_of_a_layer_for_data_given_above_it():
    chart = alt.layer(alt.Chart().mark_point().encode(x="a:Q"), alt.Chart().mark_rule().encode(y="c:Q"), data=frame())
    assert all_columns(charts.only_encoded_fields(chart)) == {"a", "c"}


def test_only_encoded_fields_cuts_lookup_data_to_its_key_and_fields():
    lookup = pd.DataFrame({"code": ["x", "y"], "rate": [1.0, 2.0], "label": ["X", "Y"], "lesson_hours": [10, 20]})
    chart = (alt.Chart(frame()).mark_point().transform_lookup(lookup="b", from_=alt.LookupData(lookup, "code", ["rate", "label"]))
             .encode(x="rate:Q", tooltip="label:N"))
    pruned = charts.only_encoded_fields(chart)
    assert list(pruned.data.columns) == ["b"]
    assert list(pruned.transform[0]["from"].data.columns) == ["code", "rate", "label"]
    assert not unreferenced_columns(pruned)


def test_only_encoded_fields_keeps_the_top_of_nested_and_the_whole_of_escaped_dotted_names():
    data = pd.DataFrame({"properties": [{"code": "091"}], "a.b": [1.0], "other": [2.0]})
    chart = alt.Chart(data).mark_point().encode(x=alt.X("a\\.b:Q"), tooltip="properties.code:N")
    assert list(charts.only_encoded_fields(chart).data.columns) == ["properties", "a.b"]


def test_only_encoded_fields_keeps_facet_fields_and_rows_of_a_chart_that_names_no_field():
    faceted = alt.Chart(frame()).mark_point().encode(x="a:Q").facet(row="b:N")
    assert all_columns(charts.only_encoded_fields(faceted)) == {"a", "b"}
    blank = charts.only_encoded_fields(alt.Chart(pd.DataFrame({"x": [0]})).mark_text(text=""))
    assert blank.data.shape == (1, 0)  # one empty datum: the mark is still drawn once


def test_only_encoded_fields_leaves_inline_values_such_as_boundaries_as_they_are():
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [25.0, 60.0]},
                 "properties": {"municipality_code": "091"}}]
    rates = pd.DataFrame({"municipality_code": ["091"], "absence_rate": [4.0], "lesson_hours": [900]})
    shapes = alt.Data(values=features)
    chart = (alt.Chart(shapes).mark_geoshape()
             .transform_lookup(lookup="properties.municipality_code",
                               from_=alt.LookupData(rates, "municipality_code", ["absence_rate"]))
             .encode(color="absence_rate:Q"))
    pruned = charts.only_encoded_fields(chart)
    assert pruned.data is shapes  # not copied, not cut: the shape needs type and geometry
    assert list(pruned.transform[0]["from"].data.columns) == ["municipality_code", "absence_rate"]


def test_only_encoded_fields_drops_the_index_and_leaves_the_chart_given_unchanged():
    data = frame()
    chart = alt.Chart(data).mark_point().encode(x="a:Q")
    pruned = charts.only_encoded_fields(chart)
    assert list(pruned.data.index) == [0, 1, 2]  # school codes in an index would travel too
    assert chart.data is data and list(data.columns) == ["a", "b", "c", "lesson_hours", "tier1_pupils", "suppressed"]


# --- every chart builder on realistic frames ----------------------------------------------------

def with_counts(data: pd.DataFrame) -> pd.DataFrame:
    """The frame with the counts no chart draws (some withheld: NaN) and a suppressed flag."""
    n = len(data)
    extra = {c: [float("nan") if i % 3 == 0 else 100.0 + i for i in range(n)] for c in COUNTS if c not in data}
    return data.assign(**extra, **({} if "suppressed" in data else {"suppressed": [i % 3 == 0 for i in range(n)]}))


@pytest.fixture(scope="module")
def engine(demo_sqlite):
    return demo_sqlite


def scope_of(username: str, engine=None):
    """A demo account's scope; the demo rector's school is picked as the app picks it."""
    school = None
    if engine is not None:
        schools = comparison.queries.schools(engine, scope_of("johtaja"))
        school = schools.loc[schools["school_type"] == "comprehensive", "school_id"].iloc[0]
    return accounts.demo_accounts(school)[username].scope()


def boundaries(codes) -> dict:
    if SHARED_GEOJSON.exists():
        from lasnaolo import geo

        return geo.load_municipality_boundaries(SHARED_GEOJSON)
    square = lambda i: [[[i, 60.0], [i + 0.5, 60.0], [i + 0.5, 60.5], [i, 60.5], [i, 60.0]]]  # noqa: E731
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": square(i)}, "properties": {"municipality_code": c}}
        for i, c in enumerate(codes)]}


@pytest.fixture(scope="module")
def cases(engine):
    """Each builder with realistic arguments: the demo data's figures as the pages get them."""
    lang = "fi"
    overview = reports.overview(engine, scope_of("admin"), YEAR)
    shown = trends.trends(engine, scope_of("johtaja"), trends.TrendView())
    rector = scope_of("rehtori", engine)
    school = sorted(rector.school_ids)[0]
    compared = comparison.compare(engine, rector, school, YEAR)
    funnel = SimpleNamespace(units=with_counts(compared.funnel.units), limits=compared.funnel.limits,
                             reference_rate=compared.funnel.reference_rate)
    school_type = comparison.queries.schools(engine, rector).set_index("school_id").at[school, "school_type"]
    profile = comparison.wellbeing_profile(engine, rector, school, school_type)
    analysed = risk.analyse(engine, scope_of("koordinaattori"), YEAR)
    months = [f"{y}-{m:02d}" for y, m in ((2023, 8), (2023, 9), (2023, 10))] + [f"{y}-{m:02d}" for y, m in ((2024, 8), (2024, 9))]
    progress = with_counts(pd.DataFrame({"school_year": ["2023-2024"] * 3 + [YEAR] * 2, "month": months,
                                         "month_index": [0, 1, 2, 0, 1], "value": [3.1, 3.5, 4.0, 2.9, 3.2]}))
    event_study = with_counts(pd.DataFrame({"event_month": [-2, -1, 0, 1], "estimate": [0.1, 0.0, -0.8, -1.1],
                                            "ci_low": [-0.5, 0.0, -1.5, -1.9], "ci_high": [0.7, 0.0, -0.1, -0.3],
                                            "std_error": [0.3, 0.0, 0.35, 0.4]}))
    evaluation = with_counts(pd.DataFrame({
        "unit_level": ["municipality", "school"], "unit_code": ["106", school], "unit_name": [None, "Koulu"],
        **{code: [3.0, None] for code in contract.RECOMMENDATIONS}, "mean_score": [3.0, None],
        "absence_rate": [4.2, 5.1], "absence_rate_previous": [4.5, 5.0], "absence_change": [-0.3, 0.1],
        "tier23_share": [6.0, 7.5]}))
    labels = {code: code for code in sorted(shown.by_band["grade_band"].unique())}
    return {
        "seasonal_rate_chart": (overview.monthly, lang),
        "tier_chart": (charts.tier_shares(overview.report.figures), lang),
        "category_chart": (shown.monthly, lang),
        "tier_trend_chart": (shown.monthly, lang),
        "group_trend_chart": (shown.by_band, "grade_band", labels, "absence_rate", lang),
        "ranking_chart": (shown.municipalities, lang),
        "region_tile_chart": (shown.regions, "absence_rate", lang),
        "funnel_chart": (funnel, school, lang),
        "school_vs_peers_chart": (with_counts(compared.monthly), lang),
        "grades_vs_peers_chart": (with_counts(compared.grades), lang),
        "tiers_vs_peers_chart": (with_counts(compared.tiers), lang),
        "wellbeing_profile_chart": (profile, lang),
        "choropleth_chart": (boundaries(shown.municipalities["municipality_code"]), shown.municipalities, lang),
        "wellbeing_chart": (shown.wellbeing, "belonging", lang),
        "cluster_profile_chart": (analysed.clusters, lang),
        "cluster_scatter_chart": (analysed.clusters, lang),
        "factors_chart": (analysed.factors, lang),
        "target_progress_chart": (progress, 3.5, 3.0, lang),
        "status_counts_chart": (pd.Series({"on_track": 2, "at_risk": 1, "off_track": 1}), lang),
        "headline_chart": ({c.metric: c for c in overview.report.changes}, ["absence_rate", "tier23_share"], lang),
        "figures_chart": ([{"label": "Hyvinkää", "value": "3,7 %", "delta": "2024–2025"}],),
        "event_study_chart": (SimpleNamespace(event_study=event_study), lang),
        "evaluation_profile_chart": (evaluation, lang),
    }


def chart_builders() -> list[str]:
    """Every public function of the lasnaolo.charts modules that returns a chart (each one named
    by the package too: pages call charts.<builder>)."""
    import importlib
    import pkgutil

    found = set()
    for module in pkgutil.iter_modules(charts.__path__):
        loaded = importlib.import_module(f"{charts.__name__}.{module.name}")
        found |= {name for name, f in inspect.getmembers(loaded, inspect.isfunction)
                  if f.__module__ == loaded.__name__ and name.endswith("_chart") and not name.startswith("_")}
    assert all(getattr(charts, name, None) is not None for name in found), found - set(dir(charts))
    return sorted(found)


BUILDERS = chart_builders()


def test_pupils_column_rounds_counts_keeps_withheld_empty_and_shows_size_classes_as_ranges():
    assert charts.pupils_column(pd.Series([120.0, None, 35.4])).tolist() == [120, pd.NA, 35]
    frame = pd.DataFrame({"pupils": [1234.0, 65.0, None], "pupils_low": [None, 50.0, None],
                          "pupils_high": [None, 80.0, None]})
    assert charts.pupils_or_class(frame, "fi").tolist() == ["1\u00a0234", "50–80", ""]
    assert charts.pupils_or_class(frame.drop(index=1), "en").tolist() == [1234, pd.NA]


def test_every_chart_builder_is_cut_to_its_fields_and_has_a_case_here(cases):
    assert len(BUILDERS) >= 22
    assert [b for b in BUILDERS if not getattr(getattr(charts, b), "only_encoded_fields", False)] == []
    assert sorted(cases) == BUILDERS  # a new builder needs a case below


@pytest.mark.parametrize("builder", BUILDERS)
def test_each_builders_chart_data_holds_only_fields_its_spec_refers_to(cases, builder):
    chart = getattr(charts, builder)(*cases[builder])
    assert unreferenced_columns(chart) == {}


@pytest.mark.parametrize("builder", BUILDERS)
def test_each_builders_chart_data_holds_no_hours_tier_counts_suppression_flags_or_school_keys(cases, builder):
    chart = getattr(charts, builder)(*cases[builder])
    assert all_columns(chart) & {*COUNTS, "suppressed", "school_key", "school_id"} == set()


@pytest.mark.parametrize("builder", BUILDERS)
def test_each_builders_chart_draws_the_same_picture_with_its_data_cut(cases, builder):
    import vl_convert as vlc

    args = cases[builder]
    whole = getattr(charts, builder).__wrapped__(*args)
    cut = getattr(charts, builder)(*args)
    def drawn(chart) -> str:  # the renderer numbers gradients per process; the number is no drawing
        return re.sub(r"gradient_\d+", "gradient", vlc.vegalite_to_svg(chart_dict(chart)))

    assert drawn(cut) == drawn(whole)


@pytest.mark.parametrize("builder", BUILDERS)
def test_each_builders_page_spec_is_valid_vega_lite_and_draws_as_the_validated_conversion(cases, builder):
    """The page sends `charts.browser_spec` unvalidated (validation cost most of a warm page's
    time): so here each builder's spec must pass the Vega-Lite schema, carry only the fields it
    draws, and draw exactly what Altair's validated conversion draws."""
    import vl_convert as vlc
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v5.schema.core import load_schema

    shown = charts.as_shown(getattr(charts, builder)(*cases[builder]), "fi")
    spec = charts.browser_spec(shown)
    inline = {**spec, "datasets": {name: frame.to_dict("records") for name, frame in spec["datasets"].items()}}
    inline = json.loads(json.dumps(inline, default=str))
    validate_jsonschema(inline, load_schema())
    fields = spec_fields(inline)
    assert {name: [c for c in columns if not referenced(c, fields)] for name, columns in dataset_columns(inline).items()} \
        == {name: [] for name in spec["datasets"]}

    def drawn(vega_lite: dict) -> str:
        return re.sub(r"gradient_\d+", "gradient", vlc.vegalite_to_svg(vega_lite))

    assert drawn(inline) == drawn(chart_dict(shown))


def test_page_spec_keeps_data_altair_gathers_itself_and_names_frames_by_their_content():
    """A layer without data of its own and inline records (review finding: both were dropped), and
    two equal frames under one content name."""
    import vl_convert as vlc

    frame = pd.DataFrame({"a": [1, 2, 3], "b": [2.0, 3.0, 4.0], "lesson_hours": [9, 9, 9]})
    rule = alt.Chart().mark_rule(color="red").encode(y=alt.datum(3.5))
    inline = alt.Chart(alt.InlineData(values=[{"a": 1, "b": 4.0}])).mark_point(color="green").encode(x="a:Q", y="b:Q")
    chart = alt.layer(alt.Chart(frame).mark_line().encode(x="a:Q", y="b:Q"), rule, inline,
                      alt.Chart(frame.copy()).mark_point().encode(x="a:Q", y="b:Q"))
    spec = charts.browser_spec(chart)
    frames = [v for v in spec["datasets"].values() if isinstance(v, pd.DataFrame)]
    assert len(frames) == 1 and list(frames[0].columns) == ["a", "b"]  # the copy shares the name; hours cut
    records = {name: v.to_dict("records") if isinstance(v, pd.DataFrame) else v for name, v in spec["datasets"].items()}
    svg = vlc.vegalite_to_svg(json.loads(json.dumps({**spec, "datasets": records})))
    assert svg == vlc.vegalite_to_svg(chart_dict(chart)) and 'stroke="red"' in svg and 'stroke="green"' in svg


def test_a_rectors_funnel_sends_peers_only_pupils_and_rate(cases):
    chart = charts.funnel_chart(*cases["funnel_chart"])
    points = [layer.data for layer in chart.layer if isinstance(layer.data, pd.DataFrame) and "who" in layer.data]
    assert len(points) == 1 and set(points[0].columns) == {"pupils", "absence_rate", "who", "rate_text", "pupils_text"}
    tooltip = [t["field"] for layer in chart_dict(chart)["layer"] for t in layer.get("encoding", {}).get("tooltip", [])]
    assert tooltip == ["rate_text", "pupils_text"]  # the rate and the pupils on the axis, no other count


def test_a_rectors_comparison_tables_give_peers_no_hours_or_tier_counts(cases):
    funnel, school, lang = cases["funnel_chart"]
    tables = {
        "funnel": charts.funnel_table(funnel, school, lang),
        "months": charts.school_vs_peers_table(cases["school_vs_peers_chart"][0], lang),
        "grades": charts.grades_vs_peers_table(cases["grades_vs_peers_chart"][0], lang),
        "tiers": charts.tiers_vs_peers_table(cases["tiers_vs_peers_chart"][0], lang),
    }
    assert list(tables["funnel"].columns) == ["Koulu", "Oppilaita", "Poissaoloprosentti", "z"]
    assert list(tables["months"].columns) == ["Kuukausi", "Tämä koulu", "Vertailuryhmä", "Koko kunta"]
    assert list(tables["grades"].columns) == ["Vuosiluokat", "Tämä koulu", "Vertailuryhmä"]
    assert list(tables["tiers"].columns) == ["", "Tämä koulu", "Vertailuryhmä"]
    peers = tables["funnel"][tables["funnel"]["Koulu"] != "Tämä koulu"]
    assert len(peers) >= comparison.MIN_PEERS  # each peer: its pseudonym, pupils, rate and z, nothing more


def test_deck_slides_and_their_exported_drawings_carry_only_the_fields_they_draw(engine):
    built = deck.build(engine, scope_of("koordinaattori"), deck.DeckRequest(YEAR))
    # What the PPTX, the PDF and the full-screen view draw (the same drawing for the three).
    pages = [deck.slide_chart(slide) for slide in built.slides if slide.chart is not None]
    assert pages
    for slide in built.slides:
        if slide.chart is not None:
            assert unreferenced_columns(slide.chart) == {}, slide.kind
            assert all_columns(slide.chart) & set(COUNTS) == set(), slide.kind
    for page in pages:
        assert unreferenced_columns(page) == {}


# --- what the running app sends ------------------------------------------------------------------

def sent_charts(at) -> list[tuple[dict, dict[str, set[str]]]]:
    """Each chart element the page sent: its Vega-Lite spec and the columns of each of its
    datasets (Arrow, as the browser gets them; GeoJSON left in the spec by its properties)."""
    out = []
    for element in at.get("vega_lite_chart"):
        proto = element.proto
        spec = json.loads(proto.spec)
        columns = {}
        buffers = [("(inline)", proto.data.data)] + [(d.name, d.data.data) for d in proto.datasets]
        for name, buffer in buffers:
            if buffer:
                columns[name] = set(pa.ipc.open_stream(buffer).read_all().column_names)
        columns |= dataset_columns(spec)
        out.append((spec, columns))
    return out


def open_page(at, page: str, role: str):
    at.switch_page(f"pages/{page}.py").run()
    if page == "impact":  # the event study is drawn once an estimate exists: coaches, grades 7-9, the whole region
        at.selectbox(key="impact_measure").select("school_coach").run()
        at.selectbox(key="impact_band").select("7-9").run()
        if role != "admin":
            at.radio(key="impact_area").set_value(True).run()
    open_tables(at)  # what a user can open is what the browser can receive
    assert not at.exception, [e.message for e in at.exception]
    return at


def page_views(at, page: str, role: str):
    """The page opened as `open_page` opens it, then each further section of a page drawn one
    section at a time (trends, a comparison of several schools, the deck's slides), each with
    every table open: yields `at` at each."""
    yield open_page(at, page, role)
    for section in drawn_sections(page, role, [tab.label for tab in at.tabs]):
        open_section(at, page, section)
        open_tables(at)
        yield at


@pytest.fixture
def app_with_map(app_env, monkeypatch):
    if SHARED_GEOJSON.exists():
        monkeypatch.setenv(environment.MUNICIPALITY_GEOJSON, str(SHARED_GEOJSON))  # the choropleth too
    return app_env


def pages_of(role: str) -> list[str]:
    return [page for page in accounts.PAGE_ROLES if accounts.may_open(role, page)]


@pytest.mark.slow
@pytest.mark.parametrize("username", ["admin", "johtaja", "rehtori", "ohjausryhma", "koordinaattori"])
def test_every_chart_the_app_sends_holds_only_columns_its_spec_refers_to(app_with_map, username):
    role = ROLE_OF[username]
    at = login(username)
    seen = 0
    problems = []
    for page in pages_of(role):
        for view in page_views(at, page, role):
            # The tables beside the charts (and their CSV / XLSX) are built by the table builders,
            # which name their columns in words: a raw count column would be a leak.
            problems += [f"{page} table: {c}" for e in view.dataframe for c in e.value.columns if str(c) in COUNTS]
            for number, (spec, columns) in enumerate(sent_charts(view)):
                seen += 1
                fields = spec_fields(spec)
                for name, names in columns.items():
                    extra = sorted(c for c in names if not referenced(c, fields))
                    if extra:
                        problems.append(f"{page} chart {number + 1} dataset {name}: {extra}")
    assert seen > 0 and problems == []


@pytest.mark.slow
@pytest.mark.parametrize("username, page", [("rehtori", "comparison"), ("koordinaattori", "trends"), ("johtaja", "trends")])
def test_rector_comparison_and_coordinator_director_trends_send_no_hours_or_tier_counts(app_with_map, username, page):
    sent, tables = [], []
    for view in page_views(login(username), page, ROLE_OF[username]):  # every section of the trends page
        sent += sent_charts(view)
        tables += [e.value for e in view.dataframe]
    assert len(sent) >= 4
    for spec, columns in sent:
        drawn = spec_fields(spec)
        leaked = {c for names in columns.values() for c in names if c in COUNTS and c not in drawn}
        assert leaked == set() and not {c for names in columns.values() for c in names} & set(COUNTS)
    assert tables and not [c for t in tables for c in t.columns if str(c) in COUNTS or "tunnit" in str(c).lower()]


def test_a_kept_figure_is_found_by_the_exact_content_of_its_arguments_where_streamlits_hash_is_not_exact():
    """widgets.figure keeps built charts by the content of their arguments. Streamlit's own hash
    of a frame of 50,000 rows or more looks at a sample, so two such frames differing in one cell
    hash alike there (checked here) and would have shared a chart."""
    import hashlib

    from streamlit.runtime.caching.cache_type import CacheType
    from streamlit.runtime.caching.hashing import update_hash

    from lasnaolo.ui import widgets

    def streamlit_hash(value) -> str:
        digest = hashlib.new("md5")
        update_hash(value, digest, CacheType.RESOURCE)
        return digest.hexdigest()

    one = pd.DataFrame({"x": range(60_000), "y": 0.0})
    other = one.copy()
    other.loc[31_337, "y"] = 1.0
    assert streamlit_hash(one) == streamlit_hash(other)
    assert widgets._content_key((one, "fi")) != widgets._content_key((other, "fi"))
    assert widgets._content_key((one, "fi")) != widgets._content_key((one.set_axis(one.index + 1), "fi"))
    assert widgets._content_key((one.copy(), "fi")) == widgets._content_key((one, "fi"))
    # Told apart too (Streamlit's hash takes each pair alike): 1 and "1" in an object column, a
    # category's order, a frame's attrs.
    mixed = pd.DataFrame({"x": pd.Series([1, "a"], dtype=object)})
    assert widgets._content_key((mixed,)) != widgets._content_key((mixed.assign(x=pd.Series(["1", "a"], dtype=object)),))
    ab = pd.DataFrame({"x": pd.Categorical(["a", "b"], categories=["a", "b"], ordered=True)})
    assert widgets._content_key((ab,)) != widgets._content_key((ab.assign(x=ab["x"].cat.reorder_categories(["b", "a"])),))
    marked = one.copy()
    marked.attrs["plain_numbers"] = True
    assert widgets._content_key((one,)) != widgets._content_key((marked,))
