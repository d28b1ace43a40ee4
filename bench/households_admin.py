"""bench households_admin: the household changelist at province scale against a plain admin.

    .venv/bin/python bench/households_admin.py [--households-per-village 50] [--reseed]

Seeds a scratch database `<name>_bench_households` once (the province roster, 10 000 villages
and 50 households each: 500 000 households, about 1.7 million members and two years of
monthly incomes; the row audit is skipped for this generated data) and keeps it for later
runs. Then, as a province-wide superuser, times three pages of our admin and of a plain
ModelAdmin on the same data (full count, no list_select_related, default icontains search):
the first page, a page filtered by a risk flag (under the line), and a search by head name.
Each time is the median of 9 runs after a warm-up, ours and the plain one interleaved
so that a slow moment of the machine hits both.

Target: every page of ours under 300 ms and at least 5x faster than the plain admin.
"""

import argparse
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
RUNS = 9
TARGET_MS = 300.0
TARGET_RATIO = 5.0


def scratch_database() -> str:
    import environ

    environ.Env.read_env(ROOT / ".local" / "services.env")
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = (parts.path.lstrip("/") or "zhucun") + "_bench_households"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    return name


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households-per-village", type=int, default=50)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    name = scratch_database()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    from services import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client then keeps each response's context
    import pgtrigger
    from django.contrib import admin
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from households.admin import RiskFilter
    from households.models import Household

    call_command("migrate", verbosity=0, interactive=False)
    count = Household.objects.count()
    if args.reseed or count < 10_000 * args.households_per_village * 0.9:
        if count:
            raise SystemExit(f"{name} holds another world; drop it first: DROP DATABASE {name}")
        started = time.perf_counter()
        audit = [
            f"{m}:{t}"
            for m in (
                "households.Household",
                "households.Member",
                "households.IncomeRecord",
                "households.HouseholdStatusChange",
                "households.Monitoring",
                "households.Measure",
                "households.Pairing",
                "teams.Cadre",
                "teams.Assignment",
                "teams.WorkTeam",
                "villages.Region",
                "villages.Village",
            )
            for t in ("insert_insert",)
        ]
        with pgtrigger.ignore(*[a for a in audit if _trigger_exists(a)]):
            call_command(
                "seed_demo",
                scale="province",
                seed=1,
                households_per_village=(args.households_per_village,) * 2,
                stdout=io.StringIO(),
                stderr=sys.stderr,
            )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(
            f"seeded {Household.objects.count()} households in "
            f"{time.perf_counter() - started:.0f} s"
        )
    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", password=None
    )

    class PlainHouseholdAdmin(admin.ModelAdmin):
        """What a straightforward admin would do: default counts, lazy FKs, icontains."""

        list_display = (
            "code",
            "head_name",
            "village",
            "township",
            "household_type",
            "status",
            "card_colour",
            "income",
            "risks",
        )
        list_filter = (RiskFilter,)
        search_fields = ("head_name",)
        list_per_page = 50

        def get_queryset(self, request):
            return Household.objects.with_risk().order_by("code")

        def township(self, obj):
            return obj.village.township.name

        def income(self, obj):
            return obj.per_capita

        def risks(self, obj):
            return [
                f
                for f in (
                    "under_line",
                    "fell",
                    "monitored_without_measure",
                    "no_cadre",
                    "missing_last_month",
                )
                if getattr(obj, f)
            ]

    site = admin.AdminSite(name="plain")
    site.register(Household, PlainHouseholdAdmin)
    from django.urls import path

    import config.urls

    config.urls.urlpatterns.insert(0, path("plain-admin/", site.urls))
    from django.urls import clear_url_caches

    clear_url_caches()

    client = Client()
    client.force_login(user)
    surname = Household.objects.order_by("code").values_list("head_name", flat=True).first()[:1]
    pages = {
        "first page": {},
        "risk filter": {"risk": "under_line"},
        "head-name search": {
            "q": surname
            + Household.objects.filter(head_name__startswith=surname)
            .values_list("head_name", flat=True)
            .first()[1:2]
        },
    }

    def once(url, params):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url, params)
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        return elapsed, len(ctx.captured_queries), len(response.context["cl"].result_list)

    def timed_pair(params):
        urls = ("/admin/households/household/", "/plain-admin/households/household/")
        for url in urls:
            once(url, params)  # warm-up
        runs = {url: [] for url in urls}
        for _ in range(RUNS):
            for url in urls:
                runs[url].append(once(url, params))
        return [
            (statistics.median(r[0] for r in runs[url]), runs[url][-1][1], runs[url][-1][2])
            for url in urls
        ]

    ok = True
    figures = []
    for label, params in pages.items():
        (ours, our_queries, rows), (plain, plain_queries, plain_rows) = timed_pair(params)
        ratio = plain / ours
        ok &= ours < TARGET_MS and ratio >= TARGET_RATIO
        print(
            f"{label:<17} ours {ours:7.1f} ms ({our_queries} queries, {rows} rows)   "
            f"plain {plain:8.1f} ms ({plain_queries} queries, {plain_rows} rows)   "
            f"ratio {ratio:5.1f}x"
        )
        figures.append(f"{label} {ours:.0f} ms ({ratio:.1f}x)")
    print(f"database {name}: {Household.objects.count()} households")
    print(
        f"bench households_admin: {', '.join(figures)} -> {'PASS' if ok else 'FAIL'} "
        f"(target: every page < {TARGET_MS:.0f} ms and >= {TARGET_RATIO:.0f}x the plain admin)"
    )
    return 0 if ok else 1


def _trigger_exists(uri: str) -> bool:
    import pgtrigger

    try:
        pgtrigger.registered(uri)
    except Exception:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
