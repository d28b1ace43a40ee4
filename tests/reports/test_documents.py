"""The files a county hands on: the Word document in the GB/T 9704 layout opens with
python-docx and holds the number, the title and both lists; the .xlsx reopens with openpyxl;
Chinese file names."""

import io
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.urls import reverse
from docx import Document
from docx.shared import RGBColor
from openpyxl import load_workbook

from reports import services

from .builders import OCTOBER


@pytest.fixture
def published(world, crafted):
    draft = services.circular_build(county=world.county_a, period=OCTOBER)
    services.circular_update(
        circular=draft,
        actor=world.official_a,
        title=draft.title,
        recipients="各乡镇党委、政府，县直各派出单位：",
        body=draft.body,
        closing=draft.closing,
    )
    return services.circular_publish(circular=draft, actor=world.official_a)


@pytest.fixture
def official(client, world):
    client.force_login(world.official_a)
    return client


def download(client, name, circular):
    response = client.get(reverse(f"admin:reports_circular_{name}", args=[circular.pk]))
    assert response.status_code == 200
    return response


def test_word_document(official, published):
    response = download(official, "word", published)
    assert response["Content-Type"].endswith("wordprocessingml.document")
    name = "清驻组〔2026〕1号_关于2026年10月驻村工作队红黑榜的通报.docx"
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"circular-{published.pk}.docx\"; filename*=UTF-8''{quote(name)}"
    )
    document = Document(io.BytesIO(response.content))
    texts = [p.text for p in document.paragraphs]
    # 版头: the red issuing-office mark, then the number with the red rule under it.
    mark = next(p for p in document.paragraphs if p.text == "清徐县驻村工作领导小组办公室")
    assert mark.runs[0].font.color.rgb == RGBColor(0xFF, 0x00, 0x00)
    assert mark.runs[0].font.size.pt >= 22
    number = next(p for p in document.paragraphs if p.text == "清驻组〔2026〕1号")
    rule = number._p.pPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pBdr")[
        0
    ]
    assert (
        rule.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}color") == "FF0000"
    )
    assert texts.index("清驻组〔2026〕1号") < texts.index("关于2026年10月驻村工作队红黑榜的通报")
    assert "各乡镇党委、政府，县直各派出单位：" in texts
    assert "一、红榜" in texts
    assert "二、黑榜" in texts
    # Signature and date at the end, then the imprint.
    assert texts.index("2026年11月20日") > texts.index("二、黑榜")
    assert "清徐县驻村工作领导小组办公室\t2026年11月20日印发" in texts
    # Both lists as tables, with the teams in order.
    red, black = document.tables
    red_teams = [row.cells[2].text for row in red.rows[1:]]
    black_teams = [row.cells[2].text for row in black.rows[1:]]
    assert red.rows[0].cells[2].text == "工作队"
    assert red_teams == list(
        published.entries.filter(kind="red").order_by("order").values_list("team_name", flat=True)
    )
    assert black_teams == list(
        published.entries.filter(kind="black").order_by("order").values_list("team_name", flat=True)
    )
    assert black.rows[1].cells[4].text == "1/7"
    assert "擅自离岗三天" in black.rows[1].cells[6].text
    # A4, with the type area of GB/T 9704.
    section = document.sections[0]
    mm = [round(x.mm) for x in (section.page_width, section.page_height)]
    margins = [round(x.mm) for x in (section.top_margin, section.bottom_margin)]
    margins += [round(x.mm) for x in (section.left_margin, section.right_margin)]
    assert (mm, margins) == ([210, 297], [37, 35, 28, 26])


def test_a_long_issuer_still_fits_one_line(world, crafted):
    from reports.documents import mark_size

    assert mark_size("清徐县驻村办") == 42.0
    long = mark_size("清徐县脱贫攻坚与乡村振兴驻村工作领导小组办公室")
    assert long * 23 <= 156 / 25.4 * 72  # 23 characters within the 156 mm type area


def test_excel_file(official, published):
    response = download(official, "xlsx", published)
    disposition = response["Content-Disposition"]
    assert "filename*=UTF-8''" + quote("清驻组〔2026〕1号_") in disposition
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["通报", "红榜", "黑榜"]
    info = {row[0]: row[1] for row in workbook["通报"].iter_rows(min_row=4, values_only=True)}
    assert info["发文字号"] == "清驻组〔2026〕1号"
    assert info["状态"] == "已发布"
    black = list(workbook["黑榜"].iter_rows(min_row=4, values_only=True))
    assert [row[5] for row in black] == [1, 5, 6, 7]  # ranks
    first = black[0]
    assert first[3] == "东于村工作队"
    assert first[7] == 95  # the score, a number
    assert first[8] == pytest.approx(float(Decimal("0.95")))  # presence rate, a number
    assert first[15] == "严重问题"
    assert "2026-10-15" in first[16]
    red = list(workbook["红榜"].iter_rows(min_row=4, values_only=True))
    assert [row[5] for row in red] == [2, 3]
    assert red[0][15] == "排名"


def test_a_draft_file_says_draft(official, world, crafted):
    draft = services.circular_build(county=world.county_a, period=OCTOBER)
    response = download(official, "word", draft)
    assert quote("通报草稿_") in response["Content-Disposition"]
    texts = [p.text for p in Document(io.BytesIO(response.content)).paragraphs]
    assert "（草稿，发布时编号）" in texts
    assert "（成文日期）" in texts
    assert not any(t.endswith("印发") for t in texts)
