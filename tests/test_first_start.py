"""Only the very first start with no configuration builds the demo warehouse (issue #18): a
configured path that is missing, or a default warehouse gone since, shows an error page and
builds nothing there."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.apptest import open_page


def _page():
    import streamlit as st

    from ui.firststart import ensure_warehouse

    ensure_warehouse()
    st.write("page ran")


def _run() -> AppTest:
    at = AppTest.from_function(_page, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def _stub_build(monkeypatch) -> list:
    built = []

    def build(path, **_):
        built.append(path)
        path.write_bytes(b"demo")

    monkeypatch.setattr("etl.demo.build.build", build)
    return built


def test_configured_missing_path_shows_an_error_and_builds_nothing(tmp_path, monkeypatch):
    missing = tmp_path / "county" / "warehouse.duckdb"  # e.g. a disk not mounted
    monkeypatch.setenv("WAREHOUSE_DB", str(missing))
    built = _stub_build(monkeypatch)
    at = _run()
    assert built == [] and not missing.parent.exists()
    assert str(missing) in at.error[0].value
    assert "page ran" not in [m.value for m in at.markdown]


def test_the_first_unconfigured_start_builds_the_demo_once(tmp_path, monkeypatch):
    from warehouse import db

    default = tmp_path / "data" / "warehouse.duckdb"
    monkeypatch.delenv("WAREHOUSE_DB", raising=False)
    monkeypatch.setattr(db, "DEFAULT_DB", default)
    built = _stub_build(monkeypatch)
    at = _run()
    assert built == [default] and "page ran" in [m.value for m in at.markdown]
    default.unlink()  # the default warehouse gone later: not silently replaced by a demo
    at = _run()
    assert built == [default] and not default.exists()
    assert str(default) in at.error[0].value


def test_the_app_on_a_missing_configured_path_shows_the_error_page(tmp_path, monkeypatch):
    missing = tmp_path / "county" / "warehouse.duckdb"
    monkeypatch.setenv("WAREHOUSE_DB", str(missing))
    built = _stub_build(monkeypatch)
    at = open_page("home")
    assert not at.exception and built == [] and not missing.exists()
    assert any(str(missing) in e.value for e in at.error)
