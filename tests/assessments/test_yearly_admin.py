"""The yearly assessment in the admin: the list and its filters at a constant query count,
entering scores on a draft, the actions, the .xlsx results, the fill page and the schemes —
county A never seeing or grading county B."""

import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import services
from assessments.models import Assessment, AssessmentRun, YearlyScheme

from .test_yearly import NOW, grow, of, scored, unit_only

CHANGELIST = "admin:assessments_assessment_changelist"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def listed(response) -> set[int]:
    return {a.pk for a in response.context["cl"].result_list}


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def act(client, action, assessments, **data):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, ACTION_CHECKBOX_NAME: [a.pk for a in assessments], **data},
        follow=True,
    )


# --- the list -------------------------------------------------------------------------------


def run(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.context["cl"].result_list)


# Expected queries, the same at both sizes: session, user, the user's region (scope prefix),
# the year filter's values, the grade filter's names (of the schemes in scope), the township
# filter's choices, the page count, the page of rows (cadre, team, village and township
# joined), and the session's expiry renewal (savepoint, update, release).
EXPECTED = 11


def test_changelist_queries_do_not_grow_with_rows(client, world):
    client.force_login(world.official_a)
    url = reverse(CHANGELIST)
    grow(world, 2)
    services.assessment_fill(county=world.county_a, year=2026)
    small, rows_small = run(client, url)
    grow(world, 12, start=2)
    services.assessment_fill(county=world.county_a, year=2026)
    large, rows_large = run(client, url)
    assert (rows_small, rows_large) == (2 + 2 * 4, 2 + 14 * 4)  # + the world's cadre and team
    assert (small, large) == (EXPECTED, EXPECTED)


def test_filters(client, world):
    unit_only(world)
    others = grow(world, 1, per_team=2)
    services.assessment_fill(county=world.county_a, year=2026)
    scored(world, world.cadre_a, 95)
    scored(world, others[0], 80)
    services.assessment_submit(assessment=of(others[0]), actor=world.official_a)
    client.force_login(world.official_a)
    url = reverse(CHANGELIST)
    assert listed(client.get(url, {"grade": "优秀"})) == {of(world.cadre_a).pk}
    assert listed(client.get(url, {"grade": "称职"})) == {of(others[0]).pk}
    assert listed(client.get(url, {"state": "submitted"})) == {of(others[0]).pk}
    assert len(listed(client.get(url, {"kind": "team"}))) == 2
    assert len(listed(client.get(url, {"kind": "cadre", "year": 2026}))) == 3
    assert not listed(client.get(url, {"year": 2025}))
    township = listed(client.get(url, {"township": world.township_a.pk}))
    assert len(township) == 5
    assert world.assessment_b.pk not in listed(client.get(url))
    page = client.get(url, {"grade": "优秀"}).content.decode()
    assert "按数据计算年度考核" in page


# --- a draft's page -------------------------------------------------------------------------


def form_data(assessment, **extra):
    return {
        "unit": "88",
        "township": "90",
        "survey": "92",
        "note": "县考核办录入",
        "adjusted": "",
        "reason": "",
        "version": str(assessment.version),
        # the read-only inlines' management forms
        "scores-TOTAL_FORMS": "0",
        "scores-INITIAL_FORMS": "0",
        "steps-TOTAL_FORMS": "0",
        "steps-INITIAL_FORMS": "0",
    } | extra


def test_entering_scores_on_a_draft(client, world):
    client.force_login(world.official_a)
    a = world.assessment_a
    url = reverse("admin:assessments_assessment_change", args=[a.pk])
    page = client.get(url).content.decode()
    assert 'name="unit"' in page
    assert "本年度无督查问题" in page  # the data's basis is shown with the scores
    response = client.post(url, form_data(a))
    assert response.status_code == 302, response.content.decode()[:2000]
    a = of(world.cadre_a)
    got = {s.indicator: s.score for s in a.scores.all() if s.source == "entered"}
    assert got == {"unit": Decimal("88.00"), "township": Decimal("90.00"), "survey": 92}
    assert a.total is not None
    assert a.steps.order_by("id").last().note == (
        "派出单位评价：- → 88.00；乡镇评价：- → 90.00；满意度测评：- → 92.00；县考核办录入"
    )
    # A page opened before that save does not overwrite it.
    stale = client.post(url, form_data(world.assessment_a, unit="10"), follow=True)
    assert "该考核已被他人修改，请刷新页面后重新录入。" in messages_of(stale)
    assert of(world.cadre_a).scores.get(indicator="unit").score == Decimal("88.00")
    # A downward adjustment needs its reason.
    data = form_data(a, adjusted="不称职", reason="")
    assert "请说明调整等次的原因" in str(messages_of(client.post(url, data, follow=True)))
    client.post(url, form_data(of(world.cadre_a), adjusted="不称职", reason="违反廉洁纪律"))
    assert (of(world.cadre_a).grade, of(world.cadre_a).adjust_reason) == ("不称职", "违反廉洁纪律")


def test_a_submitted_or_finalized_assessment_is_read_only(client, world):
    unit_only(world)
    services.assessment_fill(county=world.county_a, year=2026)
    a = services.assessment_submit(
        assessment=scored(world, world.cadre_a, 80), actor=world.official_a
    )
    client.force_login(world.official_a)
    url = reverse("admin:assessments_assessment_change", args=[a.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="unit"' not in page.content.decode()
    assert client.post(url, form_data(a)).status_code == 403


# --- actions --------------------------------------------------------------------------------


def test_submit_and_finalize_through_the_actions(client, world):
    unit_only(world)
    cadres = [world.cadre_a, *grow(world, 1)]
    services.assessment_fill(county=world.county_a, year=2026)
    for cadre, value in zip(cadres, (95, 92, 80, 70), strict=True):
        scored(world, cadre, value)
    rows = [of(c) for c in cadres]
    client.force_login(world.official_a)
    page = act(client, "submit", rows)  # the confirmation page first
    assert "提交年度考核" in page.content.decode()
    act(client, "submit", rows, apply="1", note="")
    assert {of(c).state for c in cadres} == {"submitted"}
    # 4 cadres at 25 %: one 优秀; two asked.
    response = act(client, "finalize", [*rows, world.assessment_b], apply="1", note="")
    assert messages_of(response) == [
        "“优秀”超出名额：清徐县2026年度干部考核共4个，“优秀”不超过25%（向下取整），"
        "最多1个；已定格0个，本次申请定格2个。请先调整等次，本次未定格任何考核。"
    ]
    assert not Assessment.objects.filter(state="finalized").exists()
    response = act(client, "return_to_draft", rows[1:2], apply="1", note="按名额调整")
    response = act(client, "apply_quota", rows[1:2], apply="1", note="")
    assert of(cadres[1]).grade == "称职"
    act(client, "submit", rows[1:2], apply="1", note="")
    response = act(client, "finalize", rows, apply="1", note="县考核委员会审定")
    assert messages_of(response) == ["已定格 4 个年度考核，相关年度数据已锁定。"]
    assert {of(c).state for c in cadres} == {"finalized"}
    assert of(world.cadre_b).state == "draft"  # B's id selected nothing


def test_a_township_cannot_finalize(client, world):
    client.force_login(world.township_official_a)
    page = client.get(reverse(CHANGELIST)).content.decode()
    for action in ("finalize", "submit", "return_to_draft", "apply_quota", "refill"):
        assert f'value="{action}"' not in page
    assert 'value="download"' in page
    assert "按数据计算年度考核" not in page


def test_results_download(client, world):
    unit_only(world)
    services.assessment_fill(county=world.county_a, year=2026)
    scored(world, world.cadre_a, 91)
    client.force_login(world.official_a)
    everything = list(Assessment.objects.all())
    response = act(client, "download", everything)
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["干部", "工作队"]
    cadres, teams = book["干部"], book["工作队"]
    header = [c.value for c in cadres[3]]
    assert header[:8] == ["年度", "县", "乡镇", "村", "工作队", "姓名", "工作单位", "职务"]
    assert header[8:15] == [
        "驻村在岗",
        "入户走访",
        "督查问题",
        "收入成效",
        "派出单位评价",
        "乡镇评价",
        "满意度测评",
    ]
    rows = list(cadres.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 1  # county B's cadre is out of scope
    row = dict(zip(header, rows[0], strict=True))
    assert (row["姓名"], row["派出单位评价"], row["总分"], row["考核等次"]) == (
        "张建国",
        91,
        91,
        "优秀",
    )
    assert (row["县"], row["村"], row["状态"]) == ("清徐县", "东于村", "草稿")
    team_rows = list(teams.iter_rows(min_row=4, values_only=True))
    assert [r[4] for r in team_rows] == ["东于村工作队"]


# --- the fill page --------------------------------------------------------------------------


def test_fill_page(client, world, django_capture_on_commit_callbacks):
    url = reverse("admin:assessments_assessment_fill")
    client.force_login(world.township_official_a)
    assert client.get(url).status_code == 403
    client.force_login(world.official_a)
    page = client.post(url, {"county": world.county_b.pk, "year": 2026})
    assert "选择一个有效的选项" in page.content.decode()
    assert not AssessmentRun.objects.exists()
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url, {"county": world.county_a.pk, "year": 2026})
    assert response.status_code == 302
    assert len(callbacks) == 1
    run = AssessmentRun.objects.get()
    assert (run.county, run.year, run.status, run.requested_by) == (
        world.county_a,
        2026,
        "pending",
        world.official_a,
    )
    assert "清徐县" in client.get(url).content.decode()
    # The refill action queues the same job (it is already queued: the same row).
    act(client, "refill", [world.assessment_a, world.assessment_b])
    assert AssessmentRun.objects.count() == 1


# --- schemes --------------------------------------------------------------------------------


def scheme_data(**extra):
    data = {
        "region": "",
        "from_year": "2027",
        "name": "四档考核",
        "note": "",
        "grades_text": "好 85\n较好 70\n一般 55\n差 0",
        "ceilings_text": "1 较好\n2 一般\n3 差",
        "top_quota": "20",
        "quota_rounding": "half_up",
    }
    for key in (
        "presence",
        "visits",
        "findings",
        "income",
        "unit",
        "township",
        "survey",
    ):
        data[f"{key}_weight"] = "10"
    for key in ("minor", "general", "serious", "major", "overdue"):
        data[f"{key}_deduction"] = "1"
    return data | extra


def test_scheme_admin(client, world):
    client.force_login(world.official_a)
    add = reverse("admin:assessments_yearlyscheme_add")
    bad = client.post(add, scheme_data(region=world.county_a.pk, grades_text="好 85\n差 10"))
    assert "最低等次“差”的最低分应为0" in bad.content.decode()
    wrong = client.post(add, scheme_data(region=world.county_a.pk, ceilings_text="一次 差"))
    assert "每行填写：无故缺勤次数 最高可评等次" in wrong.content.decode()
    response = client.post(add, scheme_data(region=world.county_a.pk))
    assert response.status_code == 302
    scheme = YearlyScheme.objects.get(region=world.county_a, from_year=2027)
    assert list(scheme.grades.values_list("name", "min_score")) == [
        ("好", 85),
        ("较好", 70),
        ("一般", 55),
        ("差", 0),
    ]
    assert list(scheme.ceilings.values_list("absences", "grade_rank")) == [(1, 2), (2, 3), (3, 4)]
    listing = client.get(reverse("admin:assessments_yearlyscheme_changelist")).content.decode()
    assert "好≥85 / 较好≥70 / 一般≥55 / 差≥0" in listing
    assert "20%（四舍五入）" in listing
    change = reverse("admin:assessments_yearlyscheme_change", args=[scheme.pk])
    assert "较好 70" in client.get(change).content.decode()
    # A scheme that graded a submitted assessment is not changed.
    services.assessment_submit(
        assessment=services.assessment_enter_scores(
            assessment=world.assessment_a,
            actor=world.official_a,
            scores={"unit": 80, "township": 80, "survey": 80},
        ),
        actor=world.official_a,
    )
    used = reverse("admin:assessments_yearlyscheme_change", args=[world.yearly_scheme_a.pk])
    data = scheme_data(from_year="2026", name="改过的方案")
    response = client.post(used, data, follow=True)
    assert "该方案已用于已提交或已定格的考核，不能修改" in str(messages_of(response))
    assert YearlyScheme.objects.get(pk=world.yearly_scheme_a.pk).name == "驻村干部年度考核"
    # County B's scheme is not county A's to change.
    other = reverse("admin:assessments_yearlyscheme_change", args=[world.yearly_scheme_b.pk])
    assert client.post(other, scheme_data(from_year="2026")).status_code == 302
    assert YearlyScheme.objects.get(pk=world.yearly_scheme_b.pk).name == "驻村干部年度考核"
