"""The data page's upload flow: check (a dry run of the one importer), preview, confirm, import."""

from __future__ import annotations

import hashlib
import threading

import pandas as pd
import streamlit as st

from lasnaolo import charts, first_views, i18n, importer, metrics, results
from lasnaolo.text import md
from lasnaolo.ui.data import forget_cached_figures
from lasnaolo.ui.session import language, t

MAX_PROBLEM_ROWS = 1000
STATE_KEY = "upload_check"


def problems_table(problems: list[importer.Problem]) -> pd.DataFrame:
    lang = language()
    rows = [(p.file, p.row, p.column, p.value, p.reason_in(lang)) for p in problems[:MAX_PROBLEM_ROWS]]
    columns = [t(f"data.col.{c}") for c in ("file", "row", "column", "value", "reason")]
    return pd.DataFrame(rows, columns=columns).astype({columns[1]: "Int64"})


def summary_table(summary: importer.ImportSummary) -> pd.DataFrame:
    rows = [(f.file_name, t(f"data.kind.{f.kind}"), f.rows_in_file, f.inserted, f.replaced, f.unchanged) for f in summary.files]
    return pd.DataFrame(rows, columns=[t(f"data.col.{c}") for c in ("file", "kind", "rows", "new", "replaced", "unchanged")])


def _fingerprint(files: list[tuple[str, bytes]], replace: bool) -> str:
    digest = hashlib.sha256(str(replace).encode())
    for name, content in files:
        digest.update(name.encode() + hashlib.sha256(content).digest())
    return digest.hexdigest()


CONVERTED_KEY = "pupil_level_converted"


def pupil_level_conversion(known_schools: set[str]) -> None:
    """Pupil-level exports turned into absences.csv in memory (issue 19). Only the aggregates are
    kept (in this session, for the upload flow below); the pupil rows go when the run ends. A
    roster school must be among `known_schools` (the database's): import its schools.csv first."""
    from lasnaolo import pupil_import, pupils

    with st.expander(t("data.pupil_level"), expanded=CONVERTED_KEY in st.session_state):
        st.caption(t("data.pupil_level_help"))
        exports = st.file_uploader(t("data.pupil_exports"), type=["csv", "txt"], accept_multiple_files=True,
                                   key="pupil_exports")
        calendar = st.file_uploader(t("data.pupil_calendar"), type=["csv", "txt"], key="pupil_calendar")
        timetable = st.file_uploader(t("data.pupil_timetable"), type=["csv", "txt"], key="pupil_timetable")
        mapping_file = st.file_uploader(t("data.pupil_mapping"), type=["yaml", "yml"], key="pupil_mapping")
        if not (exports and calendar) or not st.button(t("data.pupil_convert")):
            return
        try:
            mapping = (pupil_import.ExportMapping.from_yaml(mapping_file.getvalue().decode("utf-8"), mapping_file.name)
                       if mapping_file else pupil_import.load_mapping("wilma"))
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as error:  # not a mapping
            st.session_state.pop(CONVERTED_KEY, None)
            st.error(t("data.pupil_bad_mapping", reason=md(str(error))))
            return
        try:
            # Pairs, not a dictionary: two uploads of one name are refused, not silently one.
            rows = pupil_import.aggregate_exports([(u.name, u.getvalue()) for u in exports], (calendar.name, calendar.getvalue()),
                                                  mapping, (timetable.name, timetable.getvalue()) if timetable else None,
                                                  known_schools=known_schools)
        except pupils.PupilDataError as refused:
            st.session_state.pop(CONVERTED_KEY, None)
            st.error(t("data.rejected", count=len(refused.problems)))
            st.dataframe(problems_table(refused.problems), hide_index=True, width="stretch")
            return
        st.session_state[CONVERTED_KEY] = rows.to_csv(index=False).encode("utf-8")
        schools = rows["school_id"].nunique()
        st.success(t("data.pupil_converted", rows=len(rows), schools=schools, n=schools,
                     years=", ".join(i18n.school_year(y) for y in sorted(rows["school_year"].unique()))))
        # Per school and year, read by the one metrics core as every page reads the figures.
        preview = metrics.figures_by(rows, ["school_id", "school_year"])
        st.dataframe(pd.DataFrame({
            t("data.col.school"): preview["school_id"], t("overview.school_year"): preview["school_year"].map(i18n.school_year),
            t("data.col.months"): [f"{i18n.month(a, language())}–{i18n.month(b, language())}"
                                   for a, b in zip(preview["first_month"], preview["latest_month"])],
            t("metric.pupils"): charts.pupils_column(preview["pupils"]),
            t("metric.absence_rate"): preview["absence_rate"].map(lambda v: i18n.percent(v, language())),
            t("metric.tier23_share"): preview["tier23_share"].map(lambda v: i18n.percent(v, language()))}),
            hide_index=True, width="stretch")


def upload_flow(engine, username: str) -> None:
    uploads = st.file_uploader(t("data.upload"), type=["csv", "txt"], accept_multiple_files=True)
    replace = st.checkbox(t("data.replace"))
    files = [(u.name, u.getvalue()) for u in uploads or []]
    if CONVERTED_KEY in st.session_state:  # the pupil-level conversion's aggregates, imported like an upload
        files.append(("absences.csv", st.session_state[CONVERTED_KEY]))
        st.caption(t("data.pupil_included"))
    if not files:
        return
    fingerprint = _fingerprint(files, replace)
    if st.button(t("data.check"), type="secondary"):
        with st.spinner(t("data.checking")):
            try:
                outcome = importer.import_files(engine, files, replace=replace, dry_run=True)
            except importer.ImportRejected as rejected:
                outcome = rejected
        st.session_state[STATE_KEY] = (fingerprint, outcome)
    checked = st.session_state.get(STATE_KEY)
    if not checked or checked[0] != fingerprint:
        return  # the files changed since the check: nothing stale is shown or imported
    outcome = checked[1]
    if isinstance(outcome, importer.ImportRejected):
        st.error(t("data.rejected", count=outcome.problems.total))
        st.dataframe(problems_table(outcome.problems.items), hide_index=True, width="stretch")
        if outcome.problems.total > MAX_PROBLEM_ROWS:
            st.caption(t("data.more_problems", count=outcome.problems.total - MAX_PROBLEM_ROWS))
        return
    st.success(t("data.preview"))
    st.dataframe(summary_table(outcome), hide_index=True, width="stretch")
    if not any(f.inserted or f.replaced for f in outcome.files):
        st.info(t("data.nothing_new"))
        return
    if st.button(t("data.confirm"), type="primary"):
        bar = st.progress(0.0, text=t("data.importing"))
        before = results.import_version(engine)
        try:
            summary = importer.import_files(engine, files, replace=replace, imported_by=username,
                                            progress=lambda step, fraction: bar.progress(fraction, text=md(step)))
        except importer.ImportRejected as rejected:  # the database changed between check and import
            st.session_state[STATE_KEY] = (fingerprint, rejected)
            st.rerun()
        st.session_state.pop(STATE_KEY, None)
        forget_cached_figures()
        # What the pages had asked of the data before, and every account's first views, computed
        # in the background, so that the users' first visits after the import read stored results.
        from lasnaolo.ui import shell

        config = shell.auth_config()
        users = [] if config.demo_mode else list(config.accounts.values())  # as the command line
        threading.Thread(target=first_views.after_import, args=(engine, before, users), name="lasnaolo-warm",
                         daemon=True).start()
        st.success(t("data.imported", summary=md(summary.one_line())))  # file names are data
        st.caption(t("data.warming"))
