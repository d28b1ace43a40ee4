"""bench import: 50 000 households (about 170 000 members) imported from one .xlsx, end to end.

    .venv/bin/python bench/import.py [--households 50000]

Works in a scratch database `<name>_bench_import`, dropped and created afresh each run (one
county of 25 townships and 500 villages, and its county official). Writes the workbook in the
system's layout (one row per person, every column filled as a county's file would be), then
runs each step in a fresh Python process, so that each peak memory (RSS) is its own:

1. parse: our reader over every cell of the file, and openpyxl's read-only mode over the same
   file (the baseline); then our typed rows (cleaning and conversion of every cell);
2. import: the upload check, the dry run and the commit through the job services (the
   bodies of the Celery tasks), as the admin runs them;
3. the same file again: nothing may change.

Target: the whole import (upload check + dry run + commit) under 60 s, peak memory under
1 GB and the parse faster than openpyxl's read-only mode.
"""

import argparse
import datetime as dt
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from peak import peak_mb  # noqa: E402

TARGET_SECONDS = 60.0
TARGET_MB = 1024.0
COUNTY = "140121"
USERNAME = "bench_import"


def scratch_database() -> str:
    import environ

    environ.Env.read_env(ROOT / ".local" / "services.env")
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = (parts.path.lstrip("/") or "zhucun") + "_bench_import"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    return name


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    import django

    django.setup()


# --- the parent: database, world, workbook --------------------------------------------------


def recreate_database(name: str) -> None:
    import psycopg2
    from services import ensure_database

    parts = urlsplit(os.environ["DATABASE_URL"])
    kwargs = {"dbname": "postgres", "user": parts.username or "postgres"}
    if parts.hostname:
        kwargs["host"] = parts.hostname
    if parts.port:
        kwargs["port"] = parts.port
    if parts.password:
        kwargs["password"] = parts.password
    conn = psycopg2.connect(**kwargs)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()
    ensure_database(os.environ["DATABASE_URL"])


def seed_world() -> list[str]:
    from accounts.roles import Role
    from accounts.services import user_create
    from villages import services
    from villages.models import Level

    province = services.region_create(code="140000000000", name="山西省", level=Level.PROVINCE)
    city = services.region_create(
        code="140100000000", name="太原市", level=Level.CITY, parent=province
    )
    county = services.region_create(
        code=f"{COUNTY}000000", name="清徐县", level=Level.COUNTY, parent=city
    )
    villages = []
    for t in range(1, 26):
        township = services.region_create(
            code=f"{COUNTY}{100 + t:03d}000", name=f"第{t}镇", level=Level.TOWNSHIP, parent=county
        )
        for v in range(1, 21):
            region = services.region_create(
                code=f"{COUNTY}{100 + t:03d}{200 + v:03d}",
                name=f"第{t}镇{v}村",
                level=Level.VILLAGE,
                parent=township,
            )
            villages.append(services.village_create(region=region, name=region.name).code)
    user_create(  # a scratch database's account
        username=USERNAME,
        password="Bench#pass2026",  # noqa: S106
        role=Role.COUNTY_ADMIN,
        region=county,
    )
    return villages


def id_number(rnd: random.Random, used: set[str], born: dt.date) -> str:
    from common.people import id_check_char

    while True:
        first17 = f"{COUNTY}{born:%Y%m%d}{rnd.randrange(1000):03d}"
        number = first17 + id_check_char(first17)
        if number not in used:
            used.add(number)
            return number


def workbook_rows(households: int, villages: list[str], seed: int = 1):
    """Rows of the system's layout, as a county's file holds them (labels, not codes)."""
    from reports.imports.layouts import HOUSEHOLDS_SYSTEM, choice_labels

    rnd = random.Random(seed)  # noqa: S311 - made-up data, the same for a seed
    used: set[str] = set()
    columns = HOUSEHOLDS_SYSTEM.columns
    labels = {(c.key, c.level): choice_labels(c) for c in columns if c.choices}
    causes = list(labels[("main_cause", "household")].values())
    sizes = (1, 2, 3, 4, 5, 6)
    weights = (10, 15, 22, 28, 17, 8)  # about 3.4 people a household
    day = lambda lo, hi: dt.date(rnd.randint(lo, hi), rnd.randint(1, 12), rnd.randint(1, 28))  # noqa: E731
    for n in range(households):
        village = villages[n % len(villages)]
        main = rnd.choice(causes)
        household = {
            "village_code": village,
            "code": f"{village}{n // len(villages) + 1:04d}",
            "status": "已脱贫",
            "household_type": rnd.choice(("一般贫困户", "低保户", "五保户", "低保贫困户")),
            "standard": "国家标准",
            "main_cause": main,
            "other_causes": "、".join(
                rnd.sample([c for c in causes if c != main], k=rnd.choice((0, 1, 2)))
            ),
            "year_identified": rnd.choice((2014, 2015, 2016)),
            "year_lifted": rnd.choice((2017, 2018, 2019, 2020)),
            "card_colour": rnd.choice(("红卡", "蓝卡", "黄卡", "")),
            "food_clothing_secure": "是",
            "education_secure": "是",
            "medical_secure": rnd.choice(("是", "是", "否")),
            "housing_grade": rnd.choice("AAAB"),
            "safe_water": "是",
            "relocated": rnd.choice(("否", "否", "是")),
            "relocation_year": None,
            "phone": f"139{rnd.randrange(10**8):08d}" if rnd.random() < 0.8 else "",
        }
        size = rnd.choices(sizes, weights)[0]
        relations = ["户主", "配偶", "之子", "之女", "之父母", "之孙子女"][:size]
        for relation in relations:
            born = day(1940, 1985) if relation in ("户主", "配偶", "之父母") else day(1990, 2015)
            member = {
                "name": rnd.choice("张王李赵刘陈杨黄周吴") + rnd.choice("建国秀英春生志强丽娟"),
                "id_number": id_number(rnd, used, born),
                "relation": relation,
                "phone": f"138{rnd.randrange(10**8):08d}" if rnd.random() < 0.5 else "",
                "ethnicity": rnd.choice(("汉族",) * 9 + ("回族",)),
                "education": rnd.choice(("小学", "初中", "高中")),
                "school_status": "非在校生",
                "health": rnd.choice(("健康", "健康", "长期慢性病")),
                "disability_grade": "无",
                "labour": rnd.choice(("普通劳动力", "技能劳动力", "弱劳动力或半劳动力")),
                "migrant_months": rnd.choice((0, 0, 3, 6, 12)),
                "medical_insured": "是",
                "serious_illness_insured": "是",
                "pension_insured": rnd.choice(("是", "否")),
                "joined_on": dt.date(household["year_identified"], 1, 1),
            }
            yield [
                (household if c.level == "household" else member).get(c.key) if c.key else None
                for c in columns
            ]


def write_workbook(path: Path, households: int, villages: list[str]) -> int:
    from reports.imports.layouts import HOUSEHOLDS_SYSTEM
    from reports.imports.workbooks import write_layout

    with path.open("wb") as target:
        return write_layout(target, HOUSEHOLDS_SYSTEM, workbook_rows(households, villages))


def child(step: str, path: str) -> dict:
    """Run one step in a fresh process and return its figures."""
    out = subprocess.run(  # noqa: S603 - this script with its own arguments
        [sys.executable, __file__, "--step", step, "--file", path],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"step {step} printed nothing:\n{out.stdout}\n{out.stderr}")
    return json.loads(lines[-1])


# --- the children: one measured step each ---------------------------------------------------


def step_parse_ours(path: str) -> dict:
    from django.conf import settings

    from reports.imports.upload import check_workbook
    from reports.imports.xlsx import Workbook

    started = time.perf_counter()
    with open(path, "rb") as f:
        book = Workbook(check_workbook(f, size=os.path.getsize(path)))
        rows = cells = 0
        for info in book.sheets:
            reader = book.sheet(info)
            for _number, row in reader:
                rows += 1
                for raw in row.values():
                    reader.value(raw)
                    cells += 1
    seconds = time.perf_counter() - started
    if rows > settings.ZHUCUN_IMPORT_MAX_ROWS + 1:
        raise SystemExit("more rows than an import accepts")
    return {
        "seconds": seconds,
        "rows": rows,
        "cells": cells,
        "peak_mb": peak_mb(),
        "fast": reader.fast_batches,
        "exact": reader.exact_batches,
    }


def step_parse_typed(path: str) -> dict:
    from households.models import HouseholdStatus
    from reports.imports.layouts import HOUSEHOLDS_SYSTEM
    from reports.imports.sheets import LayoutReader
    from reports.imports.upload import check_workbook
    from reports.imports.xlsx import Workbook

    statuses = dict(HouseholdStatus.objects.values_list("name", "code"))
    started = time.perf_counter()
    with open(path, "rb") as f:
        book = Workbook(check_workbook(f, size=os.path.getsize(path)))
        reader = LayoutReader(book, HOUSEHOLDS_SYSTEM, statuses=statuses)
        rows = problems = 0
        for row in reader.rows():
            rows += 1
            problems += len(row.problems)
    return {
        "seconds": time.perf_counter() - started,
        "rows": rows,
        "problems": problems,
        "peak_mb": peak_mb(),
    }


def step_parse_openpyxl(path: str) -> dict:
    import openpyxl

    started = time.perf_counter()
    book = openpyxl.load_workbook(path, read_only=True)
    rows = cells = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            rows += 1
            cells += sum(1 for value in row if value is not None)
    book.close()
    return {
        "seconds": time.perf_counter() - started,
        "rows": rows,
        "cells": cells,
        "peak_mb": peak_mb(),
    }


def step_import(path: str) -> dict:
    from django.core.files import File

    from accounts.models import User
    from reports import tasks
    from reports.imports import services
    from reports.models import ImportJob

    # The job's tasks run here, in this process (their bodies, timed); nothing is queued.
    tasks.import_job_check_task.delay = lambda *args: None
    tasks.import_job_commit_task.delay = lambda *args: None
    phases: list[tuple[str, float]] = []

    class TimedProgress(services.Progress):
        """Notes when each phase (read, check, write) starts."""

        def __call__(self, phase, done, total):
            if not phases or phases[-1][0] != phase:
                phases.append((phase, time.perf_counter()))
            super().__call__(phase, done, total)

    services.Progress = TimedProgress
    user = User.objects.get(username=USERNAME)
    times = {}
    started = time.perf_counter()
    with open(path, "rb") as f:
        job = services.import_job_create(
            user=user, layout="households", upload=File(f, "bench.xlsx")
        )
    times["upload"] = time.perf_counter() - started
    mark = time.perf_counter()
    phases.append(("dry run", mark))
    services.import_job_check(job_id=job.pk)
    times["dry_run"] = time.perf_counter() - mark
    job.refresh_from_db()
    if job.status != "ready":
        raise SystemExit(f"dry run: {job.status} {job.error} {job.problem_count} problems")
    phases.append(("end", time.perf_counter()))
    mark = time.perf_counter()
    phases.append(("commit", mark))
    services.import_job_confirm(job=job, user=user)
    services.import_job_commit(job_id=job.pk)
    times["commit"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - started
    phases.append(("end", time.perf_counter()))
    times["phases"] = " ".join(
        f"{name} {later - at:.1f}"
        for (name, at), (_next, later) in itertools.pairwise(phases)
        if name != "end"
    )
    job = ImportJob.objects.get(pk=job.pk)
    if job.status != "done":
        raise SystemExit(f"commit: {job.status} {job.error}")
    return {**times, "rows": job.rows, "counts": job.counts, "peak_mb": peak_mb()}


STEPS = {
    "parse-ours": step_parse_ours,
    "parse-typed": step_parse_typed,
    "parse-openpyxl": step_parse_openpyxl,
    "import": step_import,
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--step", choices=sorted(STEPS))
    parser.add_argument("--file")
    args = parser.parse_args()
    if args.step:
        setup_django()
        print(json.dumps(STEPS[args.step](args.file)))
        return 0

    name = scratch_database()
    recreate_database(name)
    setup_django()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0, interactive=False)
    villages = seed_world()
    connections.close_all()
    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    os.environ["DJANGO_MEDIA_ROOT"] = str(workdir / "media")
    path = workdir / "households.xlsx"
    started = time.perf_counter()
    rows = write_workbook(path, args.households, villages)
    size = path.stat().st_size
    print(
        f"workbook: {args.households} households, {rows} member rows, "
        f"{size / 2**20:.1f} MB, written in {time.perf_counter() - started:.1f} s"
    )
    ours = child("parse-ours", str(path))
    baseline = child("parse-openpyxl", str(path))
    typed = child("parse-typed", str(path))
    ratio = baseline["seconds"] / ours["seconds"]
    print(
        f"parse, every cell: ours {ours['seconds']:.1f} s ({ours['rows'] / ours['seconds']:,.0f} "
        f"rows/s, peak {ours['peak_mb']:.0f} MB, {ours['fast']} fast / {ours['exact']} exact "
        f"batches); openpyxl read-only {baseline['seconds']:.1f} s "
        f"({baseline['rows'] / baseline['seconds']:,.0f} rows/s, peak "
        f"{baseline['peak_mb']:.0f} MB): {ratio:.1f}x"
    )
    print(
        f"parse, typed rows (cleaned and converted): {typed['seconds']:.1f} s, "
        f"{typed['rows']} rows, {typed['problems']} problems, peak {typed['peak_mb']:.0f} MB"
    )
    first = child("import", str(path))
    print(
        f"import: upload check {first['upload']:.2f} s, dry run {first['dry_run']:.1f} s, "
        f"commit {first['commit']:.1f} s, total {first['total']:.1f} s "
        f"({first['rows'] / first['total']:,.0f} rows/s), peak {first['peak_mb']:.0f} MB; "
        f"{json.dumps(first['counts'], ensure_ascii=False)}"
    )
    again = child("import", str(path))
    unchanged = again["counts"]["households"]["unchanged"] == args.households and not any(
        again["counts"][k][c] for k in again["counts"] for c in ("created", "updated")
    )
    print(f"  phases (s): {first['phases']}")
    print(
        f"the same file again: total {again['total']:.1f} s, "
        f"{json.dumps(again['counts'], ensure_ascii=False)}"
    )
    created = first["counts"]["households"]["created"] == args.households
    peak = max(first["peak_mb"], again["peak_mb"], ours["peak_mb"], typed["peak_mb"])
    ok = (
        first["total"] < TARGET_SECONDS and peak < TARGET_MB and ratio > 1 and created and unchanged
    )
    print(f"scratch database {name}; files in {workdir}")
    print(
        f"bench import: {args.households} households / {first['counts']['members']['created']} "
        f"members in {first['total']:.1f} s (dry run {first['dry_run']:.1f} s + commit "
        f"{first['commit']:.1f} s, {first['rows'] / first['total']:,.0f} rows/s), peak "
        f"{peak:.0f} MB; parse {ours['seconds']:.1f} s vs openpyxl read-only "
        f"{baseline['seconds']:.1f} s ({ratio:.1f}x); re-import unchanged: {unchanged} -> "
        f"{'PASS' if ok else 'FAIL'} (target: whole import under {TARGET_SECONDS:.0f} s, "
        f"peak memory under {TARGET_MB:.0f} MB, parse faster than openpyxl)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
