"""bench dashboard: the county dashboard on the demo county world (about 20 000 households).

    .venv/bin/python bench/dashboard.py [--reseed]

Seeds a scratch database `<name>_bench_dashboard` once with `seed_demo --scale county --seed 1`
(two counties of ten townships, 200 villages and teams, 660 cadres, 20 000 households), an
indicator scheme, September's and October's rankings and a few findings, and keeps it for
later runs. Then it times:

- the live presence compliance of each county's cadres for October (teams.compliance), the
  computation that decides where the dashboard reads presence from: live for a county or
  less, from the stored rankings above a county;
- the dashboard page for October as a county official, a township official and a city
  official (both counties), each the median of 5 runs after a warm-up, with its queries.

Target: every page under 1 s.
"""

import argparse
import datetime as dt
import io
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
RUNS = 5
TARGET_S = 1.0
OCTOBER = dt.date(2026, 10, 1)  # the demo world's last month (teams.demo.TODAY)


def scratch_database() -> str:
    import environ

    environ.Env.read_env(ROOT / ".local" / "services.env")
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = (parts.path.lstrip("/") or "zhucun") + "_bench_dashboard"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    return name


def seed() -> None:
    from django.core.management import call_command
    from django.db import connection

    from assessments import services as assessments
    from teams.models import WorkTeam
    from villages.models import Level, Region

    started = time.perf_counter()
    call_command("seed_demo", scale="county", seed=1, stdout=io.StringIO(), stderr=sys.stderr)
    province = Region.objects.get(level=Level.PROVINCE)
    assessments.scheme_set(
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
    for county in Region.objects.filter(level=Level.COUNTY):
        teams = list(WorkTeam.objects.filter(village__code__startswith=county.prefix)[:20])
        inspection = assessments.inspection_create(
            region=county,
            kind="open",
            on=dt.date(2026, 10, 15),
            title="十月明查",
            inspectors="督查组",
            villages=[t.village for t in teams],
        )
        for n, team in enumerate(teams):
            assessments.finding_create(
                inspection=inspection,
                village=team.village,
                subject="team",
                team=team,
                category="records",
                severity="serious" if n % 5 == 0 else "general",
                description="走访台账记录不全",
                deadline=dt.date(2026, 10, 25) + dt.timedelta(days=10 * (n % 3)),
            )
        for month in (dt.date(2026, 9, 1), OCTOBER):
            assessments.ranking_compute(county=county, period=month, today=dt.date(2026, 11, 1))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"seeded the demo county world in {time.perf_counter() - started:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    name = scratch_database()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    from services import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from accounts.roles import Role
    from households.models import Household
    from teams.compliance import presence_compliance
    from teams.models import Assignment
    from villages.models import Level, Region

    call_command("migrate", verbosity=0, interactive=False)
    count = Household.objects.count()
    if args.reseed or count < 15_000:
        if count:
            raise SystemExit(f"{name} holds another world; drop it first: DROP DATABASE {name}")
        seed()

    counties = list(Region.objects.filter(level=Level.COUNTY).order_by("code"))
    for county in counties:
        started = time.perf_counter()
        results = presence_compliance(
            assignments=Assignment.objects.filter(
                team__village__code__startswith=county.prefix, start__lte=dt.date(2026, 10, 31)
            )
            .exclude(ended_on__lt=OCTOBER)
            .select_related("cadre", "team", "team__village"),
            start=OCTOBER,
            end=dt.date(2026, 10, 31),
        )
        print(
            f"presence compliance {county.name}: {len(results)} cadres in "
            f"{time.perf_counter() - started:.2f} s"
        )

    def account(username: str, role: str, region: Region) -> User:
        import secrets

        from accounts.services import user_create

        return User.objects.filter(username=username).first() or user_create(
            username=username, password=secrets.token_urlsafe(16) + "#Aa1", role=role, region=region
        )

    township = Region.objects.filter(level=Level.TOWNSHIP).order_by("code").first()
    users = {
        "county": account("bench_county", Role.COUNTY_ADMIN, counties[0]),
        "township": account("bench_township", Role.TOWNSHIP_ADMIN, township),
        "city": account("bench_city", Role.CITY, counties[0].parent),
    }
    ok, figures = True, []
    for label, user in users.items():
        client = Client()
        client.force_login(user)
        client.get("/admin/dashboard/", {"month": "2026-10"})  # warm-up
        times = []
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get("/admin/dashboard/", {"month": "2026-10"})
                times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"{label}: the dashboard answered {response.status_code}")
        median = statistics.median(times)
        ok &= median < TARGET_S
        print(f"dashboard as {label:<8} {median:.3f} s ({len(queries)} queries)")
        figures.append(f"{label} {median * 1000:.0f} ms")
    print(f"database {name}: {Household.objects.count()} households")
    print(
        f"bench dashboard: {', '.join(figures)} -> {'PASS' if ok else 'FAIL'} "
        f"(target: every page < {TARGET_S:.0f} s)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
