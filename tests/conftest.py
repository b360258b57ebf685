"""Shared fixtures: a small demo warehouse built once per test process, and the county one.

Tests never touch data/: WAREHOUSE_DB points at a temporary file and the hash key is fixed.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

import pytest

from tests.apptest import as_on_a_live_server

AS_OF = datetime(2026, 11, 24, 10, 0)
SEED = 20261124
os.environ.setdefault("WAREHOUSE_HASH_KEY", "test-key-not-secret")
# accounts and audit log of the tests' own: none configured (demo mode), never data/'s
_STATE = tempfile.mkdtemp(prefix="wh-state-")
os.environ["WAREHOUSE_ACCOUNTS"] = os.path.join(_STATE, "accounts.sqlite")
os.environ["WAREHOUSE_AUDIT"] = os.path.join(_STATE, "audit.sqlite")
os.environ["ACCOUNTS_TEST_HASH"] = "1"  # cheap argon2 settings: tests hash many passwords
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def small_db(tmp_path_factory) -> Path:
    """A small demo (≈50k residents, 16k cases, ~800 grids) built once; WAREHOUSE_DB → it."""
    from etl.demo.build import build

    path = tmp_path_factory.mktemp("wh") / "small.duckdb"
    build(path, seed=SEED, scale="small", as_of=AS_OF, show_progress=False)
    os.environ["WAREHOUSE_DB"] = str(path)
    return path


@pytest.fixture(scope="session")
def county_db(tmp_path_factory) -> Path:
    """The full county-scale demo (≈380k residents, 120k cases), for realism checks."""
    from etl.demo.build import build

    path = tmp_path_factory.mktemp("county") / "county.duckdb"
    build(path, seed=SEED, scale="county", as_of=AS_OF, show_progress=False)
    return path


@pytest.fixture()
def con(small_db):
    import duckdb

    c = duckdb.connect(str(small_db), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The tiny hand-built warehouse of the load tests (tests/load_fixture.py), once per module."""
    from tests.load_fixture import load_fixture

    return load_fixture(tmp_path_factory.mktemp("load") / "template.duckdb")


@pytest.fixture()
def wh(template, tmp_path) -> Path:
    """A private copy of it for one test to load into."""
    import shutil

    path = tmp_path / "wh.duckdb"
    shutil.copy(template, path)
    return path


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def app_url(small_db):
    """A live Streamlit server on the small demo (browser tests share one per process)."""
    from tests.browser import streamlit_server

    with streamlit_server(small_db) as url:
        yield url


@pytest.fixture(scope="session")
def chromium():
    from tests.browser import browser

    with browser() as b:
        yield b


as_on_a_live_server()  # see tests/apptest.py
