"""Sign-in hardening around streamlit-authenticator's credential check (no Streamlit here):

- throttling in the database, so every server process sees it: at most MAX_FAILURES_PER_USERNAME
  failed sign-ins per typed username and MAX_FAILURES_PER_CLIENT per client address within
  WINDOW_SECONDS; beyond that no password is checked until the window has passed. Unknown
  usernames are counted like known ones, so the lockout says nothing about who exists;
- the same work for unknown and known usernames: an unknown one is checked against a dummy bcrypt
  hash of the account file's cost, so the answer takes as long;
- re-login cookies that can be withdrawn: the signed token (HS256, the cookie key) names the user,
  its expiry, a random token id and a fingerprint of the user's password hash. Signing out records
  the token id as revoked (in the database); changing the password in the account file changes the
  hash, and with it the fingerprint every older cookie carries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import bcrypt
import jwt
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine

from lasnaolo.accounts import AuthConfig, bcrypt_cost, is_bcrypt_hash
from lasnaolo.store import LoginFailure, RevokedLogin

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_CLIENT = 20
TOKEN_FIELDS = ("username", "exp_date", "jti", "pwf")


@dataclass(frozen=True)
class Attempt:
    status: str  # ok | failed | locked
    retry_after_minutes: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def normalise(username: str | None) -> str:
    """As streamlit-authenticator reads a typed username: lower case, no surrounding spaces."""
    return (username or "").lower().strip()


def _keyed(config: AuthConfig, kind: str, value: str) -> str:
    return hmac.new(config.cookie_key.encode("utf-8"), f"{kind}:{value}".encode("utf-8"), hashlib.sha256).hexdigest()[:64]


def typical_cost(config: AuthConfig) -> int:
    """The account file's most common bcrypt cost (the higher on a tie); 12 when there is none."""
    costs = Counter(bcrypt_cost(e["password"]) for e in config.credentials["usernames"].values()
                    if is_bcrypt_hash(e.get("password")))
    return max(costs, key=lambda c: (costs[c], c)) if costs else 12


@lru_cache(maxsize=4)
def dummy_hash(cost: int) -> bytes:
    """A bcrypt hash of a random password that nobody knows, checked for unknown usernames."""
    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(cost))


def prepare(config: AuthConfig) -> None:
    """Make the dummy hash before the first sign-in, so that the first unknown username is not
    slower than the rest (making one takes as long as a check)."""
    dummy_hash(typical_cost(config))


def _check_hash(config: AuthConfig, username: str, password: str) -> bool:
    entry = config.credentials["usernames"].get(username)
    return bool(entry) and bcrypt.checkpw(password.strip().encode("utf-8"), entry["password"].encode("ascii"))


def client_address(remote_ip: str | None, forwarded_for: str | None, trusted_proxies: int) -> str | None:
    """The client's address: the connection's own, or - only when `trusted_proxies` reverse proxies
    are configured - the entry of X-Forwarded-For that the outermost trusted proxy wrote (the
    N-th from the right; anything to its left came from the client and may be forged)."""
    if trusted_proxies > 0 and forwarded_for:
        parts = [p.strip() for p in forwarded_for.split(",") if p.strip()]
        if parts:
            return parts[-trusted_proxies] if len(parts) >= trusted_proxies else parts[0]
    return remote_ip or None


def _count(connection, column, key: str, since: float) -> int:
    return connection.execute(select(func.count()).select_from(LoginFailure)
                              .where(column == key, LoginFailure.attempted_at > since)).scalar_one()


def attempt(engine: Engine, config: AuthConfig, username: str, password: str, client: str | None,
            check: Callable[[str, str], bool] | None = None, *, now: float | None = None) -> Attempt:
    """One sign-in attempt. `check(username, password)` is the real credential check (in the app,
    streamlit-authenticator's, which also signs the session in); it runs only for a known username
    and only when neither the username nor the client is locked out.

    The attempt is written first and counted with everyone else's (so parallel attempts from
    several processes cannot slip past the limit together), and deleted if it was refused by a
    lockout or succeeded; a success also forgets the username's earlier failures."""
    now = time.time() if now is None else now
    name = normalise(username)
    user_key = _keyed(config, "user", name)
    client_key = _keyed(config, "client", client) if client else None
    since = now - WINDOW_SECONDS
    with engine.begin() as connection:
        connection.execute(delete(LoginFailure).where(LoginFailure.attempted_at <= since))
        row_id = connection.execute(insert(LoginFailure).values(username_key=user_key, client_key=client_key,
                                                                attempted_at=now)).inserted_primary_key[0]
    with engine.begin() as connection:
        by_user = _count(connection, LoginFailure.username_key, user_key, since)
        by_client = _count(connection, LoginFailure.client_key, client_key, since) if client_key else 0
        if by_user > MAX_FAILURES_PER_USERNAME or by_client > MAX_FAILURES_PER_CLIENT:
            connection.execute(delete(LoginFailure).where(LoginFailure.id == row_id))
            oldest = connection.execute(
                select(func.min(LoginFailure.attempted_at)).where(
                    (LoginFailure.username_key == user_key) if by_user > MAX_FAILURES_PER_USERNAME
                    else (LoginFailure.client_key == client_key), LoginFailure.attempted_at > since)).scalar_one()
            wait = (oldest or now) + WINDOW_SECONDS - now
            return Attempt("locked", max(1, int(-(-wait // 60))))
    if name in config.accounts:
        ok = bool((check or (lambda u, p: _check_hash(config, u, p)))(name, password or ""))
    else:  # the same bcrypt work as for a real user, and the same answer as a wrong password
        bcrypt.checkpw((password or "").encode("utf-8"), dummy_hash(typical_cost(config)))
        ok = False
    if ok:
        with engine.begin() as connection:
            connection.execute(delete(LoginFailure).where(LoginFailure.username_key == user_key))
        return Attempt("ok")
    return Attempt("failed")


def password_fingerprint(config: AuthConfig, username: str) -> str:
    """Changes whenever the user's bcrypt hash in the account file changes."""
    entry = config.credentials["usernames"].get(username) or {}
    return _keyed(config, "password", str(entry.get("password", "")))[:24]


def issue_token(config: AuthConfig, username: str, *, now: float | None = None) -> tuple[str, dict]:
    """A new re-login cookie value for the user and the claims it holds."""
    now = time.time() if now is None else now
    claims = {"username": username, "exp_date": now + config.cookie_expiry_days * 86400,
              "jti": secrets.token_urlsafe(18), "pwf": password_fingerprint(config, username)}
    return jwt.encode(claims, config.cookie_key, algorithm="HS256"), claims


def is_revoked(engine: Engine, token_id: str) -> bool:
    with engine.connect() as connection:
        return connection.execute(select(RevokedLogin.token_id).where(RevokedLogin.token_id == token_id)).first() is not None


def still_valid(claims: Mapping | None, config: AuthConfig, engine: Engine | None, *, now: float | None = None,
                session: bool = False) -> bool:
    """Whether signed claims still sign their user in: a current account, not expired, the
    password unchanged since, and not revoked by signing out. For an open `session` (checked on
    every run) the cookie's expiry does not matter, only the rest."""
    now = time.time() if now is None else now
    if not isinstance(claims, Mapping) or any(field not in claims for field in TOKEN_FIELDS):
        return False
    username = claims["username"]
    if username not in config.accounts or not isinstance(claims["exp_date"], (int, float)):
        return False
    if not session and not claims["exp_date"] > now:
        return False
    if not hmac.compare_digest(str(claims["pwf"]), password_fingerprint(config, username)):
        return False
    return engine is None or not is_revoked(engine, str(claims["jti"]))


def read_login_cookie(raw: str | None, config: AuthConfig, engine: Engine | None, *,
                      now: float | None = None) -> dict | None:
    """The claims of the browser's re-login cookie, or None when it is missing, forged (not signed
    with this installation's cookie key), of the old kind without token id and fingerprint,
    expired, for no current account, from before a password change, or revoked."""
    if not raw:
        return None
    try:
        claims = jwt.decode(raw, config.cookie_key, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    return claims if still_valid(claims, config, engine, now=now) else None


def revoke(engine: Engine, claims: Mapping | None, *, now: float | None = None) -> None:
    """Signing out: the cookie's token id never signs in again; expired revocations are dropped."""
    if not isinstance(claims, Mapping) or not claims.get("jti"):
        return
    now = time.time() if now is None else now
    with engine.begin() as connection:
        connection.execute(delete(RevokedLogin).where(RevokedLogin.expires_at < now))
        if not connection.execute(select(RevokedLogin.token_id).where(RevokedLogin.token_id == claims["jti"])).first():
            connection.execute(insert(RevokedLogin).values(token_id=str(claims["jti"]),
                                                           expires_at=float(claims.get("exp_date") or now)))
