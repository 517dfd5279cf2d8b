"""Presentation mode (coordinators, directors): a short anonymised deck on an area and a school
year, shown one slide at a time or downloaded as PPTX and PDF. The URL names the deck (and the
slide while presenting), so a reload or a link opens the same deck."""

import streamlit as st

from lasnaolo import deck, i18n
from lasnaolo.ui import data, page, slides
from lasnaolo.text import md
from lasnaolo.ui.session import t

ctx = page.start("present")
years = data.school_years(ctx.scope)
if not years:
    st.title(t("present.heading"))
    st.info(t("overview.no_data"))
    st.stop()

asked = deck.DeckRequest.from_params(st.query_params.to_dict(), years, ctx.language)
slides.resume_from_url()
presenting = st.session_state.get(slides.PRESENTING_KEY)
if presenting:
    request = st.session_state.get("present_request", asked)
else:
    st.title(t("present.heading"))
    st.caption(t("present.intro"))
    request = slides.deck_form(ctx, years, asked)
st.session_state["present_request"] = request
slides.follow_in_url(request)
try:
    built = data.deck(ctx.scope, request)
except deck.NotAllowed:  # a link naming an area outside the user's own
    st.session_state.pop("present_request", None)
    st.error(t("present.outside_scope"))
    if st.button(t("present.stop"), key="present_stop"):
        st.query_params.clear()
        slides.stop_presenting()
    st.stop()
if presenting:
    slides.presenting(built)
    st.stop()

st.markdown(f"**{md(built.area)}, {i18n.school_year(built.school_year)}**")
left_out = [kind for kind in request.slides if kind not in {s.kind for s in built.slides}]
if left_out:
    st.caption(t("present.left_out", slides=", ".join(t(f"deck.slide.{kind}") for kind in left_out)))
start, pptx, pdf = st.columns(3)
if start.button(t("present.start"), key="present_start", type="primary"):
    slides.start_presenting()
pptx.download_button(t("download.pptx"), lambda: deck.to_pptx(built, ctx.language), file_name=f"lasnaolo-{request.school_year}.pptx",
                     mime="application/vnd.openxmlformats-officedocument.presentationml.presentation", key="present_pptx")
pdf.download_button(t("download.pdf"), lambda: deck.to_pdf(built), file_name=f"lasnaolo-{request.school_year}.pdf",
                    mime="application/pdf", key="present_pdf")
st.subheader(t("present.preview"))
slides.preview(built)
