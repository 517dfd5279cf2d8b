"""Demo or production, and whether production may start: one decision from the parsed secrets,
any problem reading them, and the environment (pure functions; the Streamlit shell only reports).

Demo mode only with nothing configured at all: no secrets file, no `LASNAOLO_DB_URL`, no account
file, no cookie or pseudonym key in the environment, no `LASNAOLO_` variable Läsnäolo does not read
(a mistyped name). Then the app runs on the embedded SQLite file
with the demo data, the demo accounts and the public demo keys. Anything configured means
production, which fails closed: an unreadable secrets file, an unknown key in `[auth]` or
`[privacy]`, an unknown `LASNAOLO_` variable, a missing account file, a weak or known cookie or pseudonym key, or a weak password
hash stops the app with every reason and what to do.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, replace

from lasnaolo import accounts, contract, environment, keys
from lasnaolo.accounts import AuthConfig, ConfigError

# Every key Läsnäolo reads from its sections of .streamlit/secrets.toml; anything else there is a typo.
KNOWN_KEYS = {
    "auth": ("users_file", "cookie_key", "cookie_expiry_days", "trusted_proxies"),
    "privacy": ("pseudonym_key",),
}


@dataclass(frozen=True)
class SecretsFile:
    """What Streamlit found: the merged secrets, the secrets files that exist, and why they could
    not be read (None when they could)."""

    values: Mapping
    paths: tuple[str, ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class Settings:
    demo_mode: bool
    auth: AuthConfig | None  # None in demo mode: the demo accounts depend on the demo data
    pseudonym_key: str
    trusted_proxies: int = 0  # how many reverse proxies append to X-Forwarded-For; 0: ignore the header
    # The installation's suppression (never looser than the product's): what contract.SUPPRESSION,
    # read from the same environment when the package loaded, holds for every module.
    suppression: contract.SuppressionPolicy = contract.PRODUCT_SUPPRESSION


def is_production(secrets: SecretsFile, environ: Mapping[str, str]) -> bool:
    return bool(secrets.paths or secrets.values or secrets.problem
                or any(environ.get(name) for name in environment.PRODUCTION) or environment.unknown(environ))


def _where(secrets: SecretsFile) -> str:
    return " or ".join(secrets.paths) or ".streamlit/secrets.toml"


def secrets_problems(secrets: SecretsFile) -> list[str]:
    """Unknown keys in Läsnäolo's sections, and its keys outside them."""
    where = _where(secrets)
    problems = []
    for section, known in KNOWN_KEYS.items():
        value = secrets.values.get(section)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            problems.append(f"{where}: `{section}` must be a section ([{section}]), not a single value")
            continue
        for key in value:
            if key not in known:
                guess = difflib.get_close_matches(str(key), known, n=1)
                hint = f"did you mean `{guess[0]}`? " if guess else ""
                problems.append(f"{where}: unknown key `{key}` in [{section}]; {hint}"
                                f"the keys read there are {', '.join(known)}")
    for section, known in KNOWN_KEYS.items():
        for key in known:
            if key in secrets.values:
                problems.append(f"{where}: `{key}` is at the top level and is not read there; "
                                f"move it under [{section}]")
    for key in secrets.values:
        # Streamlit copies the file's top-level values into the environment, over what is set there:
        # a stale LASNAOLO_MIN_PUPILS = 5 would quietly replace the service's stricter 10 (review finding).
        if str(key).upper().startswith(environment.PREFIX):
            problems.append(f"{where}: `{key}` is at the top level, where Streamlit would copy it over the "
                            f"environment variable of that name; set it in the environment only")
    return problems


def environment_problems(environ: Mapping[str, str]) -> list[str]:
    """A variable named like Läsnäolo's that nothing reads: most likely a typo of one that is."""
    problems = []
    for name in environment.unknown(environ):
        guess = difflib.get_close_matches(name.upper(), environment.KNOWN, n=1)
        hint = f"did you mean `{guess[0]}`? " if guess else ""
        problems.append(f"the environment variable `{name}` is not one Läsnäolo reads; {hint}the ones it reads are "
                        f"{', '.join(n for n in environment.KNOWN if n not in environment.TEST_HARNESS)}")
    return problems


def _trusted_proxies(auth: Mapping, environ: Mapping[str, str], problems: list[str]) -> int:
    raw = auth.get("trusted_proxies", environ.get(environment.TRUSTED_PROXIES, 0))
    try:
        count = int(raw)
        if count < 0 or isinstance(raw, bool):
            raise ValueError
    except (TypeError, ValueError):
        problems.append(f"trusted_proxies is {raw!r}: give the number of reverse proxies in front of the app "
                        f"that add to X-Forwarded-For (0 when there is none)")
        return 0
    return count


def load(secrets: SecretsFile, environ: Mapping[str, str]) -> Settings:
    """The settings to start with, or ConfigError with every reason the app must not start."""
    suppression, threshold_problems = contract.installation_suppression(environ)
    if not is_production(secrets, environ):
        if threshold_problems:  # even in demo mode: a mistyped threshold would withhold everything unexplained
            raise ConfigError(threshold_problems)
        return Settings(True, None, keys.DEMO_PSEUDONYM_KEY, suppression=suppression)
    if secrets.problem:
        raise ConfigError([f"the secrets file {_where(secrets)} cannot be read: {secrets.problem}. "
                           f"Fix the file (TOML: sections like [auth], values in quotes) or remove it; "
                           f"until then the app does not start"])
    problems = secrets_problems(secrets) + environment_problems(environ) + threshold_problems
    auth = secrets.values.get("auth") if isinstance(secrets.values.get("auth"), Mapping) else {}
    privacy = secrets.values.get("privacy") if isinstance(secrets.values.get("privacy"), Mapping) else {}
    try:
        float(auth.get("cookie_expiry_days", 1.0))
    except (TypeError, ValueError):
        problems.append(f"[auth] cookie_expiry_days is {auth.get('cookie_expiry_days')!r}: give a number of days")
        auth = {k: v for k, v in auth.items() if k != "cookie_expiry_days"}
    trusted = _trusted_proxies(auth, environ, problems)
    pseudonym_key = str(privacy.get("pseudonym_key") or environ.get(environment.PSEUDONYM_KEY) or "")
    problem = keys.key_problem(pseudonym_key, "the pseudonym key",
                               f"[privacy] pseudonym_key in .streamlit/secrets.toml or {environment.PSEUDONYM_KEY}")
    if problem:
        problems.append(problem)
    config = None
    try:
        config = accounts.load_config({"auth": dict(auth)}, environ, production=True)
    except ConfigError as error:
        problems = error.messages + problems
    if problems:
        raise ConfigError(problems)
    return Settings(False, replace(config, trusted_proxies=trusted), pseudonym_key, trusted, suppression)

