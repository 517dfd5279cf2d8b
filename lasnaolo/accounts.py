"""Users, roles and what each may open: the account file, its checks, demo accounts and page access.

The account file is YAML outside git (its path from `.streamlit/secrets.toml` or the environment),
in the shape streamlit-authenticator reads, plus Läsnäolo's own keys per user: `role` and the
scope (`municipalities`, `regions`, `school`). Passwords are bcrypt hashes only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import bcrypt
import yaml

from lasnaolo import environment, keys, policy, reference
from lasnaolo.scope import ROLES, Scope

if TYPE_CHECKING:
    import pandas as pd

# In the account file's settings: municipalities that let rectors see other schools by name.
NAMES_SETTING = "rectors_see_school_names_in"
MIN_COOKIE_KEY_LENGTH = keys.MIN_KEY_LENGTH
MIN_BCRYPT_COST = 10  # cost 4 takes about a millisecond: a stolen file would fall to guessing at once
_BCRYPT = re.compile(r"^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$")

PAGE_ROLES = policy.PAGE_ROLES  # lasnaolo/policy.py: every role's capabilities in one table

# Demo mode (no account file configured): one account per role, password "demo".
DEMO_PASSWORD_HASH = "$2b$12$7hG824tHLPL1We2b8YdBhemyx0x/.MRruI7P.f/X1Fr9aMvpRzyoO"
DEMO_MUNICIPALITY = "106"  # Hyvinkää, a SKY pilot municipality in the demo region
SKY_PILOT_MUNICIPALITIES = ("106", "186", "245", "257", "505", "543", "611", "753", "858")


@dataclass(frozen=True)
class Account:
    username: str
    name: str
    role: str
    municipalities: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    school: str | None = None
    named_municipalities: tuple[str, ...] = ()  # from settings: whose schools a rector sees by name

    def scope(self) -> Scope:
        """The rows this account may see; enforced by every query (lasnaolo.queries)."""
        if self.role == "admin":
            return Scope.everything()
        if self.role == "rector":
            return Scope("rector", school_ids=frozenset({self.school or ""}),
                         named_municipality_codes=frozenset(self.named_municipalities))
        return Scope(
            self.role,
            municipality_codes=frozenset(self.municipalities) if self.municipalities else None,
            region_codes=frozenset(self.regions) if self.regions else None,
        )


@dataclass(frozen=True)
class AuthConfig:
    demo_mode: bool
    credentials: dict  # streamlit-authenticator's {"usernames": {...}}
    accounts: dict[str, Account]
    cookie_name: str = "lasnaolo_auth"
    cookie_key: str = keys.DEMO_COOKIE_KEY
    cookie_expiry_days: float = 1.0
    settings: dict = field(default_factory=dict)
    trusted_proxies: int = 0  # reverse proxies that append to X-Forwarded-For (0: the header is ignored)


class ConfigError(Exception):
    """The app must not start: every message says what is wrong and how to fix it."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("\n".join(messages))


def pages_for(role: str) -> list[str]:
    return [page for page, roles in PAGE_ROLES.items() if role in roles]


def may_open(role: str, page: str) -> bool:
    return role in PAGE_ROLES.get(page, frozenset())


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(12)).decode("ascii")


def is_bcrypt_hash(text: object) -> bool:
    return isinstance(text, str) and bool(_BCRYPT.match(text))


def bcrypt_cost(password_hash: str) -> int:
    """The cost (log2 of the rounds) of a bcrypt hash."""
    match = _BCRYPT.match(password_hash)
    if not match:
        raise ValueError("not a bcrypt hash")
    return int(match.group(1))


DEMO_MUNICIPALITY_SCOPE = Scope("director", municipality_codes=frozenset({DEMO_MUNICIPALITY}))


def demo_rector_school(schools: "pd.DataFrame") -> str | None:
    """The demo rector's school among the demo municipality's schools (`DEMO_MUNICIPALITY_SCOPE`):
    the first comprehensive school, else the first school."""
    if schools.empty:
        return None
    upper = schools[schools["school_type"] == "comprehensive"]
    return str((upper if not upper.empty else schools)["school_id"].iloc[0])


def demo_accounts(rector_school: str | None) -> dict[str, Account]:
    """The demo accounts; the rector's school is picked from the demo data at start."""
    return {
        a.username: a
        for a in (
            Account("admin", "Aino Ylläpito", "admin"),
            Account("johtaja", "Juhani Johtaja", "director", municipalities=(DEMO_MUNICIPALITY,)),
            Account("rehtori", "Riitta Rehtori", "rector", municipalities=(DEMO_MUNICIPALITY,), school=rector_school),
            Account("ohjausryhma", "Olli Ohjaaja", "steering_group", municipalities=(DEMO_MUNICIPALITY,)),
            Account("koordinaattori", "Kaisa Koordinaattori", "coordinator", municipalities=SKY_PILOT_MUNICIPALITIES),
        )
    }


def _credentials(accounts: Mapping[str, Account], hashes: Mapping[str, str]) -> dict:
    return {
        "usernames": {
            username: {"name": account.name, "password": hashes[username], "email": f"{username}@example.invalid",
                       "roles": [account.role]}
            for username, account in accounts.items()
        }
    }


def demo_config(rector_school: str | None) -> AuthConfig:
    accounts = demo_accounts(rector_school)
    return AuthConfig(True, _credentials(accounts, {u: DEMO_PASSWORD_HASH for u in accounts}), accounts)


def _account_problems(username: str, entry: Mapping) -> list[str]:
    where = f"user {username!r}"
    problems = []
    if not is_bcrypt_hash(entry.get("password")):
        problems.append(f"{where}: password is not a bcrypt hash (plain-text passwords are refused); "
                        f"hash it with `python -m lasnaolo user hash-password`")
    elif bcrypt_cost(entry["password"]) < MIN_BCRYPT_COST:
        problems.append(f"{where}: the password hash has bcrypt cost {bcrypt_cost(entry['password'])}, "
                        f"below the minimum {MIN_BCRYPT_COST} (a stolen file could be guessed quickly); "
                        f"hash the password again with `python -m lasnaolo user hash-password` (cost 12)")
    role = entry.get("role")
    if role not in ROLES:
        problems.append(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
        return problems
    lists = {}
    for key in ("municipalities", "regions"):  # `municipalities: 106` would read as a number, not a list
        value = entry.get(key) or []
        if not isinstance(value, list):
            problems.append(f"{where}: `{key}` must be a list, e.g. {key}: [\"106\"]; found {value!r}")
            value = []
        lists[key] = [str(v) for v in value]
    municipalities, regions = lists["municipalities"], lists["regions"]
    unknown = [m for m in municipalities if m not in reference.municipality_codes()]
    if unknown:
        problems.append(f"{where}: unknown municipality codes {', '.join(unknown)}")
    unknown_regions = [r for r in regions if r not in set(reference.regions()["region_code"])]
    if unknown_regions:
        problems.append(f"{where}: unknown region codes {', '.join(unknown_regions)}")
    if role in ("director", "steering_group") and not municipalities:
        problems.append(f"{where}: a {role} needs `municipalities` (a list of 3-digit codes)")
    if role == "rector" and not entry.get("school"):
        problems.append(f"{where}: a rector needs `school` (the school_id)")
    if role == "coordinator" and not (municipalities or regions):
        problems.append(f"{where}: a coordinator needs `municipalities` or `regions`")
    return problems


def load_config(secrets: Mapping, environ: Mapping[str, str], *, production: bool | None = None) -> AuthConfig | None:
    """The production configuration, or None for demo mode.

    `production` is lasnaolo.settings' decision (anything configured); when not given, an account
    file, a cookie key or a database in `secrets` or `environ` decides it. Raises ConfigError when
    production lacks an account file, or anything about the file or the cookie key is unsafe.
    """
    auth = dict(secrets.get("auth", {})) if secrets else {}
    path_text = auth.get("users_file") or environ.get(environment.USERS_FILE)
    cookie_key = str(auth.get("cookie_key") or environ.get(environment.COOKIE_KEY) or "")
    if production is None:
        production = bool(path_text or cookie_key or secrets or environment.database_url(environ))
    if not production:
        return None
    if not path_text:
        raise ConfigError([f"no account file is configured, and outside demo mode there are no demo accounts: "
                           f"set [auth] users_file in .streamlit/secrets.toml or the environment variable "
                           f"{environment.USERS_FILE}, and create the file with `python -m lasnaolo user add --file …`"])
    problem = keys.key_problem(cookie_key, "the cookie key",
                               f"[auth] cookie_key in .streamlit/secrets.toml or {environment.COOKIE_KEY}")
    accounts, users, settings = _read_file(Path(path_text).expanduser(), [problem] if problem else [])
    credentials = _credentials(accounts, {str(u): e["password"] for u, e in users.items()})  # `123:` reads as a number
    return AuthConfig(False, credentials, accounts, cookie_key=cookie_key,
                      cookie_expiry_days=float(auth.get("cookie_expiry_days", 1.0)), settings=settings)


def file_accounts(path: Path) -> dict[str, Account]:
    """The accounts of an account file, checked as the app checks them (ConfigError with every
    problem): what an import computes the first views of (`lasnaolo.first_views`)."""
    return _read_file(path, [])[0]


# The account file is read on every page run (a changed or removed account counts at once):
# libyaml's parser where PyYAML has it, ten times faster than the pure-Python one (2 ms a run for
# five users, growing with the file); the same safe subset of YAML.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_file(path: Path, problems: list[str]) -> tuple[dict[str, Account], dict, dict]:
    """The accounts, the raw users and the settings of the account file; ConfigError with
    `problems` and every problem of the file."""
    document: dict = {}
    if not path.is_file():
        problems.append(f"the account file {path} does not exist; create it with `python -m lasnaolo user add --file {path} …`")
    else:
        try:
            document = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER) or {}
        except UnicodeDecodeError as error:
            problems.append(f"the account file {path} is not UTF-8 text: {error}")
        except yaml.YAMLError as error:
            problems.append(f"the account file {path} is not valid YAML: {error}")
    # Each level must be a mapping: a list or a text where one is expected is said, not a crash.
    credentials = document.get("credentials") if isinstance(document, dict) else None
    users = credentials.get("usernames") if isinstance(credentials, dict) else None
    if not isinstance(document, dict) or (credentials is not None and not isinstance(credentials, dict)) \
            or (users is not None and not isinstance(users, dict)):
        problems.append(f"the account file {path} must hold a mapping credentials: usernames: <username>: <its keys>")
        users = {}
    users = users or {}
    if path.is_file() and not users and not problems:
        problems.append(f"the account file {path} has no users under credentials.usernames")
    for username, entry in users.items():
        if entry is not None and not isinstance(entry, dict):
            problems.append(f"user {username}: expected the user's keys (name, password, role, …), found {entry!r:.40}")
            continue
        problems.extend(_account_problems(str(username), entry or {}))
    if isinstance(document, dict) and not isinstance(document.get("settings") or {}, dict):
        problems.append(f"the account file {path}: settings must be a mapping")
    if problems:
        raise ConfigError(problems)
    settings = dict(document.get("settings") or {})
    if not isinstance(settings.get(NAMES_SETTING) or [], list):
        raise ConfigError([f"settings.{NAMES_SETTING} must be a list of 3-digit municipality codes"])
    named = tuple(str(m) for m in settings.get(NAMES_SETTING) or [])
    unknown_named = [m for m in named if m not in reference.municipality_codes()]
    if unknown_named:
        raise ConfigError([f"settings.{NAMES_SETTING}: unknown municipality codes {', '.join(unknown_named)}"])
    accounts = {
        str(u): Account(str(u), str(e.get("name") or u), e["role"],
                        tuple(str(m) for m in e.get("municipalities") or []),
                        tuple(str(r) for r in e.get("regions") or []),
                        str(e["school"]) if e.get("school") else None, named)
        for u, e in users.items()
    }
    return accounts, users, settings


def add_user(path: Path, username: str, name: str, password: str, role: str, *,
             municipalities: tuple[str, ...] = (), regions: tuple[str, ...] = (), school: str | None = None) -> None:
    """Add or replace one user in the account file, storing only the bcrypt hash."""
    try:  # read as the app reads it
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER) if path.is_file() else None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError([f"the account file {path} cannot be read: {error}"]) from None
    document = document or {}
    users = document.setdefault("credentials", {}).setdefault("usernames", {})
    entry = {"name": name, "email": f"{username}@example.invalid", "password": hash_password(password), "role": role,
             "municipalities": list(municipalities), "regions": list(regions), "school": school}
    problems = _account_problems(username, entry)
    if problems:
        raise ConfigError(problems)
    users[username] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
