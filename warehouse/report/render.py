"""Render a composed report as PDF (fpdf2, CJK font embedded as a subset) or DOCX."""

from __future__ import annotations

import io

from warehouse.report import fonts
from warehouse.report.compose import Report

RED = (183, 28, 28)


def to_pdf(r: Report) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, 18)
    pdf.add_font("serif", fname=str(fonts.serif()))
    pdf.add_font("serif", style="B", fname=str(fonts.serif_bold()))
    pdf.set_title(f"{r.area_name}治安形势分析")
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    first = True
    for b in r.blocks:
        if b.kind == "subtitle" and first:
            pdf.set_font("serif", "B", 20)
            pdf.set_text_color(*RED)
            pdf.cell(width, 12, b.text, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.set_draw_color(*RED)
            pdf.set_line_width(0.8)
            pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.l_margin + width, pdf.get_y() + 2)
            pdf.ln(8)
            pdf.set_text_color(0, 0, 0)
            pdf.set_draw_color(120, 120, 120)  # the red rule is for the header only
            pdf.set_line_width(0.2)
            first = False
        elif b.kind == "title":
            pdf.set_font("serif", "B", 18)
            pdf.multi_cell(width, 10, b.text, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif b.kind == "subtitle":
            pdf.set_font("serif", "", 10)
            pdf.set_text_color(90, 90, 90)
            pdf.cell(width, 7, b.text, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            pdf.ln(4)
        elif b.kind == "h1":
            pdf.ln(2)
            pdf.set_font("serif", "B", 14)
            pdf.cell(width, 9, b.text, new_x="LMARGIN", new_y="NEXT")
        elif b.kind == "p":
            pdf.set_font("serif", "", 12)
            pdf.multi_cell(width, 7.5, "　　" + b.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif b.kind == "chart" and b.image:
            pdf.image(io.BytesIO(b.image), w=width * 0.92, x=pdf.l_margin + width * 0.04)
            pdf.set_font("serif", "", 9)
            pdf.cell(width, 6, b.text, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif b.kind == "table":
            pdf.set_font("serif", "", 10)
            with pdf.table(headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
                           line_height=7, text_align="CENTER") as table:
                table.row(b.header)
                for row in b.rows:
                    table.row(row)
            pdf.ln(3)
    return bytes(pdf.output())


def to_docx(r: Report) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "仿宋"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋")
    style.font.size = Pt(12)
    first = True
    for b in r.blocks:
        if b.kind == "subtitle" and first:
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = p.add_run(b.text)
            run.bold, run.font.size, run.font.color.rgb = True, Pt(20), RGBColor(*RED)
            first = False
        elif b.kind == "title":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = p.add_run(b.text)
            run.bold, run.font.size = True, Pt(18)
        elif b.kind == "subtitle":
            p = doc.add_paragraph(b.text)
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif b.kind == "h1":
            p = doc.add_paragraph()
            run = p.add_run(b.text)
            run.bold, run.font.size = True, Pt(14)
        elif b.kind == "p":
            p = doc.add_paragraph(b.text)
            p.paragraph_format.first_line_indent = Pt(24)
        elif b.kind == "chart" and b.image:
            doc.add_picture(io.BytesIO(b.image), width=Cm(15))
            cap = doc.add_paragraph(b.text)
            cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif b.kind == "table":
            t = doc.add_table(rows=1, cols=len(b.header))
            t.style = "Table Grid"
            for cell, h in zip(t.rows[0].cells, b.header):
                cell.text = h
            for row in b.rows:
                for cell, v in zip(t.add_row().cells, row):
                    cell.text = v
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
