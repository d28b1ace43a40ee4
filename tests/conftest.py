"""The fixture world: two counties, two townships, two villages, so that every scope check
has an out-of-scope twin."""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from assessments import services as assessments
from households import services as hs
from teams import presence
from teams.models import Assignment, Cadre, DispatchingUnit, WorkTeam
from teams.services import cadre_link_user
from villages.models import Level, Region, Village

from . import factories as f


@dataclass
class World:
    province: Region
    city: Region
    county_a: Region
    county_b: Region
    township_a: Region
    township_b: Region
    village_a: Village
    village_b: Village
    unit_a: DispatchingUnit
    unit_b: DispatchingUnit
    team_a: WorkTeam
    team_b: WorkTeam
    cadre_a: Cadre
    cadre_b: Cadre
    assignment_a: Assignment
    assignment_b: Assignment
    official_a: User
    official_b: User
    township_official_a: User
    member_a: User
    household_a: object
    household_b: object
    person_a: object
    person_b: object
    income_a: object
    income_b: object
    line_a: object
    line_b: object
    band_a: object
    band_b: object
    monitoring_a: object
    monitoring_b: object
    measure_a: object
    measure_b: object
    pairing_a: object
    pairing_b: object
    rule_a: object = None
    rule_b: object = None
    attendance_a: object = None
    attendance_b: object = None
    leave_a: object = None
    leave_b: object = None
    diary_a: object = None
    diary_b: object = None
    visit_a: object = None
    visit_b: object = None
    inspection_a: object = None
    inspection_b: object = None
    finding_a: object = None
    finding_b: object = None
    scheme_a: object = None
    scheme_b: object = None
    ranking_a: object = None
    ranking_b: object = None
    escalation_a: object = None
    escalation_b: object = None
    yearly_scheme_a: object = None
    yearly_scheme_b: object = None
    assessment_a: object = None
    assessment_b: object = None
    circular_rule_a: object = None
    circular_rule_b: object = None
    circular_a: object = None
    circular_b: object = None
    export_a: object = None
    export_b: object = None
    import_a: object = None
    import_b: object = None


@pytest.fixture(scope="session", autouse=True)
def _test_task_queue():
    """Start every run with an empty test queue: messages an earlier run left there (tasks
    queued on commit that no worker consumed) must not reach this run's workers."""
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(app.conf.task_default_queue)


@pytest.fixture
def world(db) -> World:
    province = f.region("140000000000", "山西省", Level.PROVINCE)
    city = f.region("140100000000", "太原市", Level.CITY, province)
    county_a = f.region("140121000000", "清徐县", Level.COUNTY, city)
    county_b = f.region("140122000000", "阳曲县", Level.COUNTY, city)
    township_a = f.region("140121100000", "清源镇", Level.TOWNSHIP, county_a)
    township_b = f.region("140122100000", "黄寨镇", Level.TOWNSHIP, county_b)
    village_a = f.village("140121100201", "东于村", township_a)
    village_b = f.village("140122100201", "大盂村", township_b)
    unit_a = f.unit("清徐县农业农村局", county_a)
    unit_b = f.unit("阳曲县农业农村局", county_b)
    team_a = f.team(village_a, unit_a)
    team_b = f.team(village_b, unit_b)
    cadre_a = f.cadre("张建国", unit_a, county_a)
    cadre_b = f.cadre("李春生", unit_b, county_b)
    assignment_a = f.assign(cadre_a, team_a, leader=True, secretary=True)
    assignment_b = f.assign(cadre_b, team_b, leader=True, secretary=True)
    official_a = f.user("official_a", Role.COUNTY_ADMIN, county_a, full_name="清徐县管理员")
    official_b = f.user("official_b", Role.COUNTY_ADMIN, county_b, full_name="阳曲县管理员")
    township_official_a = f.user("township_a", Role.TOWNSHIP_ADMIN, township_a)
    member_a = f.user("member_a", Role.TEAM_MEMBER, None)
    cadre_link_user(cadre=cadre_a, user=member_a)
    member_a.refresh_from_db()
    households = {}
    for key, village, cadre, county in (
        ("a", village_a, cadre_a, county_a),
        ("b", village_b, cadre_b, county_b),
    ):
        household = f.household(village, f"{village.code}0001")
        person = f.member(household, "户主" + key.upper(), relation="head")
        income = f.income(household, dt.date(2026, 1, 1), wage=800)
        line = hs.income_line_set(year=2026, region=county, amount=Decimal("7000"))
        band = hs.report_band_create(region=county, amount=Decimal("7500"))
        monitoring = hs.monitoring_identify(
            household=household,
            category="marginal",
            risk_types=["illness"],
            discovery="visit",
            identified_on=dt.date(2026, 1, 10),
        )
        measure = hs.measure_add(household=household, kind="health", start=dt.date(2026, 2, 1))
        pairing = hs.pairing_assign(household=household, cadre=cadre, start=dt.date(2026, 1, 1))
        households[key] = (household, person, income, line, band, monitoring, measure, pairing)
    pairs = [x for pair in zip(households["a"], households["b"], strict=True) for x in pair]
    w = World(
        province,
        city,
        county_a,
        county_b,
        township_a,
        township_b,
        village_a,
        village_b,
        unit_a,
        unit_b,
        team_a,
        team_b,
        cadre_a,
        cadre_b,
        assignment_a,
        assignment_b,
        official_a,
        official_b,
        township_official_a,
        member_a,
        *pairs,
    )
    today = timezone.localdate()
    for key, county, cadre, household in (
        ("a", county_a, cadre_a, w.household_a),
        ("b", county_b, cadre_b, w.household_b),
    ):
        rule = presence.presence_rule_set(
            region=county,
            effective_from=dt.date(2026, 1, 1),
            name="五天四夜",
            days_per_week=5,
            nights_per_week=4,
            counted_kinds=["meeting", "training"],
            township_leave_days=3,
        )
        setattr(w, f"rule_{key}", rule)
        setattr(w, f"attendance_{key}", presence.attendance_check_in(cadre=cadre, overnight=True))
        leave = presence.leave_request_submit(
            cadre=cadre,
            kind="personal",
            start=today + dt.timedelta(days=3),
            end=today + dt.timedelta(days=4),
            reason="家中有事",
        )
        setattr(w, f"leave_{key}", leave)
        setattr(w, f"diary_{key}", presence.diary_save(cadre=cadre, day=today, work_done="走访"))
        visit = hs.visit_record(
            household=household,
            cadre=cadre,
            visited_on=today,
            kind="phone",
            seen="电话了解近况",
            client_key=uuid.uuid4(),
        )
        setattr(w, f"visit_{key}", visit)
        village = w.village_a if key == "a" else w.village_b
        inspection = assessments.inspection_create(
            region=county,
            kind="unannounced",
            on=today,
            title="驻村工作暗访",
            inspectors="督查组",
            villages=[village],
        )
        setattr(w, f"inspection_{key}", inspection)
        finding = assessments.finding_create(
            inspection=inspection,
            village=village,
            subject="team",
            team=w.team_a if key == "a" else w.team_b,
            category="records",
            severity="general",
            description="走访台账记录不全",
            deadline=today + dt.timedelta(days=15),
        )
        setattr(w, f"finding_{key}", finding)
        scheme = assessments.scheme_set(
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
        setattr(w, f"scheme_{key}", scheme)
        last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        (ranking,) = assessments.ranking_compute(county=county, period=last_month)
        setattr(w, f"ranking_{key}", ranking)
        (escalation,) = assessments.escalation_derive(county=county, period=last_month)
        setattr(w, f"escalation_{key}", escalation)

    # --- yearly assessment: a scheme per county and the 2026 assessments filled from the data
    from assessments.models import Assessment

    for key, county, cadre in (("a", county_a, cadre_a), ("b", county_b, cadre_b)):
        yearly = assessments.yearly_scheme_set(region=county, from_year=2026, **YEARLY_SCHEME)
        setattr(w, f"yearly_scheme_{key}", yearly)
        assessments.assessment_fill(county=county, year=2026)
        setattr(w, f"assessment_{key}", Assessment.objects.get(cadre=cadre, year=2026))

    # --- circulars (reports): a rule and last month's draft per county ---
    from reports import services as reports

    for key, county, prefix in (("a", county_a, "清驻组"), ("b", county_b, "阳驻组")):
        rule = reports.circular_rule_set(
            region=county,
            effective_from=dt.date(2026, 1, 1),
            name="月度红黑榜",
            red_count=3,
            black_count=3,
            issuer=f"{county.name}驻村工作领导小组办公室",
            number_prefix=prefix,
            red_consequence="年终考核加分，评先评优优先考虑。",
            black_consequence="年终考核扣分，约谈工作队长。",
        )
        setattr(w, f"circular_rule_{key}", rule)
        setattr(w, f"circular_{key}", reports.circular_build(county=county, period=last_month))

    # --- exports: one export job per county official (queued, not run) ---
    from reports.exports.services import export_job_request

    w.export_a = export_job_request(user=official_a, profile="household_system")
    w.export_b = export_job_request(user=official_b, profile="household_system")

    # --- imports (reports.imports): a checked import job in each county ---
    from reports.models import ImportJob

    for key, county, official in (("a", county_a, official_a), ("b", county_b, official_b)):
        job = ImportJob.objects.create(
            layout="households",
            status="invalid",
            region=county,
            requested_by=official,
            original_name=f"帮扶户{key}.xlsx",
            sha256=key * 64,
        )
        setattr(w, f"import_{key}", job)
    return w


# The yearly scheme of the world's counties (the zpol.cn county's four grades and ceilings).
YEARLY_SCHEME = {
    "name": "驻村干部年度考核",
    "presence_weight": Decimal(30),
    "visits_weight": Decimal(20),
    "findings_weight": Decimal(10),
    "income_weight": Decimal(10),
    "unit_weight": Decimal(10),
    "township_weight": Decimal(10),
    "survey_weight": Decimal(10),
    "minor_deduction": Decimal(2),
    "general_deduction": Decimal(5),
    "serious_deduction": Decimal(10),
    "major_deduction": Decimal(20),
    "overdue_deduction": Decimal(5),
    "top_quota": Decimal(25),
    "quota_rounding": "floor",
    "grades": [("优秀", 90), ("称职", 75), ("基本称职", 60), ("不称职", 0)],
    "ceilings": [(1, "称职"), (2, "基本称职"), (3, "不称职")],
}
