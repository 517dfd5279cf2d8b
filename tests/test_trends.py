"""The trends page's core: URL state, figures on hand-made data, the regional context's rules."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from lasnaolo import importer, queries, trends
from lasnaolo.scope import Scope
from lasnaolo.trends import TrendView

from support.helpers import files


def test_view_round_trips_through_url_parameters():
    view = TrendView(("2023-2024", "2024-2025"), (7, 8, 9), ("lower_secondary",), ("sv",), "m:106", "unauthorised_rate")
    params = view.to_params()
    assert params == {"school_years": "2023-2024,2024-2025", "grades": "7,8,9", "school_types": "lower_secondary",
                      "languages": "sv", "area": "m:106", "metric": "unauthorised_rate"}
    assert TrendView.from_params(params) == view
    assert TrendView().to_params() == {} and TrendView.from_params({}) == TrendView()


def test_a_hand_typed_url_never_breaks_the_view():
    typed = {"school_years": "2024-2025,2024,x", "grades": "0,7,10,a", "school_types": "primary,castle",
             "languages": "de", "area": "m:999", "metric": "drop table"}
    assert TrendView.from_params(typed) == TrendView(("2024-2025",), (7,), ("primary",), (), "", "absence_rate")
    assert TrendView.from_params({"area": "r:01"}).unit().level == "region"


def test_the_rankings_region_round_trips_through_the_url_and_never_changes_the_figures():
    view = TrendView(area="r:19", ranking_region="02")
    assert view.to_params() == {"area": "r:19", "ranking_region": "02"} and TrendView.from_params(view.to_params()) == view
    assert TrendView.from_params({"ranking_region": "99"}) == TrendView()  # no such region: dropped
    assert TrendView.from_params({"ranking_region": "01", "metric": "illness_rate"}).data_key() == TrendView()


def _ranking(rows: list[tuple[str, str, bool]]) -> pd.DataFrame:
    """A ranking as `municipality_ranking` returns it: highest rate first."""
    return pd.DataFrame(rows, columns=["municipality_code", "region_code", "own"]).assign(
        absence_rate=[9.0 - i for i in range(len(rows))])


def test_a_ranking_of_several_regions_opens_on_the_asked_then_the_narrowed_then_the_first_region():
    # Rovaniemi (698) is in Lapland (19), Turku (853) in Southwest Finland (02).
    ranking = _ranking([("853", "02", True), ("091", "01", False), ("698", "19", False), ("049", "01", False)])
    assert trends.ranking_regions(ranking) == ["01", "02", "19"]
    assert trends.opening_region(ranking, TrendView()) == "01"
    assert trends.opening_region(ranking, TrendView(area="r:19")) == "19"
    assert trends.opening_region(ranking, TrendView(area="m:698")) == "19"
    assert trends.opening_region(ranking, TrendView(area="r:19", ranking_region="02")) == "02"  # a link's choice
    assert trends.opening_region(ranking, TrendView(ranking_region="05")) == "01"  # not in this ranking
    assert trends.opening_region(ranking, TrendView(area="r:05")) == "01"
    assert trends.opening_region(ranking[ranking["region_code"] == "01"], TrendView()) is None  # one region: no choice
    uusimaa = trends.in_region(ranking, "01")
    assert uusimaa["municipality_code"].tolist() == ["091", "049"] and list(uusimaa.index) == [0, 1]
    assert trends.in_region(ranking, None) is ranking


def test_trends_of_the_hand_made_files(engine):
    importer.import_files(engine, files())
    shown = trends.trends(engine, Scope.everything(), TrendView())
    september = shown.monthly.set_index("month").loc["2024-09"]
    lessons = 1680 + 3780 + 378
    assert september["illness_rate"] == pytest.approx((60 + 150 + 40) / lessons * 100)
    assert september["unauthorised_rate"] == pytest.approx((4 + 40 + 0) / lessons * 100)
    bands = shown.by_band.set_index("grade_band")
    assert bands.loc["1-2", "absence_rate"] == pytest.approx((84 + 126) / (1680 + 1512) * 100)
    assert bands.loc["7-9", "lesson_hours"] == 3780 + 378
    assert set(shown.by_language["language"]) == {"fi", "sv"}
    assert shown.latest_month == "2024-10" and all(c.difference is None for c in shown.year_to_date)
    # Filters narrow in the database: grades 7-8 are only school 04567's.
    upper = trends.trends(engine, Scope.everything(), TrendView(grades=(7, 8)))
    assert upper.yearly["lesson_hours"].sum() == 3780 + 378


def test_a_director_sees_the_region_at_municipality_level_without_a_one_school_municipality(engine):
    importer.import_files(engine, files())
    director = Scope("director", municipality_codes=frozenset({"091"}))
    ranking = trends.municipality_ranking(engine, director, "2024-2025").set_index("municipality_code")
    # Espoo (049) is one school outside the director's scope: its total would be that school's.
    assert set(ranking.index) == {"091"} and ranking.loc["091", "own"]
    context = queries.regional_context(engine, director)
    espoo, helsinki = context[context["municipality_code"] == "049"], context[context["municipality_code"] == "091"]
    assert len(espoo) == 1 and espoo["suppressed"].all() and espoo["lesson_hours"].isna().all()
    assert len(helsinki) == 2 and not helsinki["suppressed"].any()
    rate = (84 + 126) / (1680 + 1512) * 100  # Helsinki's only school
    assert ranking.loc["091", "absence_rate"] == pytest.approx(rate)
    low, high = ranking.loc["091", ["ci_low", "ci_high"]]
    assert low < rate < high and ranking.loc["091", "name_fi"] == "Helsinki"
    with pytest.raises(queries.NotAllowed):
        queries.regional_context(engine, Scope("rector", school_ids=frozenset({"00123"})))
    # The context never names a school.
    context = queries.regional_context(engine, director)
    assert "school_id" not in context.columns


def test_wellbeing_beside_absence_withholds_small_groups(engine):
    extra = "unit_type,unit_id,survey_year,grade_group,indicator,respondents,value_pct\nmunicipality,049,2025,4-5,likes_school,9,80.0\n"
    importer.import_files(engine, files() + [("wellbeing_more.csv", extra.encode())])
    shown = trends.wellbeing_alongside(engine, Scope.everything(), "likes_school", "4-5").set_index("municipality_code")
    assert shown.loc["091", "value"] == pytest.approx(73.5) and shown.loc["091", "respondents"] == 900
    assert shown.loc["091", "school_year"] == "2024-2025"
    assert shown.loc["091", "absence_rate"] == pytest.approx((84 + 126) / (1680 + 1512) * 100)
    assert pd.isna(shown.loc["049", "value"]) and shown.loc["049", "respondents"] == 9  # 9 < 10: withheld
    director = trends.wellbeing_alongside(engine, Scope("director", municipality_codes=frozenset({"049"})), "likes_school", "4-5")
    assert director["municipality_code"].tolist() == ["049"]


def test_view_carries_the_survey_choice():
    view = TrendView(indicator="anxiety", grade_group="4-5")
    assert view.to_params() == {"indicator": "anxiety", "grade_group": "4-5"}
    assert TrendView.from_params({"indicator": "nonsense", "grade_group": "7-9"}) == TrendView()


def test_seasonal_chart_aligns_the_same_month_of_every_school_year():
    from lasnaolo import charts

    monthly = pd.DataFrame({"school_year": ["2023-2024", "2023-2024", "2024-2025", "2024-2025"],
                            "month": ["2023-08", "2024-02", "2024-08", "2025-02"], "absence_rate": [3.0, 6.0, 3.5, 6.5]})
    spec = charts.seasonal_rate_chart(monthly, "fi").to_dict()
    rows = pd.DataFrame(spec["datasets"][next(iter(spec["datasets"]))])
    # February of both years lands on the same x position (the month's name), August first.
    assert rows.groupby("month_label")["series"].nunique().to_dict() == {"elo": 2, "helmi": 2}
    assert spec["encoding"]["x"]["sort"][:7] == ["elo", "syys", "loka", "marras", "joulu", "tammi", "helmi"]


def test_yearly_chart_table_by_hand(engine):
    from lasnaolo import charts

    importer.import_files(engine, files())
    shown = trends.trends(engine, Scope.everything(), TrendView())
    table = charts.category_table(shown.yearly, "en")
    lessons = 1680 + 1512 + 3780 + 378
    assert table.iloc[0].to_dict() == pytest.approx({
        "School year": "2024–2025", "illness": (60 + 90 + 150 + 40) / lessons * 100,
        "authorised other": (20 + 30 + 60) / lessons * 100, "unauthorised or unexplained": (4 + 6 + 40) / lessons * 100,
        "Absence rate": 500 / lessons * 100})


def test_a_region_tile_of_a_scope_that_is_only_part_of_the_region_says_your_area(demo_engine):
    """A director of one municipality: the Uusimaa tile shows Hyvinkää's figure, so it must not
    read "UUS" (review finding: "UUS 3,7 %" where Uusimaa is 8,4 %); the administrator's tile does."""
    from lasnaolo import charts

    director = Scope("director", municipality_codes=frozenset({"106"}))
    for scope, language, label in ((director, "fi", "Oma alue"), (Scope.everything(), "fi", "UUS"),
                                   (Scope.everything(), "sv", "NYL")):
        frame = charts.region_tile_frame(trends.region_figures(demo_engine, scope, "2024-2025"), "absence_rate", language)
        shown = frame[frame["value"].notna()]
        assert shown["abbreviation"].tolist() == [label]
    whole = trends.region_figures(demo_engine, Scope.everything(), "2024-2025")["absence_rate"].iloc[0]
    part = trends.region_figures(demo_engine, director, "2024-2025")["absence_rate"].iloc[0]
    assert part != whole  # the part is not the region


def test_your_area_is_written_on_two_lines_at_a_smaller_size_than_the_abbreviations():
    """"Eget område" at the abbreviations' size on one line filled its tile edge to edge."""
    import pandas as pd

    from lasnaolo import charts, export

    regions = pd.DataFrame({"region_code": ["01", "02"], "absence_rate": [7.5, 7.0], "whole_region": [False, True],
                            "part_municipalities": [9, None]})
    svg = export.chart_svg(charts.region_tile_chart(regions, "absence_rate", "sv"), width=None).decode()
    own = re.search(r'<text[^>]*font-size="(\d+)px"[^>]*>\s*<tspan[^>]*>Eget</tspan>\s*<tspan[^>]*>område</tspan>', svg)
    abbreviation = re.search(r'<text[^>]*font-size="(\d+)px"[^>]*>SÖB</text>', svg)
    assert own and abbreviation, svg[:400]
    assert int(own.group(1)) < int(abbreviation.group(1))


def test_the_region_tiles_keep_their_squares_on_the_page_and_in_files():
    """The page stretches charts to its width (fit-x); the tile map keeps its own size, or its
    squares would become wide rectangles (seen in the third review's screenshots)."""
    import pandas as pd

    from lasnaolo import charts

    regions = pd.DataFrame({"region_code": ["01", "02"], "absence_rate": [8.4, 7.0], "whole_region": [True, True]})
    shown = charts.as_shown(charts.region_tile_chart(regions, "absence_rate", "fi"), "fi").to_dict()
    assert shown["autosize"] == {"type": "pad"} and shown["width"] == shown["height"] == 6 * 58
