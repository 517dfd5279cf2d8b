"""Who may see what: a user's scope, applied by the data-access layer to every query.

A scope of None for a dimension means "no restriction on that dimension"; the role decides
how figures are presented (e.g. coordinators only ever receive anonymised aggregates).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, true

from lasnaolo.store import Municipality, School

ROLES = ("admin", "director", "rector", "steering_group", "coordinator")


@dataclass(frozen=True)
class Scope:
    role: str
    municipality_codes: frozenset[str] | None = None
    region_codes: frozenset[str] | None = None
    school_ids: frozenset[str] | None = None
    # Municipalities whose schools a rector may see by name when comparing (a municipality's own
    # decision, in the account file's settings); elsewhere other schools are pseudonyms.
    named_municipality_codes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    @classmethod
    def everything(cls) -> "Scope":
        """The administrator's and the command line's scope."""
        return cls(role="admin")

    @property
    def anonymised(self) -> bool:
        return self.role == "coordinator"

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


PSEUDONYM_KEY_ENV = "LASNAOLO_PSEUDONYM_KEY"
_DEMO_PSEUDONYM_KEY = "lasnaolo-demo-pseudonyms"


def pseudonym(school_id: str) -> str:
    """A stable pseudonym for a school: a keyed hash, so that it cannot be reversed by hashing the
    (few thousand) official school codes without the installation's key."""
    key = os.environ.get(PSEUDONYM_KEY_ENV, _DEMO_PSEUDONYM_KEY).encode()
    return "P" + hmac.new(key, school_id.encode(), hashlib.sha256).hexdigest()[:6].upper()
