"""Who may see what: a user's scope, applied by the data-access layer to every query.

A scope of None for a dimension means "no restriction on that dimension"; the role decides
how figures are presented (e.g. coordinators only ever receive anonymised aggregates).
"""

from __future__ import annotations

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

    def school_condition(self) -> ColumnElement[bool]:
        """A condition on `school` (joined with `municipality`) that keeps rows inside the scope."""
        parts = []
        if self.municipality_codes is not None:
            parts.append(School.municipality_code.in_(sorted(self.municipality_codes)))
        if self.region_codes is not None:
            parts.append(Municipality.region_code.in_(sorted(self.region_codes)))
        if self.school_ids is not None:
            parts.append(School.school_id.in_(sorted(self.school_ids)))
        return and_(true(), *parts)


@dataclass(frozen=True)
class Unit:
    """What a figure is about: a school, a municipality, a region or all data in scope."""

    level: str  # school | municipality | region | all
    code: str = ""

    def condition(self) -> ColumnElement[bool]:
        if self.level == "school":
            return School.school_id == self.code
        if self.level == "municipality":
            return School.municipality_code == self.code
        if self.level == "region":
            return Municipality.region_code == self.code
        return true()

    def __str__(self) -> str:
        return f"{self.level}:{self.code}" if self.code else self.level
