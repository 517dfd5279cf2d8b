"""Sign-in hardening (lasnaolo.login) on a real SQLite file and a real PostgreSQL server: lockout
per username and per client address seen by every server process, the same answer time for
unknown and known usernames, and re-login cookies refused when forged, revoked or from before a
password change."""

from __future__ import annotations

import statistics
import time

import bcrypt
import jwt
import pytest

from lasnaolo import accounts, keys, login, store
from lasnaolo.accounts import Account, AuthConfig

COOKIE_KEY = "r8Yq2vLx-0fKpT3wZs9N_cB6mHj4DgUe1aVoXi7RtPnQ5yWlEkMb"
PASSWORD = "correct horse battery"
NOW = 1_900_000_000.0


@pytest.fixture(scope="module")
def password_hash():
    return accounts.hash_password(PASSWORD)  # cost 12, as `user add` writes it


def production(password_hash: str, key: str = COOKIE_KEY) -> AuthConfig:
    known = {"maija": Account("maija", "Maija", "director", municipalities=("106",)),
             "admin": Account("admin", "Aino", "admin")}
    credentials = {"usernames": {u: {"name": a.name, "password": password_hash, "roles": [a.role]}
                                 for u, a in known.items()}}
    return AuthConfig(False, credentials, known, cookie_key=key)


def second_process(engine):
    """Another server process: its own engine and connections to the same database."""
    return store.make_engine(engine.url.render_as_string(hide_password=False))


def test_five_failures_lock_the_username_in_every_process_even_for_the_right_password(engine, password_hash):
    config = production(password_hash)
    other = second_process(engine)
    for i in range(login.MAX_FAILURES_PER_USERNAME):
        assert login.attempt(engine if i % 2 else other, config, "maija", "wrong", "10.0.0.1", now=NOW + i).status == "failed"
    locked = login.attempt(other, config, "maija", PASSWORD, "10.0.0.2", now=NOW + 10)
    assert locked.status == "locked" and locked.retry_after_minutes == 15
    assert login.attempt(engine, config, "Maija ", PASSWORD, "10.0.0.3", now=NOW + 20).status == "locked"
    assert login.attempt(engine, config, "admin", PASSWORD, "10.0.0.1", now=NOW + 21).ok  # others are not locked
    # after the window the right password works again, and forgets the failures
    assert login.attempt(other, config, "maija", PASSWORD, "10.0.0.1", now=NOW + login.WINDOW_SECONDS + 5).ok
    assert login.attempt(engine, config, "maija", "wrong", "10.0.0.1", now=NOW + login.WINDOW_SECONDS + 6).status == "failed"
    other.dispose()


def test_twenty_failures_from_one_address_lock_that_address_for_every_username(engine, password_hash):
    config = production(password_hash)
    other = second_process(engine)
    for i in range(login.MAX_FAILURES_PER_CLIENT):  # one try per username: no username lock
        assert login.attempt(other if i % 2 else engine, config, f"user{i}", "guess", "192.0.2.7", now=NOW + i).status == "failed"
    assert login.attempt(other, config, "maija", PASSWORD, "192.0.2.7", now=NOW + 30).status == "locked"
    assert login.attempt(engine, config, "maija", PASSWORD, "192.0.2.8", now=NOW + 31).ok
    other.dispose()


def test_unknown_usernames_are_counted_and_locked_like_known_ones(engine, password_hash):
    config = production(password_hash)
    for i in range(login.MAX_FAILURES_PER_USERNAME):
        assert login.attempt(engine, config, "nobody", "x", None, now=NOW + i).status == "failed"
    assert login.attempt(engine, config, "nobody", "x", None, now=NOW + 9).status == "locked"


def test_typed_usernames_and_addresses_are_stored_only_as_keyed_hashes(engine, password_hash):
    login.attempt(engine, production(password_hash), "my-secret-password", "wrong", "198.51.100.4", now=NOW)
    with engine.connect() as connection:
        rows = [tuple(r) for r in connection.execute(store.LoginFailure.__table__.select())]
    assert rows and not [r for r in rows if "my-secret-password" in str(r) or "198.51.100.4" in str(r)]


def timed(config, engine, usernames: tuple[str, str], tries: int = 5) -> tuple[float, float]:
    """Median CPU time of a failed sign-in for each of two usernames, measured in turns. CPU time is
    the work the server does for an answer (what a timing attacker reads off), and unlike wall time
    it is not moved by other processes on a busy test machine."""
    took: dict[str, list[float]] = {u: [] for u in usernames}
    for i in range(tries):
        for username in usernames:
            started = time.process_time()
            assert login.attempt(engine, config, username, "not the password", f"203.0.113.{i}").status == "failed"
            took[username].append(time.process_time() - started)
    return statistics.median(took[usernames[0]]), statistics.median(took[usernames[1]])


def test_unknown_and_known_usernames_answer_within_50_ms_of_each_other(tmp_path, password_hash):
    engine = store.make_engine(f"sqlite:///{tmp_path / 'timing.db'}")
    store.init_database(engine)
    config = production(password_hash)
    login.prepare(config)  # as the app does at start
    known, unknown = timed(config, engine, ("maija", "mallory"))
    assert known > 0.03, "a cost-12 bcrypt check takes tens of milliseconds at least"
    assert abs(known - unknown) < 0.05, (known, unknown)


def test_the_dummy_hash_has_the_account_files_usual_cost(password_hash):
    config = production(password_hash)
    assert login.typical_cost(config) == 12 and accounts.bcrypt_cost(login.dummy_hash(12).decode()) == 12


def test_a_cookie_forged_with_the_demo_key_or_a_known_default_is_refused_in_production(engine, password_hash):
    config = production(password_hash)
    genuine, claims = login.issue_token(config, "admin", now=NOW)
    assert login.read_login_cookie(genuine, config, engine, now=NOW + 60)["username"] == "admin"
    for key in (keys.DEMO_COOKIE_KEY, "some_key", "random_signature_key", keys.DEMO_PSEUDONYM_KEY):
        forged = jwt.encode(claims, key, algorithm="HS256")  # even with the right fields
        assert login.read_login_cookie(forged, config, engine, now=NOW + 60) is None
        old_style = jwt.encode({"username": "admin", "exp_date": NOW + 3600}, key, algorithm="HS256")
        assert login.read_login_cookie(old_style, config, engine, now=NOW + 60) is None


def test_a_cookie_of_the_old_kind_without_token_id_is_refused_even_when_signed(engine, password_hash):
    config = production(password_hash)
    old_style = jwt.encode({"username": "admin", "exp_date": NOW + 3600}, COOKIE_KEY, algorithm="HS256")
    assert login.read_login_cookie(old_style, config, engine, now=NOW) is None


def test_a_cookie_is_refused_after_sign_out_in_every_process(engine, password_hash):
    config = production(password_hash)
    value, claims = login.issue_token(config, "maija", now=NOW)
    kept, _ = login.issue_token(config, "maija", now=NOW)  # another device of the same user
    login.revoke(engine, claims, now=NOW + 10)
    other = second_process(engine)
    assert login.read_login_cookie(value, config, other, now=NOW + 20) is None
    assert not login.still_valid(claims, config, other, now=NOW + 20, session=True)
    assert login.read_login_cookie(kept, config, other, now=NOW + 20)["username"] == "maija"
    login.revoke(other, claims, now=NOW + 30)  # signing out twice is harmless
    other.dispose()


def test_a_cookie_is_refused_after_the_password_hash_changes(engine, password_hash):
    value, claims = login.issue_token(production(password_hash), "maija", now=NOW)
    changed = production(bcrypt.hashpw(b"a new password", bcrypt.gensalt(10)).decode())
    assert login.read_login_cookie(value, changed, engine, now=NOW + 5) is None
    assert not login.still_valid(claims, changed, engine, now=NOW + 5, session=True)
    assert login.read_login_cookie(value, production(password_hash), engine, now=NOW + 5) is not None


def test_an_expired_cookie_or_one_for_a_removed_user_is_refused_but_an_open_session_outlives_expiry(engine, password_hash):
    config = production(password_hash)
    value, claims = login.issue_token(config, "maija", now=NOW)
    assert login.read_login_cookie(value, config, engine, now=NOW + 86400 + 1) is None
    assert login.still_valid(claims, config, engine, now=NOW + 86400 + 1, session=True)
    without_maija = AuthConfig(False, config.credentials, {"admin": config.accounts["admin"]}, cookie_key=COOKIE_KEY)
    assert login.read_login_cookie(value, without_maija, engine, now=NOW + 5) is None
    assert login.read_login_cookie("not-a-token", config, engine) is None and login.read_login_cookie(None, config, engine) is None


@pytest.mark.parametrize("remote, forwarded, proxies, expected", [
    ("192.0.2.1", "10.9.9.9", 0, "192.0.2.1"),           # no proxy configured: the header is ignored
    ("10.0.0.5", "203.0.113.9", 1, "203.0.113.9"),       # one proxy: the address it saw
    ("10.0.0.5", "6.6.6.6, 203.0.113.9", 1, "203.0.113.9"),  # a forged entry to the left is not trusted
    ("10.0.0.5", "203.0.113.9, 10.0.0.4", 2, "203.0.113.9"),
    (None, None, 1, None),
])
def test_the_client_address_trusts_x_forwarded_for_only_as_configured(remote, forwarded, proxies, expected):
    assert login.client_address(remote, forwarded, proxies) == expected
