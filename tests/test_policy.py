"""The one table of role capabilities (lasnaolo/policy.py) and the modules that read it."""

from pathlib import Path

from lasnaolo import accounts, deck, evaluation, policy, queries, targets
from lasnaolo.scope import Scope

ROOT = Path(__file__).resolve().parents[1]


def test_the_policy_gives_each_role_the_pages_and_rights_the_readme_lists():
    assert policy.PAGE_ROLES["data"] == {"admin"}
    assert policy.PAGE_ROLES["trends"] == {"admin", "director", "steering_group", "coordinator"}
    assert policy.PAGE_ROLES["comparison"] == {"admin", "director", "steering_group", "rector"}
    assert policy.PAGE_ROLES["present"] == {"admin", "director", "coordinator"}
    assert policy.roles_that("anonymised") == {"coordinator"}
    assert policy.roles_that("edits_targets") == {"admin", "director", "steering_group"}
    assert policy.roles_that("comments_targets") == {"admin", "director", "steering_group", "rector"}
    assert policy.roles_that("records_evaluations") == {"admin", "steering_group", "rector"}
    assert policy.roles_that("regional_context") == {"admin", "director", "steering_group", "coordinator"}
    assert policy.roles_that("administers") == {"admin"}


def test_every_module_reads_its_rights_from_the_policy():
    assert accounts.PAGE_ROLES is policy.PAGE_ROLES
    assert deck.PRESENTERS == policy.roles_that("presents")
    assert targets.EDITORS == policy.roles_that("edits_targets")
    assert evaluation.READERS == policy.roles_that("reads_evaluations")
    assert queries.CONTEXT_ROLES == policy.roles_that("regional_context")
    assert Scope("coordinator").anonymised and not Scope("director").anonymised


def test_an_unknown_role_has_no_capability_and_every_registered_page_has_its_file_title_icon_and_roles():
    nothing = policy.capabilities("superuser")
    assert not nothing.pages and not nothing.administers and not nothing.regional_context
    from lasnaolo import i18n
    for page in policy.PAGE_REGISTRY:
        source = (ROOT / page.file).read_text(encoding="utf-8")
        assert f'page.start("{page.name}")' in source, page.name  # the page checks its own name
        assert all(i18n.t(page.title_key, language) for language in i18n.LANGUAGES)
        assert page.icon.startswith(":material/") and policy.PAGE_ROLES[page.name], page.name
    # Every page file is registered, and every role's pages are registered pages.
    assert {p.stem for p in (ROOT / "pages").glob("*.py")} == set(policy.PAGES)
    assert all(held.pages <= set(policy.PAGES) for held in policy.POLICY.values())


def test_targets_and_self_evaluations_read_only_through_the_data_access_layer():
    """Their modules write (in transactions of their own) but read through lasnaolo/queries.py,
    where the scope is applied like every other read."""
    for module in ("targets", "evaluation"):
        source = (ROOT / "lasnaolo" / f"{module}.py").read_text(encoding="utf-8")
        assert "engine.connect(" not in source, module
    assert queries.target_rows and queries.current_self_evaluations and queries.self_evaluation_history
