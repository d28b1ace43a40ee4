"""The county dashboard: crafted figures per township, village and county; every chart's link
opens the list behind it with the same rows; scope (county A shows nothing of county B, a
township official sees their township only, team roles and system administrators are kept
out); a fixed number of queries at two sizes."""

import datetime as dt
import json
import re
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from assessments import services as assessments
from assessments.models import MonthlyRanking
from households import services as hs
from teams import presence
from villages.models import Level

from .. import factories as f

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 18, 9, 30, tzinfo=SHANGHAI)
OCTOBER = dt.date(2026, 10, 1)
URL = "/admin/dashboard/"


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW.date()


def visit(household, cadre, day):
    return hs.visit_record(
        household=household,
        cadre=cadre,
        visited_on=day,
        kind="in_person",
        seen="正常",
        client_key=uuid.uuid4(),
    )


def add_township(world, code: str, name: str, village_name: str, cadre_name: str):
    """A township of county A with one village, its team and one cadre."""
    township = f.region(code, name, Level.TOWNSHIP, world.county_a)
    village = f.village(f"{code[:9]}201", village_name, township)
    team = f.team(village, world.unit_a)
    cadre = f.cadre(cadre_name, world.unit_a, world.county_a)
    f.assign(cadre, team, leader=True, secretary=True)
    return township, village, team, cadre


def household(village, n: int, incomes: dict[dt.date, int]):
    h = f.household(village, f"{village.code}{n:04d}")
    f.member(h, f"户主{village.name}{n}", relation="head")
    for month, wage in incomes.items():
        f.income(h, month, wage=wage)
    return h


@pytest.fixture
def dash(now, world):
    """County A gets a second township, 柳杜乡, with 西楚王村, its team and cadre 王德明.

    October 2026: 张建国 (清源镇) in the village every day and night, 王德明 never; 东于村's one
    household visited on 10-09; of 西楚王村's two households one visited on 10-12 and the
    other only on 11-05. Incomes (annualised per capita, line 7 000 in 2026, 6 500 in 2025):
    西楚王村 0001 3 600 in 2026 and 6 000 in 2025 (under the line both years, fell),
    0002 12 000 and 14 400 (fell). Findings today: 东于村's one on time (the fixture
    world's); in 西楚王村 a serious one overdue since 11-01, one rectified awaiting
    verification, one verified. Rankings of September and October recomputed.
    """
    w = world
    day = OCTOBER
    while day.month == 10:
        presence.attendance_check_in(
            cadre=w.cadre_a, overnight=True, at=dt.datetime.combine(day, dt.time(9), SHANGHAI)
        )
        day += dt.timedelta(days=1)
    township, village, team, cadre = add_township(w, "140121101000", "柳杜乡", "西楚王村", "王德明")
    poor = household(village, 1, {dt.date(2026, 1, 1): 300, dt.date(2025, 1, 1): 500})
    fell = household(village, 2, {dt.date(2026, 1, 1): 1000, dt.date(2025, 1, 1): 1200})
    hs.income_line_set(year=2025, region=w.county_a, amount=Decimal("6500"))
    visit(w.household_a, w.cadre_a, dt.date(2026, 10, 9))
    visit(poor, cadre, dt.date(2026, 10, 12))
    visit(fell, cadre, dt.date(2026, 11, 5))  # November: not a visit of October
    inspection = assessments.inspection_create(
        region=w.county_a,
        kind="open",
        on=dt.date(2026, 10, 20),
        title="十月明查",
        inspectors="督查组",
        villages=[village],
    )

    def finding(severity: str, deadline: dt.date, description: str):
        return assessments.finding_create(
            inspection=inspection,
            village=village,
            subject="team",
            team=team,
            category="visits",
            severity=severity,
            description=description,
            deadline=deadline,
        )

    overdue = finding("serious", dt.date(2026, 11, 1), "走访台账缺失")
    waiting = finding("general", dt.date(2026, 11, 30), "收入登记不及时")
    assessments.finding_rectify(finding=waiting, actor=w.official_a, evidence="已补登")
    verified = finding("minor", dt.date(2026, 11, 30), "公示栏未更新")
    assessments.finding_rectify(finding=verified, actor=w.township_official_a, evidence="已更新")
    assessments.finding_verify(finding=verified, actor=w.official_a, passed=True, note="属实")
    for month in (dt.date(2026, 9, 1), OCTOBER):
        assessments.ranking_compute(county=w.county_a, period=month)
    w.township_a2, w.village_a2, w.team_a2, w.cadre_a2 = township, village, team, cadre
    w.poor, w.fell = poor, fell
    w.overdue, w.waiting, w.verified = overdue, waiting, verified
    return w


def page(client, user, **params):
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200, response.status_code
    return response


def charts(response) -> dict[str, dict]:
    """The charts as the page's script receives them (json_script)."""
    match = re.search(
        r'<script id="dashboard-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "no chart data on the page"
    return {c["key"]: c for c in json.loads(match.group(1))["charts"]}


def series(chart: dict) -> dict[str, list]:
    return {s["label"]: s["data"] for s in chart["series"]}


def link(chart: dict, label: str, index: int) -> str:
    (found,) = [s for s in chart["series"] if s["label"] == label]
    return found["links"][index]


def rows(response, key: str) -> dict[str, list]:
    """The chart's table as the context holds it: name → cells."""
    (chart,) = [c for c in response.context["charts"] if c.key == key]
    return {row["name"]: row["cells"] for row in chart.rows}


def listed(client, url: str) -> set[int]:
    response = client.get(url)
    assert response.status_code == 200, url
    return {obj.pk for obj in response.context["cl"].result_list}


# --- figures ----------------------------------------------------------------------------


def test_county_figures_per_township(client, dash):
    w = dash
    response = page(client, w.official_a, month="2026-10")
    data = charts(response)
    assert data["presence"]["labels"] == ["清源镇", "柳杜乡"]
    assert series(data["presence"]) == {"达标率": [100.0, 0.0]}
    assert rows(response, "presence") == {
        "清源镇": [1, 1, 0, 0, "100.0%"],
        "柳杜乡": [1, 0, 1, 0, "0.0%"],
    }
    assert series(data["coverage"]) == {"本月走访覆盖率": [100.0, 50.0], "遍访进度": [100.0, 50.0]}
    assert rows(response, "coverage") == {
        "清源镇": [1, 1, "100.0%", 1, 1, "100.0%"],
        "柳杜乡": [2, 1, "50.0%", 1, 0, "50.0%"],
    }
    assert series(data["risk"]) == {"低于监测线": [0, 1], "收入低于上年": [0, 2]}
    assert series(data["findings"]) == {
        "整改中（未超期）": [1, 0],
        "已超期": [0, 1],
        "已整改待验证": [0, 1],
    }
    assert rows(response, "findings")["柳杜乡"] == [0, 1, 1, 1]
    # The headline figures add the townships up.
    summary = {s["title"]: (s["value"], s["detail"]) for s in response.context["summary"]}
    assert summary["在岗达标率"] == ("50.0%", "达标 1 / 2 人")
    assert summary["本月走访覆盖率"] == ("66.7%", "已走访 2 / 3 户")
    assert summary["收入低于监测线"] == ("1 户", "收入低于上年 2 户")
    assert summary["超期未整改问题"] == ("1 个", "未销号 3 个")


def test_ranking_over_months(client, dash):
    w = dash
    response = page(client, w.official_a, month="2026-10")
    data = charts(response)
    score = data["score"]
    assert score["labels"][0] == "2025-11"
    assert score["labels"][-1] == "2026-10"
    stored = {
        month: [
            float(s)
            for s in MonthlyRanking.objects.filter(county=w.county_a, period=month).values_list(
                "score", flat=True
            )
        ]
        for month in (dt.date(2026, 9, 1), OCTOBER)
    }
    averages = series(score)["平均得分"]
    assert averages[:-2] == [None] * 10  # no ranking before September
    assert averages[-2:] == [
        round(sum(stored[m]) / len(stored[m]), 2) for m in (dt.date(2026, 9, 1), OCTOBER)
    ]
    # Without a chosen team: the last placed of October first, each with its rank by month.
    rank = data["rank"]
    october = {r.team_id: r for r in MonthlyRanking.objects.filter(period=OCTOBER)}
    order = sorted(
        (r for r in october.values() if r.county_id == w.county_a.pk), key=lambda r: -r.rank
    )
    assert [s["label"] for s in rank["series"]] == [r.team.name for r in order]
    assert rank["series"][0]["data"][-1] == order[0].rank == 2
    assert rank["reverse"] is True
    # A chosen team alone; county B's team (out of scope) is ignored like a missing one.
    chosen = charts(page(client, w.official_a, month="2026-10", team=w.team_a.pk))["rank"]
    assert [s["label"] for s in chosen["series"]] == [w.team_a.name]
    for foreign in (w.team_b.pk, 987654321):
        again = charts(page(client, w.official_a, month="2026-10", team=foreign))["rank"]
        assert [s["label"] for s in again["series"]] == [r.team.name for r in order]


def test_default_month_is_last_month_and_bad_months_are_refused(client, dash):
    w = dash
    response = page(client, w.official_a)
    assert response.context["month"] == OCTOBER
    future = page(client, w.official_a, month="2026-12")
    assert "不能选择未来的月份。" in future.content.decode()
    assert "dashboard-data" not in future.content.decode()
    bad = page(client, w.official_a, month="十月")
    assert bad.context["form"].errors["month"]
    assert "dashboard-data" not in bad.content.decode()


def test_income_risk_of_the_months_year(client, dash):
    """December 2025 shows 2025's incomes (line 6 500: 0001's 6 000 is under it; no 2024
    incomes, so nothing fell) and its links carry the year to the household list."""
    w = dash
    response = page(client, w.official_a, month="2025-12")
    risk = charts(response)["risk"]
    assert series(risk) == {"低于监测线": [0, 1], "收入低于上年": [0, 0]}
    client.force_login(w.official_a)
    assert listed(client, link(risk, "低于监测线", 1)) == {w.poor.pk}
    assert listed(client, link(risk, "收入低于上年", 1)) == set()
    october = charts(page(client, w.official_a, month="2026-10"))["risk"]
    assert listed(client, link(october, "收入低于上年", 1)) == {w.poor.pk, w.fell.pk}


# --- the links lead to the same rows ---------------------------------------------------------


def test_presence_links_open_the_compliance_report(client, dash):
    w = dash
    presence_chart = charts(page(client, w.official_a, month="2026-10"))["presence"]
    url = link(presence_chart, "达标率", 1)
    assert parse_qs(urlsplit(url).query) == {
        "start": ["2026-10-01"],
        "end": ["2026-10-31"],
        "region": [str(w.township_a2.pk)],
    }
    report = client.get(url)
    assert report.status_code == 200
    assert report.context["teams"] == [(w.team_a2.name, 1, 0, 1, 0)]
    assert [row[2] for row in report.context["rows"]] == [w.cadre_a2.name]
    whole = client.get(presence_chart["link"])
    ok = {team: (members, met) for team, members, met, _f, _a in whole.context["teams"]}
    assert ok == {w.team_a.name: (1, 1), w.team_a2.name: (1, 0)}


def test_coverage_matches_the_coverage_report(client, dash):
    """The report counts October's visits only (a November visit does not make 0002 visited)."""
    w = dash
    response = page(client, w.official_a, month="2026-10")
    report = client.get(charts(response)["coverage"]["link"])
    assert report.status_code == 200
    townships = {row[0]: list(row[2:]) for row in report.context["townships"]}
    mine = {name: cells[:3] for name, cells in rows(response, "coverage").items()}
    assert townships == mine == {"清源镇": [1, 1, "100.0%"], "柳杜乡": [2, 1, "50.0%"]}
    villages = {row[1]: row[5:7] for row in report.context["rows"]}
    assert villages == {"东于村": (1, 1), "西楚王村": (1, 0)}  # serving, completed 遍访


def test_finding_and_ranking_links(client, dash):
    w = dash
    data = charts(page(client, w.official_a, month="2026-10"))
    findings = data["findings"]
    assert listed(client, link(findings, "已超期", 1)) == {w.overdue.pk}
    assert listed(client, link(findings, "已整改待验证", 1)) == {w.waiting.pk}
    assert listed(client, link(findings, "整改中（未超期）", 0)) == {w.finding_a.pk}
    assert listed(client, findings["link"]) == {w.finding_a.pk, w.overdue.pk, w.waiting.pk}
    rank = data["rank"]
    team_a2 = next(s for s in rank["series"] if s["label"] == w.team_a2.name)
    october = MonthlyRanking.objects.get(team=w.team_a2, period=OCTOBER)
    assert listed(client, team_a2["links"][-1]) == {october.pk}
    county = set(MonthlyRanking.objects.filter(county=w.county_a).values_list("pk", flat=True))
    assert listed(client, data["score"]["link"]) == county
    assert listed(client, data["score"]["series"][0]["links"][-1]) == set(
        MonthlyRanking.objects.filter(county=w.county_a, period=OCTOBER).values_list(
            "pk", flat=True
        )
    )


def test_a_township_of_the_county(client, dash):
    """A county official narrows the page to 柳杜乡: its villages, its rows only."""
    w = dash
    response = page(client, w.official_a, month="2026-10", area=w.township_a2.pk)
    data = charts(response)
    assert data["coverage"]["labels"] == ["西楚王村"]
    assert series(data["risk"]) == {"低于监测线": [1], "收入低于上年": [2]}
    assert listed(client, link(data["risk"], "收入低于上年", 0)) == {w.poor.pk, w.fell.pk}
    assert listed(client, link(data["findings"], "已超期", 0)) == {w.overdue.pk}
    assert [s["label"] for s in data["rank"]["series"]] == [w.team_a2.name]
    assert listed(client, data["score"]["link"]) == set(
        MonthlyRanking.objects.filter(team=w.team_a2).values_list("pk", flat=True)
    )
    assert "清源镇" not in str(data)
    assert w.team_a.name not in str(data)


# --- scope ------------------------------------------------------------------------------


def test_county_a_shows_nothing_of_county_b(client, dash):
    w = dash
    body = page(client, w.official_a, month="2026-10").content.decode()
    for name in (w.county_b.name, w.township_b.name, w.village_b.name, w.team_b.name):
        assert name not in body
    # County B's own page: its township, its figures, nothing of A.
    response = page(client, w.official_b, month="2026-10")
    data = charts(response)
    assert data["coverage"]["labels"] == [w.township_b.name]
    assert series(data["findings"])["整改中（未超期）"] == [1]
    body = response.content.decode()
    for name in ("清源镇", "柳杜乡", w.team_a.name, w.team_a2.name, w.village_a.name):
        assert name not in body
    summary = {s["title"]: s["detail"] for s in response.context["summary"]}
    assert summary["本月走访覆盖率"] == "已走访 0 / 1 户"


def test_an_area_out_of_scope_is_a_404_like_a_missing_one(client, dash):
    w = dash
    client.force_login(w.official_a)
    missing = client.get(URL, {"area": 987654321})
    foreign = client.get(URL, {"area": w.township_b.pk})
    assert missing.status_code == foreign.status_code == 404
    assert foreign.content == missing.content
    assert client.get(URL, {"area": "清源镇"}).status_code == 404
    # The choices are the county and its townships.
    choices = [
        value for value, _label in page(client, w.official_a).context["form"].fields["area"].choices
    ]
    assert choices == ["", str(w.township_a.pk), str(w.township_a2.pk)]


def test_township_official_sees_their_villages_only(client, dash):
    w = dash
    second = f.village("140121100202", "西于村", w.township_a)
    response = page(client, w.township_official_a, month="2026-10")
    data = charts(response)
    assert data["coverage"]["labels"] == [w.village_a.name, second.name]
    assert series(data["presence"]) == {"达标率": [100.0, None]}
    assert series(data["findings"])["整改中（未超期）"] == [1, 0]
    body = response.content.decode()
    for name in ("柳杜乡", w.village_a2.name, w.team_a2.name, w.county_b.name):
        assert name not in body
    # No choice of area; another township, or the county, is out of scope.
    assert response.context["form"].fields["area"].widget.input_type == "hidden"
    client.force_login(w.township_official_a)
    assert client.get(URL, {"area": w.township_a2.pk}).status_code == 404
    assert client.get(URL, {"area": w.county_a.pk}).status_code == 404
    # The village's links open lists the official may see, with that village's rows.
    assert listed(client, link(data["findings"], "整改中（未超期）", 0)) == {w.finding_a.pk}
    households = reverse("admin:households_household_changelist")
    assert listed(client, f"{households}?village={w.village_a.pk}") == {w.household_a.pk}
    report = client.get(link(data["presence"], "达标率", 0))
    assert report.status_code == 200
    assert [row[2] for row in report.context["rows"]] == [w.cadre_a.name]


def test_city_official_sees_counties_from_the_rankings(client, dash):
    """Above a county the presence figures come from the stored rankings."""
    w = dash
    city = f.user("city_a", Role.CITY, w.city)
    response = page(client, city, month="2026-10")
    data = charts(response)
    assert data["presence"]["labels"] == [w.county_a.name, w.county_b.name]
    stored = {
        county: (sum(r.members for r in rs), sum(round(r.presence_rate * r.members) for r in rs))
        for county in (w.county_a, w.county_b)
        for rs in [list(MonthlyRanking.objects.filter(county=county, period=OCTOBER))]
    }
    assert stored[w.county_a] == (2, 1)
    assert series(data["presence"])["达标率"] == [
        round(100 * met / n, 1) for n, met in stored.values()
    ]
    assert "取自已计算的月度排名" in response.content.decode()
    assert series(data["findings"]) == {
        "整改中（未超期）": [1, 1],
        "已超期": [1, 0],
        "已整改待验证": [1, 0],
    }
    assert "rank" not in data  # ranks are within a county: choose one
    client.force_login(city)
    assert listed(client, link(data["findings"], "整改中（未超期）", 1)) == {w.finding_b.pk}
    assert listed(client, link(data["risk"], "收入低于上年", 0)) == {w.poor.pk, w.fell.pk}
    # The city official may narrow to a county, and then sees its townships.
    narrowed = charts(page(client, city, month="2026-10", area=w.county_b.pk))
    assert narrowed["coverage"]["labels"] == [w.township_b.name]


def test_team_roles_and_system_administrators_are_kept_out(client, dash):
    w = dash
    client.force_login(w.member_a)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    sysadmin = f.user("sysadmin_x", Role.SYSTEM_ADMIN, None)
    client.force_login(sysadmin)
    assert client.get(URL).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302


def test_admin_index_links_the_dashboard(client, dash):
    w = dash
    client.force_login(w.official_a)
    assert f'href="{URL}"' in client.get(reverse("admin:index")).content.decode()
    inspector = f.user("inspector_x", Role.INSPECTOR, w.county_a)
    client.force_login(inspector)
    assert f'href="{URL}"' in client.get(reverse("admin:index")).content.decode()
    client.force_login(f.user("auditor_x", Role.AUDIT_ADMIN, None))
    assert f'href="{URL}"' not in client.get(reverse("admin:index")).content.decode()


# --- the sidebar filters the links rely on ---------------------------------------------------


def test_a_linked_region_filters_even_when_the_sidebar_is_too_long(client, dash, monkeypatch):
    """Django drops a list filter without choices, which would show the whole scope; above
    the sidebar's limit the filter still applies (and an id out of scope selects nothing)."""
    from teams.admin_presence import TeamVillageFilter

    w = dash
    monkeypatch.setattr(TeamVillageFilter, "max_choices", 1)
    client.force_login(w.official_a)
    ledger = reverse("admin:assessments_finding_changelist")
    assert listed(client, f"{ledger}?township={w.township_a2.pk}") == {
        w.overdue.pk,
        w.waiting.pk,
        w.verified.pk,
    }
    response = client.get(ledger, {"township": w.township_a2.pk})
    (spec,) = [
        s
        for s in response.context["cl"].filter_specs
        if getattr(s, "parameter_name", "") == "township"
    ]
    assert [name for _pk, name in spec.lookup_choices] == ["柳杜乡"]
    assert listed(client, f"{ledger}?township={w.township_b.pk}") == set()
    assert listed(client, ledger) == {w.finding_a.pk, w.overdue.pk, w.waiting.pk, w.verified.pk}


# --- query counts -------------------------------------------------------------------------


def grow(world, n: int) -> None:
    """n more townships in county A, each with a village, team, cadre, households, a visit,
    October presence, an overdue finding; then October's ranking again."""
    for i in range(n):
        _t, village, team, cadre = add_township(
            world, f"140121{102 + i:03d}000", f"新乡{i}", f"新村{i}", f"新干部{i}"
        )
        first = household(village, 1, {dt.date(2026, 1, 1): 500})
        household(village, 2, {dt.date(2026, 1, 1): 900})
        visit(first, cadre, dt.date(2026, 10, 3))
        presence.attendance_check_in(
            cadre=cadre, at=dt.datetime.combine(dt.date(2026, 10, 5), dt.time(9), SHANGHAI)
        )
        inspection = assessments.inspection_create(
            region=world.county_a,
            kind="open",
            on=dt.date(2026, 10, 2),
            title="检查",
            inspectors="督查组",
            villages=[village],
        )
        assessments.finding_create(
            inspection=inspection,
            village=village,
            subject="team",
            team=team,
            category="records",
            severity="general",
            description="台账不全",
            deadline=dt.date(2026, 10, 30),
        )
    assessments.ranking_compute(county=world.county_a, period=OCTOBER)


def count(client, user, **params) -> int:
    client.force_login(user)
    client.get(URL, params)  # warm: content types, the session's first write
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(queries)


# County official: session and user (2), the user's region (1), the area choices (1), the
# townships (1); presence: assignments, rules, attendance, leave (4); coverage: households,
# cadres (2); risk (1); findings (1); ranking: months, the month's teams, their ranks (3);
# the session saved (savepoint, update, release: 3). A city official: the rankings' presence
# (1) instead of four, and no rank lines (2 fewer).
EXPECTED = {"county": 19, "city": 14, "township": 19}


def test_same_queries_at_two_sizes(client, dash):
    w = dash
    city = f.user("city_a", Role.CITY, w.city)
    users = {"county": w.official_a, "city": city, "township": w.township_official_a}
    small = {key: count(client, user, month="2026-10") for key, user in users.items()}
    grow(w, 6)
    large = {key: count(client, user, month="2026-10") for key, user in users.items()}
    assert small == large == EXPECTED
    assert len(charts(page(client, w.official_a, month="2026-10"))["coverage"]["labels"]) == 8


def test_area_choices_above_a_county_are_grouped_by_county(client, dash):
    w = dash
    city = f.user("city_a", Role.CITY, w.city)
    choices = page(client, city).context["form"].fields["area"].choices
    assert choices == [
        ("", "太原市（全部）"),
        (
            "清徐县",
            [
                (str(w.county_a.pk), "清徐县（全县）"),
                (str(w.township_a.pk), "清源镇"),
                (str(w.township_a2.pk), "柳杜乡"),
            ],
        ),
        ("阳曲县", [(str(w.county_b.pk), "阳曲县（全县）"), (str(w.township_b.pk), "黄寨镇")]),
    ]


def test_superuser_sees_every_county(client, dash):
    from accounts.models import User

    w = dash
    root = User.objects.create_superuser("root", password=f.PASSWORD)
    response = page(client, root, month="2026-10")
    data = charts(response)
    assert data["coverage"]["labels"] == [w.county_a.name, w.county_b.name]
    assert response.context["form"].fields["area"].choices[0] == ("", "全部")
    assert "rank" not in data
    narrowed = charts(page(client, root, month="2026-10", area=w.township_b.pk))
    assert narrowed["coverage"]["labels"] == [w.village_b.name]
    assert [s["label"] for s in narrowed["rank"]["series"]] == [w.team_b.name]
