"""What a viewer may see, and the one predicate builder every query uses.

A `Scope` is built once per request from the viewer's account (`for_role`) and passed to
every warehouse function. Area predicates in SQL come from `Scope.within` only, and
Python-side filters from `Scope.frame`; both refuse an area outside the scope with
`OutOfScope` rather than silently returning nothing or widening. The pages show the
refusal's message (label `scope.refused.<key>` in ui/labels/auth.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

ROLES = ("county", "town", "village", "analyst", "wall", "admin")
# code length of the area a role is tied to (analyst and wall: any level; admin: none)
ROLE_LEVEL = {"county": 6, "town": 9, "village": 12}


class OutOfScope(PermissionError):
    """A request outside the viewer's scope. `key` names the label of the message shown
    (scope.refused.<key>); `params` fill it. str() is the English message for CLIs/logs."""

    ENGLISH = {
        "area": "area {area} is outside scope '{scope}'",
        "case": "case {case_id} is outside scope '{scope}'",
        "grid": "grid {area} is outside scope '{scope}'",
        "person_level": "scope '{scope}' may read aggregates only",
        "admin": "scope '{scope}' is not an administrator",
    }

    def __init__(self, key: str, scope: Scope, **params):
        self.key = key
        self.params = {"scope": scope.name, **params}
        super().__init__(self.ENGLISH[key].format(**self.params))


@dataclass(frozen=True)
class Scope:
    """Area codes (prefixes of the hierarchy) and whether person-level rows may be read.

    A town leader gets Scope(("320813103",), name=..., role="town"); the wall gets WALL,
    which can read aggregates only; only role "admin" reads accounts and the audit log.
    """

    areas: tuple[str, ...] | None = None  # None: every area
    person_level: bool = True
    name: str = "analyst"
    role: str = "analyst"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def allows_area(self, code: str) -> bool:
        return self.areas is None or any(code.startswith(a) for a in self.areas)

    def check_area(self, code: str | None, what: str = "area") -> None:
        """Refuse an area (or grid) outside the scope; None means 'the whole scope'."""
        if code and not self.allows_area(code):
            raise OutOfScope(what, self, area=code)

    def require_person_level(self) -> None:
        if not self.person_level:
            raise OutOfScope("person_level", self)

    def require_admin(self) -> None:
        if not self.is_admin:
            raise OutOfScope("admin", self)

    # ------------------------------------------------------------ the predicate builder

    def within(self, area: str | None = None, column: str = "area_code",
               unlocated: bool = False) -> str:
        """SQL predicate: `column` inside this scope and, when given, inside `area` (a code
        prefix). An area outside the scope is refused. unlocated=True also lets rows whose
        column is NULL through when the viewer sees everything and asks for a county or
        more (posts that name no place belong to the county). Codes are checked to be
        digits, so inlining them is safe."""
        self.check_area(area)
        parts = []
        if self.areas is not None:
            ors = [f"starts_with({column}, '{_digits(a)}')" for a in self.areas]
            parts.append("(" + " OR ".join(ors) + ")" if ors else "FALSE")
        if area:
            parts.append(f"starts_with({column}, '{_digits(area)}')")
        if not parts:
            return "TRUE"
        clause = " AND ".join(parts)
        if unlocated and self.areas is None and len(area or "") <= 6:
            clause = f"({column} IS NULL OR {clause})"
        return clause

    def under(self, code: str, column: str = "area_code") -> str:
        """Rows under `code` as far as the scope reaches: for an area derived from the
        request rather than asked for (a grid's village on the map), which may lie above
        the scope. `code` must still overlap the scope, else it is refused."""
        if self.allows_area(code):
            return self.within(code, column)
        inner = tuple(a for a in self.areas or () if a.startswith(_digits(code)))
        if not inner:
            raise OutOfScope("area", self, area=code)
        return Scope(inner, self.person_level, self.name, self.role).area_clause(column)

    def area_clause(self, column: str = "area_code") -> str:
        """This whole scope as a predicate on `column`."""
        return self.within(None, column)

    def frame(self, df: pl.DataFrame, area: str | None = None, column: str = "area_code") -> pl.DataFrame:
        """The same rule as `within`, on a polars frame already in memory."""
        self.check_area(area)
        if self.areas is not None:
            df = df.filter(pl.any_horizontal([pl.col(column).str.starts_with(a) for a in self.areas]
                                             or [pl.lit(False)]))
        if area:
            df = df.filter(pl.col(column).str.starts_with(area))
        return df


def _digits(code: str) -> str:
    if not isinstance(code, str) or not code.isdigit():
        raise ValueError(f"area code must be digits: {code!r}")
    return code


def for_role(role: str, areas: tuple[str, ...] | list[str] = (), name: str | None = None) -> Scope:
    """The scope of an account: county/town/village tied to one area of their level,
    analyst to a set of areas, wall aggregate-only, admin everything."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    areas = tuple(_digits(a) for a in areas)
    name = name or role
    if role == "admin":
        return Scope(None, True, name, role)
    if role == "wall":
        return Scope(areas or None, False, name, role)
    if role in ROLE_LEVEL:
        want = ROLE_LEVEL[role]
        if role == "county" and not areas:
            return Scope(None, True, name, role)
        if len(areas) != 1 or len(areas[0]) != want:
            raise ValueError(f"role {role} needs exactly one area code of {want} digits")
        return Scope(areas, True, name, role)
    if not areas:  # analyst
        raise ValueError("role analyst needs at least one --area")
    return Scope(areas, True, name, role)


FULL = Scope(name="full", role="admin")
WALL = Scope(person_level=False, name="wall", role="wall")


def unscoped_within(area: str, column: str = "area_code") -> str:
    """The predicate for internal aggregates that must see above the viewer's scope (e.g. the
    parent tables that keep a drill-down's suppression consistent); the caller has checked
    the viewer's scope and only scoped, suppressed results leave it."""
    return _INTERNAL.within(area, column)


_INTERNAL = Scope(name="internal", role="admin")
