"""The admin export as a county official does it in chromium: tick a household, "导出 Excel",
choose the national layout, watch the progress page until its download link appears, download.
(Here rather than in tests/reports: the browser fixtures live in this package.)"""

import io
from collections.abc import Iterator

import openpyxl
import pytest
from playwright.sync_api import Browser, Page

from reports.exports import services
from reports.models import ExportJob

from ..factories import PASSWORD
from .conftest import TIMEOUT_MS


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_export_from_the_list_to_the_file(desk, live_server, login, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    login(desk, live_server, world.official_a.username, PASSWORD, path="/admin/login/")
    desk.goto(live_server.url + "/admin/households/household/")
    desk.locator(f'input.action-select[value="{world.household_a.pk}"]').check()
    desk.locator('select[name="action"]').select_option("export_excel")
    desk.locator('button[name="index"]').click()
    desk.wait_for_load_state()
    assert "将导出所选的 1 条记录" in desk.locator("#content-main").inner_text()
    desk.get_by_label("帮扶户名单（国家系统格式）", exact=False).check()
    desk.get_by_role("button", name="开始导出").click()
    desk.wait_for_url(f"{live_server.url}/admin/reports/exportjob/*/progress/")
    assert desk.locator("#export-status").inner_text() == "排队中"
    assert desk.locator("#export-download").is_hidden()

    # The worker's part, while the page polls.
    job = ExportJob.objects.exclude(pk=world.export_a.pk).get(requested_by=world.official_a)
    services.export_job_run(export_job_id=job.pk)

    link = desk.locator("#export-download a")
    link.wait_for(state="visible")
    assert desk.locator("#export-status").inner_text() == "已完成"
    assert desk.locator("#export-bar").get_attribute("style") == "width: 100%;"
    with desk.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.startswith("帮扶户名单（国家系统格式）-清徐县-")
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    header = [c.value for c in sheet[1]]
    assert header[:7] == [
        "序号",
        "数据日期",
        "县(市、区、旗)",
        "乡(镇)",
        "行政村",
        "自然村",
        "户编号",
    ]
    assert sheet.max_row == 2
    assert sheet.cell(row=2, column=7).value == world.household_a.code
