"""bench seed_demo: the county-scale demo world with bulk inserts, against row-by-row inserts.

Runs from the repository root after `make test`, with the same database settings, in a
scratch database `<name>_bench` that it creates and drops:

    .venv/bin/python bench/seed_demo.py [--scale county|city|province]

Target: the county scale in under 30 seconds (issue 2); the row-by-row run of the same
seeder (one INSERT per row) is the baseline of the ratio.
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_SECONDS = 30.0


def scratch_database() -> str:
    import environ

    environ.Env.read_env(ROOT / ".local" / "services.env")
    url = os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    name = (parts.path.lstrip("/") or "zhucun") + "_bench"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    return name


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="county", choices=["county", "city", "province"])
    args = parser.parse_args()
    name = scratch_database()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    import django
    from django.core.management import call_command
    from django.db import connection

    sys.path.insert(0, str(ROOT / "scripts"))
    from services import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    django.setup()
    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    call_command("migrate", verbosity=0, interactive=False)

    def run(batch_size: int) -> float:
        call_command("flush", interactive=False, verbosity=0)
        started = time.perf_counter()
        call_command(
            "seed_demo",
            scale=args.scale,
            seed=1,
            batch_size=batch_size,
            no_households=True,
            **quiet,
        )
        return time.perf_counter() - started

    bulk = run(2000)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM teams_cadre")
        cadres = cursor.fetchone()[0]
    row_by_row = run(1)
    call_command("flush", interactive=False, verbosity=0)
    connection.close()
    ratio = row_by_row / bulk
    ok = bulk < TARGET_SECONDS if args.scale == "county" else True
    print(f"scratch database {name}: {args.scale} scale, {cadres} cadres")
    print(
        f"bench seed_demo: {args.scale} bulk {bulk:.1f} s, row-by-row {row_by_row:.1f} s, "
        f"ratio {ratio:.1f}x -> {'PASS' if ok else 'FAIL'} "
        f"(target: county scale under {TARGET_SECONDS:.0f} s)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
