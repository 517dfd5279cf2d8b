"""Disclosure control across views (lasnaolo/disclosure.py): the audit's linear algebra on hand-made
tables, and an attacker who combines every view the demo coordinator, director and rector can
reach and tries to solve withheld figures exactly.

The attacker works independently of the product's audit: in the space of atoms (school × grade
band × month), every figure the user received is one linear equation, and everything inside the
user's own scope is known. A figure is recovered exactly when its atom vector lies in the span of
the received ones; the test checks that for every withheld cell, every single school outside the
scope and every pair of such schools in one municipality."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from lasnaolo import accounts, contract, disclosure, metrics, queries, trends
from lasnaolo.disclosure import NotPublished
from lasnaolo.queries import RowFilter
from lasnaolo.scope import Scope, Unit

YEAR = "2024-2025"


# --- The audit on hand-made tables ---------------------------------------------------------------

def test_a_two_by_two_pattern_that_passes_the_one_per_line_rule_is_found_determined():
    """Atoms a, b, c, d; cells a, b in row 1 withheld, c, d and all margins published: the columns
    give a = col1 - c and b = col2 - d. Withholding all four interior cells leaves them open."""
    a, b, c, d = np.eye(4)
    row1, row2, col1, col2 = a + b, c + d, a + c, b + d
    found, coefficients = disclosure.determined(np.array([c, d, row1, row2, col1, col2]), np.array([a, b]))
    assert found.tolist() == [True, True]
    assert np.allclose(coefficients @ np.array([c, d, row1, row2, col1, col2]), np.array([a, b]))
    found, _ = disclosure.determined(np.array([row1, row2, col1, col2]), np.array([a, b, c, d]))
    assert found.tolist() == [False, False, False, False]
    # Two differently named cells that are the same sum (e.g. a municipality's Swedish-language
    # schools are exactly its primary schools): publishing one publishes the other.
    found, _ = disclosure.determined(np.array([a + b]), np.array([a + b, a]))
    assert found.tolist() == [True, False]


def test_size_classes_cut_each_type_and_language_into_runs_of_three_and_pool_what_is_left():
    schools = pd.DataFrame({
        "pupils": [12, 18, 25, 31, 40, 47, 55, 300, 320, 90, 95, 400],
        "school_type": ["primary"] * 7 + ["lower_secondary"] * 2 + ["primary"] * 2 + ["comprehensive"],
        "language": ["fi"] * 9 + ["sv"] * 3,
    }, index=[f"S{i}" for i in range(12)])
    classes = disclosure.size_classes(schools)
    members = classes.groupby("size_class").groups
    as_sets = sorted(sorted(m) for m in members.values())
    # Seven Finnish primary schools: 3 + 4 (the short last run joins the one before it). The two
    # lower-secondary and the two Swedish primary schools are too few even by type, so the four and
    # the one comprehensive school are pooled (a class of five).
    assert as_sets == [["S0", "S1", "S2"], ["S10", "S11", "S7", "S8", "S9"], ["S3", "S4", "S5", "S6"]]
    assert classes.loc["S0", ["pupils_low", "pupils_high", "pupils"]].tolist() == [10, 30, 20]
    assert classes.loc["S3", ["pupils_low", "pupils_high"]].tolist() == [30, 60]
    assert classes.loc["S7", ["pupils_low", "pupils_high"]].tolist() == [90, 400]
    # Two schools in all: no class, no size.
    assert disclosure.size_classes(schools.iloc[:2])["size_class"].isna().all()
    # One school left after the pools joins the class nearest in size.
    four = pd.DataFrame({"pupils": [10, 20, 30, 500], "school_type": ["primary"] * 3 + ["lower_secondary"],
                         "language": "fi"}, index=list("abcd"))
    assert disclosure.size_classes(four)["size_class"].nunique() == 1


def _atoms(rows: list[tuple]) -> pd.DataFrame:
    columns = ["school_id", "municipality_code", "region_code", "school_type", "language", "grade_band", "pupils"]
    frame = pd.DataFrame(rows, columns=columns).assign(school_year=YEAR, month="2024-09")
    frame["lesson_hours"] = frame["pupils"] * 100
    for column in (*contract.HOUR_COLUMNS[1:], *contract.TIER_COLUMNS):
        frame[column] = frame["pupils"] // 3
    return frame


def test_publication_withholds_small_municipalities_and_a_complement_so_the_region_cannot_reveal_them():
    atoms = _atoms([
        ("A1", "100", "01", "primary", "fi", "1-2", 40), ("A2", "100", "01", "primary", "fi", "1-2", 30),
        ("A3", "100", "01", "primary", "fi", "1-2", 20),
        ("B1", "200", "01", "primary", "fi", "1-2", 50), ("B2", "200", "01", "primary", "fi", "1-2", 60),
        ("B3", "200", "01", "primary", "fi", "1-2", 70), ("B4", "200", "01", "primary", "fi", "1-2", 80),
        ("C1", "300", "01", "primary", "fi", "1-2", 25),  # one school: withheld
    ])
    published = disclosure.publish(atoms).set_index(["level", "area", "dimension", "value"])
    assert published.loc[("municipality", "300", "total", ""), "suppressed"]
    # The region minus 100 and 200 would give 300: the smaller of the two (100, 90 pupils) goes too.
    assert published.loc[("municipality", "100", "total", ""), "suppressed"]
    assert not published.loc[("municipality", "200", "total", ""), "suppressed"]
    assert published.loc[("region", "01", "total", ""), "pupils"] == 375
    # Every slice of a withheld municipality is withheld with it (its total would give it away).
    assert published.loc[("municipality", "300", "grade_band", "1-2"), "suppressed"]
    assert np.isnan(published.loc[("municipality", "100", "total", ""), "lesson_hours"])


def test_cells_wholly_inside_the_users_scope_are_never_withheld_and_the_rest_is_judged_without_them():
    atoms = _atoms([
        ("A1", "100", "01", "primary", "fi", "1-2", 3),  # the user's own tiny school
        ("B1", "200", "01", "primary", "fi", "1-2", 50), ("B2", "200", "01", "primary", "fi", "1-2", 60),
        ("B3", "200", "01", "primary", "fi", "1-2", 70),
    ])
    published = disclosure.publish(atoms, known={"A1"}).set_index(["level", "area", "dimension", "value"])
    assert not published.loc[("municipality", "100", "total", ""), "suppressed"]
    assert published.loc[("municipality", "100", "total", ""), "pupils"] == 3
    assert not published.loc[("municipality", "200", "total", ""), "suppressed"]
    # Without the own school, municipality 200 alone would need the region withheld? No: the region's
    # outside part equals 200's, which is published.
    assert not published.loc[("region", "01", "total", ""), "suppressed"]


def test_a_period_with_a_withheld_month_is_withheld_not_summed_short():
    """September withheld, October published: the autumn is withheld, not October alone."""
    rows = pd.DataFrame({"month": ["2024-09", "2024-10"], "pupils": [np.nan, 20.0], "lesson_hours": [np.nan, 1000.0],
                         **{c: [np.nan, 10.0] for c in (*contract.HOUR_COLUMNS[1:], *contract.TIER_COLUMNS)}})
    figures = metrics.figures_by(rows, [])
    assert figures["suppressed"].iloc[0] and np.isnan(figures["absence_rate"].iloc[0])
    assert np.isnan(figures["lesson_hours"].iloc[0])
    # The month on its own is still published.
    assert metrics.figures_by(rows, ["month"])["suppressed"].tolist() == [True, False]


# --- The attacker on the demo data ---------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_users(demo_sqlite):
    schools = queries.schools(demo_sqlite, Scope.everything())
    rector_school = schools[(schools["municipality_code"] == accounts.DEMO_MUNICIPALITY)
                            & (schools["school_type"] == "comprehensive")]["school_id"].iloc[0]
    return accounts.demo_accounts(str(rector_school))


FILTERS = [RowFilter(), *[RowFilter(grades=tuple(g)) for g in contract.GRADE_BANDS.values()],
           *[RowFilter(school_types=(t,)) for t in contract.SCHOOL_TYPES],
           *[RowFilter(languages=(lang,)) for lang in contract.SCHOOL_LANGUAGES]]
UNPUBLISHED = [RowFilter(grades=(1,)), RowFilter(grades=(2, 3, 4, 5, 6)), RowFilter(school_types=("primary", "lower_secondary")),
               RowFilter(school_types=("primary",), languages=("sv",)), RowFilter(grades=(7, 8, 9), languages=("sv",))]
BYS = [[], ["region_code"], ["municipality_code"], ["grade_band"], ["school_type"], ["language"],
       ["region_code", "municipality_code"]]


class Attacker:
    """Everything one user received, as equations over atoms (school × grade band × month)."""

    def __init__(self, atoms: pd.DataFrame, own: set[str], scope_municipalities: set[str] | None):
        self.atoms = atoms.reset_index(drop=True)
        self.column = {c: self.atoms[c].to_numpy() for c in self.atoms.columns}
        self.own = self.atoms["school_id"].isin(own).to_numpy()
        self.scope_municipalities = scope_municipalities
        self.received: dict[bytes, np.ndarray] = {}
        self.withheld: list[tuple[str, np.ndarray]] = []

    def members(self, row: dict, unit: Unit, by: list[str], filters: RowFilter, context: bool) -> np.ndarray:
        c = self.column
        mask = (c["school_year"] == row["school_year"]) & (c["month"] == row["month"])
        if not context and self.scope_municipalities is not None:
            mask &= np.isin(c["municipality_code"], list(self.scope_municipalities))
        if unit.level == "region":
            mask &= c["region_code"] == unit.code
        elif unit.level == "municipality":
            mask &= c["municipality_code"] == unit.code
        for dimension in by:
            mask &= c[dimension] == row[dimension]
        if filters.grades is not None:
            mask &= np.isin(c["grade_band"], list(filters.bands()))
        if filters.school_types is not None:
            mask &= np.isin(c["school_type"], list(filters.school_types))
        if filters.languages is not None:
            mask &= np.isin(c["language"], list(filters.languages))
        return mask

    def receive(self, frame: pd.DataFrame, unit: Unit, by: list[str], filters: RowFilter, context: bool = False,
                what: str = "") -> None:
        pupils, lessons, schools = self.column["pupils"], self.column["lesson_hours"], self.column["school_id"]
        for row in frame.to_dict("records"):
            vector = self.members(row, unit, by, filters, context)
            if row["suppressed"]:
                assert pd.isna(row["lesson_hours"]) and pd.isna(row["pupils"]), f"{what}: a withheld row carries counts"
                self.withheld.append((f"{what} {[row[b] for b in by]} {row['month']}", vector))
                continue
            outside = vector & ~self.own & (pupils > 0)
            count = len(set(schools[outside]))
            # The published rule itself: no cell under 5 pupils, no context cell of 1-2 schools.
            assert count == 0 or (count >= 3 and pupils[outside].sum() >= 5), f"{what}: a cell of {count} schools"
            # The published value is the true sum of its atoms.
            assert row["lesson_hours"] == lessons[vector].sum(), f"{what}: not the sum of its atoms"
            self.received[np.packbits(vector).tobytes()] = vector

    def recoverable(self, targets: list[tuple[str, np.ndarray]]) -> list[str]:
        """The targets whose value the received figures and the user's own data fix exactly."""
        if not targets:
            return []
        unknown = ~self.own
        received = np.array(list(self.received.values()))[:, unknown].astype(float)
        # Atoms that every received figure treats alike can be merged without changing any span.
        _, class_of = np.unique(received.T, axis=0, return_inverse=True)
        class_of = class_of.ravel()
        order = np.argsort(class_of, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(class_of[order]) != 0])
        merged = received[:, order[starts]]
        _, singular, vt = np.linalg.svd(merged, full_matrices=False)
        basis = vt[singular > 1e-9 * singular.max()]
        wanted = np.array([vector[unknown] for _, vector in targets], dtype=float)[:, order]
        low, high = np.minimum.reduceat(wanted, starts, axis=1), np.maximum.reduceat(wanted, starts, axis=1)
        # A target that splits atoms no received figure tells apart cannot be in their span.
        candidates = (low == high).all(axis=1) & wanted.any(axis=1)
        residual = low - (low @ basis.T) @ basis
        solved = candidates & (np.abs(residual).max(axis=1) < 1e-7)
        return [name for (name, _), hit in zip(targets, solved) if hit]

    def school_targets(self) -> list[tuple[str, np.ndarray]]:
        """Every school outside the scope, and every pair in one municipality, month by month."""
        a = self.atoms
        outside = a[~self.own & (a["pupils"] > 0).to_numpy()]
        targets = []
        for (month, municipality), group in outside.groupby(["month", "municipality_code"]):
            ids = sorted(group["school_id"].unique())
            for chosen in [*[(s,) for s in ids], *itertools.combinations(ids, 2)]:
                targets.append((f"schools {chosen} in {month}",
                                (self.column["month"] == month) & np.isin(self.column["school_id"], chosen)))
        return targets


def _attacker(engine, scope: Scope) -> Attacker:
    who = queries.audience(engine, scope)
    atoms = queries.absence_totals(engine, who.population, school_years=[YEAR], raw=True,
                                   by=["school_id", "municipality_code", "region_code", "school_type", "language",
                                       "grade_band"])
    own = set() if scope.anonymised else set(queries.schools(engine, scope)["school_id"])
    return Attacker(atoms, own, set(who.custom_area) if who.custom_area is not None else None)


def _assert_nothing_recovered(attacker: Attacker) -> None:
    assert attacker.received, "the attacker received nothing: the test would prove nothing"
    assert attacker.withheld, "nothing was withheld: the demo scope should have small cells"
    assert attacker.recoverable(attacker.withheld) == []
    assert attacker.recoverable(attacker.school_targets()) == []


def test_a_coordinator_combining_every_trends_view_recovers_no_withheld_cell_and_no_school(demo_sqlite, demo_users):
    scope = demo_users["koordinaattori"].scope()
    attacker = _attacker(demo_sqlite, scope)
    inside = queries.schools(demo_sqlite, Scope("admin", municipality_codes=scope.municipality_codes))
    units = [Unit("all"), *[Unit("region", r) for r in sorted(set(inside["region_code"]))],
             *[Unit("municipality", m) for m in sorted(set(inside["municipality_code"]))]]
    asked = 0
    for unit, filters, by in itertools.product(units, FILTERS, BYS):
        try:
            frame = queries.absence_totals(demo_sqlite, scope, unit=unit, school_years=[YEAR], by=by, filters=filters)
        except NotPublished:
            continue
        asked += 1
        attacker.receive(frame, unit, by, filters, what=f"{unit} {filters} by {by}")
    for filters in FILTERS:
        context = queries.regional_context(demo_sqlite, scope, school_years=[YEAR], filters=filters)
        attacker.receive(context, Unit("all"), ["municipality_code"], filters, context=True, what=f"context {filters}")
    assert asked > 300
    for filters in UNPUBLISHED:
        with pytest.raises(NotPublished):
            queries.absence_totals(demo_sqlite, scope, school_years=[YEAR], filters=filters)
    # The trends page's school-year figures, for every slice and area: each is the whole year's
    # sum of its atoms (never a short sum over published months) or withheld.
    months = sorted(set(attacker.atoms["month"]))
    years_shown = 0
    for unit, filters in itertools.product(units, FILTERS):
        view = trends.TrendView(school_years=(YEAR,), grades=filters.grades or (), school_types=filters.school_types or (),
                                languages=filters.languages or (),
                                area={"all": "", "region": "r:", "municipality": "m:"}[unit.level] + unit.code)
        for row in trends.trends(demo_sqlite, scope, view).yearly.to_dict("records"):
            whole_year = np.logical_or.reduce([attacker.members({"school_year": YEAR, "month": m}, unit, [], filters, False)
                                               for m in months])
            if not row["suppressed"]:
                assert row["lesson_hours"] == attacker.column["lesson_hours"][whole_year].sum(), f"{view}: short sum"
                attacker.received[np.packbits(whole_year).tobytes()] = whole_year
                years_shown += 1
    assert years_shown > 20
    _assert_nothing_recovered(attacker)


def test_a_director_combining_the_regional_context_with_own_data_recovers_no_withheld_cell_and_no_school(
        demo_sqlite, demo_users):
    scope = demo_users["johtaja"].scope()
    attacker = _attacker(demo_sqlite, scope)
    for filters in FILTERS:
        context = queries.regional_context(demo_sqlite, scope, school_years=[YEAR], filters=filters)
        attacker.receive(context, Unit("all"), ["municipality_code"], filters, context=True, what=f"context {filters}")
    own = queries.schools(demo_sqlite, scope)
    for school_id in own["school_id"]:
        line = queries.municipality_months(demo_sqlite, scope, school_id, YEAR)
        attacker.receive(line, Unit("municipality", accounts.DEMO_MUNICIPALITY), [], RowFilter(), context=True,
                         what="municipality line")
    _assert_nothing_recovered(attacker)


def test_a_rectors_municipality_line_never_reveals_another_school(demo_sqlite, demo_users):
    account = demo_users["rehtori"]
    scope = account.scope()
    attacker = _attacker(demo_sqlite, scope)
    line = queries.municipality_months(demo_sqlite, scope, account.school, YEAR)
    attacker.receive(line, Unit("municipality", accounts.DEMO_MUNICIPALITY), [], RowFilter(), context=True,
                     what="municipality line")
    # Hyvinkää's other three schools make a line the rector may see, but no school of it.
    assert attacker.received and not attacker.withheld
    assert attacker.recoverable(attacker.school_targets()) == []


def test_the_attacker_recovers_cells_when_only_primary_suppression_is_applied(demo_sqlite, demo_users, monkeypatch):
    """The attacker has teeth: with the audit's secondary suppression switched off, differencing
    the coordinator's municipality rows against the scope's totals recovers withheld cells."""
    def primary_only(cells, membership, policy):
        outside = cells["outside_schools"] > 0
        return outside & ((cells["outside_pupils"] < policy.min_pupils)
                          | (cells["outside_schools"] < disclosure.MIN_CONTEXT_SCHOOLS))

    monkeypatch.setattr(disclosure, "_suppress_month", primary_only)
    queries._PUBLICATIONS.clear()
    try:
        scope = demo_users["koordinaattori"].scope()
        attacker = _attacker(demo_sqlite, scope)
        for by in ([], ["municipality_code"], ["language"], ["school_type"], ["grade_band"]):
            frame = queries.absence_totals(demo_sqlite, scope, school_years=[YEAR], by=by)
            attacker.receive(frame, Unit("all"), by, RowFilter(), what=f"by {by}")
        assert attacker.recoverable(attacker.withheld)
    finally:
        queries._PUBLICATIONS.clear()



def test_a_coordinators_decks_are_cells_of_the_one_publication_and_a_subset_deck_is_refused(demo_sqlite, demo_users):
    """Review finding: decks of all nine municipalities and of eight of them differenced gave the
    ninth (611, two schools). A deck is now the whole area, one region or one municipality, read
    from the presenter's own publication."""
    from lasnaolo import deck

    coordinator = demo_users["koordinaattori"].scope()
    nine = coordinator.municipality_codes
    with pytest.raises(queries.NotAllowed):
        deck.presentation_scope(coordinator, None, nine - {"611"})
    whole = deck.presentation_scope(coordinator, None, nine)
    pd.testing.assert_frame_equal(queries.absence_totals(demo_sqlite, whole, school_years=[YEAR]),
                                  queries.absence_totals(demo_sqlite, coordinator, school_years=[YEAR]))
    own = queries.absence_totals(demo_sqlite, coordinator, school_years=[YEAR], by=["municipality_code"])
    for municipality in sorted(nine):
        one = deck.presentation_scope(coordinator, None, frozenset({municipality}))
        shown = queries.absence_totals(demo_sqlite, one, school_years=[YEAR])
        cell = own[own["municipality_code"] == municipality].drop(columns="municipality_code").reset_index(drop=True)
        pd.testing.assert_frame_equal(shown, cell)
    small = queries.absence_totals(demo_sqlite, deck.presentation_scope(coordinator, None, frozenset({"611"})),
                                   school_years=[YEAR])
    assert small["suppressed"].all()
    built = deck.build(demo_sqlite, coordinator, deck.DeckRequest(YEAR, municipality_codes=frozenset({"611"}),
                                                                 slides=("headline",)))
    assert built.slides[0].table.iloc[:, 1].isna().all()  # the headline figures are withheld


def _random_regions(seed: int, regions: tuple[str, ...], municipalities: tuple[int, int], schools: tuple[int, int],
                    swedish: float) -> pd.DataFrame:
    """Atoms of made-up regions: per region a random number of municipalities, per municipality of
    schools, each of a random type and language, three grade bands each."""
    rng = np.random.default_rng(seed)
    rows = []
    for region in regions:
        for m in range(int(rng.integers(*municipalities))):
            municipality = f"{region}{m:02d}"
            for s in range(int(rng.integers(*schools))):
                school_type = rng.choice(list(contract.SCHOOL_TYPES))
                language = "sv" if rng.random() < swedish else "fi"
                for band in contract.GRADE_BANDS:
                    rows.append((f"{municipality}-{s}", municipality, region, school_type, language, band,
                                 int(rng.integers(2, 60))))
    return _atoms(rows)


def _cells_judged_as_one_matrix(atoms: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The publication's cells with `suppressed`, and which withheld ones the whole month's matrix
    (not the region-by-region audit that decided them) finds determined."""
    published = disclosure.publish(atoms)
    cells = disclosure._cells(atoms, set(), None).merge(
        published[["level", "area", "dimension", "value", "suppressed"]], on=["level", "area", "dimension", "value"])
    membership = disclosure._membership(cells, atoms, set(), None)
    hidden = cells["suppressed"].to_numpy()
    found, _ = disclosure.determined(membership[~hidden], membership[hidden])
    return cells, found


def test_a_publication_of_several_regions_audited_region_by_region_leaves_no_cell_determined_in_the_whole():
    """Many municipalities of three regions, some of one or two small schools."""
    cells, found = _cells_judged_as_one_matrix(_random_regions(7, ("01", "02", "04"), (15, 16), (1, 8), 0.3))
    assert cells["suppressed"].any() and not cells["suppressed"].all()
    assert not found.any()
    # Here no region cell and no total is withheld: the regions are audited apart.
    assert not cells.loc[cells["level"].isin(["all", "region"]), "suppressed"].any()


def test_regions_whose_slices_are_withheld_are_audited_through_the_totals_and_leave_no_cell_determined():
    """Small regions (a few Swedish-language schools each): region cells are withheld too, so the
    regions are tied through the population's totals."""
    cells, found = _cells_judged_as_one_matrix(_random_regions(11, ("01", "02", "04", "05"), (2, 6), (1, 5), 0.15))
    assert cells.loc[cells["level"] == "region", "suppressed"].any()  # the totals do tie the regions here
    assert not found.any()
    assert not cells["suppressed"].all()


def _cells_by_grouping(atoms: pd.DataFrame, known: set[str], scope_municipalities) -> pd.DataFrame:
    """The publication's cells as plain pandas groupings read them: per school year, month, area
    and value, the summed counts, how many schools (with pupils) and the part outside `known`."""
    atoms = atoms.assign(_outside=~atoms["school_id"].isin(known))
    atoms = atoms.assign(_outside_pupils=atoms["pupils"].where(atoms["_outside"], 0), _present=atoms["pupils"] > 0)
    atoms = atoms.assign(_outside_school=atoms["school_id"].where(atoms["_outside"] & atoms["_present"]),
                         _school=atoms["school_id"].where(atoms["_present"]))
    frames = []
    for level, area in disclosure.cell_areas(atoms, scope_municipalities).items():
        for dimension in ("total", *disclosure.SLICE_DIMENSIONS):
            value = pd.Series("", index=atoms.index) if dimension == "total" else atoms[dimension]
            grouped = atoms.assign(_area=area, _value=value).dropna(subset=["_area"]).groupby(
                ["school_year", "month", "_area", "_value"])
            cells = grouped[list(disclosure.COUNTS)].sum()
            cells["schools"] = grouped["_school"].nunique()
            cells["outside_pupils"] = grouped["_outside_pupils"].sum()
            cells["outside_schools"] = grouped["_outside_school"].nunique()
            cells = cells.reset_index().rename(columns={"_area": "area", "_value": "value"})
            frames.append(cells.assign(level=level, dimension=dimension))
    return pd.concat(frames, ignore_index=True)


def test_the_publications_cells_equal_plain_groupings_for_a_coordinator_a_director_and_made_up_regions(demo_sqlite, demo_users):
    """The cells are summed by integer codes (string groupings were two thirds of a publication's
    time): every cell, count, school count and outside part as plain groupings give them, for an
    audience with a custom area (a coordinator), one with own schools (a director) and made-up
    regions with schools without pupils."""
    checked = 0
    for username in ("koordinaattori", "johtaja"):
        scope = demo_users[username].scope()
        who = queries.audience(demo_sqlite, scope)
        atoms = queries.absence_totals(demo_sqlite, who.population, school_years=["2023-2024", YEAR], raw=True,
                                       by=["school_id", "municipality_code", "region_code", "school_type", "language",
                                           "grade_band"])
        custom = set(who.custom_area) if who.custom_area is not None else None
        pd.testing.assert_frame_equal(disclosure._cells(atoms, set(who.known), custom),
                                      _cells_by_grouping(atoms, set(who.known), custom))
        checked += 1
    made_up = _random_regions(5, ("01", "02"), (3, 6), (1, 6), 0.3)
    made_up.loc[made_up.index[::7], "pupils"] = 0
    known = set(made_up["school_id"].iloc[:20])
    pd.testing.assert_frame_equal(disclosure._cells(made_up, known, {"0100", "0201"}),
                                  _cells_by_grouping(made_up, known, {"0100", "0201"}))
    assert checked == 2


def test_months_sharing_one_membership_matrix_publish_what_each_month_built_alone_publishes(demo_sqlite, demo_users,
                                                                                               monkeypatch):
    """A publication keeps one read-only membership matrix for months of the same cells and classes
    (the coordinator's 110 months had one): its cells and what it withholds equal building each
    month's matrix anew, for a custom area (one matrix) and several regions (region by region)."""
    built = disclosure._membership
    for atoms, known, custom in (
            (queries.absence_totals(demo_sqlite, queries.audience(demo_sqlite, demo_users["koordinaattori"].scope()).population,
                                    school_years=["2023-2024", YEAR], raw=True,
                                    by=["school_id", "municipality_code", "region_code", "school_type", "language",
                                        "grade_band"]), set(), frozenset(accounts.SKY_PILOT_MUNICIPALITIES)),
            (_random_regions(7, ("01", "02", "04"), (4, 7), (1, 6), 0.3), set(), None)):
        shared = disclosure.publish(atoms, known, custom)
        monkeypatch.setattr(disclosure, "_membership", lambda c, a, k, s, memo=None: built(c, a, k, s, None))
        alone = disclosure.publish(atoms, known, custom)
        monkeypatch.setattr(disclosure, "_membership", built)
        pd.testing.assert_frame_equal(shared, alone)
        assert shared["suppressed"].any()
    memo: dict = {}
    cells = disclosure._cells(atoms, set(), None)
    first = cells[cells["month"] == cells["month"].min()].reset_index(drop=True)
    matrix = disclosure._membership(first, atoms[atoms["month"] == first["month"].iloc[0]], set(), None, memo)
    assert disclosure._membership(first, atoms[atoms["month"] == first["month"].iloc[0]], set(), None, memo) is matrix
    with pytest.raises(ValueError):
        matrix[0, 0] = 1.0  # kept read-only: a month cannot change another's matrix
    monkeypatch.setattr(disclosure, "_MEMO_BYTES", matrix.nbytes)  # room for one: the oldest goes first
    other = cells[cells["month"] == cells["month"].min()].iloc[::-1].reset_index(drop=True)
    disclosure._membership(other, atoms[atoms["month"] == first["month"].iloc[0]], set(), None, memo)
    assert len(memo) == 1 and all(kept is not matrix for kept in memo.values())
