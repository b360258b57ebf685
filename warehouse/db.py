"""Where the warehouse lives, how readers connect, and how writers swap a new file in.

Readers never open the live path itself. DuckDB caches one database instance per path in a
process, so a reconnect after `os.replace` would hand back the old data. Each reader instead
opens a hard link named after the file's inode (`.snapshots/<name>.<inode>.duckdb`): a new
build has a new inode, hence a new path and a fresh instance, while sessions still holding
the old link keep reading the old data without errors.

Writers build or load into a private copy, CHECKPOINT, close, then `os.replace` it over the
live path, so the app never sees a half-written warehouse and a crash leaves the old one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
import time
import uuid
from pathlib import Path

import duckdb
import polars as pl

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = PROJECT_ROOT / "data" / "warehouse.duckdb"


def db_path(path: str | os.PathLike | None = None) -> Path:
    """The warehouse file: explicit --db, else $WAREHOUSE_DB, else data/warehouse.duckdb."""
    chosen = path or os.environ.get("WAREHOUSE_DB") or DEFAULT_DB
    return Path(chosen).expanduser().resolve()


def beside(name: str, env: str, path: str | os.PathLike | None = None, warehouse=None) -> Path:
    """A file kept outside the warehouse file (accounts, audit log, identity-provider map):
    explicit path, else $env, else `name` beside the warehouse, so a rebuild never drops it."""
    chosen = path or os.environ.get(env) or db_path(warehouse).parent / name
    return Path(chosen).expanduser().resolve()


def version(path: str | os.PathLike | None = None) -> str | None:
    """A token that changes whenever a new warehouse file is swapped in (None: no warehouse)."""
    try:
        st = db_path(path).stat()
    except FileNotFoundError:
        return None
    return f"{st.st_ino}-{st.st_mtime_ns}"


# ---------------------------------------------------------------- readers

_lock = threading.Lock()
_readers: dict[Path, tuple[str, duckdb.DuckDBPyConnection]] = {}


def _snapshot_link(live: Path, ver: str) -> Path:
    snap_dir = live.parent / ".snapshots"
    snap_dir.mkdir(exist_ok=True)
    link = snap_dir / f"{live.stem}.{ver}.duckdb"
    if not link.exists():
        tmp = snap_dir / f".{uuid.uuid4().hex}"
        try:
            os.link(live, tmp)
        except OSError:  # file systems without hard links: a copy is slower but correct
            shutil.copyfile(live, tmp)
        os.replace(tmp, link)
    for old in snap_dir.glob(f"{live.stem}.*.duckdb"):
        if old != link:  # open readers keep their inode; unlinking only drops the name
            with contextlib.suppress(OSError):
                old.unlink()
    return link


def reader(path: str | os.PathLike | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only cursor on the current warehouse; reconnects after a swap.

    Returns a fresh cursor each call so threads (Streamlit sessions) never share one.
    """
    live = db_path(path)
    ver = version(live)
    if ver is None:
        raise WarehouseMissing(live)
    with _lock:
        cached = _readers.get(live)
        if cached is None or cached[0] != ver:
            con = duckdb.connect(str(_snapshot_link(live, ver)), read_only=True)
            _readers[live] = (ver, con)
            # The replaced connection is left to the garbage collector: cursors other threads
            # still hold on it keep working until they are dropped.
        return _readers[live][1].cursor()


def has_tables(con: duckdb.DuckDBPyConnection, *names: str) -> bool:
    """Whether the warehouse on `con` has all these tables (an older build may lack newer ones)."""
    found = con.sql("SELECT count(DISTINCT table_name) FROM information_schema.tables "
                    "WHERE list_contains(?, table_name)", params=[list(names)]).fetchall()[0][0]
    return found == len(set(names))


def close_readers() -> None:
    with _lock:
        for _, con in _readers.values():
            with contextlib.suppress(Exception):
                con.close()
        _readers.clear()


class WarehouseMissing(FileNotFoundError):
    def __init__(self, path: Path):
        super().__init__(f"no warehouse at {path}: build one with `python -m etl demo --db {path}`")
        self.path = path


def query(sql: str, params: list | dict | None = None, path=None) -> pl.DataFrame:
    """Run one read-only query and return polars."""
    return reader(path).sql(sql, params=params).pl()


# ---------------------------------------------------------------- writers


@contextlib.contextmanager
def writing(path: str | os.PathLike | None = None, *, start_empty: bool = False):
    """Yield a read-write connection on a private copy; swap it in only on success.

    start_empty=True starts from an empty file (a full build); otherwise from a copy of the
    live warehouse (a load). Any exception, Ctrl-C or a full disk included, leaves the live
    file untouched and removes the copy. The copy is flock-ed while it is in use, so a copy
    left by a killed writer (kill -9 skips every cleanup) is told apart and swept by the next
    writer or app start (sweep_stale).
    """
    live = db_path(path)
    live.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(live)
    work = live.with_name(f".{live.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}")
    # private from its first byte (0600: it holds personal data); held locked until removed
    held = os.open(work, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    con = None
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        if start_empty or not live.exists():
            os.unlink(work)  # DuckDB creates its file itself (it refuses an empty one) …
            con = duckdb.connect(str(work))
            os.close(held)
            held = os.open(work, os.O_RDONLY)  # … and that new file is the one held locked
            fcntl.flock(held, fcntl.LOCK_EX)
        else:
            shutil.copyfile(live, work)  # into the existing file: its mode stays
            con = duckdb.connect(str(work))
        os.chmod(work, 0o600)
        yield con
        con.execute("CHECKPOINT")
        con.close()
        os.chmod(work, 0o600)
        os.replace(work, live)
    except BaseException:
        if con is not None:
            with contextlib.suppress(Exception):
                con.close()
        raise
    finally:
        for leftover in (work, work.with_name(work.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        os.close(held)


TMP_SUFFIX = ".tmp"
STALE_GRACE_S = 60  # an unlocked copy this young may be one a live writer is just locking


def sweep_stale(path: str | os.PathLike | None = None) -> list[Path]:
    """Remove private copies (and their WAL files) left by killed writers of this warehouse:
    only copies no process holds locked, whose writer's pid is gone or which are older than
    STALE_GRACE_S. Returns what was removed."""
    live = db_path(path)
    removed = []
    for tmp in live.parent.glob(f".{live.name}.*{TMP_SUFFIX}"):
        if _stale(tmp):
            for f in (tmp, tmp.with_name(tmp.name + ".wal")):
                with contextlib.suppress(FileNotFoundError):
                    f.unlink()
                    removed.append(f)
    for wal in live.parent.glob(f".{live.name}.*{TMP_SUFFIX}.wal"):
        if not wal.with_name(wal.name[:-4]).exists():  # its copy is gone: nobody can use it
            with contextlib.suppress(FileNotFoundError):
                wal.unlink()
                removed.append(wal)
    return removed


def _stale(tmp: Path) -> bool:
    try:
        fd = os.open(tmp, os.O_RDONLY)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a writer is using it
        try:
            young = time.time() - os.fstat(fd).st_mtime < STALE_GRACE_S
        except OSError:
            return False
        return not young or not _alive(_writer_pid(tmp))
    finally:
        os.close(fd)  # releases the probe's lock


def _writer_pid(tmp: Path) -> int | None:
    parts = tmp.name.split(".")  # .<name>.<pid>.<hex>.tmp
    try:
        return int(parts[-3])
    except (IndexError, ValueError):
        return None


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


# ---------------------------------------------------------------- viewer scope
# The scope and its one predicate builder live in warehouse/scope.py; re-exported here
# because every query module imports them from db.
from warehouse.scope import FULL, WALL, OutOfScope, Scope, _digits  # noqa: E402,F401
