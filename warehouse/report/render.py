"""Render a composed report as a 公文-style PDF (fpdf2, SC fonts embedded as subsets) or DOCX.

Layout after GB/T 9704 (党政机关公文格式), simplified: A4, margins 37/35/28/26 mm, the red
版头 (issuing office, optional 文号 and 密级 above a red rule), title in 小标宋 (二号, 22 pt),
body in 仿宋 三号 (16 pt), first-level headings in 黑体, page numbers "— N —" in the footer.
Headings are real headings (PDF outline / Word "Heading 1"), so a reader gets a navigation
pane; a heading never ends a page (keep-with-next), a chart that does not fit moves whole.
"""

from __future__ import annotations

import io
import re
import struct

from warehouse.report import fonts
from warehouse.report.compose import Report

RED = (200, 0, 0)
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
BODY_PT, TITLE_PT, MAST_PT, TABLE_PT = 16, 22, 30, 12
LINE_MM = 8.6  # body line height (16 pt text)


def _png_size(png: bytes) -> tuple[int, int]:
    return struct.unpack(">II", png[16:24])


def to_pdf(r: Report) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    class Doc(FPDF):
        def footer(self):
            self.set_y(-MARGINS_MM["bottom"] + 12)
            self.set_font(self.family_of.get("body", "body"), "", 14)
            self.cell(0, 8, f"— {self.page_no()} —", align="C")

    pdf = Doc(format="A4")
    pdf.family_of = {}
    pdf.set_margins(MARGINS_MM["left"], MARGINS_MM["top"], MARGINS_MM["right"])
    pdf.set_auto_page_break(True, MARGINS_MM["bottom"])
    loaded: dict[tuple, str] = {}
    family = {}  # role -> the family it was loaded as (one subset per distinct face)
    for role in ("title", "body", "heading", "heading2"):
        f = fonts.face(role)
        if (f.path, f.index) not in loaded:
            pdf.add_font(role, fname=str(f.path), collection_font_number=f.index)
            loaded[(f.path, f.index)] = role
        family[role] = loaded[(f.path, f.index)]
    pdf.family_of = family

    def use(role: str, size: float) -> None:
        pdf.set_font(family[role], "", size)
    pdf.set_title(f"{r.area_name}治安形势分析")
    pdf.set_author(r.issuer)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def room() -> float:
        return pdf.page_break_trigger - pdf.get_y()

    # 版头: 密级 top left, the office in red, 文号, the red rule
    if r.classification:
        use("heading", BODY_PT)
        pdf.cell(width, 9, r.classification, new_x="LMARGIN", new_y="NEXT")
    use("title", MAST_PT if len(r.issuer) <= 14 else 24)
    pdf.set_text_color(*RED)
    pdf.multi_cell(width, 15, r.issuer, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    if r.doc_number:
        pdf.ln(2)
        use("body", BODY_PT)
        pdf.cell(width, 9, r.doc_number, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.7)
    y = pdf.get_y() + 3
    pdf.line(pdf.l_margin, y, pdf.l_margin + width, y)
    pdf.set_y(y + 8)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)

    blocks = r.blocks
    for i, b in enumerate(blocks):
        if b.kind == "title":
            use("title", TITLE_PT)
            pdf.multi_cell(width, 12, b.text, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif b.kind == "subtitle":
            use("heading2", 13)
            pdf.multi_cell(width, 7, b.text, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        elif b.kind == "h1":
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            need = 12 + (_chart_height(nxt, width) + 8 if nxt is not None and nxt.kind == "chart"
                         else 3 * LINE_MM)
            if room() < need:  # keep the heading with what follows it
                pdf.add_page()
            pdf.ln(2)
            pdf.start_section(b.text, level=0)
            use("heading", BODY_PT)
            pdf.cell(width, 10, b.text, new_x="LMARGIN", new_y="NEXT")
        elif b.kind == "p":
            use("body", BODY_PT)
            for line in _wrap(pdf, "　　" + b.text, width):
                pdf.cell(width, LINE_MM, line, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif b.kind == "chart" and b.image:
            h = _chart_height(b, width)
            scale = 1.0
            if room() < h + 8:
                if room() >= 0.75 * h + 8:  # shrink a little rather than leave a half-empty page
                    scale = (room() - 8) / h
                else:
                    pdf.add_page()
            w = width * 0.96 * scale
            pdf.image(io.BytesIO(b.image), w=w, x=pdf.l_margin + (width - w) / 2)
            use("body", 11)
            pdf.cell(width, 6, b.text, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        elif b.kind == "table":
            if room() < 3 * 8:
                pdf.add_page()
            use("body", TABLE_PT)
            first = 0.46 if len(b.header) == 4 else 0.2
            rest = (1 - first) / (len(b.header) - 1)
            with pdf.table(headings_style=FontFace(family=family["heading"], fill_color=(235, 235, 235)),
                           line_height=7.5, text_align="CENTER", repeat_headings=1,
                           col_widths=[first] + [rest] * (len(b.header) - 1)) as table:
                table.row(b.header)
                for row in b.rows:
                    table.row(row)
            pdf.ln(3)
    return bytes(pdf.output())


HANGING = set("，。、；：！？）》」』”’%‰…—,.;:!?)")  # never starts a line: hangs at the end instead


def _wrap(pdf, text: str, width: float) -> list[str]:
    """Break Chinese text into lines of the current font that fit `width`; closing
    punctuation never begins a line (it hangs past the margin, as typesetters do)."""
    lines, cur, w = [], "", 0.0
    for ch in re.findall(r"[0-9A-Za-z.%‰+\-]+|.", text):  # a number never splits across lines
        cw = pdf.get_string_width(ch)
        if cur and w + cw > width and ch not in HANGING:
            lines.append(cur)
            cur, w = "", 0.0
        cur += ch
        w += cw
    if cur:
        lines.append(cur)
    return lines


def _chart_height(b, width: float) -> float:
    if b is None or b.kind != "chart" or not b.image:
        return 0.0
    w, h = _png_size(b.image)
    return width * 0.96 * h / w


def to_docx(r: Report) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Mm, Pt, RGBColor

    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    sec.left_margin, sec.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])

    def face(style_or_run, role: str, size: int, bold: bool = False, color=(0, 0, 0)):
        font = style_or_run.font
        name = fonts.docx_name(role)
        font.name, font.size, font.bold = name, Pt(size), bold
        font.color.rgb = RGBColor(*color)
        rpr = style_or_run.element.get_or_add_rPr()
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = OxmlElement("w:rFonts")
            rpr.append(rfonts)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            rfonts.set(qn(attr), name)

    normal = doc.styles["Normal"]
    face(normal, "body", BODY_PT)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = Pt(28)
    normal.paragraph_format.space_after = Pt(0)
    h1 = doc.styles["Heading 1"]  # a real heading: Word's navigation pane lists it
    face(h1, "heading", BODY_PT)
    h1.paragraph_format.keep_with_next = True
    h1.paragraph_format.space_before, h1.paragraph_format.space_after = Pt(6), Pt(0)
    h1.paragraph_format.first_line_indent = Pt(BODY_PT * 2)
    title = doc.styles["Title"]
    face(title, "title", TITLE_PT)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    title.paragraph_format.space_after = Pt(6)
    pbdr = title.element.get_or_add_pPr().find(qn("w:pBdr"))
    if pbdr is not None:  # the default template underlines the title
        pbdr.getparent().remove(pbdr)

    if r.classification:
        p = doc.add_paragraph()
        face(p.add_run(r.classification), "heading", BODY_PT)
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    face(p.add_run(r.issuer), "title", MAST_PT if len(r.issuer) <= 14 else 24, color=RED)
    p = doc.add_paragraph(r.doc_number or "")
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _bottom_rule(p, OxmlElement, qn)
    doc.add_paragraph()

    for b in r.blocks:
        if b.kind == "title":
            doc.add_paragraph(b.text, style="Title")
        elif b.kind == "subtitle":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            face(p.add_run(b.text), "heading2", 14)
        elif b.kind == "h1":
            doc.add_heading(b.text, level=1)
        elif b.kind == "p":
            p = doc.add_paragraph(b.text)
            p.paragraph_format.first_line_indent = Pt(BODY_PT * 2)
        elif b.kind == "chart" and b.image:
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            p.paragraph_format.keep_with_next = True
            p.add_run().add_picture(io.BytesIO(b.image), width=Cm(15.5))
            cap = doc.add_paragraph()
            cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
            face(cap.add_run(b.text), "body", 11)
        elif b.kind == "table":
            t = doc.add_table(rows=1, cols=len(b.header))
            t.style = "Table Grid"
            for cell, h in zip(t.rows[0].cells, b.header):
                face(cell.paragraphs[0].add_run(h), "heading", TABLE_PT)
            for row in b.rows:
                for cell, v in zip(t.add_row().cells, row):
                    face(cell.paragraphs[0].add_run(v), "body", TABLE_PT)
            doc.add_paragraph()
    _page_numbers(sec, OxmlElement, qn, face)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _bottom_rule(p, OxmlElement, qn) -> None:
    """The red rule under the 版头, as a paragraph border."""
    ppr = p._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "18"), ("w:space", "1"), ("w:color", "C80000")):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    ppr.append(bdr)


def _page_numbers(sec, OxmlElement, qn, face) -> None:
    """Footer "— PAGE —" centred (a field Word fills in)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    p = sec.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    face(p.add_run("— "), "body", 14)
    run = p.add_run()
    face(run, "body", 14)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    face(p.add_run(" —"), "body", 14)
