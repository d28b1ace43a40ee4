"""The draft is a job: one draft per county and month however often it runs, rebuilt with
the wording kept, never touching a published circular; queued after commit, once; the beat
task drafts last month for the counties whose ranking succeeded."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import Escalation, MonthlyRanking, RankingRun
from common.errors import ApplicationError
from reports import services
from reports.models import Circular, CircularEvent, CircularRun
from reports.tasks import monthly_circulars_task

from .builders import OCTOBER, add_teams, place, serious_finding


def run_job(county, period=OCTOBER):
    run = CircularRun.objects.create(county=county, period=period)
    services.circular_run(run_id=run.pk)
    run.refresh_from_db()
    return run


def test_running_twice_gives_one_draft(world, crafted):
    first = run_job(world.county_a)
    second = run_job(world.county_a)
    assert (first.status, second.status) == ("succeeded", "succeeded")
    assert first.circular_id == second.circular_id
    assert Circular.objects.filter(county=world.county_a, period=OCTOBER).count() == 1
    circular = first.circular
    assert circular.entries.count() == 6  # 2 red + 4 black, not twice as many
    assert list(circular.steps.values_list("action", flat=True)) == ["built", "rebuilt"]


def test_a_delivery_of_a_claimed_run_does_nothing(world, crafted):
    run = CircularRun.objects.create(county=world.county_a, period=OCTOBER)
    services.circular_run(run_id=run.pk)
    services.circular_run(run_id=run.pk)  # redelivered
    assert CircularEvent.objects.filter(circular__county=world.county_a).count() == 1


def test_rebuild_replaces_entries_and_keeps_the_wording(world, crafted):
    circular = services.circular_build(county=world.county_a, period=OCTOBER)
    services.circular_update(
        circular=circular,
        actor=world.official_a,
        title="关于十月份驻村工作队红黑榜的通报",
        recipients="各乡镇党委、政府：",
        body="现将十月红黑榜通报如下。",
        closing="",
    )
    old_ids = set(circular.entries.values_list("pk", flat=True))
    # The ranking is recomputed: rank 5 and rank 2 swap places.
    place(world, crafted[4], OCTOBER, 2, 7)
    place(world, crafted[1], OCTOBER, 5, 7)
    again = services.circular_build(county=world.county_a, period=OCTOBER)
    assert again.pk == circular.pk
    assert (again.title, again.recipients, again.body) == (
        "关于十月份驻村工作队红黑榜的通报",
        "各乡镇党委、政府：",
        "现将十月红黑榜通报如下。",
    )
    assert not old_ids & set(again.entries.values_list("pk", flat=True))
    assert again.entries.get(kind="red", order=1).team == crafted[4]
    assert again.entries.get(kind="black", rank=5).team == crafted[1]


def test_a_published_circular_is_never_touched(world, crafted):
    circular = services.circular_build(county=world.county_a, period=OCTOBER)
    services.circular_publish(circular=circular, actor=world.official_a)
    before = list(circular.entries.values_list("pk", "facts"))
    run = run_job(world.county_a)
    assert run.status == "failed"
    assert run.error == "清徐县 2026-10 的通报已发布（清驻组〔2026〕1号），如需修改请发布更正。"
    assert list(circular.entries.values_list("pk", "facts")) == before
    assert Circular.objects.filter(county=world.county_a, period=OCTOBER).count() == 1


def test_failures_are_told_in_chinese(world, crafted):
    run = run_job(world.county_a, period=dt.date(2026, 8, 1))
    assert (run.status, run.error) == ("failed", "清徐县 2026-08 尚无月度排名，请先计算排名。")
    world.circular_rule_a.delete()
    run = run_job(world.county_a)
    assert (run.status, run.error) == ("failed", "清徐县尚未设置红黑榜通报规则。")
    assert not Circular.objects.filter(county=world.county_a).exists()
    with pytest.raises(ValidationError, match="请选择县"):
        services.circular_build(county=world.township_a, period=OCTOBER)


def test_request_is_queued_after_commit_once(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = services.circular_request(county=world.county_a, period=dt.date(2026, 10, 17))
        again = services.circular_request(county=world.county_a, period=OCTOBER)
    assert first == again
    assert first.period == OCTOBER
    assert len(callbacks) == 1
    with pytest.raises(ValidationError, match="不能生成未来月份的通报"):
        services.circular_request(county=world.county_a, period=dt.date(2026, 12, 1))


def test_beat_drafts_counties_whose_ranking_succeeded(world, django_capture_on_commit_callbacks):
    Circular.objects.all().delete()  # the world's drafts
    RankingRun.objects.create(county=world.county_a, period=OCTOBER, status="succeeded")
    RankingRun.objects.create(county=world.county_b, period=OCTOBER, status="failed")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert monthly_circulars_task() == 1
    assert len(callbacks) == 1
    (run,) = CircularRun.objects.all()
    assert (run.county, run.period, run.status) == (world.county_a, OCTOBER, "pending")
    services.circular_run(run_id=run.pk)
    # Next time: county A has its draft, county B's ranking still failed.
    with django_capture_on_commit_callbacks(execute=False):
        assert monthly_circulars_task() == 0
    # A county without a rule is skipped.
    RankingRun.objects.create(county=world.county_b, period=OCTOBER, status="succeeded")
    world.circular_rule_b.delete()
    with django_capture_on_commit_callbacks(execute=False):
        assert monthly_circulars_task() == 0
    assert CircularRun.objects.count() == 1


def test_beat_ranks_every_county_with_a_scheme_then_drafts(
    world, django_capture_on_commit_callbacks
):
    """The 1st: the ranking job queues October for both counties, not for a third county
    whose only scheme starts in November; each run ranks from the data and derives the
    escalations. The 2nd: the circular job drafts both counties from those rankings."""
    from assessments.services import ranking_run, scheme_set
    from assessments.tasks import monthly_rankings_task
    from villages.models import Level

    from .. import factories as f

    Circular.objects.all().delete()  # the world's drafts
    county_c = f.region("140123000000", "古交县", Level.COUNTY, world.city)
    township_c = f.region("140123100000", "河口镇", Level.TOWNSHIP, county_c)
    f.team(f.village("140123100201", "河口村", township_c), world.unit_b)
    scheme_set(
        region=county_c,
        effective_from=dt.date(2026, 11, 1),
        name="十一月起",
        presence_weight=100,
    )
    # County A: three more teams with no households and a leader never checked in: visits,
    # 遍访 and incomes complete, presence not (30 + 10 + 20 = 60), ahead of team A, whose
    # household was neither visited nor registered in October (0).
    more = add_teams(world, 3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert monthly_rankings_task() == 2
    assert len(callbacks) == 2
    runs = list(RankingRun.objects.order_by("county__code"))
    assert [(r.county, r.period, r.status) for r in runs] == [
        (world.county_a, OCTOBER, "pending"),
        (world.county_b, OCTOBER, "pending"),
    ]
    for run in runs:
        ranking_run(run_id=run.pk)  # what each queued ranking_run_task does
    assert [(r.county, r.status, r.teams) for r in RankingRun.objects.order_by("county__code")] == [
        (world.county_a, "succeeded", 4),
        (world.county_b, "succeeded", 1),
    ]
    ranked = MonthlyRanking.objects.filter(county=world.county_a, period=OCTOBER)
    assert list(ranked.order_by("rank").values_list("team", "score")) == [
        (more[0].pk, Decimal("60.00")),
        (more[1].pk, Decimal("60.00")),
        (more[2].pk, Decimal("60.00")),
        (world.team_a.pk, Decimal("0.00")),
    ]
    assert set(
        Escalation.objects.filter(county=world.county_a, period=OCTOBER).values_list("team", "step")
    ) == {(t.pk, "talk") for t in (more[1], more[2], world.team_a)}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert monthly_circulars_task() == 2
    assert len(callbacks) == 2
    for run in CircularRun.objects.all():
        services.circular_run(run_id=run.pk)  # what each queued circular_run_task does
    assert set(CircularRun.objects.values_list("county", "status")) == {
        (world.county_a.pk, "succeeded"),
        (world.county_b.pk, "succeeded"),
    }
    circular = Circular.objects.get(county=world.county_a, period=OCTOBER)
    assert list(circular.entries.order_by("kind", "rank").values_list("kind", "rank", "team")) == [
        ("black", 3, more[2].pk),
        ("black", 4, world.team_a.pk),
        ("red", 1, more[0].pk),
        ("red", 2, more[1].pk),
    ]
    assert not RankingRun.objects.filter(county=county_c).exists()


def test_only_the_county_own_rankings_are_read(world, crafted):
    """County B's rankings never reach county A's circular."""
    circular = services.circular_build(county=world.county_a, period=OCTOBER)
    teams = set(circular.entries.values_list("team", flat=True))
    assert world.team_b.pk not in teams
    assert MonthlyRanking.objects.filter(team=world.team_b, period=OCTOBER).exists()


def test_refusals_of_a_job_run_leave_nothing(world, crafted):
    with pytest.raises(ApplicationError):
        services.circular_build(county=world.county_b, period=dt.date(2026, 7, 1))
    assert not Circular.objects.filter(period=dt.date(2026, 7, 1)).exists()


def test_build_queries_do_not_grow_with_teams(world, crafted):
    """The draft is read and written in a fixed number of queries however many teams."""

    def build_queries():
        with CaptureQueriesContext(connection) as ctx:
            services.circular_build(county=world.county_a, period=OCTOBER)
        return len(ctx.captured_queries)

    small = build_queries()
    more = add_teams(world, 13, first=20)
    teams = [*crafted, *more]
    for rank, team in enumerate(teams, 1):
        place(world, team, OCTOBER, rank, len(teams))
    for team in more[:3]:
        serious_finding(world, team)
    large = build_queries()
    circular = Circular.objects.get(county=world.county_a, period=OCTOBER)
    assert circular.entries.count() > 6
    assert small == large
