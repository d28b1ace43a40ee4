"""The yearly assessment (年度考核): indicators filled from crafted data, grades on a county's
own scale, ceilings from unexplained absences, the quota on the top grade, every state
change, and the fill job's row."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from assessments import services
from assessments.models import (
    Assessment,
    AssessmentRun,
    AssessmentScore,
    AssessmentState,
    YearlyScheme,
)
from assessments.yearly import top_quota, yearly_scheme_for
from common.errors import ApplicationError
from households import services as hs
from teams import presence
from teams.models import YearLock
from villages.models import Level

from .. import factories as f
from ..conftest import YEARLY_SCHEME

NOW = dt.datetime(2026, 11, 20, 1, 30, tzinfo=dt.UTC)  # 09:30 in Shanghai
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
D = Decimal


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def unit_only(world, region=None, **over):
    """County A's 2026 scheme graded by the dispatching unit's evaluation alone."""
    values = YEARLY_SCHEME | {
        "presence_weight": D(0),
        "visits_weight": D(0),
        "findings_weight": D(0),
        "income_weight": D(0),
        "unit_weight": D(100),
        "township_weight": D(0),
        "survey_weight": D(0),
    }
    return services.yearly_scheme_set(
        region=region or world.county_a, from_year=2026, **(values | over)
    )


def grow(world, villages: int, per_team: int = 3, start: int = 0) -> list:
    """New villages of county A, each with a team of `per_team` cadres; returns the cadres."""
    made = []
    for i in range(start, start + villages):
        village = f.village(f"140121100{400 + i:03d}", f"考核村{i}", world.township_a)
        unit = f.unit(f"清徐县考核局{i}", world.county_a)
        team = f.team(village, unit)
        for k in range(per_team):
            cadre = f.cadre(f"考核干部{i}-{k}", unit, world.county_a)
            f.assign(cadre, team, leader=k == 0, secretary=k == 0)
            made.append(cadre)
    return made


def fill(world, county=None, **kwargs):
    return services.assessment_fill(county=county or world.county_a, year=2026, **kwargs)


def of(cadre, year=2026) -> Assessment:
    return Assessment.objects.get(cadre=cadre, year=year)


def scored(world, cadre, value, **more) -> Assessment:
    return services.assessment_enter_scores(
        assessment=of(cadre), actor=world.official_a, scores={"unit": value} | more
    )


def scores(assessment) -> dict:
    return {s.indicator: (s.score, s.source, s.basis) for s in assessment.scores.all()}


# --- filled from the data -----------------------------------------------------------------


@pytest.fixture
def january(world):
    """County A in January 2026: cadre A in the village on 14 days running and visiting
    their paired household; cadre C (same team) never checked in, never visited the household
    paired with them, and was found absent on 19 January (a serious finding, overdue)."""
    day = dt.date(2026, 1, 5)
    while day <= dt.date(2026, 1, 18):
        presence.attendance_check_in(
            cadre=world.cadre_a,
            overnight=True,
            at=dt.datetime.combine(day, dt.time(9), tzinfo=SHANGHAI),
        )
        day += dt.timedelta(days=1)
    hs.visit_record(
        household=world.household_a,
        cadre=world.cadre_a,
        visited_on=dt.date(2026, 1, 9),
        kind="in_person",
        seen="正常",
        client_key=uuid.uuid4(),
    )
    cadre_c = f.cadre("王晓明", world.unit_a, world.county_a)
    f.assign(cadre_c, world.team_a)
    household_c = f.household(world.village_a, f"{world.village_a.code}0002")
    f.member(household_c, "户主C", relation="head")
    f.income(household_c, dt.date(2026, 1, 1), wage=300)  # 3 600 a year per head: under 7 000
    hs.pairing_assign(household=household_c, cadre=cadre_c, start=dt.date(2026, 1, 1))
    inspection = services.inspection_create(
        region=world.county_a,
        kind="unannounced",
        on=dt.date(2026, 1, 20),
        title="一月暗访",
        inspectors="督查组",
        villages=[world.village_a],
    )
    services.finding_create(
        inspection=inspection,
        village=world.village_a,
        subject="cadre",
        cadre=cadre_c,
        category="absent",
        severity="serious",
        description="暗访时不在村",
        absence_day=dt.date(2026, 1, 19),
        deadline=dt.date(2026, 1, 25),
    )
    return cadre_c


def test_fill_from_crafted_data(world, january):
    result = fill(world, today=dt.date(2026, 1, 31))
    assert result == {"created": 1, "updated": 2, "kept": 0, "removed": 0}  # cadre C is new
    a, c = of(world.cadre_a), of(january)
    team = Assessment.objects.get(kind="team", team=world.team_a)
    got = {k: v[0] for k, v in scores(a).items()}
    # Weeks of January under 五天四夜 (1–4 Jan prorated): 5–11 and 12–18 met, 1–4 and 19–25
    # failed, 26–31 still running and not met (undecided): 2 of 4.
    assert got == {
        "presence": D("50.00"),
        "visits": D("100.00"),  # the paired household visited in January: 1 of 1
        "findings": D("100.00"),
        "income": D("100.00"),  # 9 600 a head ≥ the line of 7 000; no 2025 to fall from
        "unit": None,
        "township": None,
        "survey": None,
    }
    assert scores(a)["presence"][2] == "周达标2/4。"
    assert scores(a)["unit"][1:] == ("entered", "")
    got = {k: v[0] for k, v in scores(c).items() if v[1] == "data"}
    assert got == {
        "presence": D("0.00"),  # 4 weeks decided, none met
        "visits": D("0.00"),
        "findings": D("85.00"),  # 100 − 10 (serious) − 5 (overdue on 31 January)
        "income": D("0.00"),  # 3 600 < 7 000
    }
    assert scores(c)["findings"][2] == "督查问题1个（严重1），超期未整改1个，扣15分。"
    assert scores(c)["income"][2] == (
        "结对帮扶户1户，达标0户；未登记收入0户，低于监测线1户，收入下降0户。"
    )
    assert c.absence_days == [dt.date(2026, 1, 19)]
    got = {k: v[0] for k, v in scores(team).items() if v[1] == "data"}
    assert got == {
        "presence": D("25.00"),  # the mean of 50 and 0
        "visits": D("50.00"),  # 2 households in January, 1 visited
        "findings": D("85.00"),  # the finding about its member
        "income": D("50.00"),
    }
    assert team.absence_days == [dt.date(2026, 1, 19)]
    # Not graded until the county's scores are in.
    assert (a.total, a.grade, a.state, a.data_until) == (None, "", "draft", dt.date(2026, 1, 31))

    # 30×50 + 20×100 + 10×100 + 10×100 + 10×(90+90+90), over 100.
    a = scored(world, world.cadre_a, 90, township=90, survey=90)
    assert (a.total, a.score_grade, a.grade, a.grade_rank) == (D("82.00"), "称职", "称职", 2)
    # 10×85 + 10×(95+95+95), over 100; one absence caps at 称职, which is above 不称职 anyway.
    c = scored(world, january, 95, township=95, survey=95)
    assert (c.total, c.grade, c.ceiling_grade) == (D("37.00"), "不称职", "称职")


def test_a_refill_keeps_the_entries_and_follows_the_data(world, january):
    fill(world, today=dt.date(2026, 1, 31))
    scored(world, world.cadre_a, 90, township=90, survey=90)
    services.assessment_adjust_grade(
        assessment=of(world.cadre_a), actor=world.official_a, grade="基本称职", reason="作风问题"
    )
    # To November: eleven months of visits due now, the entries and the adjustment stay.
    result = fill(world)
    assert result["updated"] == 3
    a = of(world.cadre_a)
    assert scores(a)["unit"][0] == D("90.00")
    assert scores(a)["visits"][2] == "结对帮扶户应走访11户·月，已走访2户·月。"
    assert (a.adjusted_grade, a.adjust_reason) == ("基本称职", "作风问题")
    assert a.grade_rank >= 3
    assert a.data_until == dt.date(2026, 11, 20)
    assert [s.action for s in a.steps.order_by("id")] == ["fill", "fill", "score", "adjust", "fill"]


def test_a_moved_cadre_is_graded_by_the_last_county(world):
    """A cadre who left county A's team for county B's in the year is graded once, by B;
    A's draft goes when A fills again."""
    moving = f.cadre("调动干部", world.unit_a, world.county_a)
    first = f.assign(moving, world.team_a)
    fill(world)
    assert of(moving).county == world.county_a
    from teams import services as team_services

    team_services.assignment_end(assignment=first, ended_on=dt.date(2026, 6, 30), reason="调动")
    f.assign(moving, world.team_b, start=dt.date(2026, 7, 1))
    result = fill(world)
    assert result["removed"] == 1
    assert not Assessment.objects.filter(cadre=moving).exists()
    services.assessment_fill(county=world.county_b, year=2026)
    moved = of(moving)
    assert (moved.county, moved.team, moved.village) == (
        world.county_b,
        world.team_b,
        world.village_b,
    )


def test_the_fill_runs_the_same_queries_at_two_sizes(world):
    """A county's fill reads and writes in a fixed number of statements, however many
    cadres, teams, households, visits and findings it has (so the job scales)."""

    def refill_queries() -> int:
        fill(world)  # creates what is new
        with CaptureQueriesContext(connection) as ctx:
            fill(world)  # the measured run updates every draft
        return len(ctx.captured_queries)

    def busy(cadres):
        for cadre in cadres:
            household = f.household(cadre.assignments.get().team.village, f"{cadre.pk:012d}9")
            f.member(household, "户主", relation="head")
            f.income(household, dt.date(2026, 3, 1), wage=500)
            hs.pairing_assign(household=household, cadre=cadre, start=dt.date(2026, 1, 1))
            hs.visit_record(
                household=household,
                cadre=cadre,
                visited_on=dt.date(2026, 3, 9),
                kind="in_person",
                seen="正常",
                client_key=uuid.uuid4(),
            )
            presence.attendance_record_absence(
                cadre=cadre, day=dt.date(2026, 3, 10), actor=None, note="暗访不在村"
            )

    busy(grow(world, 1))
    small = refill_queries()
    busy(grow(world, 5, start=1))
    large = refill_queries()
    assert Assessment.objects.filter(county=world.county_a).count() == 2 + 6 * 4
    assert small == large


def test_without_a_scheme_nothing_is_filled(world):
    county = f.region("140123000000", "古交市", Level.COUNTY, world.city)
    with pytest.raises(ApplicationError, match="古交市尚未设置2026年度的年度考核方案"):
        services.assessment_fill(county=county, year=2026)
    with pytest.raises(ValidationError):
        services.assessment_fill(county=world.county_a, year=2027)


# --- schemes, scales and ceilings ------------------------------------------------------------


def test_the_most_specific_scheme_then_the_latest_year_wins(world):
    province = {**YEARLY_SCHEME, "name": "省方案"}
    old = services.yearly_scheme_set(region=world.province, from_year=2024, **province)
    new = services.yearly_scheme_set(region=world.province, from_year=2026, **province)
    county_c = f.region("140123000000", "古交市", Level.COUNTY, world.city)
    assert yearly_scheme_for(county_c, 2025) == old
    assert yearly_scheme_for(county_c, 2026) == new
    assert yearly_scheme_for(world.county_a, 2026) == world.yearly_scheme_a
    assert yearly_scheme_for(world.county_a, 2025) == old
    assert yearly_scheme_for(county_c, 2023) is None


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        ("100", "好"),
        ("85", "好"),
        ("84.99", "较好"),
        ("70", "较好"),
        ("69.99", "一般"),
        ("55", "一般"),
        ("54.99", "差"),
        ("0", "差"),
    ],
)
def test_thresholds_of_another_scale(world, total, grade):
    unit_only(
        world,
        grades=[("好", 85), ("较好", 70), ("一般", 55), ("差", 0)],
        ceilings=[(1, "较好"), (2, "差")],
    )
    fill(world)
    a = scored(world, world.cadre_a, D(total))
    assert (a.total, a.grade, a.score_grade) == (D(total), grade, grade)


def test_a_changed_scale_regrades_the_drafts_at_once(world):
    unit_only(world)
    fill(world)
    assert scored(world, world.cadre_a, 80).grade == "称职"
    unit_only(world, grades=[("好", 85), ("较好", 70), ("一般", 55), ("差", 0)], ceilings=[])
    assert of(world.cadre_a).grade == "较好"


@pytest.mark.parametrize(
    ("grades", "ceilings", "message"),
    [
        ([("优秀", 90)], [], "至少设置两个等次"),
        ([("优秀", 90), ("合格", 60)], [], "最低分应为0"),
        ([("优秀", 60), ("合格", 90), ("差", 0)], [], "最低分依次递减"),
        ([("优秀", 90), ("优秀", 0)], [], "重复"),
        ([("优秀", 190), ("差", 0)], [], "0到100之间"),
        ([("优秀", 90), ("差", 0)], [(1, "良好")], "不在等次表中"),
        ([("优秀", 90), ("差", 0)], [(1, "优秀")], "不能是最高等次"),
        ([("优秀", 90), ("称职", 60), ("差", 0)], [(1, "差"), (2, "称职")], "不能越高"),
    ],
)
def test_a_bad_scale_is_refused_and_nothing_changes(world, grades, ceilings, message):
    before = list(world.yearly_scheme_a.grades.values_list("name", "min_score"))
    with pytest.raises(ValidationError, match=message):
        unit_only(world, grades=grades, ceilings=ceilings)
    assert list(world.yearly_scheme_a.grades.values_list("name", "min_score")) == before


@pytest.fixture
def absentees(world):
    """Four cadres of county A with 0, 1, 2 and 3 unexplained absences found in 2026; the
    one with two also has an absence on a day of approved leave, which does not count."""
    unit_only(world)
    cadres = grow(world, 2, per_team=2)
    for n, cadre in enumerate(cadres):
        for k in range(n):
            presence.attendance_record_absence(
                cadre=cadre, day=dt.date(2026, 3, 2 + k), actor=world.official_a, note="暗访不在村"
            )
    leave = presence.leave_request_submit(
        cadre=cadres[2],
        kind="sick",
        start=dt.date(2026, 4, 1),
        end=dt.date(2026, 4, 2),
        reason="住院",
    )
    presence.leave_request_decide(leave=leave, actor=world.official_a, approve=True)
    presence.attendance_record_absence(
        cadre=cadres[2], day=dt.date(2026, 4, 1), actor=world.official_a, note="暗访不在村"
    )
    fill(world)
    return cadres


def test_grade_ceilings_from_unexplained_absences(world, absentees):
    got = []
    for cadre in absentees:
        a = scored(world, cadre, 95)
        got.append((a.absences, a.score_grade, a.ceiling_grade, a.grade))
    assert got == [
        (0, "优秀", "", "优秀"),
        (1, "优秀", "称职", "称职"),  # 1 → not the top grade
        (2, "优秀", "基本称职", "基本称职"),  # 2 → at most the third grade
        (3, "优秀", "不称职", "不称职"),  # 3 → the lowest
    ]
    assert of(absentees[2]).ceiling_reason == (
        "督查发现无故缺勤2次（2026-03-02、2026-03-03），按方案达到2次最高评为“基本称职”。"
    )
    # A ceiling only caps: a low total stays low.
    assert scored(world, absentees[1], 50).grade == "不称职"
    # The team answers for its members' absences while on it (0 + 1 and 2 + 3).
    teams = Assessment.objects.filter(kind="team", team__village__name__startswith="考核村")
    assert sorted(len(t.absence_days) for t in teams) == [1, 5]


def test_an_adjustment_only_lowers(world):
    unit_only(world)
    fill(world)
    scored(world, world.cadre_a, 80)
    with pytest.raises(ApplicationError, match="调整只能降低等次"):
        services.assessment_adjust_grade(
            assessment=of(world.cadre_a), actor=world.official_a, grade="优秀", reason="表现突出"
        )
    with pytest.raises(ValidationError):
        services.assessment_adjust_grade(
            assessment=of(world.cadre_a), actor=world.official_a, grade="不称职", reason=""
        )
    a = services.assessment_adjust_grade(
        assessment=of(world.cadre_a), actor=world.official_a, grade="不称职", reason="违反纪律"
    )
    assert (a.score_grade, a.grade) == ("称职", "不称职")
    a = services.assessment_adjust_grade(
        assessment=a, actor=world.official_a, grade=None, reason="复核撤销"
    )
    assert (a.grade, a.adjusted_grade) == ("称职", "")


# --- the quota on the top grade -----------------------------------------------------------


@pytest.fixture
def ten(world):
    """Ten cadres in county A (the world's and nine more), four scoring 90 or more, all
    submitted; the quota is 25 % rounded down: 2."""
    unit_only(world)
    cadres = [world.cadre_a, *grow(world, 3)]
    fill(world)
    for cadre, value in zip(cadres, [95, 93, 91, 90, 89, 80, 80, 75, 70, 60], strict=True):
        scored(world, cadre, value)
        services.assessment_submit(assessment=of(cadre), actor=world.official_a)
    return cadres


def test_top_quota_rounding():
    scheme = YearlyScheme(top_quota=D(25), quota_rounding="floor")
    assert [top_quota(scheme, n) for n in (3, 4, 10, 11)] == [0, 1, 2, 2]
    scheme.quota_rounding = "half_up"
    assert [top_quota(scheme, n) for n in (2, 3, 10, 11)] == [1, 1, 3, 3]
    scheme.quota_rounding = "ceil"
    assert [top_quota(scheme, n) for n in (1, 9, 10)] == [1, 3, 3]
    scheme.top_quota = None
    assert top_quota(scheme, 10) is None


def test_finalizing_beyond_the_quota_is_refused_whole(world, ten):
    everything = [of(c) for c in ten]
    with pytest.raises(ApplicationError) as refused:
        services.assessment_finalize(assessments=everything, actor=world.official_a)
    assert refused.value.message == (
        "“优秀”超出名额：清徐县2026年度干部考核共10个，“优秀”不超过25%（向下取整），"
        "最多2个；已定格0个，本次申请定格4个。请先调整等次，本次未定格任何考核。"
    )
    assert refused.value.extra == {
        "year": 2026,
        "base": 10,
        "allowed": 2,
        "done": 0,
        "asked": 4,
    }
    assert not Assessment.objects.filter(state="finalized").exists()
    assert not YearLock.objects.exists()

    # Within the quota: the two best and the six below 90.
    allowed = [of(c) for c in ten[:2] + ten[4:]]
    services.assessment_finalize(assessments=allowed, actor=world.official_a, note="县考核委员会")
    assert Assessment.objects.filter(state="finalized").count() == 8
    # A third 优秀 later is refused too: the finalized ones count.
    with pytest.raises(ApplicationError, match="最多2个；已定格2个，本次申请定格1个"):
        services.assessment_finalize(assessments=[of(ten[2])], actor=world.official_a)


def test_the_quota_applied_as_the_rule_says(world, ten):
    """The drafts keep the top grade in order of total within the quota; the others go one
    grade down with the reason; then the whole county finalizes."""
    for cadre in ten[:4]:
        services.assessment_return(assessment=of(cadre), actor=world.official_a, note="按名额")
    lowered = services.assessment_quota_apply(
        county=world.county_a, year=2026, kind="cadre", actor=world.official_a
    )
    assert [a.cadre for a in lowered] == ten[2:4]
    assert [of(c).grade for c in ten[:5]] == ["优秀", "优秀", "称职", "称职", "称职"]
    assert of(ten[3]).adjust_reason == (
        "超出“优秀”名额（清徐县2026年度干部最多2个），按总分排序第4名。"
    )
    for cadre in ten[:4]:
        services.assessment_submit(assessment=of(cadre), actor=world.official_a)
    services.assessment_finalize(assessments=[of(c) for c in ten], actor=world.official_a)
    assert Assessment.objects.filter(kind="cadre", state="finalized").count() == 10


def test_a_tie_at_the_last_place_is_left_to_the_county(world, ten):
    for cadre in ten[:4]:
        services.assessment_return(assessment=of(cadre), actor=world.official_a, note="按名额")
    scored(world, ten[2], 93)  # ties with the second
    with pytest.raises(ApplicationError, match=r"第2名总分并列（93\.00分）"):
        services.assessment_quota_apply(
            county=world.county_a, year=2026, kind="cadre", actor=world.official_a
        )
    assert [of(c).grade for c in ten[:4]] == ["优秀"] * 4


def test_teams_have_their_own_quota(world, ten):
    """Four teams at 25 %: one may be 优秀, whatever the cadres."""
    teams = list(Assessment.objects.filter(county=world.county_a, kind="team").order_by("pk"))
    for team in teams:
        services.assessment_enter_scores(
            assessment=team, actor=world.official_a, scores={"unit": 95}
        )
        services.assessment_submit(assessment=team, actor=world.official_a)
    expected = r"工作队考核共4个.*最多1个；已定格0个，本次申请定格4个"
    with pytest.raises(ApplicationError, match=expected):
        services.assessment_finalize(assessments=teams, actor=world.official_a)
    services.assessment_finalize(assessments=teams[:1], actor=world.official_a)


# --- states -------------------------------------------------------------------------------


def test_every_state_change(world):
    unit_only(world)
    fill(world)
    a, actor = of(world.cadre_a), world.official_a
    # draft → finalized is forbidden: submit first.
    with pytest.raises(ApplicationError, match="只有已提交的考核才能定格"):
        services.assessment_finalize(assessments=[a], actor=actor)
    # draft → submitted needs the county's scores.
    with pytest.raises(ApplicationError, match="尚未录入：派出单位评价，不能提交"):
        services.assessment_submit(assessment=a, actor=actor)
    scored(world, world.cadre_a, 80)
    a = services.assessment_submit(assessment=a, actor=actor, note="报县考核办")
    assert a.state == AssessmentState.SUBMITTED
    services.assessment_submit(assessment=a, actor=actor)  # again: nothing changes
    # A submitted one takes no entries.
    with pytest.raises(ApplicationError, match="只有草稿状态的考核可以录入评分"):
        scored(world, world.cadre_a, 99)
    with pytest.raises(ApplicationError, match="只有草稿状态的考核可以调整等次"):
        services.assessment_adjust_grade(assessment=a, actor=actor, grade="不称职", reason="x")
    # submitted → draft needs a reason; returning a draft changes nothing.
    with pytest.raises(ValidationError):
        services.assessment_return(assessment=a, actor=actor, note=" ")
    a = services.assessment_return(assessment=a, actor=actor, note="评分有误")
    services.assessment_return(assessment=a, actor=actor, note="再次退回")
    a = services.assessment_submit(assessment=a, actor=actor)
    # A township official cannot finalize.
    with pytest.raises(ApplicationError, match="只有县级考核管理人员可以定格"):
        services.assessment_finalize(assessments=[a], actor=world.township_official_a)
    (a,) = services.assessment_finalize(assessments=[a], actor=actor, note="定格")
    assert (a.state, a.finalized_by) == (AssessmentState.FINALIZED, actor)
    services.assessment_finalize(assessments=[a], actor=actor)  # again: nothing changes
    # finalized → anything is forbidden.
    with pytest.raises(ApplicationError, match="已定格的考核不能再提交"):
        services.assessment_submit(assessment=a, actor=actor)
    with pytest.raises(ApplicationError, match="已定格的考核不能退回"):
        services.assessment_return(assessment=a, actor=actor, note="重评")
    with pytest.raises(ApplicationError, match="只有草稿状态的考核可以录入评分"):
        scored(world, world.cadre_a, 99)
    assert fill(world)["kept"] == 1  # a refill leaves it as it is
    assert [(s.action, s.old, s.new, s.actor, s.note) for s in a.steps.order_by("id")] == [
        ("fill", "", "draft", None, "按截至2026-11-20的数据计算。"),
        ("fill", "draft", "draft", None, "按截至2026-11-20的数据计算。"),
        ("score", "draft", "draft", actor, "派出单位评价：- → 80.00"),
        ("submit", "draft", "submitted", actor, "报县考核办"),
        ("return", "submitted", "draft", actor, "评分有误"),
        ("submit", "draft", "submitted", actor, ""),
        ("finalize", "submitted", "finalized", actor, "定格"),
    ]


def test_a_finalized_assessment_is_immutable_in_the_database(world):
    unit_only(world)
    fill(world)
    scored(world, world.cadre_a, 80)
    a = services.assessment_submit(assessment=of(world.cadre_a), actor=world.official_a)
    services.assessment_finalize(assessments=[a], actor=world.official_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.filter(pk=a.pk).update(grade="优秀")
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.filter(pk=a.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        AssessmentScore.objects.filter(assessment=a).update(score=100)
    assert of(world.cadre_a).grade == "称职"
    with pytest.raises(ApplicationError, match="该方案已用于已提交或已定格的考核"):
        unit_only(world, name="改方案")


def test_a_stale_form_does_not_overwrite(world):
    unit_only(world)
    fill(world)
    opened = of(world.cadre_a).version
    scored(world, world.cadre_a, 80)  # someone else saves first
    with pytest.raises(ApplicationError, match="已被他人修改"):
        services.assessment_enter_scores(
            assessment=of(world.cadre_a),
            actor=world.official_a,
            scores={"unit": 95},
            expected_version=opened,
        )
    assert of(world.cadre_a).total == D("80.00")


@pytest.mark.parametrize("value", ["-1", "100.01", "abc"])
def test_an_entered_score_outside_0_to_100_is_refused(world, value):
    fill(world)
    with pytest.raises(ValidationError):
        scored(world, world.cadre_a, value)
    assert scores(of(world.cadre_a))["unit"][0] is None


# --- scope ----------------------------------------------------------------------------------


def test_county_a_never_grades_county_b(world):
    fill(world, county=world.county_b)
    with pytest.raises(ApplicationError, match="未找到该县"):
        services.assessment_fill_request(county=world.county_b, year=2026, actor=world.official_a)
    b = services.assessment_enter_scores(
        assessment=world.assessment_b,
        actor=world.official_b,
        scores={"unit": 80, "township": 80, "survey": 80},
    )
    b = services.assessment_submit(assessment=b, actor=world.official_b)
    with pytest.raises(ApplicationError, match="未找到所选的部分考核"):
        services.assessment_finalize(assessments=[b], actor=world.official_a)
    with pytest.raises(ApplicationError, match="未找到该县"):
        services.assessment_quota_apply(
            county=world.county_b, year=2026, kind="cadre", actor=world.official_a
        )
    assert of(world.cadre_b).state == "submitted"
    assert not Assessment.objects.visible_to(world.official_a).filter(county=world.county_b)


# --- the job --------------------------------------------------------------------------------


def test_the_request_is_queued_after_commit_once(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = services.assessment_fill_request(
            county=world.county_a, year=2026, actor=world.official_a
        )
        again = services.assessment_fill_request(county=world.county_a, year=2026)
    assert first == again
    assert len(callbacks) == 1
    with pytest.raises(ValidationError):
        services.assessment_fill_request(county=world.township_a, year=2026)


def test_a_failed_run_says_why(world):
    county = f.region("140123000000", "古交市", Level.COUNTY, world.city)
    run = AssessmentRun.objects.create(county=county, year=2026)
    services.assessment_fill_run(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.error) == ("failed", "古交市尚未设置2026年度的年度考核方案。")
