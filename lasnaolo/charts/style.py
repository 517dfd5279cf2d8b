"""How every chart looks: the colour-blind-safe palette (Okabe-Ito) with one colour per category,
the focus / context pair, axis and legend helpers, numbers in the page's language (`as_shown`) and
projector type sizes for slides (`for_slide`)."""

from __future__ import annotations

import altair as alt

from lasnaolo import i18n


OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
             "grey": "#7A7A7A"}


CATEGORY_COLOURS = {"illness": OKABE_ITO["blue"], "authorised": OKABE_ITO["orange"],
                    "unauthorised": OKABE_ITO["vermillion"]}


TIER_COLOURS = {1: OKABE_ITO["sky"], 2: OKABE_ITO["orange"], 3: OKABE_ITO["vermillion"]}


CURRENT_COLOUR, EARLIER_COLOUR = OKABE_ITO["blue"], OKABE_ITO["grey"]


# The unit in focus (a school, the user's area) against its context (peers, other municipalities).
FOCUS_COLOUR, CONTEXT_COLOUR = OKABE_ITO["vermillion"], OKABE_ITO["blue"]
# Better or worse for pupils than the reference (each indicator's own direction).
BETTER_COLOUR, WORSE_COLOUR = OKABE_ITO["blue"], OKABE_ITO["vermillion"]
NO_DATA_GREY = "#E6E6E6"  # a tile, an area or a cell without a figure
TEXT_GREY = "#444444"  # text drawn on a chart (names beside dots, a grey tile's words): 9.7:1 on white


# Tier labels are long ("Taso 1: kiinnittymisen tukeminen (5–9 %)"): the range goes on a line of
# its own and nothing is cut (review finding: "Taso 1: kiinnittymisen tu…").
TIER_AXIS = alt.Axis(labelLimit=0, labelOverlap=False, labelExpr="split(replace(datum.label, ' (', '\\n('), '\\n')")


# A dashed series' legend entry drawn as a short line in its dash (a dashed circle read as a blot).
LINE_LEGEND = alt.Legend(symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=500)


def percent_axis_labels(language: str) -> str:
    """A Vega expression that writes axis values as 12,3 % (fi, sv) or 12.3% (en)."""
    if language == "en":
        return "format(datum.value, '.1f') + '%'"
    return "replace(format(datum.value, '.1f'), '.', ',') + ' %'"


def month_name(month_number: int, language: str) -> str:
    return i18n.t(f"month.{month_number}", language)


SERIES_COLOURS = {"school": OKABE_ITO["vermillion"], "peers": OKABE_ITO["blue"], "municipality": OKABE_ITO["grey"]}


SERIES_DASHES = {"school": [1, 0], "peers": [5, 3], "municipality": [2, 2]}


CLUSTER_COLOURS = [OKABE_ITO[c] for c in ("vermillion", "orange", "purple", "blue", "green", "sky", "yellow", "black")]


STATUS_COLOURS = {"achieved": OKABE_ITO["green"], "on_track": OKABE_ITO["blue"], "at_risk": OKABE_ITO["orange"],
                  "off_track": OKABE_ITO["vermillion"], "missed": OKABE_ITO["black"], "waiting": OKABE_ITO["grey"]}


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
