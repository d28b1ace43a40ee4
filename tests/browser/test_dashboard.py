"""The county dashboard in a desktop browser: Chart.js draws every chart from the page's data,
and a bar leads to the list behind it."""

import re

from ..factories import PASSWORD

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}

# Centre of a bar of a horizontal bar chart, in the page's coordinates (scrolled into view).
BAR_CENTRE = """([key, dataset, index]) => {
  const canvas = document.querySelector(`canvas[data-chart="${key}"]`);
  canvas.scrollIntoView({block: "center"});
  const chart = Chart.getChart(canvas);
  const bar = chart.getDatasetMeta(dataset).data[index];
  const box = canvas.getBoundingClientRect();
  return {x: box.left + (bar.x + bar.base) / 2, y: box.top + bar.y};
}"""


def test_charts_are_drawn_and_a_bar_opens_its_list(browser, live_server, login, world):
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        login(page, live_server, world.official_a.username, PASSWORD, path="/admin/login/")
        page.get_by_role("link", name="在岗、走访、收入风险、问题整改和月度排名图表").click()
        page.wait_for_url(live_server.url + "/admin/dashboard/")
        # Last month in county A: presence, coverage, income risk, findings, the average
        # score and the rank lines all have something to draw.
        page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length === 6")
        assert page.locator("canvas[data-chart]").count() == 6
        assert errors == []
        # The findings chart: 清源镇's finding, in rectification and not overdue.
        point = page.evaluate(BAR_CENTRE, ["findings", 0, 0])
        page.mouse.click(point["x"], point["y"])
        page.wait_for_url(re.compile(r"/admin/assessments/finding/\?"))
        assert "status__in=pending%2Crectifying" in page.url
        rows = page.locator("#result_list tbody tr")
        assert rows.count() == 1
        assert world.finding_a.village.name in rows.first.inner_text()
    finally:
        context.close()
