"""Every account's first views computed before anyone signs in (lasnaolo.first_views): each page
of each account then finds its results kept, so a first visit computes nothing. The pages' own
defaults are what is checked: a page whose defaults drift from first_views' asks a question that
was not kept, computes it and keeps it, and the count of kept results grows."""

from __future__ import annotations

import yaml

from lasnaolo import accounts, contract, environment, first_views, impact, queries, results, risk, scope, store

from support.helpers import open_section, sections_of
from test_app import ROLE_OF, demo_db, demo_mode_on, login  # noqa: F401 (demo_db: the same module fixture)
from test_cli import run


def demo_users(engine) -> list[accounts.Account]:
    """The accounts demo mode signs in (the rector's school chosen from the data as the app does)."""
    rector = accounts.demo_rector_school(queries.schools(engine, accounts.DEMO_MUNICIPALITY_SCOPE))
    return list(accounts.demo_config(rector).accounts.values())


def test_every_page_of_every_demo_account_every_comparison_year_number_of_clusters_impact_outcome_and_band_and_the_swedish_deck_read_kept_results_and_compute_nothing_new(monkeypatch, demo_db):
    demo_mode_on(monkeypatch, demo_db)
    engine = store.make_engine(demo_db)
    try:
        warmed = first_views.warm(engine, demo_users(engine))
        kept = results.kept(engine)[0]
        # Five accounts; each distinct question kept once (the demo's results are all small enough).
        assert warmed.accounts == 5 and kept == warmed.results >= 30
        for username, role in ROLE_OF.items():
            at = login(username)
            for page in accounts.pages_for(role):
                at.switch_page(f"pages/{page}.py").run()
                assert not at.exception, (username, page, [e.message for e in at.exception])
                assert results.kept(engine)[0] == kept, f"{username}'s {page} page computed a question not kept"
            if "comparison" in accounts.pages_for(role):  # every section, and every other year: kept as well
                at.switch_page("pages/comparison.py").run()
                years = at.selectbox(key="compare_year").options
                assert len(years) >= 2
                for section in sections_of("comparison", role):
                    if section:
                        open_section(at, "comparison", section)
                    assert results.kept(engine)[0] == kept, f"{username}'s comparison, {section}"
                    for index in (*range(1, len(years)), 0):
                        at.selectbox(key="compare_year").select_index(index).run()
                        assert not at.exception and results.kept(engine)[0] == kept, \
                            f"{username}'s comparison of {years[index]}, {section}"
            if "clusters" in accounts.pages_for(role):  # every number of clusters offered
                at.switch_page("pages/clusters.py").run()
                for k in risk.K_RANGE:
                    at.selectbox(key="risk_k").set_value(k).run()
                    assert not at.exception and results.kept(engine)[0] == kept, f"{username}'s risk profiles in {k} clusters"
            if "impact" in accounts.pages_for(role):  # the opening measure's other outcomes and grade bands
                at.switch_page("pages/impact.py").run()
                for band in (None, *contract.GRADE_BANDS):
                    for outcome in impact.OUTCOMES:
                        at.selectbox(key="impact_band").set_value(band)
                        at.selectbox(key="impact_outcome").set_value(outcome).run()
                        assert not at.exception and results.kept(engine)[0] == kept, f"{username}'s impact {band}, {outcome}"
            if "present" in accounts.pages_for(role):  # the deck in Swedish: kept as well
                at = login(username)  # the language is chosen on the first page (AppTest reruns pages alone)
                at.selectbox(key="language_choice").select("sv").run()
                at.switch_page("pages/present.py").run()
                assert not at.exception and results.kept(engine)[0] == kept, f"{username}'s deck in Swedish"
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
    count = results.kept(engine)[0]
    assert code == 0 and f"first views of 1 account(s) ready: {count} result(s)" in out and count >= 8
    code, out, _ = run(capsys, "results", "--first-views", "--db", url)  # already kept: found, not added
    assert code == 0 and f"first views of 1 account(s) ready: {count} result(s)" in out
    assert results.kept(engine)[0] == count

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
        assert warmed.accounts == 5 and results.kept(engine)[0] == warmed.results >= 5
        assert asked == {"lasnaolo.reports.overview", "lasnaolo.evaluation.unit_absence"}  # every page but the broken one
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
