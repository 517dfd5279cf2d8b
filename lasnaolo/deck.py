"""Presentation decks for webinars: a few slides on an area and a school year, always read under
the strictest rules (the coordinator's: no school names, groups under the minimum withheld with
complementary suppression), exported as PPTX and PDF; the page and `python -m lasnaolo deck`
build the same deck here.

A deck's area never reaches beyond the presenter's own scope: the chosen regions and
municipalities narrow it, and the result is read as an anonymised scope.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import altair as alt
import pandas as pd
from sqlalchemy.engine import Engine

from lasnaolo import charts, contract, export, i18n, policy, queries, reference, reports, risk, targets, trends
from lasnaolo.scope import Scope

SLIDES = ("headline", "seasonal", "tiers", "regions", "ranking", "wellbeing", "clusters", "targets")
PRESENTERS = policy.roles_that("presents")
SOURCE = "Läsnäolo"


@dataclass(frozen=True)
class Box:
    """A place on the 16:9 slide (13.333 × 7.5 inches), in inches from the top left."""
    left: float
    top: float
    width: float
    height: float

    @property
    def pixels(self) -> tuple[int, int]:
        """Its size on a 1920 × 1080 projector."""
        return round(self.width * PIXELS_PER_INCH), round(self.height * PIXELS_PER_INCH)


# One layout for the PPTX, the PDF and the full-screen view, so all three show the same drawing.
SLIDE_INCHES = (13.333, 7.5)
PIXELS_PER_INCH = 1920 / SLIDE_INCHES[0]
TITLE_BOX = Box(0.5, 0.3, 12.3, 0.9)
CHART_BOX = Box(0.5, 1.3, 12.3, 4.6)
CAPTION_BOX = Box(0.5, 6.0, 12.3, 0.8)
NOTE_BOX = Box(0.5, 6.85, 12.3, 0.5)
COVER_TITLE_BOX = Box(0.8, 1.2, 11.733, 1.5)  # the title slide: the deck's title, then area, year and note
COVER_TEXT_BOX = Box(0.8, 2.9, 11.733, 4.0)
TITLE_POINTS, CAPTION_POINTS, NOTE_POINTS = 32, 16, 11
HEADLINE_SCALE = 1.7  # the key figures' type on a slide
REGION_TILE = 100  # pixels: six rows of tiles fill the chart box's height


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

    def to_params(self) -> dict[str, str]:
        """The deck as a URL's parameters (a reload or a link opens the same deck): the year,
        the one region or municipality, and the slides where they differ from the catalogue."""
        out = {"year": self.school_year}
        if self.region_codes and len(self.region_codes) == 1:
            out["region"] = next(iter(self.region_codes))
        if self.municipality_codes and len(self.municipality_codes) == 1:
            out["municipality"] = next(iter(self.municipality_codes))
        if self.slides != SLIDES:
            out["slides"] = ",".join(self.slides)
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, str], school_years: Sequence[str], language: str) -> "DeckRequest":
        """Read a URL's parameters against the school years there are: anything unknown or
        malformed falls back to the default (the newest year, the whole area, every slide), never an
        error. Codes are only read here; `presentation_scope` keeps the deck inside the user's scope."""
        year = str(params.get("year", ""))
        region, municipality = str(params.get("region", "")), str(params.get("municipality", ""))
        slides = tuple(dict.fromkeys(s for s in str(params.get("slides", "")).split(",") if s in SLIDES)) or SLIDES
        return cls(year if year in school_years else max(school_years),  # the newest, in whatever order given
                   region_codes=frozenset({region}) if region.isdigit() and len(region) == 2 else None,
                   municipality_codes=frozenset({municipality}) if municipality.isdigit() and len(municipality) == 3 else None,
                   slides=slides, language=language)


@dataclass
class Slide:
    kind: str
    title: str
    caption: str
    chart: alt.Chart | None
    table: pd.DataFrame = field(default_factory=pd.DataFrame)  # the numbers: speaker notes, text alternative
    fills_box: bool = True  # False: the chart keeps its own shape (a map of squares), centred in the box
    language: str = i18n.DEFAULT_LANGUAGE


@dataclass
class Deck:
    title: str
    area: str
    school_year: str
    note: str  # anonymisation, source and date: on every slide
    slides: list[Slide]


def area_text(scope: Scope, language: str) -> str:
    """The area a deck covers, in words, as a deck's line starts: its municipalities, else its
    regions, else all data ("Kunnat Hyvinkää, Kerava", "Kaikki aineisto")."""
    text = _area_words(scope, language)
    return text[:1].upper() + text[1:]


def _area_words(scope: Scope, language: str) -> str:
    if scope.municipality_codes:
        names = ", ".join(sorted(reference.municipality_name(m, language) for m in scope.municipality_codes))
        return i18n.t("scope.municipalities", language, names=names, n=len(scope.municipality_codes))
    if scope.region_codes:
        return i18n.t("scope.regions", language, names=", ".join(reference.region_name(r, language) for r in sorted(scope.region_codes)),
                      n=len(scope.region_codes))
    return i18n.t("scope.everything", language)


def build(engine: Engine, user: Scope, request: DeckRequest) -> Deck:
    """The deck's slides with their charts and numbers (see the module notes)."""
    scope = presentation_scope(user, request.region_codes, request.municipality_codes)
    lang = request.language
    overview = None
    if set(request.slides) - READS_TARGETS:  # the area's publication: seconds for a whole country
        try:
            overview = reports.overview(engine, scope, request.school_year)
        except reports.UnknownUnit as error:  # a region of the scope without data (a link, a typo)
            raise NotAllowed(f"the chosen area has no data you may see: {error}") from error
        data_up_to = overview.data_up_to
    else:
        latest = queries.latest_months_by_school(engine, scope, request.school_year)["latest_month"].dropna()
        data_up_to = reports.month_end(latest.max()) if not latest.empty else None
    up_to = i18n.day(data_up_to, lang) if data_up_to else "–"
    note = i18n.t("deck.note", lang, source=SOURCE, date=up_to, n=contract.SUPPRESSION.min_pupils)
    slides = _drawn([_BUILDERS[kind](engine, scope, request, overview) for kind in request.slides])
    return Deck(i18n.t("deck.title", lang), area_text(scope, lang), request.school_year, note, slides)


def target_slides(engine: Engine, user: Scope, request: DeckRequest) -> list[Slide]:
    """The request's slides that read targets, built without the deck's title and note: the
    pages put them among the kept slides, whose note they share."""
    scope = presentation_scope(user, request.region_codes, request.municipality_codes)
    return _drawn([_BUILDERS[kind](engine, scope, request, None) for kind in request.slides if kind in READS_TARGETS])


def _drawn(slides: list[Slide]) -> list[Slide]:
    # A slide with nothing to show (no targets set, say) is left out: a webinar audience should
    # not look at an empty frame (review finding).
    return [slide for slide in slides if slide.chart is not None or not slide.table.empty]


# The slides that read targets: they change with every target save, so the pages build them apart
# (target_slides) and keep them under the whole data version (results.LIVE); a deck of them alone
# does not compute the area's overview.
READS_TARGETS = frozenset({"targets"})


def _slide(kind: str, request: DeckRequest, chart, table: pd.DataFrame, caption_key: str | None = None,
           fills_box: bool = True, **values) -> Slide:
    lang = request.language
    caption = i18n.t(caption_key or f"deck.caption.{kind}", lang, **values)
    return Slide(kind, i18n.t(f"deck.slide.{kind}", lang), caption, chart, table, fills_box, lang)


def _headline(engine, scope, request, overview) -> Slide:
    lang = request.language
    changes = {c.metric: c for c in overview.report.changes}
    shown = ["absence_rate", "tier23_share", "unauthorised_rate"]
    table = pd.DataFrame({
        "": [i18n.t(f"metric.{m}", lang) for m in shown],
        i18n.school_year(request.school_year): [changes[m].current for m in shown],
        i18n.t("deck.same_point_last_year", lang): [changes[m].previous for m in shown],
        # Signed points, as the header says: display_frame would write a float as a percentage.
        i18n.t("deck.change_points", lang): [i18n.points(changes[m].difference, lang) for m in shown],
    })
    return _slide("headline", request, charts.headline_chart(changes, shown, lang, HEADLINE_SCALE), table,
                  month=i18n.month(overview.report.figures.latest_month, lang) if overview.report.figures.latest_month else "–")


def _seasonal(engine, scope, request, overview) -> Slide:
    lang = request.language
    return _slide("seasonal", request, charts.seasonal_rate_chart(overview.monthly, lang),
                  charts.seasonal_rate_table(overview.monthly, lang))


def _tiers(engine, scope, request, overview) -> Slide:
    lang = request.language
    shares = charts.tier_shares(overview.report.figures)
    if shares.empty:
        return _slide("tiers", request, None, shares, "deck.withheld", n=contract.SUPPRESSION.min_pupils)
    return _slide("tiers", request, charts.tier_chart(shares, lang), charts.tier_table(shares, lang))


def _regions(engine, scope, request, overview) -> Slide:
    lang = request.language
    regions = trends.region_figures(engine, scope, request.school_year)
    # An audience has no tooltip: beside the tiles, what each coloured tile's abbreviation stands for.
    return _slide("regions", request, charts.region_tile_chart(regions, "absence_rate", lang, REGION_TILE, named=True),
                  charts.region_tile_table(regions, "absence_rate", lang), fills_box=False)


def _ranking(engine, scope, request, overview) -> Slide:
    lang = request.language
    ranking = trends.municipality_ranking(engine, scope, request.school_year)
    if ranking.empty:
        return _slide("ranking", request, None, ranking, "deck.withheld", n=contract.SUPPRESSION.min_pupils)
    return _slide("ranking", request, charts.ranking_chart(ranking, lang), charts.ranking_table(ranking, lang))


WELLBEING_MIN_DOTS = 3  # fewer municipalities make no scatter: their figures are shown as numbers


def _wellbeing(engine, scope, request, overview) -> Slide:
    lang = request.language
    frame = trends.wellbeing_alongside(engine, scope, request.indicator, request.grade_group)
    if not frame.empty:  # the newest survey of the deck's year or before: a 2022-2023 deck shows the 2023 survey
        frame = frame[frame["school_year"] <= request.school_year]
    indicator = i18n.name_of("indicator", request.indicator, lang)
    shown = frame.dropna(subset=["value", "absence_rate"]) if not frame.empty else frame
    if shown.empty:
        return _slide("wellbeing", request, None, pd.DataFrame(), "deck.no_survey", indicator=indicator)
    newest = shown[shown["survey_year"] == shown["survey_year"].max()]
    grades = request.grade_group.replace("-", "–")
    table = charts.wellbeing_table(frame, request.indicator, lang)
    if len(newest) < WELLBEING_MIN_DOTS:
        # A scatter of one or two dots under "by municipality" would promise more than it draws
        # (review finding): the figures themselves, as numbers.
        name = reference.name_column(lang)
        rows = [row for _, m in newest.iterrows() for row in (
            {"label": f"{m[name]}: {indicator}", "value": i18n.percent(m["value"], lang),
             "delta": i18n.t("deck.respondents", lang, n=i18n.number(m["respondents"], lang, 0))},
            {"label": f"{m[name]}: {i18n.t('metric.absence_rate', lang)}", "value": i18n.percent(m["absence_rate"], lang),
             "delta": i18n.school_year(m["school_year"])})]
        return _slide("wellbeing", request, charts.figures_chart(rows, HEADLINE_SCALE), table, "deck.caption.wellbeing_figures",
                      indicator=indicator, grades=grades, year=int(newest["survey_year"].iloc[0]))
    return _slide("wellbeing", request, charts.wellbeing_chart(frame, request.indicator, lang), table,
                  indicator=indicator, grades=grades, year=int(newest["survey_year"].iloc[0]))


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
                  n=total)


_BUILDERS = {
    "headline": _headline, "seasonal": _seasonal, "tiers": _tiers, "regions": _regions, "ranking": _ranking,
    "wellbeing": _wellbeing, "clusters": _clusters, "targets": _targets,
}


# --- exports ----------------------------------------------------------------------------------


def notes_text(slide: Slide, language: str) -> str:
    """The speaker notes: the caption and the slide's numbers, written the language's way."""
    if slide.table.empty:
        return slide.caption
    shown = export.display_frame(slide.table, language)
    return slide.caption + "\n\n" + shown.to_string(index=False)


def slide_chart(slide: Slide):
    """The slide's chart as every export draws it: fitted to the chart box at projector type sizes."""
    return charts.as_shown(charts.for_slide(slide.chart, *(CHART_BOX.pixels if slide.fills_box else (None, None))),
                              slide.language)


def slide_png(slide: Slide) -> bytes:
    return export.chart_png(slide_chart(slide), scale=2, width=None)  # twice the projector's pixels


def slide_svg(slide: Slide) -> str:
    """The slide's drawing for the full-screen view, the same rendering as the PPTX picture, as
    SVG so the text stays sharp at any screen size: the chart box's size, the drawing centred in
    it (a map of squares keeps its shape), to be scaled to the screen's width."""
    width, height = CHART_BOX.pixels
    svg = export.chart_svg(slide_chart(slide), width=None).decode("utf-8")
    size = re.match(r'<svg[^>]*? width="([\d.]+)" height="([\d.]+)"', svg)
    drawn_width, drawn_height = float(size.group(1)), float(size.group(2))
    scale = min(width / drawn_width, height / drawn_height)
    left, top = (width - drawn_width * scale) / 2, (height - drawn_height * scale) / 2
    inner = re.sub(r'^<svg([^>]*?) width="[\d.]+" height="[\d.]+"',
                   f'<svg\\1 x="{left:.1f}" y="{top:.1f}" width="{drawn_width * scale:.1f}" height="{drawn_height * scale:.1f}"',
                   svg, count=1)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
            f'<rect width="{width}" height="{height}" fill="white"/>{inner}</svg>')


def to_pptx(deck: Deck, language: str = i18n.DEFAULT_LANGUAGE) -> bytes:
    """A clean title slide, then one chart per slide with its caption, the anonymisation note and
    speaker notes holding the numbers (16:9)."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = (Inches(v) for v in SLIDE_INCHES)
    title_slide = presentation.slides.add_slide(presentation.slide_layouts[0])
    # The default template's placeholders sit where a 4:3 slide has its middle: place them on
    # the 16:9 slide (review finding: the title sat off-centre and the note overflowed).
    title, subtitle = title_slide.shapes.title, title_slide.placeholders[1]
    def inches(box: Box):
        return Inches(box.left), Inches(box.top), Inches(box.width), Inches(box.height)

    title.left, title.top, title.width, title.height = inches(COVER_TITLE_BOX)
    subtitle.left, subtitle.top, subtitle.width, subtitle.height = inches(COVER_TEXT_BOX)
    title.text = deck.title
    subtitle.text_frame.text = f"{deck.area}\n{i18n.school_year(deck.school_year)}"
    for paragraph in subtitle.text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(24)
    note = subtitle.text_frame.add_paragraph()
    note.text, note.font.size = deck.note, Pt(14)
    note.space_before = Pt(24)
    blank = presentation.slide_layouts[6]
    for slide in deck.slides:
        page = presentation.slides.add_slide(blank)
        _text_box(page, slide.title, *inches(TITLE_BOX), Pt(TITLE_POINTS), bold=True)
        if slide.chart is not None:
            png = slide_png(slide)
            picture = page.shapes.add_picture(io.BytesIO(png), *_fit(png, *inches(CHART_BOX)))
            # The picture's text alternative (PowerPoint's alt text), not the file name "image.png".
            picture._element.nvPicPr.cNvPr.set("descr", f"{slide.title}. {slide.caption}")
        _text_box(page, slide.caption, *inches(CAPTION_BOX), Pt(CAPTION_POINTS))
        _text_box(page, deck.note, *inches(NOTE_BOX), Pt(NOTE_POINTS))
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


POINTS_PER_INCH = 72
PDF_PAGE = (SLIDE_INCHES[0] * POINTS_PER_INCH, SLIDE_INCHES[1] * POINTS_PER_INCH)  # the PPTX's 16:9 slide


def to_pdf(deck: Deck) -> bytes:
    """One 16:9 page per slide laid out as the PPTX's: the title, the chart drawn for the chart
    box, the caption and the note, each drawn by the same Vega renderer as the charts and placed
    in its box (review finding: every page had a size of its own), pages joined by pypdf."""
    from pypdf import PageObject, PdfWriter

    writer = PdfWriter()
    title_page = PageObject.create_blank_page(width=PDF_PAGE[0], height=PDF_PAGE[1])
    area_box = replace(COVER_TEXT_BOX, height=1.4)
    note_box = replace(COVER_TEXT_BOX, top=COVER_TEXT_BOX.top + 1.6, height=COVER_TEXT_BOX.height - 1.6)
    _place(title_page, _text_drawing([deck.title], TITLE_POINTS * 1.4, COVER_TITLE_BOX, bold=True, centre=True), COVER_TITLE_BOX, across=True)
    _place(title_page, _text_drawing([deck.area, i18n.school_year(deck.school_year)], 24, area_box, centre=True), area_box, across=True)
    _place(title_page, _text_drawing([deck.note], 14, note_box, centre=True), note_box, across=True)
    writer.add_page(title_page)
    for slide in deck.slides:
        page = PageObject.create_blank_page(width=PDF_PAGE[0], height=PDF_PAGE[1])
        _place(page, _text_drawing([slide.title], TITLE_POINTS, TITLE_BOX, bold=True), TITLE_BOX)
        if slide.chart is not None:
            _place(page, _chart_drawing(slide), CHART_BOX, centred=True)
        _place(page, _text_drawing([slide.caption], CAPTION_POINTS, CAPTION_BOX), CAPTION_BOX)
        _place(page, _text_drawing([deck.note], NOTE_POINTS, NOTE_BOX), NOTE_BOX)
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _chart_drawing(slide: Slide) -> bytes:
    """The slide's chart as a one-page PDF drawing in its pixels. A colour gradient (a heatmap's
    or a map's scale) does not survive being moved onto the page (pypdf leaves its shading
    where it was: the review saw a solid blue key), so such a chart goes in as its PNG."""
    chart = slide_chart(slide)
    if "linearGradient" not in export.chart_svg(chart, width=None).decode("utf-8"):
        return export.chart_pdf(chart, width=None)
    from PIL import Image

    picture = Image.open(io.BytesIO(slide_png(slide))).convert("RGB")
    out = io.BytesIO()
    picture.save(out, format="PDF", resolution=72 * 2)  # the PNG is drawn at twice the pixels: same size
    return out.getvalue()


def _place(page, drawing: bytes, box: Box, centred: bool = False, across: bool = False) -> None:
    """A one-page PDF drawing placed in a box of the page: scaled down to fit if it must, kept
    at the top left (text), centred (a chart), or at the top and centred across (the cover's text,
    which a long area name scales down by its height: review finding)."""
    from pypdf import PdfReader, Transformation

    drawn = PdfReader(io.BytesIO(drawing)).pages[0]
    drawn_width, drawn_height = float(drawn.mediabox.width), float(drawn.mediabox.height)
    width, height = box.width * POINTS_PER_INCH, box.height * POINTS_PER_INCH
    # Vega draws in pixels of the 1920-wide slide: two pixels to a point on the 960-point page.
    scale = min(POINTS_PER_INCH / PIXELS_PER_INCH, width / drawn_width, height / drawn_height)
    left = box.left * POINTS_PER_INCH + ((width - drawn_width * scale) / 2 if centred or across else 0)
    top = box.top * POINTS_PER_INCH + ((height - drawn_height * scale) / 2 if centred else 0)
    page.merge_transformed_page(drawn, Transformation().scale(scale).translate(left, PDF_PAGE[1] - top - drawn_height * scale))


def _text_drawing(paragraphs: list[str], points: float, box: Box, bold: bool = False, centre: bool = False) -> bytes:
    """Text as a PDF drawing in the slide's pixels, wrapped to its box's width; each line at the
    box's left, or centred in it (the cover, as the PPTX's title slide)."""
    size = points * PIXELS_PER_INCH / POINTS_PER_INCH
    width = box.pixels[0]
    per_line = max(20, int(width / (0.52 * size)))  # about half an em a character
    lines = [line for paragraph in paragraphs for text in paragraph.split("\n")
             for line in (textwrap.wrap(text, per_line) or [""])]
    chart = alt.Chart(pd.DataFrame({"x": [0]})).mark_text(
        text=lines, fontSize=size, fontWeight="bold" if bold else "normal", align="center" if centre else "left",
        baseline="top", lineHeight=size * 1.25, font="sans-serif").encode(
        x=alt.value(width / 2 if centre else 0), y=alt.value(0)).properties(
        width=width, height=size * 1.25 * len(lines))
    return export.chart_pdf(chart.configure_view(stroke=None), width=None)
