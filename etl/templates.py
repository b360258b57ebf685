"""XLSX templates a county fills in: one per kind, headers as the loader knows them.

Sheet 1 holds the header row (required fields marked *, which the loader ignores when
matching); sheet 说明 lists each field, whether it is required, the other headers accepted
for it and the values allowed. `python -m etl templates DIR` writes them all; the 数据管理
page offers them for download.
"""

from __future__ import annotations

import io

from etl import profiles
from etl.rules.kinds import KINDS

# the order a new county loads its files in (each checks codes the ones before it wrote)
LOAD_ORDER = ("areas", "boundaries", "grid_staff", "persons", "cases", "case_events", "opinion", "ssra",
              "surveys", "petitions")
INPUT_ONLY = {"town_name", "village_name", "grid_name"}


def fields(kind: str) -> list[dict]:
    """One row per field: field, header (the first known Chinese header), required, other
    accepted headers, allowed values."""
    union = profiles.union(kind)
    out = []
    for f in KINDS[kind].fields:
        aliases = union.columns.get(f.name) or []
        values = sorted(set(f.values.values())) if f.values else []
        out.append({"field": f.name, "header": aliases[0] if aliases else f.name, "required": f.required,
                    "also": " / ".join(aliases[1:6]), "values": "、".join(values), "type": f.type})
    return out


def template_xlsx(kind: str) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    need = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    ws = wb.add_worksheet(kind)
    rows = fields(kind)
    for i, r in enumerate(rows):
        ws.write(0, i, ("*" if r["required"] else "") + r["header"], need if r["required"] else head)
        ws.set_column(i, i, max(10, 2 * len(r["header"]) + 2))
    ws.freeze_panes(1, 0)
    notes = wb.add_worksheet("说明")
    for j, h in enumerate(("字段 field", "表头 header", "必填 required", "也可用的表头 also accepted", "允许的值 values",
                           "类型 type")):
        notes.write(0, j, h, head)
    for i, r in enumerate(rows, start=1):
        notes.write_row(i, 0, [r["field"], r["header"], "是" if r["required"] else "", r["also"], r["values"],
                               r["type"]])
    notes.set_column(0, 5, 22)
    wb.close()
    return buf.getvalue()
