"""Re-identification by a public register: an attacker who holds every school's exact size (and
type and language) and knows exactly which schools a view shows under pseudonyms tries to put a
name to each pseudonymous row from the size shown beside it. Every row must fit at least three
of the schools shown, the same pseudonym must show the same size wherever it appears, and the
attack must work against sizes rounded to ten (so that the test can fail)."""

from __future__ import annotations

import pandas as pd
import pytest

from lasnaolo import accounts, comparison, disclosure, queries, risk
from lasnaolo.scope import PEERS, PROFILES, Scope, pseudonym
from lasnaolo.stats import PeerCriteria

YEAR = "2024-2025"
REGION = "01"


@pytest.fixture(scope="module")
def register(demo_sqlite) -> pd.DataFrame:
    """Every school of the region with its pupils in the year's first month (what the comparison's
    classes are built from) and at the year's latest month (what the risk profiles use)."""
    rows = queries.absence_totals(demo_sqlite, Scope("admin", region_codes=frozenset({REGION})), school_years=[YEAR],
                                  by=["school_id"]).dropna(subset=["pupils"]).sort_values("month")
    first = rows.groupby("school_id")["pupils"].first().rename("first_month")
    latest = risk.school_features(demo_sqlite, Scope.everything(), YEAR)[0]["pupils"].rename("latest")
    return pd.concat([first, latest], axis=1)


def candidates(shown: pd.DataFrame, sizes: pd.Series) -> pd.Series:
    """For each row shown by a size class, how many of the schools shown (true ids in `school_id`)
    have a size inside its range."""
    shown_sizes = sizes.reindex(shown["school_id"]).to_numpy()
    return pd.Series([int(((shown_sizes >= low) & (shown_sizes <= high)).sum())
                      for low, high in zip(shown["pupils_low"], shown["pupils_high"])], index=shown.index)


def rounded_to_ten_matches(shown: pd.DataFrame, sizes: pd.Series) -> int:
    """How many shown schools the same attacker would name if each stood beside its size to the
    nearest ten (the representation before size classes)."""
    rounded = (sizes.reindex(shown["school_id"]) / 10).round() * 10
    return int(sum((rounded == value).sum() == 1 for value in rounded))


def peers_shown(result: comparison.Comparison, real_id: dict[str, str]) -> pd.DataFrame:
    units = result.funnel.units
    shown = units[units["school_name"].isna()].copy()
    shown["school_id"] = shown["school_key"].map(real_id)
    assert shown["school_id"].notna().all()
    return shown


def region_schools(engine) -> pd.DataFrame:
    return queries.schools(engine, Scope("admin", region_codes=frozenset({REGION})))


def test_every_peer_a_rector_sees_fits_three_or_more_shown_schools_of_the_register(demo_sqlite, register):
    schools = region_schools(demo_sqlite)
    real_id = {pseudonym(s, PEERS, YEAR): s for s in schools["school_id"]}
    fewest, rows, named_before = [], 0, 0
    for school in schools["school_id"].iloc[::4]:
        rector = Scope("rector", school_ids=frozenset({school}))
        for criteria in (PeerCriteria(), PeerCriteria(size_factor=1.5), PeerCriteria(False, False, 5.0)):
            try:
                result = comparison.compare(demo_sqlite, rector, school, YEAR, criteria)
            except comparison.NoData:
                continue
            if result.funnel is None:
                continue
            shown = peers_shown(result, real_id)
            sizes = register["first_month"]
            # The range shown holds the school's own size.
            assert (shown["pupils_low"] <= sizes.reindex(shown["school_id"]).to_numpy()).all()
            assert (sizes.reindex(shown["school_id"]).to_numpy() <= shown["pupils_high"]).all()
            fewest.append(candidates(shown, sizes).min())
            rows += len(shown)
            named_before += rounded_to_ten_matches(shown, sizes)
    assert rows > 300
    assert min(fewest) >= disclosure.SIZE_CLASS_MIN
    # Against sizes to the nearest ten the same attacker names schools: the check has teeth.
    assert named_before > 20


def test_one_pseudonym_shows_one_size_class_in_every_comparison_of_a_year(demo_sqlite):
    director = accounts.demo_accounts(None)["johtaja"].scope()
    own = queries.schools(demo_sqlite, director)["school_id"]
    ranges: dict[str, set] = {}
    for school in own:
        for criteria in (PeerCriteria(), PeerCriteria(False, False, None)):
            try:
                result = comparison.compare(demo_sqlite, director, school, YEAR, criteria)
            except comparison.NoData:
                continue
            for frame in (result.schools, result.funnel.units if result.funnel is not None else result.schools):
                hidden = frame[frame["school_name"].isna()]
                for key, low, high in zip(hidden["school_key"], hidden["pupils_low"], hidden["pupils_high"]):
                    ranges.setdefault(key, set()).add((low, high))
    assert len(ranges) > 50
    assert all(len(shown) == 1 for shown in ranges.values())


@pytest.mark.parametrize("username", ["koordinaattori", "johtaja"])
def test_every_school_in_a_risk_profile_fits_three_or_more_shown_schools_of_the_register(demo_sqlite, register, username):
    scope = accounts.demo_accounts(None)[username].scope()
    result = risk.analyse(demo_sqlite, scope, YEAR).clusters
    everyone = queries.schools(demo_sqlite, Scope.everything())["school_id"]
    real_id = {pseudonym(pseudonym(s, PROFILES), PROFILES, YEAR): s for s in everyone}
    shown = result.schools[result.schools["school_name"].isna()].dropna(subset=["pupils"]).copy()
    shown["school_id"] = shown.index.map(real_id)
    assert len(shown) >= risk.MIN_SCHOOLS and shown["school_id"].notna().all()
    sizes = register["latest"]
    assert candidates(shown, sizes).min() >= disclosure.SIZE_CLASS_MIN
    assert rounded_to_ten_matches(shown, sizes) > 3


def test_nothing_counted_in_pupils_type_or_language_stands_beside_a_pseudonym(demo_sqlite):
    """A tier share to 0.1 of n pupils fits only a few n: beside a size class it named schools
    (review finding). No share of pupils, no type and no language leaves beside a pseudonym."""
    director = accounts.demo_accounts(None)["johtaja"].scope()
    school = queries.schools(demo_sqlite, director)["school_id"].iloc[0]
    result = comparison.compare(demo_sqlite, director, school, YEAR, PeerCriteria(False, False, None))
    profiles = risk.analyse(demo_sqlite, director, YEAR).clusters.schools
    frames = [result.schools, result.funnel.units, result.peers.members, profiles]
    for frame in frames:
        hidden = frame[frame["school_name"].isna()]
        assert len(hidden) >= risk.MIN_SCHOOLS
        shares = [c for c in hidden.columns if c.startswith("tier") and c.endswith(("_share", "_ratio"))]
        assert shares and hidden[shares].isna().all().all()
        for column in ("school_type", "language"):
            if column in hidden.columns:
                assert hidden[column].isna().all()
    # The risk model's own inputs stay inside: a pseudonymous row carries the page's figures only.
    assert profiles.loc[profiles["school_name"].isna(), list(risk.ABSENCE_FEATURES)].isna().all().all()


def test_a_school_shows_the_same_size_class_on_the_comparison_and_risk_pages(demo_sqlite):
    """Directors and steering groups see both pages, which show each school's absence rate to 0.1:
    linking rows by it must not intersect two different classes (review finding). One partition."""
    director = accounts.demo_accounts(None)["johtaja"].scope()
    everyone = queries.schools(demo_sqlite, Scope.everything())["school_id"]
    school = queries.schools(demo_sqlite, director)["school_id"].iloc[0]
    funnel = comparison.compare(demo_sqlite, director, school, YEAR, PeerCriteria(False, False, None)).funnel.units
    peers_real = {pseudonym(s, PEERS, YEAR): s for s in everyone}
    shown_in_comparison = {peers_real[k]: (lo, hi) for k, lo, hi, name in
                           zip(funnel["school_key"], funnel["pupils_low"], funnel["pupils_high"], funnel["school_name"])
                           if not isinstance(name, str)}
    profiles = risk.analyse(demo_sqlite, director, YEAR).clusters.schools
    profiles_real = {pseudonym(pseudonym(s, PROFILES), PROFILES, YEAR): s for s in everyone}
    hidden = profiles[profiles["school_name"].isna()]
    shown_in_risk = {profiles_real[k]: (lo, hi) for k, lo, hi in zip(hidden.index, hidden["pupils_low"], hidden["pupils_high"])}
    both = set(shown_in_comparison) & set(shown_in_risk)
    assert len(both) > 100
    assert all(shown_in_comparison[s] == shown_in_risk[s] for s in both)


@pytest.fixture(scope="module")
def demo_with_squares(demo_data, tmp_path_factory):
    """The demo data delivered with the optional squared pupil shares (every tiered pupil at its
    band's lower edge, every other pupil at 2 %): what a source that computes them exports."""
    from lasnaolo import importer, store

    folder = tmp_path_factory.mktemp("demo-squares")
    demo_data.write(folder)
    absences = pd.read_csv(folder / "absences.csv", dtype={"school_id": str})
    tiers = absences["tier1_pupils"] + absences["tier2_pupils"] + absences["tier3_pupils"]
    floor = 25 * absences["tier1_pupils"] + 100 * absences["tier2_pupils"] + 400 * absences["tier3_pupils"]
    absences["pupil_share_squares"] = (floor + 4 * (absences["pupils"] - tiers)).round(2)
    absences.to_csv(folder / "absences.csv", index=False)
    engine = store.make_engine(f"sqlite:///{folder / 'lasnaolo.db'}")
    store.init_database(engine)
    importer.import_paths(engine, sorted(folder.glob("*.csv")))
    yield engine
    engine.dispose()


def test_the_squared_pupil_shares_never_stand_beside_a_pseudonym(demo_with_squares):
    """Beside a pupils' count the squares give a school's spread of absence: a fingerprint. They
    are used for the verdicts only."""
    director = accounts.demo_accounts(None)["johtaja"].scope()
    school = queries.schools(demo_with_squares, director)["school_id"].iloc[0]
    region = queries.regional_peers(demo_with_squares, director, frozenset({REGION}), YEAR)
    assert region[region["in_scope"]]["pupil_share_squares"].notna().any()  # the data do carry them
    result = comparison.compare(demo_with_squares, director, school, YEAR, PeerCriteria(False, False, None))
    frames = [result.schools, result.funnel.units, result.peers.members]
    for frame in frames:
        hidden = frame[frame["school_name"].isna()]
        assert len(hidden) >= 5
        if "pupil_share_squares" in hidden.columns:
            assert hidden["pupil_share_squares"].isna().all()
    profiles = risk.analyse(demo_with_squares, director, YEAR).clusters.schools
    assert "pupil_share_squares" not in profiles.columns
