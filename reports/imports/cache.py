"""The dry run's reading of a file, kept for the commit.

Reading a big workbook is most of a dry run's time. What the file says does not change
between the dry run and the commit (the file is the same bytes: its SHA-256 is checked), so
the commit reads it back from here and spends its time on what may have changed: every rule
is checked again against the database, under the import's lock, before anything is written.

One JSON line per household, gzip-compressed, in the job's private storage; deleted with the
upload. Values are the converted ones (codes, numbers, text); dates travel as ISO text.
"""

import datetime as dt
import gzip
import io
import json
from typing import Any, BinaryIO

from households.services import NOT_GIVEN, MemberRow

from .households import Parsed, _Group
from .layouts import Layout
from .sheets import Header, Problem, Ref
from .xlsx import SheetInfo

VERSION = 2  # 2: a member's 离户日期


def _plain(value: Any) -> Any:
    if value is NOT_GIVEN:
        return None  # a typed value is never None before the service: None means not given
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def dump(parsed: Parsed, target: BinaryIO, *, layout: Layout, sha256: str) -> None:
    sheets = [h.sheet.name for h in parsed.headers]
    index = {name: i for i, name in enumerate(sheets)}
    with gzip.GzipFile(fileobj=target, mode="wb", compresslevel=1) as out:
        head = {
            "version": VERSION,
            "layout": layout.key,
            "sha256": sha256,
            "rows": parsed.rows,
            "skipped": parsed.skipped,
            "headers": [
                {
                    "sheet": h.sheet.name,
                    "path": h.sheet.path,
                    "row": h.row,
                    "columns": {k.decode(): layout.columns.index(c) for k, c in h.columns.items()},
                    "found": h.found,
                }
                for h in parsed.headers
            ],
            "problems": [
                [p.sheet, p.row, p.column, p.value, p.message, p.code, p.letters]
                for p in parsed.problems
            ],
        }
        out.write(json.dumps(head, ensure_ascii=False).encode() + b"\n")
        for group in parsed.groups.values():
            line = [
                group.code,
                index.get(group.first.sheet, 0),
                group.first.row,
                {  # where a value came from, when not the household's first row
                    k: [_plain(v)]
                    if (r.sheet, r.row) == (group.first.sheet, group.first.row)
                    else [_plain(v), index.get(r.sheet, 0), r.row]
                    for k, (v, r) in group.values.items()
                },
                group.problems,
                [
                    [
                        index.get(m.ref.sheet, 0),
                        m.ref.row,
                        m.id_number,
                        [_plain(v) for v in m.values],
                        m.incomplete,
                        _plain(m.left_on),
                    ]
                    for m in group.members
                ],
            ]
            out.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")


def load(source: BinaryIO, *, layout: Layout, sha256: str, member_fields: tuple[str, ...]):
    """The Parsed kept by dump(), or None when it is not this file's or this layout's."""
    from .layouts import HOUSEHOLD

    dates = {c.key for c in layout.columns if c.kind == "date"}
    date_at = [i for i, key in enumerate(member_fields) if key in dates]
    with gzip.GzipFile(fileobj=source, mode="rb") as stream:
        lines = io.BufferedReader(stream)
        head = json.loads(lines.readline())
        if (head.get("version"), head.get("layout"), head.get("sha256")) != (
            VERSION,
            layout.key,
            sha256,
        ):
            return None
        headers = [
            Header(
                SheetInfo(h["sheet"], h["path"], True),
                h["row"],
                {k.encode(): layout.columns[i] for k, i in h["columns"].items()},
                h["found"],
            )
            for h in head["headers"]
        ]
        sheets = [h.sheet.name for h in headers]
        groups: dict[str, _Group] = {}
        for raw in lines:
            code, sheet, row, values, problems, members = json.loads(raw)
            group = _Group(code, Ref(sheets[sheet], row, HOUSEHOLD))
            group.problems = problems
            first = Ref(sheets[sheet], row)
            for key, (value, *where) in values.items():
                if key in dates and value is not None:
                    value = dt.date.fromisoformat(value)
                group.values[key] = (value, Ref(sheets[where[0]], where[1]) if where else first)
            for s, r, number, member_values, incomplete, left_on in members:
                for i in date_at:
                    if member_values[i] is not None:
                        member_values[i] = dt.date.fromisoformat(member_values[i])
                group.members.append(
                    MemberRow(
                        ref=Ref(sheets[s], r),
                        id_number=number,
                        values=tuple([NOT_GIVEN if v is None else v for v in member_values]),
                        incomplete=incomplete,
                        left_on=dt.date.fromisoformat(left_on) if left_on else None,
                    )
                )
            groups[code] = group
    problems = [Problem(*p) for p in head["problems"]]
    return Parsed(groups, problems, head["rows"], headers, head["skipped"])
