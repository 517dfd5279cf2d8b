"""Who may do what: every role's capabilities in one table, read by the router, the data-access
layer and the modules that write (targets, self-evaluation, decks).

What a role may *see* is its scope (lasnaolo.scope) narrowed by these capabilities; how figures
about others are protected is lasnaolo.disclosure. A capability missing here is refused everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "director", "rector", "steering_group", "coordinator")


@dataclass(frozen=True)
class Page:
    """A page of the app: `pages/<name>.py` (which opens with `page.start("<name>")`), its title
    in the catalogue (`page.<name>`) and its navigation icon. Who may open it is POLICY below."""

    name: str
    icon: str  # a Material icon, as st.Page takes it

    @property
    def file(self) -> str:
        return f"pages/{self.name}.py"

    @property
    def title_key(self) -> str:
        return f"page.{self.name}"


# The page registry, in the order the navigation shows the pages. Adding a page: an entry here,
# the page's name in the pages of the roles that may open it (POLICY), its file and its title.
PAGE_REGISTRY = (
    Page("overview", ":material/dashboard:"), Page("trends", ":material/monitoring:"),
    Page("comparison", ":material/compare_arrows:"), Page("clusters", ":material/bubble_chart:"),
    Page("targets", ":material/flag:"), Page("impact", ":material/science:"),
    Page("evaluation", ":material/checklist:"), Page("present", ":material/co_present:"),
    Page("data", ":material/upload_file:"),
)
PAGES = tuple(page.name for page in PAGE_REGISTRY)
PAGE_BY_NAME = {page.name: page for page in PAGE_REGISTRY}


@dataclass(frozen=True)
class Capabilities:
    pages: frozenset[str]
    # Sees only published, pseudonymised figures: no school by name or code, no cell outside the
    # publication (lasnaolo.disclosure), even inside the own scope.
    anonymised: bool = False
    # May see the regions its scope touches: published municipality totals, pseudonymous schools in
    # comparison pools.
    regional_context: bool = False
    presents: bool = False  # builds decks (always anonymised, never wider than the scope)
    edits_targets: bool = False
    comments_targets: bool = False
    records_evaluations: bool = False
    reads_evaluations: bool = False
    # A rector's units are the own school only: no municipality-level records or profiles.
    school_level_only: bool = False
    administers: bool = False  # uploads, the import log, the stored data


POLICY: dict[str, Capabilities] = {
    "admin": Capabilities(frozenset(PAGES), regional_context=True, presents=True, edits_targets=True,
                          comments_targets=True, records_evaluations=True, reads_evaluations=True, administers=True),
    "director": Capabilities(frozenset({"overview", "trends", "comparison", "clusters", "targets", "impact",
                                        "evaluation", "present"}),
                             regional_context=True, presents=True, edits_targets=True, comments_targets=True,
                             reads_evaluations=True),
    "steering_group": Capabilities(frozenset({"overview", "trends", "comparison", "clusters", "targets", "impact",
                                              "evaluation"}),
                                   regional_context=True, edits_targets=True, comments_targets=True,
                                   records_evaluations=True, reads_evaluations=True),
    "rector": Capabilities(frozenset({"overview", "comparison", "targets", "evaluation"}), comments_targets=True,
                           records_evaluations=True, reads_evaluations=True, school_level_only=True),
    "coordinator": Capabilities(frozenset({"overview", "trends", "clusters", "impact", "present"}), anonymised=True,
                                regional_context=True, presents=True),
}


def capabilities(role: str) -> Capabilities:
    """The role's capabilities; an unknown role has none (fail closed)."""
    return POLICY.get(role, Capabilities(frozenset()))


def roles_that(capability: str) -> frozenset[str]:
    """The roles that have one capability, e.g. roles_that("edits_targets")."""
    return frozenset(role for role, held in POLICY.items() if getattr(held, capability))


# Which roles may open which page. The router passes only these pages to st.navigation, and every
# page checks again, so a typed URL cannot open a page outside the role.
PAGE_ROLES: dict[str, frozenset[str]] = {
    page: frozenset(role for role in ROLES if page in POLICY[role].pages) for page in PAGES
}
