"""Presentation mode (coordinators, directors): a short anonymised deck on an area and a school
year, shown one slide at a time or downloaded as PPTX and PDF."""

import streamlit as st

from lasnaolo import deck, i18n, reference
from lasnaolo.ui import data, page, slides
from lasnaolo.text import md
from lasnaolo.ui.session import t

ctx = page.start("present")
years = data.school_years(ctx.scope)
if not years:
    st.title(t("present.heading"))
    st.info(t("overview.no_data"))
    st.stop()

FORM_KEYS = ("present_region", "present_year", "present_municipalities", "present_slides")
if not st.session_state.get("presenting"):
    slides.restore(FORM_KEYS)  # Streamlit forgets the choices of widgets a run did not draw
    st.title(t("present.heading"))
    st.caption(t("present.intro"))
    own = data.schools(ctx.scope)
    regions = sorted(set(own["region_code"]))
    region_names = reference.regions().set_index("region_code")["name_sv" if ctx.language == "sv" else "name_fi"]
    left, right = st.columns(2)
    region = left.selectbox(t("present.region"), [None, *regions], key="present_region",
                            format_func=lambda r: t("present.all_regions") if r is None else region_names[r])
    year = right.selectbox(t("overview.school_year"), years, format_func=i18n.school_year, key="present_year")
    choices = sorted(set(own.loc[own["region_code"] == region, "municipality_code"] if region else own["municipality_code"]))
    # One municipality or the whole area: every deck is a cell of the presenter's one publication.
    if st.session_state.get("present_municipalities") not in [None, *choices]:
        st.session_state["present_municipalities"] = None  # e.g. a municipality of another region
    municipality = st.selectbox(t("present.municipality"), [None, *choices], key="present_municipalities",
                                format_func=lambda m: t("present.whole_area") if m is None else
                                reference.municipality_name(m, ctx.language))
    if "present_slides" not in st.session_state:
        st.session_state["present_slides"] = list(deck.SLIDES)
    chosen = st.multiselect(t("present.slides"), list(deck.SLIDES), key="present_slides",
                            format_func=lambda s: t(f"deck.slide.{s}"), placeholder=t("present.slides"))
    st.session_state["present_request"] = deck.DeckRequest(
        year, region_codes=frozenset({region}) if region else None,
        municipality_codes=frozenset({municipality}) if municipality else None, slides=tuple(chosen) or deck.SLIDES, language=ctx.language)
    slides.remember(FORM_KEYS)
request = st.session_state["present_request"]
built = data.deck(ctx.scope, request)
if st.session_state.get("presenting"):
    slides.presenting(built)
    st.stop()

st.markdown(f"**{md(built.area)}, {i18n.school_year(built.school_year)}**")
start, pptx, pdf = st.columns(3)
if start.button(t("present.start"), key="present_start", type="primary"):
    st.session_state.update(presenting=True, **{slides.POSITION_KEY: 0})
    st.rerun()
pptx.download_button(t("download.pptx"), lambda: deck.to_pptx(built, ctx.language), file_name=f"lasnaolo-{request.school_year}.pptx",
                     mime="application/vnd.openxmlformats-officedocument.presentationml.presentation", key="present_pptx")
pdf.download_button(t("download.pdf"), lambda: deck.to_pdf(built), file_name=f"lasnaolo-{request.school_year}.pdf",
                    mime="application/pdf", key="present_pdf")
st.subheader(t("present.preview"))
for number, slide in enumerate(built.slides, start=1):
    st.divider()
    slides.show_slide(slide, built, f"slide-{number}")
