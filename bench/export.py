"""bench export: our streaming .xlsx writer against openpyxl's write-only mode, same rows.

    .venv/bin/python bench/export.py [--rows 200000] [--small 50000]
        [--layout member_national] [--reseed]

Seeds a scratch database `<name>_bench_export` once (the county-scale roster with about 300
households per village: some 60 000 households and 200 000 members; the row audit is
skipped for this generated data) and keeps it for later runs.

Each measured run is its own subprocess, so that its peak memory (the high-water mark of
its own address space, scripts/peak.py) is its own: ours and openpyxl's write-only mode,
each at the small and at the full row count. A run is the real export path: the layout's
single SELECT through a server-side cursor in a REPEATABLE READ transaction as a
province-wide user (ID numbers and phones decrypted and masked), the layout's cells, and the
writer into a file. openpyxl gets the same cells, made acceptable to it (a text starting
with "=" is forced to a string cell, times lose their zone: what any correct export with it
must do).

Printed: rows per second of the whole export and of the writer alone (time inside the
writer's calls), their ratios, each peak memory. Both full files are then read back with
openpyxl (read-only) and python-calamine and compared value by value with each other and
with the rows read again from the database.

Target: ours at least 5x faster than openpyxl over the whole export; ours under 200 MB peak,
and its peak at the full count within 10 % (or 10 MB) of the small one; every read-back equal.
"""

import argparse
import datetime as dt
import io
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
TARGET_RATIO = 5.0
TARGET_MB = 200.0
GROWTH = 0.10
GROWTH_MB = 10.0


def scratch_database() -> str:
    import environ

    environ.Env.read_env(ROOT / ".local" / "services.env")
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = parts.path.lstrip("/") or "zhucun"
    if not name.endswith("_bench_export"):  # a measured run inherits the scratch database
        name += "_bench_export"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    return name


def setup_django() -> None:
    import django

    django.setup()


def bench_user():
    from accounts.models import User

    return User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", password=None
    )


def source_rows(layout_key: str, n: int):
    """The first `n` rows of the layout's export for a province-wide user, as sources."""
    from reports.exports.layouts import LAYOUTS
    from reports.exports.runner import export_queryset

    values, _counted = export_queryset(LAYOUTS[layout_key], {}, user=bench_user())
    return values[:n].iterator(chunk_size=5000)


# --- a measured run (child process) ------------------------------------------------------


def child(writer: str, layout_key: str, n: int, out: str) -> None:
    from peak import peak_mb

    setup_django()
    from django.utils import timezone

    from reports.exports.layouts import LAYOUTS, row_builder
    from reports.exports.runner import read_transaction
    from reports.exports.xlsx import CellKind, XlsxStreamWriter

    layout = LAYOUTS[layout_key]
    columns = [c.sheet_column() for c in layout.columns]
    build = row_builder(layout, unmasked=False, data_date=timezone.localdate())
    started = time.perf_counter()
    in_writer = 0.0
    rows = 0
    with open(out, "wb") as fh, read_transaction():
        if writer == "ours":
            book = XlsxStreamWriter(fh, columns, title=str(layout.sheet_title))
            write = book.write_row
            for raw in source_rows(layout_key, n):
                cells = build(raw)
                t = time.perf_counter()
                write(cells)
                in_writer += time.perf_counter() - t
                rows += 1
            t = time.perf_counter()
            book.close()
            in_writer += time.perf_counter() - t
        else:
            from openpyxl import Workbook
            from openpyxl.cell import WriteOnlyCell

            t = time.perf_counter()
            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet(str(layout.sheet_title))
            sheet.append([c.title for c in columns])
            in_writer += time.perf_counter() - t
            times = [i for i, c in enumerate(columns) if c.kind == CellKind.DATETIME]

            def adapt(cells):
                for i in times:
                    if cells[i] is not None:
                        cells[i] = timezone.localtime(cells[i]).replace(tzinfo=None)
                for i, value in enumerate(cells):
                    if type(value) is str and value[:1] == "=":
                        cell = WriteOnlyCell(sheet, value=value)
                        cell.data_type = "s"
                        cells[i] = cell
                return cells

            for raw in source_rows(layout_key, n):
                cells = build(raw)
                t = time.perf_counter()
                sheet.append(adapt(cells))
                in_writer += time.perf_counter() - t
                rows += 1
            t = time.perf_counter()
            workbook.save(fh)
            in_writer += time.perf_counter() - t
    elapsed = time.perf_counter() - started
    peak = peak_mb()
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": elapsed,
                "writer_seconds": in_writer,
                "peak_mb": peak,
                "size": os.path.getsize(out),
            }
        )
    )


def measure(writer: str, layout_key: str, n: int, out: Path) -> dict:
    result = subprocess.run(  # noqa: S603 - this very script
        [sys.executable, __file__, "--child", writer, layout_key, str(n), str(out)],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ,
    )
    if result.returncode:
        raise SystemExit(f"{writer} run failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- read back ---------------------------------------------------------------------------


def normal(value):
    """What both readers agree on: empty is None, whole datetimes are dates, numbers floats."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            from django.utils import timezone

            value = timezone.localtime(value).replace(tzinfo=None)
        value = value.replace(microsecond=0)
        return value.date() if value.time() == dt.time(0) else value
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return round(float(value), 6)
    return value


def padded(row, width: int) -> list:
    """A row as wide as the header: a reader may leave out trailing empty cells."""
    values = [normal(v) for v in row]
    return values + [None] * (width - len(values))


def openpyxl_rows(path: Path):
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    for sheet in book.worksheets:
        rows = sheet.iter_rows(values_only=True)
        width = len(next(rows))
        for row in rows:
            yield padded(row, width)
    book.close()


def calamine_rows(path: Path):
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).iter_rows()
        width = len(next(rows))
        for row in rows:
            yield padded(row, width)


def database_rows(layout_key: str, n: int):
    from django.utils import timezone

    from reports.exports.layouts import LAYOUTS, row_builder
    from reports.exports.runner import read_transaction

    build = row_builder(LAYOUTS[layout_key], unmasked=False, data_date=timezone.localdate())
    with read_transaction():
        for raw in source_rows(layout_key, n):
            yield [normal(v) for v in build(raw)]


def compare(streams: dict) -> tuple[bool, int, str]:
    names = list(streams)
    count = 0
    for rows in itertools.zip_longest(*streams.values()):
        if any(r is None for r in rows):
            missing = [n for n, r in zip(names, rows, strict=True) if r is None]
            return False, count, f"row {count + 1}: {', '.join(missing)} ended early"
        first = rows[0]
        for name, row in zip(names[1:], rows[1:], strict=True):
            if row != first:
                diff = [
                    (i, a, b) for i, (a, b) in enumerate(zip(first, row, strict=False)) if a != b
                ]
                return False, count, f"row {count + 1}: {names[0]} != {name}: {diff[:3]}"
        count += 1
    return True, count, ""


# --- the world -----------------------------------------------------------------------------


def seed(rows: int, reseed: bool, name: str) -> None:
    import pgtrigger
    from django.core.management import call_command
    from django.db import connection

    from households.models import Member

    call_command("migrate", verbosity=0, interactive=False)
    count = Member.objects.count()
    if count >= rows and not reseed:
        return
    if count:
        raise SystemExit(f"{name} holds another world; drop it first: DROP DATABASE {name}")
    per_village = max(1, int(rows / 3.4 / 200 * 1.03) + 1)
    started = time.perf_counter()
    audit = [
        f"{m}:insert_insert"
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
    ]
    with pgtrigger.ignore(*[a for a in audit if _trigger_exists(a)]):
        call_command(
            "seed_demo",
            scale="county",
            seed=1,
            households_per_village=(per_village, per_village + 10),
            stdout=io.StringIO(),
            stderr=sys.stderr,
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"seeded {Member.objects.count()} members in {time.perf_counter() - started:.0f} s",
        flush=True,
    )


def _trigger_exists(uri: str) -> bool:
    import pgtrigger

    try:
        pgtrigger.registered(uri)
    except Exception:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--small", type=int, default=50_000)
    parser.add_argument("--layout", default="member_national")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--child", nargs=4, metavar=("WRITER", "LAYOUT", "ROWS", "OUT"))
    args = parser.parse_args()
    name = scratch_database()
    if args.child:
        writer, layout_key, n, out = args.child
        child(writer, layout_key, int(n), out)
        return 0
    from services import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    setup_django()
    seed(args.rows, args.reseed, name)
    bench_user()
    work = Path(tempfile.mkdtemp(prefix="zhucun-bench-export-"))
    runs = {}
    for n in (args.small, args.rows):
        for writer in ("ours", "openpyxl"):
            runs[writer, n] = measure(writer, args.layout, n, work / f"{writer}-{n}.xlsx")
            r = runs[writer, n]
            print(
                f"{writer:<8} {r['rows']:>7} rows: export {r['rows'] / r['seconds']:8.0f} rows/s "
                f"({r['seconds']:6.1f} s), writer alone {r['rows'] / r['writer_seconds']:8.0f} "
                f"rows/s, peak {r['peak_mb']:6.1f} MB, file {r['size'] / 2**20:5.1f} MB",
                flush=True,
            )
    ours, theirs = runs["ours", args.rows], runs["openpyxl", args.rows]
    small = runs["ours", args.small]
    if ours["rows"] < args.rows:
        raise SystemExit(f"only {ours['rows']} rows in {name}; run with --reseed on a new database")
    ratio = theirs["seconds"] / ours["seconds"]
    writer_ratio = theirs["writer_seconds"] / ours["writer_seconds"]
    growth = ours["peak_mb"] - small["peak_mb"]
    flat = growth <= max(GROWTH * small["peak_mb"], GROWTH_MB)
    print(
        f"whole export: ours {ratio:.1f}x openpyxl; writer alone: {writer_ratio:.1f}x", flush=True
    )
    print(
        f"peak memory ours: {small['peak_mb']:.0f} MB at {args.small} rows, "
        f"{ours['peak_mb']:.0f} MB at {args.rows} rows; openpyxl: "
        f"{runs['openpyxl', args.small]['peak_mb']:.0f} / {theirs['peak_mb']:.0f} MB",
        flush=True,
    )
    started = time.perf_counter()
    same, compared, problem = compare(
        {
            "database": database_rows(args.layout, args.rows),
            "ours/openpyxl": openpyxl_rows(work / f"ours-{args.rows}.xlsx"),
            "ours/calamine": calamine_rows(work / f"ours-{args.rows}.xlsx"),
            "openpyxl/openpyxl": openpyxl_rows(work / f"openpyxl-{args.rows}.xlsx"),
            "openpyxl/calamine": calamine_rows(work / f"openpyxl-{args.rows}.xlsx"),
        }
    )
    print(
        f"read back: {compared} rows x 4 readings equal to the database: {same} "
        f"({time.perf_counter() - started:.0f} s){' ' + problem if problem else ''}",
        flush=True,
    )
    for path in work.iterdir():
        path.unlink()
    work.rmdir()
    ok = ratio >= TARGET_RATIO and ours["peak_mb"] < TARGET_MB and flat and same
    print(
        f"bench export: {args.rows} {args.layout} rows, ours "
        f"{ours['rows'] / ours['seconds']:.0f} rows/s vs openpyxl write-only "
        f"{theirs['rows'] / theirs['seconds']:.0f} rows/s = {ratio:.1f}x "
        f"(writer alone {writer_ratio:.1f}x), peak {small['peak_mb']:.0f} -> "
        f"{ours['peak_mb']:.0f} MB ({args.small} -> {args.rows} rows), read back equal: {same} "
        f"-> {'PASS' if ok else 'FAIL'} (target: >= {TARGET_RATIO:.0f}x, < {TARGET_MB:.0f} MB "
        f"and flat, identical values)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
