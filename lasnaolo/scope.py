"""Who may see what: a user's scope, applied by the data-access layer to every query.

A scope of None for a dimension means "no restriction on that dimension"; the role decides
how figures are presented (e.g. coordinators only ever receive anonymised aggregates).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import ColumnElement, and_, true

from lasnaolo import environment
from lasnaolo.store import Municipality, School

from lasnaolo.policy import ROLES, capabilities


@dataclass(frozen=True)
class Scope:
    role: str
    municipality_codes: frozenset[str] | None = None
    region_codes: frozenset[str] | None = None
    school_ids: frozenset[str] | None = None
    # Municipalities whose schools a rector may see by name when comparing (a municipality's own
    # decision, in the account file's settings); elsewhere other schools are pseudonyms.
    named_municipality_codes: frozenset[str] = frozenset()
    # A narrowed view (a deck on one region or municipality) answered from the publication of
    # this wider scope, so that two narrowings are cells of one audited publication.
    published_as: "Scope | None" = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    @classmethod
    def everything(cls) -> "Scope":
        """The administrator's and the command line's scope."""
        return cls(role="admin")

    @property
    def anonymised(self) -> bool:
        return capabilities(self.role).anonymised

    def school_condition(self, school_id=School.school_id, municipality_code=School.municipality_code,
                         region_code=Municipality.region_code) -> ColumnElement[bool]:
        """A condition that keeps rows inside the scope: by default on `school` joined with
        `municipality`; a table that carries these columns itself passes its own."""
        parts = []
        if self.municipality_codes is not None:
            parts.append(municipality_code.in_(sorted(self.municipality_codes)))
        if self.region_codes is not None:
            parts.append(region_code.in_(sorted(self.region_codes)))
        if self.school_ids is not None:
            parts.append(school_id.in_(sorted(self.school_ids)))
        return and_(true(), *parts)


@dataclass(frozen=True)
class Unit:
    """What a figure is about: a school, a municipality, a region or all data in scope."""

    level: str  # school | municipality | region | all
    code: str = ""

    def condition(self, school_id=School.school_id, municipality_code=School.municipality_code,
                  region_code=Municipality.region_code) -> ColumnElement[bool]:
        if self.level == "school":
            return school_id == self.code
        if self.level == "municipality":
            return municipality_code == self.code
        if self.level == "region":
            return region_code == self.code
        return true()

    def __str__(self) -> str:
        return f"{self.level}:{self.code}" if self.code else self.level


PSEUDONYM_LENGTH = 12  # base32 characters after the "P": 60 bits


class PseudonymKeyMissing(RuntimeError):
    """A configured installation without a (strong) pseudonym key of its own: nothing is shown."""


_pseudonym_key: bytes | None = None


def configure_pseudonym_key(key: str | None) -> None:
    """The installation's pseudonym key for this process, set by the app and the command line at
    start (lasnaolo.settings decides it: the public demo key only in demo mode). None forgets it."""
    global _pseudonym_key
    _pseudonym_key = key.encode("utf-8") if key is not None else None


@lru_cache(maxsize=8)
def _key_from_environment(key: str | None, database_configured: bool) -> bytes:
    from lasnaolo import keys

    if key is None and not database_configured:
        return keys.DEMO_PSEUDONYM_KEY.encode("utf-8")  # nothing configured: demo data, demo key
    problem = keys.key_problem(key, "the pseudonym key", f"the environment variable {environment.PSEUDONYM_KEY}")
    if problem:
        raise PseudonymKeyMissing(problem)
    return str(key).encode("utf-8")


def _current_key() -> bytes:
    if _pseudonym_key is not None:
        return _pseudonym_key
    # Not configured by the app or the command line (a library call, a test): the environment
    # decides, and a configured database without a strong key of its own gets no pseudonyms at all.
    return _key_from_environment(os.environ.get(environment.PSEUDONYM_KEY), bool(environment.database_url(os.environ)))


def demo_key_in_use() -> bool:
    """Whether pseudonyms and kept results are keyed with the public demo key (nothing configured).
    PseudonymKeyMissing when a configured database has no strong key."""
    from lasnaolo import keys

    return _current_key() == keys.DEMO_PSEUDONYM_KEY.encode("utf-8")


def derived_key(purpose: str) -> bytes:
    """A key for another use than pseudonyms (signing stored results), derived from the
    installation's pseudonym key: it changes when that key changes, and reveals nothing of it."""
    return hmac.new(_current_key(), f"derived\x1f{purpose}".encode("utf-8"), hashlib.sha256).digest()


# Each kind of view keys its own pseudonyms, so a school's pseudonym among a rector's peers is not
# its pseudonym in the risk profiles or the impact lists: facts shown beside it on one page cannot
# be joined to facts shown on another.
PEERS, PROFILES, IMPACT, DELIVERIES = "peers", "profiles", "impact", "deliveries"
PURPOSES = ("", PEERS, PROFILES, IMPACT, DELIVERIES)


def pseudonym(school_id: str, purpose: str = "", period: str = "") -> str:
    """A stable pseudonym for a school in one kind of view (`purpose`), and, where `period` is
    given, in that one period only (a school year: the same school in two years' views cannot be
    linked, so two years' size classes cannot be intersected): "P" and 12 base32
    characters (60 bits) of a keyed hash (HMAC-SHA-256), so that it cannot be reversed by hashing the
    official school codes without the installation's key, and two of even 100,000 schools share one
    with a chance of about 4 in a billion."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown pseudonym purpose {purpose!r}")
    message = f"{purpose}\x1f{school_id}" if purpose else school_id
    if period:
        message = f"{message}\x1f{period}"
    return _keyed_name(_current_key(), message)


@lru_cache(maxsize=1 << 17)
def _keyed_name(key: bytes, message: str) -> str:
    # Cached: a national publication names the same schools hundreds of thousands of times.
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
    return "P" + base64.b32encode(digest).decode("ascii")[:PSEUDONYM_LENGTH]
