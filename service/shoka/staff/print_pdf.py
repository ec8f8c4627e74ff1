"""PDF output of the printed documents (print_documents.py), drawn with reportlab.

Japanese text is set in HeiseiKakuGo-W5 (平成角ゴシック), one of the PDF standard Japanese CID fonts: it needs no
font file on the server (nothing to find, nothing to download), every Japanese-capable PDF viewer and printer
driver supplies it (Acrobat, Chrome's and Edge's viewers and poppler map it to the desk computer's own gothic
font), and its UniJIS-UCS2-H encoding is Unicode, so the text stays searchable and copyable (pypdf reads it back).
Embedding a subset of Noto Sans CJK instead (reportlab cannot read its CFF outlines; fpdf2 can) took about 1.5 s
per document on the project's machine against under 10 ms for a ten-loan receipt here, tied the service to a
20 MB font file, and its text came back from pypdf garbled, for no gain at a Japanese desk.

A receipt roll's page is exactly as wide as the paper (58 or 80 mm) and as long as its lines; sticker sheets are
A4 or B5 pages with the labels where the layout puts them, or one page per label on a roll.
"""

from __future__ import annotations

import io

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from shoka.staff.print_documents import (LINE_SPACING, ROLL_TOP_MM, STICKER_PADDING_MM, STICKER_SMALL_POINTS,
                                         STICKER_TITLE_POINTS, RollDocument, Sticker, StickerSheets)
from shoka.staff.print_text import ROLL_MARGIN_MM

FONT = "HeiseiKakuGo-W5"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
POINTS_PER_MM = 72 / 25.4
RULE_GREY = 0.35


def _mm(value: float) -> float:
    return value * POINTS_PER_MM


def _canvas(buffer: io.BytesIO, width_mm: float, height_mm: float, title: str) -> Canvas:
    canvas = Canvas(buffer, pagesize=(_mm(width_mm), _mm(height_mm)), lang="ja")
    canvas.setTitle(title)
    canvas.setCreator("Shoka")
    return canvas


def roll_pdf(document: RollDocument) -> bytes:
    """A receipt-roll document as one page of the roll's width and the document's length."""
    buffer = io.BytesIO()
    canvas = _canvas(buffer, document.width_mm, document.height_mm, document.title)
    left, right = _mm(ROLL_MARGIN_MM), _mm(document.width_mm - ROLL_MARGIN_MM)
    top = _mm(document.height_mm - ROLL_TOP_MM)
    for line in document.lines:
        height = _mm(line.height_mm)
        if line.kind == "rule":
            canvas.setStrokeGray(RULE_GREY)
            canvas.setDash(1, 1.5)
            canvas.line(left, top - height / 2, right, top - height / 2)
            top -= height
            continue
        # The baseline sits where a browser puts it in a line box of the same height.
        baseline = top - height + (height - line.points) / 2 + line.points * 0.12
        canvas.setFont(FONT, line.points)
        if line.kind == "pair":
            canvas.drawString(left, baseline, line.text)
            canvas.drawRightString(right, baseline, line.value)
        elif line.align == "center":
            canvas.drawCentredString((left + right) / 2, baseline, line.text)
        elif line.align == "right":
            canvas.drawRightString(right, baseline, line.text)
        else:
            canvas.drawString(left, baseline, line.text)
        top -= height
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_sticker(canvas: Canvas, sticker: Sticker, left: float, top: float, width: float, height: float) -> None:
    """One label, from its top left corner (PDF points, origin at the page's bottom left); text that would fall
    below the label is left off rather than printed onto the next one."""
    padding = _mm(STICKER_PADDING_MM)
    inner_left, inner_right, bottom = left + padding, left + width - padding, top - height + padding
    y = top - padding
    small_step = STICKER_SMALL_POINTS * LINE_SPACING
    y -= small_step
    canvas.setFont(FONT, STICKER_SMALL_POINTS)
    canvas.drawString(inner_left, y + STICKER_SMALL_POINTS * 0.3, sticker.heading)
    canvas.drawRightString(inner_right, y + STICKER_SMALL_POINTS * 0.3, sticker.borrowed_on)
    canvas.setFont(FONT, STICKER_TITLE_POINTS)
    for line in sticker.title_lines:
        y -= STICKER_TITLE_POINTS * LINE_SPACING
        if y < bottom:
            return
        canvas.drawString(inner_left, y + STICKER_TITLE_POINTS * 0.3, line)
    canvas.setFont(FONT, STICKER_SMALL_POINTS)
    for text, align in ((sticker.author, "left"), (sticker.branch_name, "right")):
        if not text:
            continue
        y -= small_step
        if y < bottom:
            return
        if align == "left":
            canvas.drawString(inner_left, y + STICKER_SMALL_POINTS * 0.3, text)
        else:
            canvas.drawRightString(inner_right, y + STICKER_SMALL_POINTS * 0.3, text)


def stickers_pdf(sheets: StickerSheets, title: str) -> bytes:
    buffer = io.BytesIO()
    canvas = _canvas(buffer, sheets.page_width_mm, sheets.page_height_mm, title)
    width, height = _mm(sheets.settings.sticker_width_mm), _mm(sheets.settings.sticker_height_mm)
    page_top = _mm(sheets.page_height_mm)
    for page in sheets.pages:
        for place in page:
            if place.sticker is not None:
                _draw_sticker(canvas, place.sticker, _mm(place.left_mm), page_top - _mm(place.top_mm), width, height)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
