"""Personal identifiers: GB 11643 ID validation, keyed hashing, masking.

ID numbers are never stored: only HMAC-SHA256(key, id) is. The key comes from
$WAREHOUSE_HASH_KEY or a secret file created on first use with 0600 permissions, so the
same person hashes to the same key across loads but the hash cannot be reversed by trying
all 10^18 IDs without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
DEFAULT_KEY_FILE = Path(__file__).resolve().parent.parent / "data" / ".hash_key"


def check_digit(first17: str) -> str:
    """GB 11643-1999 ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def id_problem(id_number: str) -> str | None:
    """None when valid, else an English reason key (see etl.rules reasons)."""
    s = (id_number or "").strip().upper()
    if len(s) != 18 or not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
        return "id_format"
    if check_digit(s[:17]) != s[17]:
        return "id_check_digit"
    y, m, d = int(s[6:10]), int(s[10:12]), int(s[12:14])
    if not (1900 <= y <= 2100 and 1 <= m <= 12 and 1 <= d <= 31):
        return "id_birth_date"
    return None


MIN_KEY_CHARS = 16  # a key an attacker can guess makes every person_key reversible
FINGERPRINT_TABLE = "hash_key_fingerprint"


class KeyProblem(ValueError):
    """The hash key is missing, too short, or not the one the warehouse was built with."""


def hash_key(key_file: Path | None = None) -> bytes:
    """The HMAC key: $WAREHOUSE_HASH_KEY, else the key file (created atomically on first use:
    concurrent first users all read the same full key, never an empty file)."""
    if "WAREHOUSE_HASH_KEY" in os.environ:
        return _checked(os.environ["WAREHOUSE_HASH_KEY"], "WAREHOUSE_HASH_KEY")
    path = Path(os.environ.get("WAREHOUSE_HASH_KEY_FILE") or key_file or DEFAULT_KEY_FILE)
    if not path.exists():
        _create_key_file(path)
    return _checked(path.read_text().strip(), str(path))


def _checked(key: str, where: str) -> bytes:
    key = key.strip()
    if len(key) < MIN_KEY_CHARS:
        raise KeyProblem(f"hash key from {where} is {'empty' if not key else f'{len(key)} characters'}: "
                         f"it needs at least {MIN_KEY_CHARS} (use the warehouse's original key)")
    return key.encode("utf-8")


def _create_key_file(path: Path) -> None:
    """Write a new key to a private temp file, then link it into place: the link either makes
    the full file appear at once or fails because another process got there first (then its
    key is used). Mode 0600 from the start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def fingerprint(key: bytes) -> str:
    """A short public fingerprint of the key (it tells keys apart, it does not reveal one)."""
    return hmac.new(key, b"warehouse hash key fingerprint v1", hashlib.sha256).hexdigest()[:16]


def check_warehouse_key(con, key: bytes) -> None:
    """Refuse a key other than the one the warehouse's person keys were made with (a new key
    silently counts every resident twice); the first load or build records its fingerprint."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {FINGERPRINT_TABLE} (fingerprint VARCHAR NOT NULL)")
    stored = con.sql(f"SELECT fingerprint FROM {FINGERPRINT_TABLE}").fetchall()
    mine = fingerprint(key)
    if not stored:
        con.execute(f"INSERT INTO {FINGERPRINT_TABLE} VALUES (?)", [mine])
    elif stored[0][0] != mine:
        raise KeyProblem(f"the hash key (fingerprint {mine}) is not the one this warehouse was built with "
                         f"(fingerprint {stored[0][0]}): set WAREHOUSE_HASH_KEY or the key file to the "
                         "original key; a different key would count every resident again")


def person_key(id_number: str, key: bytes) -> str:
    return hmac.new(key, id_number.strip().upper().encode("ascii"), hashlib.sha256).hexdigest()


def mask_name(name: str | None) -> str | None:
    """张三 → 张*, 欧阳娜娜 → 欧**娜: first and (for 3+ chars) last character kept."""
    if not name:
        return name
    name = name.strip()
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str | None) -> str | None:
    """13812345678 → 138****5678; anything else keeps only its last 4 characters."""
    if not phone:
        return phone
    digits = "".join(ch for ch in str(phone) if ch.isdigit())
    if len(digits) == 11:
        return digits[:3] + "****" + digits[-4:]
    return "*" * max(len(digits) - 4, 0) + digits[-4:]
