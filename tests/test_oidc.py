"""The claim map (warehouse/oidc.py): an ID token's claims -> role and areas, or a refusal."""

from __future__ import annotations

import pytest

from warehouse import oidc
from warehouse.scope import for_role

CFG = {"username_claim": "preferred_username", "role_claim": "realm_access.roles", "area_claim": "dept",
       "roles": {"town-leader": "town", "centre": "county", "analysts": "analyst"},
       "areas": {"高良涧街道": "320813001"},
       "users": {"li.si": {"role": "analyst", "areas": ["320813001", "320813002"]}}}


def _claims(name, roles, dept=None, **kw):
    c = {"sub": f"sub-{name}", "preferred_username": name, "realm_access": {"roles": roles}, **kw}
    if dept is not None:
        c["dept"] = dept
    return c


def test_claims_map_to_a_role_and_its_areas():
    town = oidc.identify(_claims("wang", ["offline_access", "town-leader"], "320813001"), cfg=CFG)
    assert (town.name, town.role, town.areas, town.subject) == ("wang", "town", ("320813001",), "sub-wang")
    assert town.scope == for_role("town", ["320813001"], "wang")
    by_name = oidc.identify(_claims("zhao", ["town-leader"], "高良涧街道"), cfg=CFG)  # a department name
    assert by_name.areas == ("320813001",)
    county = oidc.identify(_claims("chen", ["centre"]), cfg=CFG)
    assert county.role == "county" and county.scope.areas is None
    two = oidc.identify(_claims("an", ["analysts"], ["320813001", "320813002"]), cfg=CFG)
    assert two.areas == ("320813001", "320813002")
    listed = oidc.identify(_claims("li.si", []), cfg=CFG)  # a per-user entry wins over claims
    assert (listed.role, listed.areas) == ("analyst", ("320813001", "320813002"))
    # no map of role values: the claim must name a role itself; name falls back to email, then sub
    plain = oidc.identify({"sub": "s1", "email": "a@b.cn", "role": "village", "area_code": "320813001201"},
                          cfg={})
    assert (plain.name, plain.role, plain.areas) == ("a@b.cn", "village", ("320813001201",))


@pytest.mark.parametrize("claims, why", [
    (_claims("x", ["offline_access"]), "no role"),                       # no mapped role
    (_claims("x", []), "no role"),
    (_claims("x", ["town-leader", "centre"], "320813001"), "several roles"),
    (_claims("x", ["town-leader"]), "exactly one area"),                # a town with no area
    (_claims("x", ["town-leader"], "320813"), "exactly one area"),      # a county code for a town
    (_claims("x", ["town-leader"], "某某街道"), "neither a code"),        # a name not in the map
    (_claims("x", ["town-leader"], "320813001' OR 1=1"), "neither a code"),
    ({"role": "town", "area_code": "320813001"}, "names nobody"),
])
def test_unknown_or_ill_fitting_claims_are_refused(claims, why):
    with pytest.raises(oidc.Unmapped, match=why):
        oidc.identify(claims, cfg=CFG)


def test_the_file_beside_the_warehouse_switches_it_on_and_is_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DB", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.delenv("WAREHOUSE_OIDC", raising=False)
    assert not oidc.configured() and oidc.config_path() == tmp_path / "oidc.yaml"
    (tmp_path / "oidc.yaml").write_text("provider: keycloak\nroles: {leaders: county}\n", encoding="utf-8")
    assert oidc.configured() and oidc.provider() == "keycloak"
    for bad, words in (("roles: {leaders: boss}\n", "unknown role"), ("role_clam: x\n", "unknown setting"),
                       ("roles: [a, b]\n", "must be a mapping"), ("a: [\n", "oidc.yaml")):
        (tmp_path / "oidc.yaml").write_text(bad, encoding="utf-8")
        with pytest.raises(oidc.ConfigError, match=words):
            oidc.load()
    other = tmp_path / "elsewhere.yaml"
    other.write_text("{}\n", encoding="utf-8")
    monkeypatch.setenv("WAREHOUSE_OIDC", str(other))
    assert oidc.config_path() == other and oidc.load() == {}
