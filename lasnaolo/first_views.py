"""What every account's pages ask on their first view, computed and kept before anyone signs in.

`results.warm` computes again after an import what users had asked before it; an account that
never asked anything (a new installation, a new user) would still wait seconds on its first visit
at national scale (the whole country's deck: 45 s). `warm` asks each account's pages the questions
they ask when opened with nothing chosen, with the pages' own defaults (the newest school year,
`TrendView()`, `PeerCriteria()`, the first school listed, `impact.default_view`, the default deck),
under the names the pages keep them by (`results.name_of`), so the first visit reads them. The
next questions that take over a second for a whole country are asked too: the comparison of every
school year with data, the risk profiles in each number of clusters the page offers, and the
impact of the opening measure, in the page's opening area (the user's own or the whole region),
on every outcome and grade band. The self-evaluation page's absence figures are kept too, and an
editor's new-target form's baseline and suggestion (55 and 80 ms for a whole country, kept so
that another process reads them). So are what the pages read of targets and self-evaluations
(`results.LIVE`: the targets' table, the first target's progress and history, the assessments,
the implementation profile and the opening unit's history, the deck's targets slide), under the
data version of the moment: a save makes them new questions, answered by the first page that asks.

A test opens every page of every demo account after `warm` and requires that nothing new is
computed: a page whose defaults drift from these fails it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from lasnaolo import (accounts, comparison, contract, deck, evaluation, i18n, impact, queries, reports, results, risk,
                      targets, trends)
from lasnaolo.accounts import Account
from lasnaolo.scope import PseudonymKeyMissing, Scope, Unit
from lasnaolo.stats import PeerCriteria

log = logging.getLogger(__name__)

# What the pages raise for an account whose data cannot answer (the page shows a sentence instead).
UNANSWERABLE = (comparison.NoData, risk.TooFewSchools, impact.NotEstimated, deck.NotAllowed, queries.NotAllowed)
# What stops every question alike (no usable pseudonym key, no database): raised, not logged per page.
SYSTEMIC = (PseudonymKeyMissing, SQLAlchemyError)


@dataclass(frozen=True)
class Warmed:
    accounts: int
    results: int  # questions answered (computed now and kept unless too large, or found kept)
    seconds: float


class _Asker:
    """Asks one account's questions through `results.computed`, each at most once per scope."""

    def __init__(self, engine: Engine, version: tuple[int, ...], data_version: tuple[int, ...]):
        self.engine, self.version, self.data_version = engine, version, data_version
        self.asked: set[tuple[str, Scope, str]] = set()

    def ask(self, read: Callable, scope: Scope, *args: Any, compute: Callable[[], Any] | None = None) -> Any:
        """`read(engine, scope, *args)` kept under the name the pages use; `compute`: the same
        result from parts already kept (as the pages compute it)."""
        name = results.name_of(read)
        value = results.computed(self.engine, self.version, name, scope, args,
                                 compute or (lambda: read(self.engine, scope, *args)), self.data_version)
        self.asked.add((name, scope, repr(args)))  # answered: counted once it is
        return value


def _overview(asker: _Asker, scope: Scope, years: list[str], language: str) -> None:
    asker.ask(reports.overview, scope, years[0])
    asker.ask(targets.overview_table, scope, years[0])


def _trends(asker: _Asker, scope: Scope, years: list[str], language: str) -> None:
    asker.ask(trends.trends, scope, trends.TrendView().data_key())


@contextmanager
def _alone(what: str, scope: Scope) -> Iterator[None]:
    """One of a page's several questions: what the data cannot answer is left to the page (it says
    why), an unexpected error is logged, and neither keeps the page's other questions from being
    asked (review: one failing grade band left the next ones uncomputed)."""
    try:
        yield
    except UNANSWERABLE as reason:
        log.info("%s for %s not kept: %s", what, scope, reason)
    except SYSTEMIC:
        raise
    except Exception:
        log.exception("%s for %s not computed", what, scope)


def _comparison(asker: _Asker, scope: Scope, years: list[str], language: str) -> None:
    """Every school year, not only the newest: another year is the page's next question (how did
    we do last year), and placing a whole country's schools in one takes about a second."""
    criteria = PeerCriteria()
    schools = queries.schools(asker.engine, scope)
    for year in years:
        if scope.role != "rector":  # the attention list and the positive outliers
            with _alone(f"the placing of {year}", scope):
                asker.ask(comparison.placed_schools, scope, year, criteria)
        if not schools.empty:  # the school's section opens on the first school listed
            with _alone(f"the comparison of {year}", scope):
                asker.ask(comparison.compare, scope, str(schools["school_id"].iloc[0]), year, criteria)


def _clusters(asker: _Asker, scope: Scope, years: list[str], language: str) -> None:
    year = years[0]
    features, survey_year = asker.ask(risk.analysis_features, scope, year)
    factors = asker.ask(risk.analyse_factors, scope, year, compute=lambda: risk.absence_factors(features))
    # The number of clusters the data chooses, then each the page offers: another k clusters again
    # and tests the clustering against shuffled data (about a second for a whole country).
    for k in (None, *risk.K_RANGE):
        with _alone(f"the risk profiles of {year} in {k or 'chosen'} clusters", scope):
            asker.ask(risk.analyse, scope, year, k,
                      compute=lambda: risk.analyse_features(features, year, survey_year, k, factors))


def _impact(asker: _Asker, scope: Scope, years: list[str], language: str) -> None:
    regional = scope.role != "admin"  # as the page: users who may look at their regions
    measure, whole_region = asker.ask(impact.default_view, scope, regional)
    if whole_region:
        scope = queries.regional_scope(asker.engine, scope)
    # Every outcome and grade band of the opening measure: a grade band reads a panel of its own
    # (1-2 s for a whole country) and each question fits its regressions (about 0.5 s).
    for band in (None, *contract.GRADE_BANDS):
        for outcome in impact.OUTCOMES:
            with _alone(f"the impact of {measure} on {outcome} in grades {band or 'all'}", scope):
                asker.ask(impact.analyse, scope, impact.Question(measure, outcome, band))


def _evaluation(asker: _Asker, scope: Scope, years: list[str], language: str) -> None:
    """The absence beside the implementation profile's scores (the scores themselves change
    whenever one is recorded), for the page's opening area: every municipality, or the only one;
    and the assessments and the profile as they stand."""
    asker.ask(evaluation.current, scope, years[0])
    schools = queries.schools(asker.engine, scope)
    municipalities = sorted(set(schools["municipality_code"]))
    # The history of the unit the page opens on: the first municipality, a rector's school.
    if scope.role != "rector" and municipalities:
        asker.ask(evaluation.history, scope, Unit("municipality", municipalities[0]))
    elif not schools.empty:
        asker.ask(evaluation.history, scope, Unit("school", str(schools["school_id"].iloc[0])))
    if scope.role == "rector":  # one school is no profile
        return
    area = municipalities[0] if len(municipalities) == 1 else None
    absence = asker.ask(evaluation.unit_absence, scope, years[0], area)
    asker.ask(evaluation.profile, scope, years[0], area,
              compute=lambda: evaluation.profile(asker.engine, scope, years[0], area, absence))


def _targets(asker: _Asker, scope: Scope, years: list[str], language: str) -> None:
    """The new-target form, which an editor's page opens with (its expander shut or not): the
    baseline and the suggestion of the first unit listed (the first municipality), the first
    metric, the current school year and the newest earlier one with data; for everyone, the
    targets' table and the first target's progress and history (an editor's: its edit form's
    baseline too)."""
    options, current = targets.year_choices(years)
    year = options[current]
    table = asker.ask(targets.overview_table, scope, year)
    if not table.empty:  # the page opens on the first target listed: its progress, history and edit form
        record = targets.get(asker.engine, scope, int(table["id"].iloc[0]))
        asker.ask(targets.progress, scope, record)
        asker.ask(targets.history, scope, record.id)
        if scope.role in targets.EDITORS:
            with _alone(f"the baseline of target {record.id}", scope):
                asker.ask(targets.baseline, scope, Unit(record.unit_level, record.unit_code), record.metric,
                          record.school_year, record.baseline_year)
    if scope.role not in targets.EDITORS:
        return
    schools = queries.schools(asker.engine, scope)
    if schools.empty:
        return
    unit = Unit("municipality", sorted(set(schools["municipality_code"]))[0])
    metric = targets.METRICS[0]
    earlier = [y for y in years if y < year]
    with _alone(f"the baseline of {unit}", scope):
        asker.ask(targets.baseline, scope, unit, metric, year, earlier[0] if earlier else None)
    with _alone(f"the suggestion for {unit}", scope):
        asker.ask(targets.suggest, scope, unit, metric, year)


def _present(asker: _Asker, scope: Scope, years: list[str], language: str) -> None:
    request = deck.DeckRequest.from_params({}, years, language)
    for kind in request.slides:  # kept slide by slide, as the page keeps them
        if kind not in deck.READS_TARGETS:
            asker.ask(deck.build, scope, replace(request, slides=(kind,)))
    live = tuple(kind for kind in request.slides if kind in deck.READS_TARGETS)
    if live:
        asker.ask(deck.target_slides, scope, replace(request, slides=live))


# The pages whose first view takes long enough at national scale to be worth keeping.
PAGES: dict[str, Callable[[_Asker, Scope, list[str], str], None]] = {
    "overview": _overview, "trends": _trends, "comparison": _comparison, "clusters": _clusters,
    "impact": _impact, "evaluation": _evaluation, "present": _present, "targets": _targets,
}


def warm(engine: Engine, users: Iterable[Account], languages: Iterable[str] = i18n.LANGUAGES) -> Warmed:
    """Every account's pages' first-view questions (accounts of one scope asked once), answered
    and kept for the current import version. `languages`: those the deck is drawn in (the only
    result whose words are kept: a Swedish-speaking presenter should not wait either; the other
    two cost about 30 s more for the five demo roles at national scale). A question the data
    cannot answer is left to the page, which says why."""
    started = time.perf_counter()
    data_version = queries.data_version(engine)
    asker = _Asker(engine, results.import_version_of(data_version), data_version)
    users, languages = list(users), tuple(languages)
    done: set[tuple[str, Scope, str]] = set()
    for account in users:
        try:
            scope = account.scope()
            years = asker.ask(queries.school_years, scope)  # every page asks it first
        except SYSTEMIC:
            raise
        except Exception:  # as below: never fails an import already saved
            log.exception("first views of %s not computed", account.username)
            continue
        if not years:
            continue
        for page in accounts.pages_for(account.role):
            if page not in PAGES:
                continue
            for language in (languages if page == "present" else (i18n.DEFAULT_LANGUAGE,)):
                if (page, scope, language) in done:  # another account of the same scope
                    continue
                done.add((page, scope, language))
                try:
                    PAGES[page](asker, scope, years, language)
                except UNANSWERABLE as reason:
                    log.info("first view of %s for %s not kept: %s", page, account.username, reason)
                except SYSTEMIC:  # nothing else could be computed either: the caller says why
                    raise
                except Exception:  # never fails the import that has already been saved: the page will say
                    log.exception("first view of %s for %s not computed", page, account.username)
    return Warmed(len(users), len(asker.asked), time.perf_counter() - started)


def after_import(engine: Engine, before: tuple[int, ...], users: Iterable[Account]) -> tuple[int, Warmed]:
    """After an import (`before`: the import version before it): the questions asked before it
    computed again (`results.warm`), then every account's first views. Returns both counts."""
    again = results.warm(engine, before)
    return again, warm(engine, users)
