"""A circular as the county hands it on: a printable page, a Word document in the layout of
GB/T 9704-2012 (党政机关公文格式) and an .xlsx of both lists.

The Word layout follows the standard's main points: A4 with a 156 × 225 mm type area
(margins 37/35/28/26 mm), the issuing-office mark (发文机关标志) centred in red 小标宋 35 mm
under the top of the type area, the document number (发文字号) centred two lines below it
with the year in 〔〕, a red rule under the number, the title in 2号小标宋, the recipients
(主送机关), the text in 3号仿宋 with 28.9 pt lines (22 lines a page), first-level headings in
黑体, the issuing office and the date (成文日期, Arabic numerals) at the end, the imprint
(版记: 印发机关和印发日期) between two rules, and page numbers "— 1 —" in 4号宋体, outside
(odd pages right, even pages left).
"""

import io
import re
from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import quote

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from common.xlsx import workbook_response

from .models import Circular, CircularEntry, CircularStatus
from .selectors import circular_lists

RED = RGBColor(0xFF, 0x00, 0x00)
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
NUMBER_FONT = "宋体"
BODY_SIZE = 16  # 3号
TITLE_SIZE = 22  # 2号
TABLE_SIZE = 12  # 小4号: the lists are tables of many columns
IMPRINT_SIZE = 14  # 4号
LINE = Pt(28.9)
TYPE_WIDTH_MM = 156
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- shared -------------------------------------------------------------------------------


def date_label(circular: Circular) -> str:
    """The 成文日期 in Arabic numerals (GB/T 9704-2012 7.3.5), or a placeholder for a draft."""
    day = circular.published_on
    if day is None:
        return _("（成文日期）")
    return _("%(y)d年%(m)d月%(d)d日") % {"y": day.year, "m": day.month, "d": day.day}


def number_label(circular: Circular) -> str:
    return circular.number or _("（草稿，发布时编号）")


def mark_size(issuer: str) -> float:
    """The issuing-office mark's size in points: large, but one line within the type area."""
    fits = TYPE_WIDTH_MM / 25.4 * 72 / max(len(issuer), 1)
    return min(42.0, int(fits * 2) / 2)


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def consequences(entries: list[CircularEntry]) -> list[tuple[str, str]]:
    """The consequences of a list: one line when every entry has the same, else one per team."""
    texts = {e.consequence for e in entries}
    if len(texts) == 1:
        return [("", texts.pop())]
    return [(e.team_name, e.consequence) for e in entries]


def circular_context(circular: Circular) -> dict:
    red, black = circular_lists(circular)
    return {
        "circular": circular,
        "draft": circular.status == CircularStatus.DRAFT,
        "number": number_label(circular),
        "mark_size": mark_size(circular.issuer),
        "title_lines": paragraphs(circular.title),
        "date": date_label(circular),
        "body": paragraphs(circular.body),
        "closing": paragraphs(circular.closing),
        "red": red,
        "black": black,
        "red_consequences": consequences(red) if red else [],
        "black_consequences": consequences(black) if black else [],
    }


def filename(circular: Circular, extension: str) -> str:
    """A Chinese file name: the number (or 草稿) and the title, without path characters."""
    stem = f"{circular.number or _('通报草稿')}_{circular.title}"
    stem = re.sub(r'[\\/:*?"<>|\r\n\t]+', "", stem)[:80]
    return f"{stem}.{extension}"


def attachment(response: HttpResponse, name: str, fallback: str) -> HttpResponse:
    """Content-Disposition with the Chinese name (RFC 6266 / 5987) and an ASCII fallback."""
    response["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    )
    return response


# --- Word -----------------------------------------------------------------------------------


def _font(run, name: str, size: float, *, color: RGBColor | None = None, bold: bool = False):
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if color is not None:
        run.font.color.rgb = color
    return run


def _paragraph(doc_or_cell, text: str = "", *, font=BODY_FONT, size=BODY_SIZE, **options):
    p = doc_or_cell.add_paragraph()
    fmt = p.paragraph_format
    fmt.space_before = options.get("space_before", Pt(0))
    fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = options.get("line", LINE)
    fmt.alignment = options.get("align", WD_ALIGN_PARAGRAPH.JUSTIFY)
    if options.get("indent"):
        fmt.first_line_indent = Pt(size * options["indent"])
    if options.get("right"):
        fmt.right_indent = Pt(size * options["right"])
    if text:
        _font(p.add_run(text), font, size, color=options.get("color"), bold=options.get("bold"))
    return p


def _border(paragraph, *sides: str, color: str = "000000", size: int = 8, space: int = 1):
    """Rules on a paragraph's sides (size in eighths of a point, space in points)."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for side in sides:
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), str(size))
        el.set(qn("w:space"), str(space))
        el.set(qn("w:color"), color)
        borders.append(el)
    ppr.append(borders)


def _page_number(paragraph, align):
    """ "— N —" with a PAGE field, 4号宋体, one character in from the outside edge."""
    paragraph.alignment = align
    fmt = paragraph.paragraph_format
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        fmt.right_indent = Pt(IMPRINT_SIZE)
    else:
        fmt.left_indent = Pt(IMPRINT_SIZE)
    _font(paragraph.add_run("— "), NUMBER_FONT, IMPRINT_SIZE)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)
    _font(paragraph.add_run(" —"), NUMBER_FONT, IMPRINT_SIZE)


def _cell(cell, text: str, *, header: bool = False, align=WD_ALIGN_PARAGRAPH.CENTER):
    cell.text = ""
    p = cell.paragraphs[0]
    p.alignment = align
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    font = HEADING_FONT if header else BODY_FONT
    _font(p.add_run(str(text)), font, TABLE_SIZE)


LIST_COLUMNS = (
    (_l("序号"), 10),
    (_l("乡镇"), 18),
    (_l("工作队"), 30),
    (_l("派出单位"), 28),
    (_l("排名"), 14),
    (_l("得分"), 14),
    (_l("列入事实"), 42),
)


def _list_table(document, entries: Iterable[CircularEntry]):
    entries = list(entries)
    table = document.add_table(rows=1 + len(entries), cols=len(LIST_COLUMNS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for i, (title, width) in enumerate(LIST_COLUMNS):
        _cell(table.rows[0].cells[i], str(title), header=True)
        for row in table.rows:
            row.cells[i].width = Mm(width)
    for row, e in zip(table.rows[1:], entries, strict=True):
        values = (
            e.order,
            e.township_name,
            e.team_name,
            e.unit_name,
            f"{e.rank}/{e.of}",
            e.score,
            e.facts,
        )
        for i, value in enumerate(values):
            left = i == len(values) - 1
            _cell(row.cells[i], value, align=WD_ALIGN_PARAGRAPH.LEFT if left else None)
    return table


def circular_docx(circular: Circular) -> bytes:
    """The circular as a .docx in the GB/T 9704 layout (see the module docstring)."""
    ctx = circular_context(circular)
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(20)
    document.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(section.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT)
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = BODY_FONT, Pt(BODY_SIZE)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)

    # 版头: the red issuing-office mark, sized to fit the type area on one line.
    issuer = circular.issuer
    size = ctx["mark_size"]
    _paragraph(
        document,
        issuer,
        font=TITLE_FONT,
        size=size,
        color=RED,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        line=Pt(size * 1.2),
        space_before=Mm(35) - Pt(size * 0.2),
    )
    _paragraph(document)
    _paragraph(document)
    number = _paragraph(document, ctx["number"], align=WD_ALIGN_PARAGRAPH.CENTER)
    _border(number, "bottom", color="FF0000", size=18, space=11)  # the red rule, 4 mm under
    _paragraph(document)

    # 主体
    for line in paragraphs(circular.title):
        _paragraph(
            document, line, font=TITLE_FONT, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER
        )
    _paragraph(document)
    if circular.recipients:
        _paragraph(document, circular.recipients)
    for line in ctx["body"]:
        _paragraph(document, line, indent=2)
    lists = (
        (_("一、红榜"), ctx["red"], ctx["red_consequences"], _("列入红榜的工作队")),
        (_("二、黑榜"), ctx["black"], ctx["black_consequences"], _("列入黑榜的工作队")),
    )
    for heading, entries, results, everyone in lists:
        _paragraph(document, heading, font=HEADING_FONT, indent=2)
        if entries:
            _list_table(document, entries)
            for team, text in results:
                _paragraph(document, f"{team or everyone}：{text}", indent=2)
        else:
            _paragraph(document, _("本月无。"), indent=2)
    if circular.correction_reason:
        _paragraph(document, _("三、更正说明"), font=HEADING_FONT, indent=2)
        text = _("本通报更正%(old)s。%(reason)s") % {
            "old": circular.supersedes.number if circular.supersedes_id else "",
            "reason": circular.correction_reason,
        }
        _paragraph(document, text, indent=2)
    for line in ctx["closing"]:
        _paragraph(document, line, indent=2)

    # 署名 and 成文日期
    _paragraph(document)
    _paragraph(document)
    _paragraph(document, issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, right=4)
    _paragraph(document, ctx["date"], align=WD_ALIGN_PARAGRAPH.RIGHT, right=2)

    # 版记: the office that prints it and the date, between two rules.
    if circular.published_on:
        _paragraph(document)
        imprint = _paragraph(document, size=IMPRINT_SIZE, line=Pt(IMPRINT_SIZE * 1.8))
        imprint.paragraph_format.left_indent = Pt(IMPRINT_SIZE)
        imprint.paragraph_format.tab_stops.add_tab_stop(
            Mm(TYPE_WIDTH_MM) - Pt(IMPRINT_SIZE * 2), WD_TAB_ALIGNMENT.RIGHT
        )
        _font(imprint.add_run(f"{issuer}\t{ctx['date']}{_('印发')}"), BODY_FONT, IMPRINT_SIZE)
        _border(imprint, "top", "bottom", size=8, space=4)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def docx_response(circular: Circular) -> HttpResponse:
    response = HttpResponse(circular_docx(circular), content_type=DOCX_TYPE)
    return attachment(response, filename(circular, "docx"), f"circular-{circular.pk}.docx")


# --- Excel ----------------------------------------------------------------------------------

LIST_HEADERS = (
    _l("序号"),
    _l("乡镇"),
    _l("村"),
    _l("工作队"),
    _l("派出单位"),
    _l("县内排名"),
    _l("参评队数"),
    _l("得分"),
    _l("在岗达标率"),
    _l("本月走访覆盖率"),
    _l("遍访进度"),
    _l("收入登记完成率"),
    _l("未整改问题"),
    _l("超期问题"),
    _l("当月严重问题"),
    _l("列入依据"),
    _l("严重问题"),
    _l("列入事实"),
    _l("相应后果"),
)


def _grounds(e: CircularEntry) -> str:
    parts = []
    if e.by_rank:
        parts.append(_("排名"))
    if e.by_finding:
        parts.append(_("严重问题"))
    return "、".join(parts)


def _list_rows(entries: list[CircularEntry]) -> list[tuple]:
    rows = []
    for e in entries:
        m = e.metrics
        rows.append(
            (
                e.order,
                e.township_name,
                e.village_name,
                e.team_name,
                e.unit_name,
                e.rank,
                e.of,
                e.score,
                *(Decimal(m.get(k, 0)) for k in RATES),
                *(int(m.get(k, 0)) for k in COUNTS),
                _grounds(e),
                "；".join(
                    f"{f['on']} {f['severity']} {f['category']}：{f['description']}"
                    for f in e.findings
                ),
                e.facts,
                e.consequence,
            )
        )
    return rows


RATES = ("presence_rate", "visit_rate", "bianfang_rate", "income_rate")
COUNTS = ("open_findings", "overdue_findings", "serious_findings")


def xlsx_response(circular: Circular) -> HttpResponse:
    """The circular's facts and both lists as a workbook (rates as fractions, 0–1)."""
    ctx = circular_context(circular)
    info = [
        (_("发文字号"), ctx["number"]),
        (_("标题"), circular.title),
        (_("发文机关"), circular.issuer),
        (_("县"), circular.county.name),
        (_("月份"), circular.period_label),
        (_("状态"), circular.get_status_display()),
        (_("成文日期"), circular.published_on or ""),
        (_("更正的通报"), circular.supersedes.number if circular.supersedes_id else ""),
        (_("更正说明"), circular.correction_reason),
    ]
    headers = [str(h) for h in LIST_HEADERS]
    note = f"{ctx['number']} {circular.title}"
    response = workbook_response(
        filename(circular, "xlsx"),
        [
            (_("通报"), [_("项目"), _("内容")], info, note),
            (_("红榜"), headers, _list_rows(ctx["red"]), note),
            (_("黑榜"), headers, _list_rows(ctx["black"]), note),
        ],
    )
    return attachment(response, filename(circular, "xlsx"), f"circular-{circular.pk}.xlsx")
