"""Cached, scoped reads for the pages. Every cache key holds the database URL and the scope (a
frozen dataclass), so one user's figures are never served to another role or from another
database, and the data version (the newest import, target change and self-evaluation), so a
figure cached before a change - in this server process or any other - is never served after it."""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lasnaolo import bootstrap, environment, queries, reports, results, store
from lasnaolo import comparison as comparison_module
from lasnaolo import trends as trends_module
from lasnaolo.scope import Scope, Unit
from lasnaolo.ui.session import t

if TYPE_CHECKING:
    from lasnaolo import targets


@st.cache_resource(show_spinner=False)
def engine(url: str):
    """One engine per database URL and server process. The embedded default database gets the
    demo data on first run; a configured database is only migrated, never filled with demo data."""
    results.code_version()  # taken at start: files replaced while running do not pass as this process's code
    eng = store.make_engine(url)
    with_demo = environment.fills_demo_data(os.environ)
    bootstrap.ensure_database(eng, with_demo=with_demo)
    # In the background, while the first user signs in (or a moved tab reconnects): the pages'
    # kept results, so that this process's first visits read them from memory.
    threading.Thread(target=results.read_ahead, args=(eng,), name="lasnaolo-read-ahead", daemon=True).start()
    return eng


def current_engine():
    return engine(store.database_url())


@st.cache_data(max_entries=256, ttl=900, show_spinner=False)
def _cached(url: str, version: tuple[int, ...], name: str, _read: Callable, scope: Scope, args: tuple, keep: bool):
    # The key is (url, version, name, scope, args, keep); the function itself is named by `name`.
    computed_here = []

    def compute():
        computed_here.append(True)
        return _read(engine(url), scope, *args)

    if keep:  # computed once per import for every server process
        eng = engine(url)
        value = results.computed(eng, results.import_version_of(version), name, scope, args, compute, version)
    else:
        value = compute()
    # What this run gets is what every later run and process gets, a pickled copy: a frame just
    # computed pickles to other bytes than its copy (review), and the charts drawn from it are
    # found by those bytes (widgets.figure), so they would be built and kept twice. A result read
    # back from the database is such a copy already (0.5-2 ms a result saved on a new process).
    return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)) if computed_here else value


def _read(read: Callable, scope: Scope, *args, keep: bool | None = None, via: Callable | None = None):
    """`read(engine, scope, *args)` cached in this process per data version and, for the reads
    named in STORED or `results.LIVE` (unless `keep` says otherwise), kept in the database for
    every process.
    `via`: a faster way to the same result here (from other kept parts), kept under `read`'s
    name so that an import's `results.warm` computes it again with `read` itself."""
    name = results.name_of(read)
    keep = (name in STORED or name in results.LIVE) if keep is None else keep
    if not keep:
        return _lookup(read, scope, *args, keep=False, via=via)
    # Words instead of a frozen page when it takes long (Streamlit shows them after half a second).
    with st.spinner(t("data.computing"), show_time=True):
        return _lookup(read, scope, *args, keep=True, via=via)


def _lookup(read: Callable, scope: Scope, *args, keep: bool, via: Callable | None = None):
    """`_read` without words: for a read inside another cached read, where an element drawn
    would be replayed with the outer one's cached result."""
    url = store.database_url()
    return _cached(url, _data_version(url), results.name_of(read), via or read, scope, args, keep)


_RUN_VERSIONS = "_data_versions_this_run"


def _data_version(url: str) -> tuple[int, ...]:
    """The data version, read once per script run rather than once per figure (a page asks a
    score of times, each a query), so a page is also drawn from one version throughout. The run
    is known by the cursors Streamlit replaces at the start of every run: a marker this run
    holds, where a flag set by the router would go stale on any run that skips it."""
    run = getattr(get_script_run_ctx(), "cursors", None)
    if run is None:  # no run to remember it for: read every time
        return queries.data_version(engine(url))
    remembered = st.session_state.get(_RUN_VERSIONS)
    if remembered is None or remembered[0] is not run:
        remembered = (run, {})
        st.session_state[_RUN_VERSIONS] = remembered
    versions = remembered[1]
    if url not in versions:
        versions[url] = queries.data_version(engine(url))
    return versions[url]


def built(name: str, content_key: str, language: str, build: Callable):
    """`build()`, what a page draws from figures it holds (see `results.built`): once per server
    process, and kept in the database for the others."""
    url = store.database_url()
    return _built(url, name, content_key, language, build, results.import_version_of(_data_version(url)))


# Keyed by the database, the builder's name, the figures' content and the language: equal figures
# share one entry whoever asks (the figures themselves come scoped). Shared and never changed.
@st.cache_resource(max_entries=512, ttl=900, show_spinner=False)
def _built(url: str, name: str, content_key: str, language: str, _build: Callable, _version: tuple[int, ...]):
    return results.built(engine(url), name, content_key, language, _build, _version)


# The reads that take a second or more at national scale, or that every page asks first (the
# whole country's school years: 0.13 s of a new process's first page on SQLite), or that made a
# new process's first visit of a page slower than the first process's repeat visit (a target's
# baseline and suggestion for the whole country: 55 and 80 ms of CPU on SQLite): kept in the
# database (lasnaolo.results) so that another server process, a restart or the next user reads
# them instead of computing.
# Each depends on imported data alone (results.import_version): none reads targets or self-evaluations.
STORED = frozenset({
    "lasnaolo.reports.overview", "lasnaolo.trends.trends", "lasnaolo.comparison.compare",
    "lasnaolo.comparison.placed_schools", "lasnaolo.risk.analysis_features", "lasnaolo.deck.build",
    "lasnaolo.impact.analyse", "lasnaolo.impact.default_view", "lasnaolo.risk.analyse",
    "lasnaolo.risk.analyse_factors", "lasnaolo.evaluation.unit_absence", "lasnaolo.queries.school_years",
    "lasnaolo.targets.baseline", "lasnaolo.targets.suggest",
})


def school_years(scope: Scope) -> list[str]:
    return _read(queries.school_years, scope)


def overview(scope: Scope, school_year: str) -> reports.Overview:
    return _read(reports.overview, scope, school_year)


def schools(scope: Scope) -> pd.DataFrame:
    return _read(queries.schools, scope)


def forget_cached_figures() -> None:
    """After an import or a target change: the data version already keeps old figures from being
    served; this frees their memory in this process at once instead of at their expiry, and the
    rest of this run reads the new version."""
    st.cache_data.clear()
    st.session_state.pop(_RUN_VERSIONS, None)


def trends(scope: Scope, view) -> "trends_module.Trends":
    return _read(trends_module.trends, scope, view.data_key())


def comparison(scope: Scope, school_id: str, school_year: str, criteria) -> "comparison_module.Comparison":
    return _read(comparison_module.compare, scope, school_id, school_year, criteria)


def school_verdicts(scope: Scope, school_year: str, criteria, unit: Unit | None = None) -> pd.DataFrame:
    """Listed from the scope's schools placed once per year and criteria: the attention list's
    regions and the outliers share one placing (each on its own took seconds nationally)."""
    placed = _read(comparison_module.placed_schools, scope, school_year, criteria)
    return comparison_module.verdicts_within(placed, scope, unit)


def positive_outliers(scope: Scope, school_year: str, criteria) -> pd.DataFrame:
    return comparison_module.outliers_among(school_verdicts(scope, school_year, criteria),
                                            _read(queries.measures_in_use, scope, school_year))


def wellbeing_profile(scope: Scope, school_id: str, school_type: str) -> pd.DataFrame:
    return _read(comparison_module.wellbeing_profile, scope, school_id, school_type)


def risk_analysis(scope: Scope, school_year: str, k: int | None):
    """Kept per number of clusters; the features are read apart from k, so choosing another number
    of clusters only clusters again."""
    from lasnaolo import risk

    return _read(risk.analyse, scope, school_year, k, via=_risk_analysed)


def _risk_analysed(_engine, scope: Scope, school_year: str, k: int | None):
    """risk.analyse from the kept features."""
    from lasnaolo import risk

    features, survey_year = _lookup(risk.analysis_features, scope, school_year, keep=True)
    factors = _lookup(risk.analyse_factors, scope, school_year, keep=True, via=_risk_factors)
    return risk.analyse_features(features, school_year, survey_year, k, factors)


def _risk_factors(_engine, scope: Scope, school_year: str):
    """risk.analyse_factors from the kept features."""
    from lasnaolo import risk

    features, _ = _lookup(risk.analysis_features, scope, school_year, keep=True)
    return risk.absence_factors(features)


def target_overview(scope: Scope, school_year: str) -> pd.DataFrame:
    """Safe to cache: every target change and import changes the data version in the key."""
    from lasnaolo import targets

    return _read(targets.overview_table, scope, school_year)


def target_progress(scope: Scope, record) -> "targets.Progress":
    from lasnaolo import targets

    return _read(targets.progress, scope, record)


def target_baseline(scope: Scope, unit, metric: str, school_year: str, baseline_year: str | None = None) -> float | None:
    from lasnaolo import targets

    return _read(targets.baseline, scope, unit, metric, school_year, baseline_year)


def target_suggestion(scope: Scope, unit, metric: str, school_year: str):
    from lasnaolo import targets

    return _read(targets.suggest, scope, unit, metric, school_year)


def target(scope: Scope, target_id: int):
    """Cached like every read: a save anywhere changes the data version, so an editor never
    starts from a stale version (and a stale save would be refused anyway)."""
    from lasnaolo import targets

    return _read(targets.get, scope, target_id)


def target_history(scope: Scope, target_id: int) -> pd.DataFrame:
    from lasnaolo import targets

    return _read(targets.history, scope, target_id)


def deck(scope: Scope, request):
    """Each slide cached by itself, so choosing other slides builds only the new ones."""
    from dataclasses import replace

    from lasnaolo import deck as deck_module

    # Slides that read targets change with every save: kept apart under the whole data version
    # (results.LIVE), and built without a note of their own when a kept slide brings the deck's.
    kept = [kind for kind in request.slides if kind not in deck_module.READS_TARGETS]
    if not kept:
        return _read(deck_module.build, scope, request, keep=False)
    decks = {kind: _read(deck_module.build, scope, replace(request, slides=(kind,))) for kind in kept}
    slides = {kind: part.slides for kind, part in decks.items()}
    live = tuple(kind for kind in request.slides if kind in deck_module.READS_TARGETS)
    if live:
        slides.update({slide.kind: [slide] for slide in _read(deck_module.target_slides, scope, replace(request, slides=live))})
    return replace(decks[kept[0]], slides=[slide for kind in request.slides for slide in slides.get(kind, [])])


def impact(scope: Scope, question, whole_region: bool = False):
    """A measure's estimated impact for the scope's schools or, when they are too few, for every
    school of the scope's regions (then, like all regional context, anonymised). The core keeps
    the school-month panel per data version, so changing the measure or the outcome only
    estimates again; the same path as the command line's."""
    from lasnaolo import impact as impact_module

    if whole_region:
        scope = queries.regional_scope(current_engine(), scope)
    return _read(impact_module.analyse, scope, question)


def impact_default(scope: Scope, regional: bool) -> tuple[str, bool]:
    from lasnaolo import impact as impact_module

    return _read(impact_module.default_view, scope, regional)


def self_evaluations(scope: Scope, school_year: str) -> pd.DataFrame:
    from lasnaolo import evaluation

    return _read(evaluation.current, scope, school_year)


def evaluation_profile(scope: Scope, school_year: str, municipality_code: str | None) -> pd.DataFrame:
    """The scores change whenever one is recorded; the absence beside them is kept per import."""
    from lasnaolo import evaluation

    def from_kept_absence(eng, scope: Scope, school_year: str, municipality_code: str | None) -> pd.DataFrame:
        absence = _lookup(evaluation.unit_absence, scope, school_year, municipality_code, keep=True)
        return evaluation.profile(eng, scope, school_year, municipality_code, absence)

    return _read(evaluation.profile, scope, school_year, municipality_code, via=from_kept_absence)


def evaluation_history(scope: Scope, unit) -> pd.DataFrame:
    from lasnaolo import evaluation

    return _read(evaluation.history, scope, unit)
