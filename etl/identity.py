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


def hash_key(key_file: Path | None = None) -> bytes:
    env = os.environ.get("WAREHOUSE_HASH_KEY")
    if env:
        return env.encode("utf-8")
    path = Path(os.environ.get("WAREHOUSE_HASH_KEY_FILE") or key_file or DEFAULT_KEY_FILE)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


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
