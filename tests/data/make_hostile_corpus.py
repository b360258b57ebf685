"""Write the hostile part of the bad-input corpus (issue #18) into tests/data/bad/ and its
manifest tests/data/bad/manifest_hostile.yaml (synthetic data only).

Run `python tests/data/make_hostile_corpus.py` after changing it; the outputs are committed.
tests/test_load_corpus.py loads every file into the fixture warehouse of tests/load_fixture.py
and checks the outcome stated here, like the files of make_bad_corpus.py.
"""

from __future__ import annotations

import io
import re
import struct
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.data.make_bad_corpus import G1, OUT, P_HEAD, c_row, cases, idn, p_row, persons, write_corpus, xlsx  # noqa: E402

MANIFEST = OUT / "manifest_hostile.yaml"
GUARDIAN_ID = idn(77, "19650303")
PHONE = "13912345678"


def corpus() -> list[dict]:
    out = []

    def add(name, kind, data, exit_code, read=None, loaded=None, quarantined=None, what="", **extra):
        out.append({"file": name, "kind": kind, "data": data.encode("utf-8") if isinstance(data, str) else data,
                    "what": what, "expect": {"exit": exit_code, "rows_read": read, "loaded": loaded,
                                             "quarantined": quarantined or ({} if exit_code != 2 else None),
                                             **extra}})

    # personal data in a quarantined row: a birth date beside the masked ID, a guardian's ID and
    # a phone in unmapped columns; none of it may be stored in clear
    head = P_HEAD + ["出生日期", "监护人身份证号", "备注"]
    bad_id = idn(2)[:17] + ("0" if idn(2)[17] != "0" else "1")
    add("persons_pii_in_quarantine.csv", "persons", persons([
        p_row(1) + ["1980-01-01", "", ""],
        p_row(2, id_number=bad_id) + ["1980-01-01", GUARDIAN_ID, f"监护人电话{PHONE}"]], head=head),
        1, 2, 1, {"id_check_digit": 1}, what="bad row with birth date, guardian ID and phone in unmapped columns",
        clear_absent=[bad_id, GUARDIAN_ID, PHONE, "1980-01-01", "监护人身份证号", "备注"])
    # free text with a phone and an ID number: loaded, masked
    add("cases_pii_in_text.csv", "cases", cases([
        c_row("C1", desc=f"请联系{PHONE}，身份证{GUARDIAN_ID}"), c_row("C2", desc="邻里因噪声发生口角")]),
        0, 2, 2, what="phone and ID number inside 事件描述", clear_absent=[PHONE, GUARDIAN_ID])

    # loader faults: each refused (exit 2, a failed run recorded, nothing loaded, no temp left) or
    # quarantined with its reason, never loaded wrongly or crashing
    staff = [["网格编码", "岗位", "人数", "统计日期"], [G1, "网格员", 1, "2025-06-30"]]
    add("staff_cell_at_XFD1048576.xlsx", "grid_staff", sheet_with_far_cell(staff), 2,
        what="6 KB workbook with one cell at XFD1048576 (16 384 × 1 048 576 cells if expanded)",
        error="16384 columns")
    add("staff_zip_bomb.xlsx", "grid_staff", declared_huge(_stable(xlsx(staff))), 2,
        what="workbook whose sheet declares 4 GB unpacked", error="unpacks to")
    add("persons_one_long_line.csv", "persons", b"x" * 300_000, 2,
        what="one 300 KB line without a break (the 10 MB one: tests/test_loader_faults.py)",
        error="no line break")
    add("persons_wide_header.csv", "persons", persons([p_row(1) + [""] * 1500], head=P_HEAD + [
        f"列{i}" for i in range(1500)]), 2, what="1 508 header columns", error="at most 1000")
    add("cases_extra_unquoted_comma.csv", "cases", cases([
        c_row("C1"), c_row("C2", desc="邻里纠纷,已调解"), c_row("C3")]), 1, 3, 2, {"too_many_fields": 1},
        what="an unquoted comma inside 事件描述 shifts the row: quarantined whole, not truncated")
    add("persons_duplicate_header.csv", "persons", persons([p_row(1) + ["张某一"]], head=P_HEAD + ["姓名"]), 2,
        what="姓名 twice: which column is the name?", error="duplicate header '姓名' in columns 2, 9")
    add("persons_duplicate_unmapped_header.csv", "persons",
        persons([p_row(1) + ["a", "b"]], head=P_HEAD + ["备注", "备注"]), 0, 1, 1,
        what="备注 twice, not a mapped column: loaded, noted in the run's message")
    body = persons([p_row(i) for i in range(1, 200)])
    add("persons_nul_after_4k.csv", "persons", body[:6000] + "\x00" + body[6000:], 2,
        what="a NUL byte past the first 4 KB", error="NUL byte at line")
    return out


def sheet_with_far_cell(rows: list[list]) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("台账")
    for i, row in enumerate(rows):
        ws.write_row(i, 0, row)
    ws.write(1_048_575, 16_383, "x")
    wb.close()
    return _stable(buf.getvalue())


def declared_huge(workbook: bytes) -> bytes:
    """The workbook with its sheet's declared unpacked size (central directory) set to ~4 GB."""
    data = bytearray(workbook)
    name = b"xl/worksheets/sheet1.xml"
    for m in re.finditer(rb"PK\x01\x02", data):
        start = m.start()
        n = struct.unpack_from("<H", data, start + 28)[0]
        if bytes(data[start + 46:start + 46 + n]) == name:
            struct.pack_into("<I", data, start + 24, 0xFFFF0000)
    return bytes(data)


def _stable(workbook: bytes) -> bytes:
    """The same bytes on every run (xlsxwriter stamps the time into docProps and the zip)."""
    src = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2025-01-01T00:00:00Z", body)
            z.writestr(zipfile.ZipInfo(info.filename, (2025, 1, 1, 0, 0, 0)), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def main() -> None:
    write_corpus(corpus(), MANIFEST, "tests/data/make_hostile_corpus.py", "clear_absent: strings no table may hold.")


if __name__ == "__main__":
    main()
