"""Row validation per kind: parse text cells into typed columns and flag bad rows.

`validate(frame, kind, ctx)` returns the typed good rows and one record per bad row (line,
column, reason key). All checks are polars expressions over whole columns: no per-row
Python on the hot path.
"""

from etl.rules.engine import Context, Validated, validate
from etl.rules.kinds import KINDS, KindSpec
from etl.rules.reasons import REASONS, reason_zh

__all__ = ["KINDS", "REASONS", "Context", "KindSpec", "Validated", "reason_zh", "validate"]
