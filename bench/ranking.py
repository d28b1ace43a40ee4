"""bench ranking: the monthly ranking of every county of a province, timed and counted.

    .venv/bin/python bench/ranking.py [--households-per-village MIN MAX]

Works in a scratch database `<name>_bench_ranking` that it keeps between runs: migrated every
run and seeded once with the province-scale demo data (`seed_demo --scale province --seed 1`:
100 counties, 10 000 villages and teams, about 35 000 cadres, five weeks of check-ins, last
month's visits, two years of monthly incomes), plus, once, one indicator scheme for the
province and an inspection per county with five findings (one serious), written through the
services. Households per village default to 8–12 (about 100 000 households, a few minutes to
seed): the ranking aggregates in SQL per county, so more households cost time, not queries.

Measured, for October 2026 (the demo's last full month):
- the ranking of all 100 counties (`ranking_compute` per county, as the Celery job runs it):
  wall time and the number of queries, per county and in all;
- the baseline in the same run: the same county ranked with all its teams and, inside a
  transaction that is rolled back, with half of its teams ended before the month. The
  number of queries must be the same at both sizes (it must not grow with the teams).

Target (issue 5): the query count of a county's ranking does not grow with its number of
teams (equal at 50 and 100 teams, equal for every county).
"""

import argparse
import datetime as dt
import io
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
PERIOD = dt.date(2026, 10, 1)


def scratch_database() -> str:
    import environ

    environ.Env.read_env(ROOT / ".local" / "services.env")
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = (parts.path.lstrip("/") or "zhucun") + "_bench_ranking"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    return name


def prepare(per_village: tuple[int, int]) -> None:
    from services import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from villages.models import Region

    call_command("migrate", verbosity=0, interactive=False)
    if not Region.objects.exists():
        print("seeding the province-scale demo data (once, kept for later runs)", flush=True)
        started = time.perf_counter()
        call_command(
            "seed_demo",
            scale="province",
            seed=1,
            households_per_village=list(per_village),
            stdout=io.StringIO(),
        )
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    oversight()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def oversight() -> None:
    """One scheme for the province; an inspection per county with five findings."""
    from django.db import transaction

    from assessments import services
    from assessments.models import IndicatorScheme, Inspection
    from common.audit import Source, audit_context
    from teams.models import Assignment, AssignmentStatus
    from villages.models import Level, Region

    if IndicatorScheme.objects.exists() and Inspection.objects.exists():
        return
    province = Region.objects.get(level=Level.PROVINCE)
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
                on=dt.date(2026, 10, 15),
                title="十月驻村工作暗访",
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
                    deadline=dt.date(2026, 10, 25 if n % 2 else 31),
                )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--households-per-village", type=int, nargs=2, default=(8, 12), metavar=("MIN", "MAX")
    )
    args = parser.parse_args()
    name = scratch_database()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    prepare(tuple(args.households_per_village))

    from django.db import connection, transaction
    from django.db.models import Q
    from django.test.utils import CaptureQueriesContext

    from assessments.services import ranking_compute
    from teams.models import WorkTeam
    from villages.models import Level, Region

    counties = list(Region.objects.filter(level=Level.COUNTY).order_by("code"))
    active = Q(ended_on__isnull=True) | Q(ended_on__gte=PERIOD)
    teams_in_all = WorkTeam.objects.filter(active, term_start__lte=dt.date(2026, 10, 31)).count()
    print(f"scratch database {name}: {len(counties)} counties, {teams_in_all} teams", flush=True)

    def rank(county) -> tuple[int, float, int]:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            rows = ranking_compute(county=county, period=PERIOD)
            elapsed = time.perf_counter() - started
        return len(queries), elapsed, len(rows)

    # The baseline: one county at its full size and at half its teams (rolled back).
    probe = counties[0]
    full_queries, full_time, full_teams = rank(probe)
    with transaction.atomic():
        ids = list(
            WorkTeam.objects.filter(village__code__startswith=probe.prefix)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        WorkTeam.objects.filter(pk__in=ids[::2]).update(ended_on=PERIOD - dt.timedelta(days=1))
        half_queries, half_time, half_teams = rank(probe)
        transaction.set_rollback(True)
    print(
        f"baseline {probe.name}: {full_teams} teams {full_queries} queries {full_time:.2f} s; "
        f"{half_teams} teams {half_queries} queries {half_time:.2f} s",
        flush=True,
    )

    per_county, total_time, total_teams = [], 0.0, 0
    for county in counties:
        queries, elapsed, ranked = rank(county)
        per_county.append(queries)
        total_time += elapsed
        total_teams += ranked
    print(
        f"all counties: {total_teams} teams ranked in {total_time:.1f} s "
        f"({total_time / len(counties) * 1000:.0f} ms a county), {sum(per_county)} queries "
        f"({min(per_county)}–{max(per_county)} a county)",
        flush=True,
    )
    constant = half_queries == full_queries and min(per_county) == max(per_county) == full_queries
    verdict = "PASS" if constant and half_teams < full_teams else "FAIL"
    print(
        f"bench ranking: {len(counties)} counties / {total_teams} teams in {total_time:.1f} s, "
        f"{sum(per_county)} queries, {full_queries} a county at {full_teams} and at "
        f"{half_teams} teams ({full_time:.2f} s vs {half_time:.2f} s) -> {verdict} "
        "(target: queries per county do not grow with the number of teams)"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
