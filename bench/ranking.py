"""bench ranking: the monthly ranking (with the escalations it derives) and the circular
drafts of every county of a province, timed and counted.

    .venv/bin/python bench/ranking.py [--households-per-village MIN MAX] [--scale county]

Works in a scratch database `<name>_bench_ranking` that it keeps between runs: migrated every
run and seeded once with the province-scale demo data (`seed_demo --scale province --seed 1`:
100 counties, 10 000 villages and teams, about 35 000 cadres, five weeks of check-ins, last
month's visits, two years of monthly incomes; `--no-oversight`), plus, once, one indicator
scheme and one red/black-list rule for the province and an inspection per county with five
findings (one serious), written through the services. Households per village default to 8–12
(about 100 000 households, a few minutes to seed): the ranking aggregates in SQL per
county, so more households cost time, not queries. `--scale county` (two counties, 200
teams, in `<name>_bench_ranking_county`) checks the bench itself quickly; the target is the
province's.

Measured, for the demo's last full month (the month of its latest visits):
- the ranking of all 100 counties (`ranking_compute` then `escalation_derive` per county, as
  the Celery job runs them; the month's escalations are cleared first, so every county is
  derived as on the job's first run of the month), then the circular draft of all 100
  counties (`circular_build`, as its job runs it): wall time and the number of queries, per
  county and in all;
- the baseline in the same run: the same county ranked and drafted with all its teams and,
  inside a transaction that is rolled back, with half of its teams ended before the month.
  The number of queries must be the same at both sizes (it must not grow with the teams).

Target (issue 5): the query counts of a county's ranking (escalations included) and circular
draft do not grow with its number of teams (equal at 50 and 100 teams, equal for every
county).
"""

import argparse
import datetime as dt
import io
import os
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
TRANSACTION_CONTROL = re.compile(r"(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b")


def scratch_database(scale: str) -> str:
    import environ

    environ.Env.read_env(ROOT / ".local" / "services.env")
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = (parts.path.lstrip("/") or "zhucun") + "_bench_ranking"
    name += "" if scale == "province" else f"_{scale}"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    return name


def prepare(per_village: tuple[int, int], scale: str) -> None:
    from services import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from villages.models import Region

    call_command("migrate", verbosity=0, interactive=False)
    if not Region.objects.exists():
        print(f"seeding the {scale}-scale demo data (once, kept for later runs)", flush=True)
        started = time.perf_counter()
        call_command(
            "seed_demo",
            scale=scale,
            seed=1,
            households_per_village=list(per_village),
            no_oversight=True,
            stdout=io.StringIO(),
        )
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    oversight(demo_period())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def demo_period() -> dt.date:
    """The first day of the demo's last full month: the month of its latest visit (the seed
    records last month's visits), so the bench ranks real data whenever it was seeded."""
    from django.db.models import Max

    from households.models import VisitLog

    latest = VisitLog.objects.aggregate(latest=Max("visited_on"))["latest"]
    if latest is None:
        raise SystemExit("the scratch database holds no visits: rerun after dropping it")
    return latest.replace(day=1)


def month_end(period: dt.date) -> dt.date:
    return (period + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def oversight(period: dt.date) -> None:
    """One scheme for the province; an inspection per county with five findings."""
    from django.db import transaction

    from assessments import services
    from assessments.models import IndicatorScheme
    from common.audit import Source, audit_context
    from reports.models import CircularRule
    from reports.services import circular_rule_set
    from teams.models import Assignment, AssignmentStatus
    from villages.models import Level, Region

    province = Region.objects.get(level=Level.PROVINCE)
    if not CircularRule.objects.filter(region=province).exists():
        circular_rule_set(
            region=province,
            effective_from=dt.date(2026, 1, 1),
            name="月度红黑榜",
            red_count=3,
            black_count=3,
            issuer="省驻村工作领导小组办公室",
            number_prefix="晋驻组",
            red_consequence="年终考核加分，评先评优优先考虑。",
            black_consequence="年终考核扣分，约谈工作队长。",
        )
    if IndicatorScheme.objects.filter(region=province).exists():
        return
    with audit_context(source=Source.COMMAND, command="bench_ranking"), transaction.atomic():
        services.scheme_set(
            region=province,
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
        for county in Region.objects.filter(level=Level.COUNTY).order_by("code"):
            serving = list(
                Assignment.objects.filter(
                    status=AssignmentStatus.ACTIVE, team__village__code__startswith=county.prefix
                )
                .select_related("cadre", "team__village")
                .order_by("team__village__code", "pk")[:5]
            )
            inspection = services.inspection_create(
                region=county,
                kind="unannounced",
                on=period + dt.timedelta(days=14),
                title=f"{period.month}月驻村工作暗访",
                inspectors="县驻村办督查组",
                villages=[a.team.village for a in serving],
            )
            for n, assignment in enumerate(serving):
                services.finding_create(
                    inspection=inspection,
                    village=assignment.team.village,
                    subject="team",
                    team=assignment.team,
                    category="records" if n else "discipline",
                    severity="serious" if n == 0 else "general",
                    description="走访台账记录不全" if n else "工作队长期不在岗",
                    deadline=period + dt.timedelta(days=24) if n % 2 else month_end(period),
                )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--households-per-village", type=int, nargs=2, default=(8, 12), metavar=("MIN", "MAX")
    )
    parser.add_argument("--scale", choices=("province", "county"), default="province")
    args = parser.parse_args()
    name = scratch_database(args.scale)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    prepare(tuple(args.households_per_village), args.scale)

    from django.db import connection, transaction
    from django.db.models import Q
    from django.test.utils import CaptureQueriesContext

    from assessments.models import Escalation
    from assessments.services import escalation_derive, ranking_compute
    from reports.models import Circular
    from reports.services import circular_build
    from teams.models import WorkTeam
    from villages.models import Level, Region

    PERIOD = demo_period()  # noqa: N806 - the month every step below measures
    counties = list(Region.objects.filter(level=Level.COUNTY).order_by("code"))
    active = Q(ended_on__isnull=True) | Q(ended_on__gte=PERIOD)
    teams_in_all = WorkTeam.objects.filter(active, term_start__lte=month_end(PERIOD)).count()
    print(f"scratch database {name}: {len(counties)} counties, {teams_in_all} teams", flush=True)

    def statements(queries: CaptureQueriesContext) -> int:
        """The statements run, without transaction control: the services' atomic blocks
        begin and commit outside the baseline's rolled-back transaction and set savepoints
        inside it."""
        return sum(1 for q in queries.captured_queries if not TRANSACTION_CONTROL.match(q["sql"]))

    def rank(county) -> tuple[int, float, int]:
        """The ranking job's work: the ranking, then the escalations it reaches."""
        Escalation.objects.filter(county=county, period=PERIOD).delete()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            rows = ranking_compute(county=county, period=PERIOD)
            escalation_derive(county=county, period=PERIOD)
            elapsed = time.perf_counter() - started
        return statements(queries), elapsed, len(rows)

    def draft(county) -> tuple[int, float, int]:
        Circular.objects.filter(county=county, period=PERIOD, status="draft").delete()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            circular = circular_build(county=county, period=PERIOD)
            elapsed = time.perf_counter() - started
        return statements(queries), elapsed, circular.entries.count()

    # The baseline: one county at its full size and at half its teams (rolled back).
    probe = counties[0]
    full = rank(probe), draft(probe)
    with transaction.atomic():
        ids = list(
            WorkTeam.objects.filter(village__code__startswith=probe.prefix)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        WorkTeam.objects.filter(pk__in=ids[::2]).update(ended_on=PERIOD - dt.timedelta(days=1))
        half = rank(probe), draft(probe)
        transaction.set_rollback(True)
    (full_rank, full_draft), (half_rank, half_draft) = full, half
    print(
        f"baseline {probe.name}: ranking with escalations {full_rank[2]} teams "
        f"{full_rank[0]} queries {full_rank[1]:.2f} s, {half_rank[2]} teams {half_rank[0]} "
        f"queries {half_rank[1]:.2f} s; "
        f"draft {full_draft[0]} queries {full_draft[1]:.2f} s, at half {half_draft[0]} queries "
        f"{half_draft[1]:.2f} s",
        flush=True,
    )

    figures = {}
    for label, step in (("ranking", rank), ("drafts", draft)):
        per_county, total_time, total_rows = [], 0.0, 0
        for county in counties:
            queries, elapsed, rows = step(county)
            per_county.append(queries)
            total_time += elapsed
            total_rows += rows
        figures[label] = (per_county, total_time, total_rows)
        print(
            f"{label} of all counties: {total_rows} {'teams' if label == 'ranking' else 'entries'} "
            f"in {total_time:.1f} s ({total_time / len(counties) * 1000:.0f} ms a county), "
            f"{sum(per_county)} queries ({min(per_county)}–{max(per_county)} a county)",
            flush=True,
        )
    (rank_q, rank_t, ranked), (draft_q, draft_t, _entries) = figures["ranking"], figures["drafts"]
    constant = (
        half_rank[0] == full_rank[0] == min(rank_q) == max(rank_q)
        and half_draft[0] == full_draft[0] == min(draft_q) == max(draft_q)
        and half_rank[2] < full_rank[2]
    )
    verdict = "PASS" if constant else "FAIL"
    print(
        f"bench ranking: {len(counties)} counties / {ranked} teams: ranking with escalations "
        f"{rank_t:.1f} s "
        f"{sum(rank_q)} queries ({full_rank[0]} a county at {full_rank[2]} and at {half_rank[2]} "
        f"teams), circular drafts {draft_t:.1f} s {sum(draft_q)} queries ({full_draft[0]} a "
        f"county at both sizes: {half_draft[0]}) -> {verdict} "
        "(target: queries per county, ranking with escalations and draft, do not grow with the "
        "number of teams)"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
