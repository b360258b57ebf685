"""Who an identity-provider (OIDC) login is in this app: the claim map.

Where a county has an identity provider (统一身份认证, Keycloak …), the app logs people in
with Streamlit's own `st.login` instead of local accounts. The provider says who someone is
(the ID token's claims); this file says what that person may see: a role and area(s), read
from claims through a small YAML file beside the warehouse (`oidc.yaml`, or `$WAREHOUSE_OIDC`).
Its presence switches the app to identity-provider login. Format (README, "Identity provider"):

    provider: keycloak            # optional: [auth.keycloak] in secrets.toml (default: [auth])
    username_claim: preferred_username   # shown and audited (falls back to email, then sub)
    role_claim: realm_access.roles       # a claim or a dotted path; a string or a list
    area_claim: area_code                # a code, a list of codes, or names listed in `areas`
    roles: {zzzx-leader: county, town-leader: town}   # claim value -> role; others are ignored
    areas: {高良涧街道: "320813001"}                    # optional: claim value -> area code
    users: {zhang.san: {role: analyst, areas: ["320813001"]}}  # optional: per-user entries

A login whose claims give no role, several roles, or areas that do not fit the role is
refused (`Unmapped`), never given a default: an unknown person sees nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from warehouse import db, yamlfile
from warehouse.scope import ROLES, Scope, for_role

KEYS = {"provider", "username_claim", "role_claim", "area_claim", "roles", "areas", "users"}


class Unmapped(PermissionError):
    """The provider vouched for this person, but the claim map gives them no (valid) role."""


class ConfigError(ValueError):
    """The claim map file is unreadable or malformed (the app then lets nobody in)."""


@dataclass(frozen=True)
class Identity:
    name: str
    role: str
    areas: tuple[str, ...]
    subject: str

    @property
    def scope(self) -> Scope:
        return for_role(self.role, self.areas, self.name)


def config_path(path: str | os.PathLike | None = None) -> Path:
    """Explicit path, else $WAREHOUSE_OIDC, else oidc.yaml beside the warehouse."""
    return db.beside("oidc.yaml", "WAREHOUSE_OIDC", path)


def configured(path=None) -> bool:
    """Whether logins go through the identity provider (the claim map file exists)."""
    return config_path(path).is_file()


def load(path=None) -> dict:
    p = config_path(path)
    try:
        cfg = yamlfile.read(p) or {}
    except Exception as e:  # noqa: BLE001 - any parse error: name the file
        raise ConfigError(f"{p}: {e}") from e
    if not isinstance(cfg, dict):
        raise ConfigError(f"{p}: expected a mapping of settings")
    unknown = set(cfg) - KEYS
    if unknown:
        raise ConfigError(f"{p}: unknown setting(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(KEYS))}")
    for key in ("roles", "areas", "users"):
        if not isinstance(cfg.get(key) or {}, dict):
            raise ConfigError(f"{p}: {key} must be a mapping")
    bad = sorted({str(r) for r in (cfg.get("roles") or {}).values()} - set(ROLES))
    if bad:
        raise ConfigError(f"{p}: roles maps to unknown role(s) {', '.join(bad)}; one of {', '.join(ROLES)}")
    return cfg


def provider(path=None) -> str | None:
    """The provider name for st.login (None: the [auth] section itself)."""
    return load(path).get("provider") or None


def _claim(claims: dict, dotted: str):
    value = claims
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _values(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def identify(claims: dict, path=None, cfg: dict | None = None) -> Identity:
    """The role and areas of a logged-in person from their ID token's claims, or Unmapped."""
    cfg = load(path) if cfg is None else cfg
    subject = str(claims.get("sub") or "")
    name = next((str(claims[c]) for c in (cfg.get("username_claim") or "preferred_username", "email", "sub")
                 if claims.get(c)), "")
    if not name:
        raise Unmapped("the identity token names nobody (no username, email or sub claim)")
    users = cfg.get("users") or {}
    entry = users.get(name) or users.get(subject)
    if entry:
        role, raw_areas = str(entry.get("role", "")), _values(entry.get("areas"))
    else:
        found = _values(_claim(claims, cfg.get("role_claim") or "role"))
        table = cfg.get("roles")
        roles = sorted({str(table[v]) for v in found if v in table} if table else {v for v in found if v in ROLES})
        if not roles:
            raise Unmapped(f"{name}: no role claim that the claim map knows ({', '.join(found) or 'none'})")
        if len(roles) > 1:
            raise Unmapped(f"{name}: several roles ({', '.join(roles)}); the claim map must give one")
        role, raw_areas = roles[0], _values(_claim(claims, cfg.get("area_claim") or "area_code"))
    names = {str(k): str(v) for k, v in (cfg.get("areas") or {}).items()}
    areas = []
    for a in raw_areas:
        code = a if a.isdigit() else names.get(a)
        if code is None or not code.isdigit():
            raise Unmapped(f"{name}: area {a!r} is neither a code nor listed in the claim map's areas")
        areas.append(code)
    try:
        for_role(role, areas, name)
    except ValueError as e:
        raise Unmapped(f"{name}: {e}") from None
    return Identity(name, role, tuple(areas), subject)


__all__ = ["ConfigError", "Identity", "Unmapped", "config_path", "configured", "identify", "load", "provider"]
