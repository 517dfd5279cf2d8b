"""Every account's first views computed before anyone signs in (lasnaolo.first_views): each page
of each account then finds its results kept, so a first visit computes nothing. The pages' own
defaults are what is checked: a page whose defaults drift from first_views' asks a question that
was not kept, computes it and keeps it, and the count of kept results grows."""

from __future__ import annotations

import streamlit as st
import yaml
from sqlalchemy import func, select

from lasnaolo import accounts, contract, environment, first_views, impact, queries, results, risk, scope, store
from lasnaolo.store import ComputedResult
from lasnaolo.ui import widgets

from support.helpers import open_section, sections_of
from test_app import ROLE_OF, demo_db, demo_mode_on, login  # noqa: F401 (demo_db: the same module fixture)
from test_cli import run


def questions_kept(engine) -> int:
    """Kept results of questions, not what pages built from figures they held (results.built)."""
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(ComputedResult)
                                  .where(~ComputedResult.name.startswith(results.BUILT))).scalar_one()


def newest_questions(engine, count: int) -> list:
    """The names and arguments of the newest kept questions (what a failing page asked)."""
    import pickle

    with engine.connect() as connection:
        rows = connection.execute(select(ComputedResult.question).where(~ComputedResult.name.startswith(results.BUILT))
                                  .order_by(ComputedResult.created_at.desc()).limit(max(count, 0))).scalars()
        return [(name, args) for name, _, args in map(pickle.loads, rows)]


def sent(at) -> list:
    """What the page sent the browser of its charts (spec and datasets) and tables, in order."""
    charts = [(e.proto.spec, [(d.name, d.data.data) for d in e.proto.datasets]) for e in at.get("vega_lite_chart")]
    return charts + [e.value.to_json() for e in at.dataframe]


def demo_users(engine) -> list[accounts.Account]:
    """The accounts demo mode signs in (the rector's school chosen from the data as the app does)."""
    rector = accounts.demo_rector_school(queries.schools(engine, accounts.DEMO_MUNICIPALITY_SCOPE))
    return list(accounts.demo_config(rector).accounts.values())


def with_a_target_and_a_self_evaluation(demo_db: str, folder) -> str:
    """A copy of the demo database where Hyvinkää has a target for the school year the targets
    page opens on and a recorded self-evaluation for the newest year (the demo data has neither),
    so that the pages read a target's progress and a profile with scores."""
    import shutil

    from lasnaolo import evaluation, targets
    from lasnaolo.scope import Scope, Unit

    copied = folder / "lasnaolo.db"
    shutil.copy(demo_db.split("///", 1)[1], copied)
    url = f"sqlite:///{copied}"
    engine = store.make_engine(url)
    steering = Scope("steering_group", municipality_codes=frozenset({"106"}))
    years = queries.school_years(engine, steering)
    options, current = targets.year_choices(years)
    hyvinkaa = Unit("municipality", "106")
    targets.create(engine, steering, "ohjausryhma", targets.TargetDraft(
        "municipality", "106", options[current], "absence_rate", 6.0, 5.5))
    evaluation.record(engine, steering, "ohjausryhma", hyvinkaa, years[0],
                      [evaluation.Assessment(contract.RECOMMENDATIONS[0], 3)])
    engine.dispose()
    return url


def test_every_page_of_every_demo_account_every_comparison_year_number_of_clusters_impact_outcome_and_band_and_the_swedish_deck_read_kept_results_and_compute_nothing_new(monkeypatch, demo_db, tmp_path):
    url = with_a_target_and_a_self_evaluation(demo_db, tmp_path)
    demo_mode_on(monkeypatch, url)
    engine = store.make_engine(url)
    try:
        warmed = first_views.warm(engine, demo_users(engine))
        kept = questions_kept(engine)
        # Five accounts; each distinct question kept once (the demo's results are all small enough).
        assert warmed.accounts == 5 and kept == warmed.results >= 30
        for username, role in ROLE_OF.items():
            at = login(username)
            for page in accounts.pages_for(role):
                at.switch_page(f"pages/{page}.py").run()
                assert not at.exception, (username, page, [e.message for e in at.exception])
                assert questions_kept(engine) == kept, (f"{username}'s {page} page computed a question not kept",
                                                        newest_questions(engine, questions_kept(engine) - kept))
            if "comparison" in accounts.pages_for(role):  # every section, and every other year: kept as well
                at.switch_page("pages/comparison.py").run()
                years = at.selectbox(key="compare_year").options
                assert len(years) >= 2
                for section in sections_of("comparison", role):
                    if section:
                        open_section(at, "comparison", section)
                    assert questions_kept(engine) == kept, f"{username}'s comparison, {section}"
                    for index in (*range(1, len(years)), 0):
                        at.selectbox(key="compare_year").select_index(index).run()
                        assert not at.exception and questions_kept(engine) == kept, \
                            f"{username}'s comparison of {years[index]}, {section}"
            if "clusters" in accounts.pages_for(role):  # every number of clusters offered
                at.switch_page("pages/clusters.py").run()
                for k in risk.K_RANGE:
                    at.selectbox(key="risk_k").set_value(k).run()
                    assert not at.exception and questions_kept(engine) == kept, f"{username}'s risk profiles in {k} clusters"
            if "impact" in accounts.pages_for(role):  # the opening measure's other outcomes and grade bands
                at.switch_page("pages/impact.py").run()
                for band in (None, *contract.GRADE_BANDS):
                    for outcome in impact.OUTCOMES:
                        at.selectbox(key="impact_band").set_value(band)
                        at.selectbox(key="impact_outcome").set_value(outcome).run()
                        assert not at.exception and questions_kept(engine) == kept, f"{username}'s impact {band}, {outcome}"
            if "present" in accounts.pages_for(role):  # the deck in Swedish: kept as well
                at = login(username)  # the language is chosen on the first page (AppTest reruns pages alone)
                at.selectbox(key="language_choice").select("sv").run()
                at.switch_page("pages/present.py").run()
                assert not at.exception and questions_kept(engine) == kept, f"{username}'s deck in Swedish"
    finally:
        scope.configure_pseudonym_key(None)


def test_a_new_server_process_draws_every_demo_accounts_pages_from_kept_parts_building_no_chart_or_table_and_sends_the_same(
        monkeypatch, demo_db):
    """A second server process (every in-process cache gone) opening the pages the first has drawn
    builds none of their charts or tables again: it reads them kept (results.built), keeps nothing
    new, and sends the browser the same chart specs and datasets and the same tables drawn
    outside the charts' closed table boxes. The first process computes its figures itself (no
    first views): figures just computed are found by the same content as their kept copies."""
    demo_mode_on(monkeypatch, demo_db)
    engine = store.make_engine(demo_db)
    builds = []
    sent_parts = widgets._sent_parts
    monkeypatch.setattr(widgets, "_sent_parts", lambda *args: builds.append(args[0]) or sent_parts(*args))
    try:
        results.forget(engine)  # the database's kept results and this process's caches: from nothing
        st.cache_data.clear()
        st.cache_resource.clear()
        first, logged_in = {}, {}
        for username, role in ROLE_OF.items():
            logged_in[username] = at = login(username)
            for page in accounts.pages_for(role):
                first[(username, page)] = sent(at.switch_page(f"pages/{page}.py").run())
        kept, built_first = results.kept(engine)[0], len(builds)
        for at in logged_in.values():  # a rerun in the same process builds nothing either
            at.run()
        assert len(builds) == built_first and results.kept(engine)[0] == kept
        assert built_first >= 20 and kept - questions_kept(engine) >= 20  # distinct figures, each kept once
        st.cache_data.clear()
        st.cache_resource.clear()  # a new process: new engine, nothing built in it
        for username, role in ROLE_OF.items():
            at = logged_in[username]
            for page in accounts.pages_for(role):
                again = sent(at.switch_page(f"pages/{page}.py").run())
                assert not at.exception and again == first[(username, page)], (username, page)
        assert len(builds) == built_first and results.kept(engine)[0] == kept
    finally:
        scope.configure_pseudonym_key(None)


def test_an_import_computes_the_first_views_of_the_account_files_accounts_and_none_without_a_file(
        capsys, monkeypatch, demo_files, tmp_path):
    url = f"sqlite:///{tmp_path / 'lasnaolo.db'}"
    files = [str(demo_files / name) for name in ("schools.csv", "absences.csv", "wellbeing.csv", "measures.csv")]
    monkeypatch.setenv(environment.PSEUDONYM_KEY, "Zt3_pQm8vWc1-XyR6nL0sBfK9uGhJ2aTe5dNo4iY7kVrMxCqHwEj")
    monkeypatch.delenv(environment.USERS_FILE, raising=False)
    code, out, _ = run(capsys, "import", *files, "--db", url)
    engine = store.make_engine(url)
    assert code == 0 and "first views" not in out and results.kept(engine) == (0, 0)

    users = tmp_path / "users.yaml"
    users.write_text(yaml.safe_dump({"credentials": {"usernames": {
        "johtaja": {"name": "Juhani", "password": accounts.DEMO_PASSWORD_HASH, "role": "director",
                    "municipalities": ["106"]}}}}), encoding="utf-8")
    monkeypatch.setenv(environment.USERS_FILE, str(users))
    code, out, _ = run(capsys, "import", files[-1], "--db", url)  # the measures again: a new import version
    count = questions_kept(engine)
    assert code == 0 and f"first views of 1 account(s) ready: {count} result(s)" in out and count >= 8
    code, out, _ = run(capsys, "results", "--first-views", "--db", url)  # already kept: found, not added
    assert code == 0 and f"first views of 1 account(s) ready: {count} result(s)" in out
    assert questions_kept(engine) == count

    users.write_text("credentials: {usernames: {}}\n", encoding="utf-8")  # unusable: said, and the import stands
    code, out, err = run(capsys, "import", files[-1], "--db", url)
    assert code == 0 and "first views not computed: the account file" in err


def test_without_the_installations_pseudonym_key_an_import_keeps_no_first_views_and_still_succeeds(
        capsys, monkeypatch, demo_files, tmp_path):
    """Review findings: under the public demo key (`--db` and no key) they were kept where no
    installation reads them; with LASNAOLO_DB_URL and no key the saved import ended "refused"."""
    users = tmp_path / "users.yaml"
    users.write_text(yaml.safe_dump({"credentials": {"usernames": {
        "admin": {"name": "Aino", "password": accounts.DEMO_PASSWORD_HASH, "role": "admin"}}}}), encoding="utf-8")
    monkeypatch.setenv(environment.USERS_FILE, str(users))
    monkeypatch.delenv(environment.PSEUDONYM_KEY, raising=False)
    url = f"sqlite:///{tmp_path / 'lasnaolo.db'}"
    schools = str(demo_files / "schools.csv")
    code, _, err = run(capsys, "import", schools, str(demo_files / "absences.csv"), "--db", url)
    assert code == 0 and f"first views not computed: {environment.PSEUDONYM_KEY} is not set" in err
    engine = store.make_engine(url)
    assert results.kept(engine) == (0, 0) and queries.school_years(engine, scope.Scope.everything())
    monkeypatch.setenv(environment.DB_URL, url)
    code, out, err = run(capsys, "import", str(demo_files / "measures.csv"))
    assert code == 0 and "refused" not in err and "imported" in out


def test_a_weak_pseudonym_key_is_refused_by_results_first_views_and_said_after_an_import(
        capsys, monkeypatch, demo_files, tmp_path):
    """Review finding: the first views' catch-all swallowed the key's refusal and reported
    "ready" with nothing kept."""
    users = tmp_path / "users.yaml"
    users.write_text(yaml.safe_dump({"credentials": {"usernames": {
        "admin": {"name": "Aino", "password": accounts.DEMO_PASSWORD_HASH, "role": "admin"}}}}), encoding="utf-8")
    monkeypatch.setenv(environment.USERS_FILE, str(users))
    monkeypatch.setenv(environment.PSEUDONYM_KEY, "short")
    url = f"sqlite:///{tmp_path / 'lasnaolo.db'}"
    code, out, err = run(capsys, "import", str(demo_files / "schools.csv"), str(demo_files / "absences.csv"), "--db", url)
    assert code == 0 and "imported" in out and "results not computed: the pseudonym key" in err and "ready" not in out
    code, out, err = run(capsys, "results", "--first-views", "--db", url)
    assert code == 2 and err.startswith("refused: the pseudonym key") and "ready" not in out
    assert results.kept(store.make_engine(url)) == (0, 0)


def test_a_page_that_fails_unexpectedly_leaves_the_other_pages_first_views_kept(monkeypatch, demo_db):
    """Review finding: any error but the expected ones ended the import command with a traceback
    after its data was saved, and stopped the data page's background thread."""
    demo_mode_on(monkeypatch, demo_db)
    engine = store.make_engine(demo_db)

    def broken(*_):
        raise KeyError("region_code")

    # The broken page between two working ones (the rest ask the same way, and take a minute).
    pages = first_views.PAGES
    monkeypatch.setattr(first_views, "PAGES", {"overview": pages["overview"], "trends": broken, "evaluation": pages["evaluation"]})
    try:
        results.forget(engine)
        warmed = first_views.warm(engine, demo_users(engine))
        asked = {name for name, _, _ in results.questions_asked(engine, results.import_version(engine))}
        assert warmed.accounts == 5 and questions_kept(engine) == warmed.results >= 5
        # Every page but the broken one, after each account's school years (every page asks them first).
        assert asked == {"lasnaolo.queries.school_years", "lasnaolo.reports.overview", "lasnaolo.evaluation.unit_absence"}
    finally:
        scope.configure_pseudonym_key(None)


def test_an_unexpected_error_in_one_grade_band_leaves_the_later_grade_bands_kept(monkeypatch, demo_db):
    """Review finding: only "cannot be estimated" was caught per question, so any other error in
    one grade band left every later band of that scope uncomputed."""
    demo_mode_on(monkeypatch, demo_db)
    engine = store.make_engine(demo_db)
    estimate = impact.estimate

    def failing_in_grades_1_2(panel, question):
        if question.grade_band == "1-2":
            raise FloatingPointError("planted")
        return estimate(panel, question)

    monkeypatch.setattr(impact, "estimate", failing_in_grades_1_2)
    monkeypatch.setattr(first_views, "PAGES", {"impact": first_views.PAGES["impact"]})  # the others take a minute
    try:
        results.forget(engine)
        first_views.warm(engine, [user for user in demo_users(engine) if user.role == "admin"])
        asked = results.questions_asked(engine, results.import_version(engine))
        bands = {args[0].grade_band for name, who, args in asked
                 if name == "lasnaolo.impact.analyse" and who == scope.Scope.everything()}
        assert bands == {None, "3-6", "7-9"}
    finally:
        scope.configure_pseudonym_key(None)
