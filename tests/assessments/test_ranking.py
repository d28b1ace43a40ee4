"""Monthly ranking: crafted metrics and scores, the tie-break, the job run once by a real
Celery worker however often it is delivered."""

import datetime as dt
import time
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse

from assessments import services
from assessments.models import MonthlyRanking, RankingRun
from assessments.ranking import TeamMetrics, order
from assessments.tasks import ranking_run_task
from config.celery import app as celery_app
from households import services as hs
from teams import presence

from .. import factories as f

OCTOBER = dt.date(2026, 10, 1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def scheme(world):
    return services.scheme_set(
        region=world.county_a,
        effective_from=dt.date(2026, 1, 1),
        name="月度积分",
        presence_weight=Decimal(40),
        visit_weight=Decimal(30),
        bianfang_weight=Decimal(10),
        income_weight=Decimal(20),
        open_penalty=Decimal(2),
        overdue_penalty=Decimal(3),
        serious_penalty=Decimal(5),
    )


@pytest.fixture
def october(world):
    """Team A: in the village every day of October, its one household visited and its income
    registered. Team A2 (西于村): nobody checked in, one of two households visited, no income,
    and a serious finding of October still open past its deadline."""
    scheme(world)
    day = OCTOBER
    while day.month == 10:
        presence.attendance_check_in(
            cadre=world.cadre_a,
            overnight=True,
            at=dt.datetime.combine(day, dt.time(9), tzinfo=SHANGHAI),
        )
        day += dt.timedelta(days=1)
    hs.visit_record(
        household=world.household_a,
        cadre=world.cadre_a,
        visited_on=dt.date(2026, 10, 9),
        kind="in_person",
        seen="正常",
        client_key=uuid.uuid4(),
    )
    f.income(world.household_a, OCTOBER, wage=1000)
    village = f.village("140121100202", "西于村", world.township_a)
    team = f.team(village, world.unit_a)
    cadre = f.cadre("赵志远", world.unit_a, world.county_a)
    f.assign(cadre, team, leader=True, secretary=True)
    first = f.household(village, f"{village.code}0001")
    f.household(village, f"{village.code}0002")
    hs.visit_record(
        household=first,
        cadre=cadre,
        visited_on=dt.date(2026, 10, 12),
        kind="phone",
        seen="正常",
        client_key=uuid.uuid4(),
    )
    inspection = services.inspection_create(
        region=world.county_a,
        kind="open",
        on=dt.date(2026, 10, 15),
        title="十月明查",
        inspectors="督查组",
        villages=[village],
    )
    services.finding_create(
        inspection=inspection,
        village=village,
        subject="team",
        team=team,
        category="visits",
        severity="serious",
        description="走访不到位",
        deadline=dt.date(2026, 10, 25),
    )
    return team


def test_crafted_month(world, october):
    rankings = services.ranking_compute(
        county=world.county_a, period=OCTOBER, today=dt.date(2026, 11, 20)
    )
    got = {
        r.team_id: (
            r.rank,
            r.of,
            r.members,
            r.presence_rate,
            r.visit_rate,
            r.bianfang_rate,
            r.income_rate,
            r.open_findings,
            r.overdue_findings,
            r.serious_findings,
            r.score,
        )
        for r in rankings
    }
    one, half, zero = Decimal(1), Decimal("0.5"), Decimal(0)
    assert got == {
        # 100 × (40 + 30 + 10 + 20) / 100
        world.team_a.pk: (1, 2, 1, one, one, one, one, 0, 0, 0, Decimal("100.00")),
        # 100 × (30 × 0.5 + 10 × 0.5) / 100 − 2 (open) − 3 (overdue) − 5 (serious)
        october.pk: (2, 2, 1, zero, half, half, zero, 1, 1, 1, Decimal("10.00")),
    }
    assert MonthlyRanking.objects.get(team=october).bottom
    # Computing again replaces, never duplicates.
    services.ranking_compute(county=world.county_a, period=OCTOBER, today=dt.date(2026, 11, 20))
    assert MonthlyRanking.objects.filter(county=world.county_a, period=OCTOBER).count() == 2


def test_tie_break(world):
    def m(team, score, presence, visits, open_):
        return TeamMetrics(
            team=team,
            members=3,
            presence_rate=Decimal(presence),
            visit_rate=Decimal(visits),
            bianfang_rate=Decimal(0),
            income_rate=Decimal(0),
            open_findings=open_,
            overdue_findings=0,
            serious_findings=0,
            score=Decimal(score),
        )

    rows = [m("old", 80, "0.9", "0.5", 1), m("young", 80, "0.9", "0.5", 0), m("a", 80, "1", 0, 5)]
    rows += [m("b", 80, "0.9", "0.8", 9), m("oldest-tie", 80, "0.9", "0.5", 1)]
    assert [r.team for r in order(rows)] == ["a", "b", "young", "old", "oldest-tie"]


def in_october(world, name, code, start=dt.date(2025, 3, 1), present=False, finding=False):
    """A team of county A in October: one household nobody visits, one leader who checks in
    every day of the month when `present`, and an open finding of October when `finding`."""
    village = f.village(code, name, world.township_a)
    team = f.team(village, world.unit_a, start=start)
    cadre = f.cadre(f"{name}队长", world.unit_a, world.county_a)
    f.assign(cadre, team, leader=True, secretary=True, start=start)
    f.household(village, f"{code}0001")
    day = OCTOBER
    while present and day.month == 10:
        presence.attendance_check_in(
            cadre=cadre, overnight=True, at=dt.datetime.combine(day, dt.time(9), tzinfo=SHANGHAI)
        )
        day += dt.timedelta(days=1)
    if finding:
        inspection = services.inspection_create(
            region=world.county_a,
            kind="open",
            on=dt.date(2026, 10, 20),
            title="十月明查",
            inspectors="督查组",
            villages=[village],
        )
        services.finding_create(
            inspection=inspection,
            village=village,
            subject="team",
            team=team,
            category="records",
            severity="minor",
            description="台账不全",
            deadline=dt.date(2026, 12, 31),
        )
    return team


def test_ties_are_broken_as_the_scheme_says_through_the_computation(world):
    """October under a scheme of presence and visits only (50/50, no penalties). Team A's
    household is visited but nobody is present: 50. 在岗村's leader is there every day but
    nobody visits: 50, and wins the tie on presence. Three teams with nothing score 0: the
    one with an open finding comes last although it is the oldest; of the other two, the
    older team (created second) goes first."""
    services.scheme_set(
        region=world.county_a,
        effective_from=OCTOBER,
        name="在岗与走访",
        presence_weight=Decimal(50),
        visit_weight=Decimal(50),
    )
    hs.visit_record(
        household=world.household_a,
        cadre=world.cadre_a,
        visited_on=dt.date(2026, 10, 9),
        kind="in_person",
        seen="正常",
        client_key=uuid.uuid4(),
    )
    present = in_october(world, "在岗村", "140121100211", present=True)
    young = in_october(world, "新村", "140121100212", start=dt.date(2025, 6, 1))
    old = in_october(world, "老村", "140121100213", start=dt.date(2024, 6, 1))
    found = in_october(world, "问题村", "140121100214", start=dt.date(2023, 6, 1), finding=True)
    rankings = services.ranking_compute(
        county=world.county_a, period=OCTOBER, today=dt.date(2026, 11, 20)
    )
    got = [
        (r.team, r.rank, r.of, r.score, r.presence_rate, r.visit_rate, r.open_findings)
        for r in rankings
    ]
    one, zero = Decimal(1), Decimal(0)
    assert got == [
        (present, 1, 5, Decimal("50.00"), one, zero, 0),
        (world.team_a, 2, 5, Decimal("50.00"), zero, one, 0),
        (old, 3, 5, Decimal("0.00"), zero, zero, 0),
        (young, 4, 5, Decimal("0.00"), zero, zero, 0),
        (found, 5, 5, Decimal("0.00"), zero, zero, 1),
    ]
    assert list(
        MonthlyRanking.objects.filter(county=world.county_a, period=OCTOBER)
        .order_by("rank")
        .values_list("team", flat=True)
    ) == [present.pk, world.team_a.pk, old.pk, young.pk, found.pk]


def test_each_county_is_scored_by_the_scheme_in_force_for_it(world):
    """Both teams: their one household visited by their leader in October, nothing else.
    County A from September weighs visits only: 100. The city's scheme from October is less
    specific than either county's and is not used. County B's scheme from November starts
    after October: B keeps the world's scheme of January (40/30/10/20): 30 + 10 = 40."""
    for household, cadre in (
        (world.household_a, world.cadre_a),
        (world.household_b, world.cadre_b),
    ):
        hs.visit_record(
            household=household,
            cadre=cadre,
            visited_on=dt.date(2026, 10, 9),
            kind="in_person",
            seen="正常",
            client_key=uuid.uuid4(),
        )
    visits_only = {"visit_weight": Decimal(100)}
    a = services.scheme_set(
        region=world.county_a, effective_from=dt.date(2026, 9, 1), name="走访", **visits_only
    )
    services.scheme_set(
        region=world.city, effective_from=OCTOBER, name="市方案", presence_weight=Decimal(100)
    )
    november = services.scheme_set(
        region=world.county_b, effective_from=dt.date(2026, 11, 1), name="新方案", **visits_only
    )
    today = dt.date(2026, 11, 20)
    (in_a,) = services.ranking_compute(county=world.county_a, period=OCTOBER, today=today)
    (in_b,) = services.ranking_compute(county=world.county_b, period=OCTOBER, today=today)
    metrics = ("presence_rate", "visit_rate", "bianfang_rate", "income_rate", "open_findings")
    assert [getattr(in_a, m) for m in metrics] == [getattr(in_b, m) for m in metrics]
    assert (in_a.scheme, in_a.score) == (a, Decimal("100.00"))
    assert (in_b.scheme, in_b.score) == (world.scheme_b, Decimal("40.00"))
    (in_b,) = services.ranking_compute(
        county=world.county_b, period=dt.date(2026, 11, 1), today=today
    )
    assert in_b.scheme == november


def test_without_a_scheme_the_run_fails_with_a_message(world):
    MonthlyRanking.objects.filter(county=world.county_b).delete()
    world.scheme_b.delete()
    run = RankingRun.objects.create(county=world.county_b, period=OCTOBER)
    services.ranking_run(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.error) == ("failed", f"{world.county_b.name}尚未设置考核指标方案。")


def test_request_is_queued_after_commit_once(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = services.ranking_request(county=world.county_a, period=dt.date(2026, 10, 17))
        again = services.ranking_request(county=world.county_a, period=OCTOBER)
    assert first == again
    assert len(callbacks) == 1
    assert first.period == OCTOBER


def test_admin_compute_page_queues_the_run_and_shows_it(
    client, world, django_capture_on_commit_callbacks
):
    url = reverse("admin:assessments_ranking_compute")
    changelist = reverse("admin:assessments_monthlyranking_changelist")
    client.force_login(world.township_official_a)
    page = client.get(changelist)
    assert page.status_code == 200
    assert url not in page.content.decode()  # no button without the right to compute
    client.force_login(world.official_a)
    assert f'href="{url}"' in client.get(changelist).content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, {"county": world.county_a.pk, "period": "2026-10-17"})
    assert (response.status_code, response.url) == (302, url)
    assert len(callbacks) == 1  # the task, queued after commit
    (run,) = RankingRun.objects.all()
    assert (run.county, run.period, run.status, run.requested_by) == (
        world.county_a,
        OCTOBER,
        "pending",
        world.official_a,
    )
    page = client.get(url)
    assert "已提交清徐县 2026-10 的排名计算" in page.content.decode()
    assert list(page.context["runs"]) == [run]
    services.ranking_run(run_id=run.pk)  # what the queued task does
    page = client.get(url)
    run.refresh_from_db()
    assert (run.status, run.teams) == ("succeeded", 1)
    assert "已完成" in page.content.decode()
    client.force_login(world.official_b)
    assert list(client.get(url).context["runs"]) == []  # county A's run is not B's to see


def test_admin_compute_page(client, world):
    client.force_login(world.township_official_a)
    url = reverse("admin:assessments_ranking_compute")
    assert client.get(url).status_code == 403  # a township cannot rank its county
    client.force_login(world.official_a)
    page = client.post(url, {"county": world.county_b.pk, "period": "2026-10-01"})
    assert "选择一个有效的选项" in page.content.decode()
    assert not RankingRun.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_job_runs_once_on_a_real_worker(world, october):
    run = RankingRun.objects.create(county=world.county_a, period=OCTOBER)
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=10
    ):
        for _ in range(2):  # delivered twice
            ranking_run_task.apply_async(args=[run.pk], queue=queue)
        deadline = time.monotonic() + 30
        while RankingRun.objects.get(pk=run.pk).status in ("pending", "running"):
            assert time.monotonic() < deadline, "the worker did not run the task"
            time.sleep(0.1)
        time.sleep(0.5)  # let the second delivery run too
    run.refresh_from_db()
    assert (run.status, run.teams) == ("succeeded", 2)
    assert MonthlyRanking.objects.filter(county=world.county_a, period=OCTOBER).count() == 2
