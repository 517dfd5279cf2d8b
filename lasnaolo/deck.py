"""Presentation decks for webinars: a few slides on an area and a school year, always read under
the strictest rules (the coordinator's: no school names, groups under the minimum withheld with
complementary suppression), exported as PPTX and PDF; the page and `python -m lasnaolo deck`
build the same deck here.

A deck's area never reaches beyond the presenter's own scope: the chosen regions and
municipalities narrow it, and the result is read as an anonymised scope.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field, replace

import altair as alt
import pandas as pd
from sqlalchemy.engine import Engine

from lasnaolo import charts, contract, export, i18n, policy, queries, reference, reports, risk, targets, trends
from lasnaolo.scope import Scope

SLIDES = ("headline", "seasonal", "tiers", "regions", "ranking", "wellbeing", "clusters", "targets")
PRESENTERS = policy.roles_that("presents")
SOURCE = "Läsnäolo"
PDF_WIDTH = 760


NotAllowed = queries.NotAllowed


def _narrow(own: frozenset[str] | None, chosen: frozenset[str] | None) -> frozenset[str] | None:
    if own is None:
        return chosen
    return own if chosen is None else own & chosen


def presentation_scope(user: Scope, region_codes: frozenset[str] | None = None,
                       municipality_codes: frozenset[str] | None = None) -> Scope:
    """The user's scope narrowed to the chosen area, read under the coordinator's rules."""
    if user.role not in PRESENTERS:
        raise NotAllowed(f"presentation mode is not available to the {user.role} role")
    municipalities = _narrow(user.municipality_codes, municipality_codes)
    regions = _narrow(user.region_codes, region_codes)
    if municipalities == frozenset() or regions == frozenset():
        raise NotAllowed("the chosen area is outside your scope")
    whole = Scope("coordinator", municipality_codes=user.municipality_codes, region_codes=user.region_codes,
                  school_ids=user.school_ids)
    narrowed = Scope("coordinator", municipality_codes=municipalities, region_codes=regions, school_ids=user.school_ids)
    if narrowed == whole:
        return whole
    # Every deck of a presenter is read from the publication of the presenter's whole area, and
    # may only be one of its cells: two decks of overlapping areas could otherwise be subtracted.
    if municipalities is not None and len(municipalities) > 1 and municipalities != user.municipality_codes:
        raise NotAllowed("a deck covers your whole area, one region or one municipality")
    return replace(narrowed, published_as=whole)


@dataclass(frozen=True)
class DeckRequest:
    school_year: str
    region_codes: frozenset[str] | None = None
    municipality_codes: frozenset[str] | None = None
    slides: tuple[str, ...] = SLIDES
    language: str = i18n.DEFAULT_LANGUAGE
    indicator: str = "belonging"
    grade_group: str = "8-9"


@dataclass
class Slide:
    kind: str
    title: str
    caption: str
    chart: alt.Chart | None
    table: pd.DataFrame = field(default_factory=pd.DataFrame)  # the numbers: speaker notes, text alternative


@dataclass
class Deck:
    title: str
    area: str
    school_year: str
    note: str  # anonymisation, source and date: on every slide
    slides: list[Slide]


def area_text(scope: Scope, language: str) -> str:
    """The area a deck covers, in words: its municipalities, else its regions, else all data."""
    if scope.municipality_codes:
        names = ", ".join(sorted(reference.municipality_name(m, language) for m in scope.municipality_codes))
        return i18n.t("scope.municipalities", language, names=names)
    if scope.region_codes:
        regions = reference.regions().set_index("region_code")["name_sv" if language == "sv" else "name_fi"]
        return i18n.t("scope.regions", language, names=", ".join(str(regions[r]) for r in sorted(scope.region_codes)))
    return i18n.t("scope.everything", language)


def build(engine: Engine, user: Scope, request: DeckRequest) -> Deck:
    """The deck's slides with their charts and numbers (see the module notes)."""
    scope = presentation_scope(user, request.region_codes, request.municipality_codes)
    lang = request.language
    overview = reports.overview(engine, scope, request.school_year)
    up_to = i18n.day(overview.data_up_to, lang) if overview.data_up_to else "–"
    note = i18n.t("deck.note", lang, source=SOURCE, date=up_to, n=contract.SuppressionPolicy().min_pupils)
    builders = {
        "headline": _headline, "seasonal": _seasonal, "tiers": _tiers, "regions": _regions, "ranking": _ranking,
        "wellbeing": _wellbeing, "clusters": _clusters, "targets": _targets,
    }
    slides = [builders[kind](engine, scope, request, overview) for kind in request.slides]
    # A slide with nothing to show (no targets set, say) is left out: a webinar audience should
    # not look at an empty frame (review finding).
    slides = [slide for slide in slides if slide.chart is not None or not slide.table.empty]
    return Deck(i18n.t("deck.title", lang), area_text(scope, lang), request.school_year, note, slides)


def _slide(kind: str, request: DeckRequest, chart, table: pd.DataFrame, caption_key: str | None = None, **values) -> Slide:
    lang = request.language
    caption = i18n.t(caption_key or f"deck.caption.{kind}", lang, **values)
    return Slide(kind, i18n.t(f"deck.slide.{kind}", lang), caption, chart, table)


def _headline(engine, scope, request, overview) -> Slide:
    lang = request.language
    changes = {c.metric: c for c in overview.report.changes}
    shown = ["absence_rate", "tier23_share", "unauthorised_rate"]
    table = pd.DataFrame({
        "": [i18n.t(f"metric.{m}", lang) for m in shown],
        i18n.school_year(request.school_year): [changes[m].current for m in shown],
        i18n.t("deck.same_point_last_year", lang): [changes[m].previous for m in shown],
        i18n.t("deck.change_points", lang): [changes[m].difference for m in shown],
    })
    return _slide("headline", request, charts.headline_chart(changes, shown, lang), table,
                  month=i18n.month(overview.report.figures.latest_month, lang) if overview.report.figures.latest_month else "–")


def _seasonal(engine, scope, request, overview) -> Slide:
    lang = request.language
    return _slide("seasonal", request, charts.seasonal_rate_chart(overview.monthly, lang),
                  charts.seasonal_rate_table(overview.monthly, lang))


def _tiers(engine, scope, request, overview) -> Slide:
    lang = request.language
    shares = charts.tier_shares(overview.report.figures)
    if shares.empty:
        return _slide("tiers", request, None, shares, "deck.withheld", n=contract.SuppressionPolicy().min_pupils)
    return _slide("tiers", request, charts.tier_chart(shares, lang), charts.tier_table(shares, lang))


def _regions(engine, scope, request, overview) -> Slide:
    lang = request.language
    regions = trends.region_figures(engine, scope, request.school_year)
    return _slide("regions", request, charts.region_tile_chart(regions, "absence_rate", lang),
                  charts.region_tile_table(regions, "absence_rate", lang))


def _ranking(engine, scope, request, overview) -> Slide:
    lang = request.language
    ranking = trends.municipality_ranking(engine, scope, request.school_year)
    if ranking.empty:
        return _slide("ranking", request, None, ranking, "deck.withheld", n=contract.SuppressionPolicy().min_pupils)
    return _slide("ranking", request, charts.ranking_chart(ranking, lang), charts.ranking_table(ranking, lang))


def _wellbeing(engine, scope, request, overview) -> Slide:
    lang = request.language
    frame = trends.wellbeing_alongside(engine, scope, request.indicator, request.grade_group)
    indicator = i18n.name_of("indicator", request.indicator, lang)
    if frame.empty or frame.dropna(subset=["value", "absence_rate"]).empty:
        return _slide("wellbeing", request, None, pd.DataFrame(), "deck.no_survey", indicator=indicator)
    return _slide("wellbeing", request, charts.wellbeing_chart(frame, request.indicator, lang),
                  charts.wellbeing_table(frame, request.indicator, lang), indicator=indicator,
                  grades=request.grade_group.replace("-", "–"))


def _clusters(engine, scope, request, overview) -> Slide:
    lang = request.language
    try:
        result = risk.analyse(engine, scope, request.school_year).clusters
    except risk.TooFewSchools:
        return _slide("clusters", request, None, pd.DataFrame(), "risk.too_few", n=risk.MIN_SCHOOLS)
    return _slide("clusters", request, charts.cluster_profile_chart(result, lang), charts.cluster_sizes_table(result, lang),
                  k=result.k, schools=len(result.schools))


def _targets(engine, scope, request, overview) -> Slide:
    lang = request.language
    counts = targets.status_counts(engine, scope, request.school_year)
    if counts.empty:
        return _slide("targets", request, None, pd.DataFrame(), "overview.no_targets")
    total = int(counts.sum())
    return _slide("targets", request, charts.status_counts_chart(counts, lang), charts.status_counts_table(counts, lang),
                  "deck.caption.targets_one" if total == 1 else None, n=total)


# --- exports ----------------------------------------------------------------------------------


def notes_text(slide: Slide, language: str) -> str:
    """The speaker notes: the caption and the slide's numbers, written the language's way."""
    if slide.table.empty:
        return slide.caption
    shown = export.display_frame(slide.table, language)
    return slide.caption + "\n\n" + shown.to_string(index=False)


def to_pptx(deck: Deck, language: str = i18n.DEFAULT_LANGUAGE) -> bytes:
    """A clean title slide, then one chart per slide with its caption, the anonymisation note and
    speaker notes holding the numbers (16:9)."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = Inches(13.333), Inches(7.5)
    title_slide = presentation.slides.add_slide(presentation.slide_layouts[0])
    # The default template's placeholders sit where a 4:3 slide has its middle: place them on
    # the 16:9 slide (review finding: the title sat off-centre and the note overflowed).
    title, subtitle = title_slide.shapes.title, title_slide.placeholders[1]
    title.left, title.top, title.width, title.height = Inches(0.8), Inches(1.6), Inches(11.733), Inches(1.5)
    subtitle.left, subtitle.top, subtitle.width, subtitle.height = Inches(0.8), Inches(3.3), Inches(11.733), Inches(3.4)
    title.text = deck.title
    subtitle.text = f"{deck.area}\n{i18n.school_year(deck.school_year)}\n\n{deck.note}"
    blank = presentation.slide_layouts[6]
    for slide in deck.slides:
        page = presentation.slides.add_slide(blank)
        _text_box(page, slide.title, Inches(0.5), Inches(0.3), Inches(12.3), Inches(0.9), Pt(32), bold=True)
        if slide.chart is not None:
            png = export.chart_png(charts.for_presenting(slide.chart), scale=2)
            left, top, width, height = _fit(png, Inches(0.5), Inches(1.3), Inches(12.3), Inches(4.6))
            page.shapes.add_picture(io.BytesIO(png), left, top, width, height)
        _text_box(page, slide.caption, Inches(0.5), Inches(6.0), Inches(12.3), Inches(0.8), Pt(16))
        _text_box(page, deck.note, Inches(0.5), Inches(6.85), Inches(12.3), Inches(0.5), Pt(11))
        page.notes_slide.notes_text_frame.text = notes_text(slide, language)
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def _fit(png: bytes, left: int, top: int, width: int, height: int) -> tuple[int, int, int, int]:
    """The picture's place inside a box (EMU): as large as fits with its aspect ratio kept,
    centred (review finding: placed at a fixed height, 6 of 8 charts ran off the slide)."""
    from pptx.parts.image import Image

    pixels_wide, pixels_high = Image.from_blob(png).size
    scale = min(width / pixels_wide, height / pixels_high)
    shown_wide, shown_high = int(pixels_wide * scale), int(pixels_high * scale)
    return left + (width - shown_wide) // 2, top + (height - shown_high) // 2, shown_wide, shown_high


def _text_box(page, text: str, left, top, width, height, size, bold: bool = False) -> None:
    frame = page.shapes.add_textbox(left, top, width, height).text_frame
    frame.word_wrap = True
    frame.text = text
    for paragraph in frame.paragraphs:
        for run in paragraph.runs:
            run.font.size, run.font.bold = size, bold


PDF_PAGE = (960.0, 540.0)  # points: 13.333 × 7.5 inches, the PPTX's 16:9 slide
PDF_MARGIN = 0.04  # of the page, on every side


def to_pdf(deck: Deck) -> bytes:
    """One 16:9 page per slide: each drawn by the same Vega renderer as the charts, then scaled to
    fit the page with its aspect ratio kept and centred (review finding: every page had a size of
    its own, 867×195 to 1167×567 pt), pages joined by pypdf."""
    from pypdf import PageObject, PdfReader, PdfWriter, Transformation

    writer = PdfWriter()
    width, height = PDF_PAGE
    for chart in [_title_page(deck)] + [_pdf_page(deck, slide) for slide in deck.slides]:
        drawn = PdfReader(io.BytesIO(export.chart_pdf(chart, width=None))).pages[0]
        drawn_width, drawn_height = float(drawn.mediabox.width), float(drawn.mediabox.height)
        scale = min(width * (1 - 2 * PDF_MARGIN) / drawn_width, height * (1 - 2 * PDF_MARGIN) / drawn_height)
        page = PageObject.create_blank_page(width=width, height=height)
        page.merge_transformed_page(drawn, Transformation().scale(scale).translate(
            (width - drawn_width * scale) / 2, (height - drawn_height * scale) / 2))
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _lines(text: str, width: int = 110) -> list[str]:
    return [line for paragraph in text.split("\n") for line in (textwrap.wrap(paragraph, width) or [""])]


def _title_page(deck: Deck) -> alt.Chart:
    lines = [deck.area, i18n.school_year(deck.school_year), "", *_lines(deck.note)]
    return charts.only_encoded_fields(alt.Chart(pd.DataFrame({"x": [0]})).mark_text(text="").properties(
        height=300, width=PDF_WIDTH, title=alt.TitleParams(deck.title, subtitle=lines, fontSize=30, subtitleFontSize=15, anchor="start")))


def _pdf_page(deck: Deck, slide: Slide):
    body = (slide.chart.properties(width=PDF_WIDTH) if slide.chart is not None
            else alt.Chart(pd.DataFrame({"x": [0]})).mark_text(text="").properties(height=40, width=PDF_WIDTH))
    footer = alt.Chart(pd.DataFrame({"x": [0]})).mark_text(text="").properties(
        height=10, width=PDF_WIDTH, title=alt.TitleParams(_lines(slide.caption), subtitle=_lines(deck.note), fontSize=13,
                                         fontWeight="normal", subtitleFontSize=10, anchor="start", orient="bottom"))
    # The slide's chart came from a builder (its data already cut to what it draws); the page's
    # own parts are cut the same way, so the PDF holds no data it does not draw either.
    return charts.only_encoded_fields(
        charts.for_presenting(alt.vconcat(body, footer, title=alt.TitleParams(slide.title, fontSize=24, anchor="start"))))
