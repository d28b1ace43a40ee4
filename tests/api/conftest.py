"""Callers of the API in every role, and helpers to page through it."""

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.roles import Role
from accounts.services import api_token_issue
from tests import factories as f
from villages.models import Level


@dataclass
class Caller:
    """A client of the API in one role. `sees`: which of the world's counties its lists hold
    ("all", "a", "none"), or "forbidden" when the role may not read the API at all."""

    name: str
    user: Any
    client: Client
    sees: str
    token: Any = None
    headers: dict = field(default_factory=dict)


def token_client(user, name="省级系统") -> tuple[Client, Any, str]:
    token, key = api_token_issue(user=user, name=name, actor=None)
    return Client(headers={"authorization": f"Token {key}"}), token, key


def csrf_client(user) -> tuple[Client, dict]:
    """A logged-in browser session that checks CSRF, and the header that passes it."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    secret = secrets.token_hex(16)  # 32 characters, as Django's own cookie
    client.cookies[settings.CSRF_COOKIE_NAME] = secret
    return client, {"HTTP_X_CSRFTOKEN": secret}


def session_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def callers(world) -> dict[str, Caller]:
    other_province = f.region("150000000000", "内蒙古自治区", Level.PROVINCE)
    other_city = f.region("140200000000", "大同市", Level.CITY, world.province)
    province = f.user("province_sx", Role.PROVINCE, world.province)
    province_other = f.user("province_nm", Role.PROVINCE, other_province)
    city = f.user("city_ty", Role.CITY, world.city)
    city_other = f.user("city_dt", Role.CITY, other_city)
    inspector = f.user("inspector_a", Role.INSPECTOR, world.county_a)
    system_admin = f.user("sysadmin", Role.SYSTEM_ADMIN, None)
    superuser = f.user("root", Role.SYSTEM_ADMIN, None, is_superuser=True)
    result = {}
    for name, user, sees in (
        ("province", province, "all"),
        ("province_other", province_other, "none"),
    ):
        client, token, key = token_client(user)
        result[name] = Caller(name, user, client, sees, token, {"Authorization": f"Token {key}"})
    for name, user, sees in (
        ("city", city, "all"),
        ("city_other", city_other, "none"),
        ("county_admin", world.official_a, "a"),
        ("township_admin", world.township_official_a, "a"),
        ("inspector", inspector, "a"),
        ("team_member", world.member_a, "forbidden"),
        ("system_admin", system_admin, "forbidden"),
        ("superuser", superuser, "all"),
    ):
        result[name] = Caller(name, user, session_client(user), sees)
    return result


def pull_all(client: Client, url: str, limit: int = 1000, **params) -> list[dict]:
    """Every row of a list endpoint, following `next` until `has_more` is false."""
    rows, response = [], client.get(url, params)
    for _page in range(limit):
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        body = response.json()
        rows += body["results"]
        if not body["has_more"]:
            return rows
        response = client.get(body["next"])
    raise AssertionError(f"{url}: more than {limit} pages")


def add_county(world, n: int) -> dict[str, Any]:
    """One more county in the world's city with one of everything the API serves (for
    query counts at two sizes). `n` picks distinct codes."""
    from assessments import services as assessments
    from assessments.models import Assessment
    from households import services as hs
    from reports import services as reports
    from teams import presence

    from ..conftest import YEARLY_SCHEME

    today = timezone.localdate()
    county = f.region(f"1401{30 + n:02d}000000", f"新县{n}", Level.COUNTY, world.city)
    township = f.region(f"1401{30 + n:02d}100000", f"新镇{n}", Level.TOWNSHIP, county)
    village = f.village(f"1401{30 + n:02d}100201", f"新村{n}", township)
    unit = f.unit(f"新县{n}农业农村局", county)
    team = f.team(village, unit)
    other = f.unit(f"新县{n}教育局", county)
    team.other_units.add(other)
    cadre = f.cadre(f"新干部{n}", unit, county)
    f.assign(cadre, team, leader=True, secretary=True)
    household = f.household(village, f"{village.code}0001")
    f.member(household, f"新户主{n}", relation="head")
    f.income(household, dt.date(2026, 1, 1), wage=800)
    hs.monitoring_identify(
        household=household,
        category="marginal",
        risk_types=["illness"],
        discovery="visit",
        identified_on=dt.date(2026, 1, 10),
    )
    hs.measure_add(household=household, kind="health", start=dt.date(2026, 2, 1))
    gone = hs.measure_add(household=household, kind="other", start=dt.date(2026, 2, 1))
    gone.delete()
    hs.pairing_assign(household=household, cadre=cadre, start=dt.date(2026, 1, 1))
    presence.presence_rule_set(
        region=county,
        effective_from=dt.date(2026, 1, 1),
        name="五天四夜",
        days_per_week=5,
        nights_per_week=4,
        counted_kinds=[],
        township_leave_days=3,
    )
    presence.attendance_check_in(cadre=cadre, overnight=True)
    presence.leave_request_submit(
        cadre=cadre,
        kind="personal",
        start=today + dt.timedelta(days=3),
        end=today + dt.timedelta(days=4),
        reason="家中有事",
    )
    hs.visit_record(
        household=household,
        cadre=cadre,
        visited_on=today,
        kind="phone",
        seen="电话了解近况",
        client_key=uuid.uuid4(),
    )
    inspection = assessments.inspection_create(
        region=county,
        kind="unannounced",
        on=today,
        title="驻村工作暗访",
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
        description="走访台账记录不全",
        deadline=today + dt.timedelta(days=15),
    )
    assessments.scheme_set(
        region=county,
        effective_from=dt.date(2026, 1, 1),
        name="月度积分",
        presence_weight=40,
        visit_weight=30,
        bianfang_weight=10,
        income_weight=20,
        open_penalty=2,
        overdue_penalty=3,
        serious_penalty=5,
    )
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    assessments.ranking_compute(county=county, period=last_month)
    assessments.escalation_derive(county=county, period=last_month)
    official = f.user(f"official_new{n}", Role.COUNTY_ADMIN, county)
    reports.circular_rule_set(region=county, **CIRCULAR_RULE, number_prefix=f"新驻组{n}")
    publish_circular(county=county, team=team, actor=official)
    assessments.yearly_scheme_set(region=county, from_year=2026, **YEARLY_SCHEME)
    assessments.assessment_fill(county=county, year=2026)
    finalize_assessment(Assessment.objects.get(cadre=cadre, year=2026), actor=official)
    return {"county": county, "village": village, "household": household, "team": team}


CIRCULAR_RULE = {
    "effective_from": dt.date(2026, 1, 1),
    "name": "月度红黑榜",
    "red_count": 3,
    "black_count": 3,
    "issuer": "县驻村工作领导小组办公室",
    "red_consequence": "年终考核加分，评先评优优先考虑。",
    "black_consequence": "年终考核扣分，约谈工作队长。",
}


def last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def publish_circular(*, county, team, actor):
    """The county's circular of last month, (re)built with `team` on the black list (a
    serious finding about it that month) and published."""
    from reports import services as reports

    circular = black_list_draft(county=county, team=team)
    return reports.circular_publish(circular=circular, actor=actor)


def black_list_draft(*, county, team):
    """The county's draft circular of last month, (re)built with `team` on the black list
    for a serious finding about it that month."""
    from assessments import services as assessments
    from reports import services as reports

    period = last_month()
    on = period + dt.timedelta(days=9)
    inspection = assessments.inspection_create(
        region=county,
        kind="unannounced",
        on=on,
        title="月中暗访",
        inspectors="县督查组",
        villages=[team.village],
    )
    assessments.finding_create(
        inspection=inspection,
        village=team.village,
        subject="team",
        team=team,
        category="discipline",
        severity="serious",
        description="工作队长擅自离岗三天",
        deadline=on + dt.timedelta(days=15),
    )
    return reports.circular_build(county=county, period=period)


def finalize_assessment(assessment, *, actor):
    """A drafted yearly assessment scored by the county (low enough to stay within the top
    grade's quota), submitted and finalized."""
    from assessments import services as assessments

    assessment = assessments.assessment_enter_scores(
        assessment=assessment, actor=actor, scores={"unit": 50, "township": 50, "survey": 50}
    )
    assessment = assessments.assessment_submit(assessment=assessment, actor=actor)
    (assessment,) = assessments.assessment_finalize(assessments=[assessment], actor=actor)
    return assessment
