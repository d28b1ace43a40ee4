"""Households with their members, from the system's layout or the national list's layout.

Rows are grouped by 户编号 (one row per person); a household's columns may be filled on one of
its rows or repeated on all of them, but two different values are a problem. The importer
turns the file into `households.services.HouseholdImport` and the service checks every rule
and writes; this module only knows about the file: its cells, the village named by code or
by names, and the national list's 危房户 and defaults.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from households import services as household_services
from households.models import Household, HouseholdStatus, Member
from households.services import NOT_GIVEN, HouseholdImport, HouseholdRow, MemberRow
from villages.models import Village

from .cells import BLANK
from .layouts import DANGEROUS_GRADES, HOUSEHOLD, MEMBER, SAFE_GRADES, Layout, header_text
from .sheets import Header, LayoutReader, Problem, Ref
from .xlsx import Workbook

# Importer-only keys of a households layout: they locate the village, they fill no field.
LOCATING = ("village_code", "county_name", "township_name", "village_name")
# A member's 离户日期 fills no field either: it marks the row of a former member (exports of
# the member list hold them), which the service checks against the stored departure.
LEFT_ON = "left_on"


@dataclass
class Outcome:
    """What an importer found (and, on commit, did)."""

    problems: list[Problem]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    rows: int = 0
    sheets: list[str] = field(default_factory=list)
    skipped_sheets: list[str] = field(default_factory=list)


class _Group:
    __slots__ = ("code", "first", "members", "problems", "values")

    def __init__(self, code: str, first: Ref):
        self.code, self.first = code, first
        self.values: dict[str, tuple[Any, Ref]] = {}
        self.members: list[MemberRow] = []
        self.problems = False


@dataclass
class Parsed:
    """What a file says, before the database is asked anything: the households and their
    members as typed values, the problems of the cells, the headers found."""

    groups: dict[str, _Group]
    problems: list[Problem]
    rows: int
    headers: list[Header]
    skipped: list[str]


class HouseholdsImporter:
    cacheable = True  # the reading can be kept from the dry run for the commit (cache.py)

    def __init__(self, *, book: Workbook, layout: Layout, user: Any):
        self.book, self.layout, self.user = book, layout, user
        self.columns = layout.columns
        self.index = {(c.key, c.level): i for i, c in enumerate(self.columns) if c.imported}
        self.household_fields = tuple(
            c.key
            for c in self.columns
            if c.imported and c.level == HOUSEHOLD and c.key not in (*LOCATING, "code")
        )
        self.member_fields = tuple(
            c.key
            for c in self.columns
            if c.imported and c.level == MEMBER and c.key not in ("id_number", LEFT_ON)
        )
        self.headers: list[Header] = []

    def run(self, *, dry_run: bool, progress: Callable = lambda *a: None) -> Outcome:
        return self.apply(self.read(progress), dry_run=dry_run, progress=progress)

    def read(self, progress: Callable = lambda *a: None) -> Parsed:
        statuses = dict(HouseholdStatus.objects.values_list("name", "code"))
        reader = LayoutReader(self.book, self.layout, statuses=statuses)
        self.headers = reader.headers  # filled as the sheets are found
        problems: list[Problem] = []
        groups = self._group(reader, problems, progress)
        return Parsed(
            groups,
            problems + reader.file_problems,
            reader.rows_read,
            reader.headers,
            reader.skipped_sheets,
        )

    def apply(self, parsed: Parsed, *, dry_run: bool, progress: Callable = lambda *a: None):
        """Check everything against the database (and write, unless a dry run)."""
        self.headers = parsed.headers
        problems = list(parsed.problems)
        outcome = Outcome(
            problems,
            rows=parsed.rows,
            sheets=[h.sheet.name for h in parsed.headers],
            skipped_sheets=parsed.skipped,
        )
        if not parsed.headers:
            return outcome
        if not parsed.groups:
            problems.append(Problem("", 0, "", "", _("文件中没有可导入的数据行。"), "empty"))
            return outcome
        data = self._data(parsed.groups, problems)
        result = household_services.household_import_upsert(
            data=data, actor=self.user, dry_run=dry_run or bool(problems), progress=progress
        )
        problems += [self._problem(issue) for issue in result.issues]
        outcome.counts = result.counts
        return outcome

    # --- the file ----------------------------------------------------------------------------

    def _group(self, reader: LayoutReader, problems: list, progress: Callable) -> dict[str, _Group]:
        groups: dict[str, _Group] = {}
        code_at = self.index[("code", HOUSEHOLD)]
        id_at = self.index[("id_number", MEMBER)]
        shared = [
            (c.key, i)
            for i, c in enumerate(self.columns)
            if c.imported and c.level == HOUSEHOLD and c.key != "code"
        ]
        member_at = [self.index[(key, MEMBER)] for key in self.member_fields]
        left_at = self.index.get((LEFT_ON, MEMBER))
        group = None
        for count, row in enumerate(reader.rows(), 1):
            if count % 5000 == 0:
                progress("read", count, reader.rows_expected)
            values = row.values
            code = values[code_at]
            if row.problems:
                problems += row.problems
            if code is BLANK:
                if not self._bad(row, "code"):
                    problems.append(
                        self._row_problem(row.ref, "code", _("户编号不能为空。"), "required")
                    )
                continue
            same = row.repeat and group is not None and group.code == code
            if not same:
                group = groups.get(code)
                if group is None:
                    group = groups[code] = _Group(code, Ref(row.ref.sheet, row.ref.row, HOUSEHOLD))
                self._merge(group, row, shared, problems)
            if row.problems:
                group.problems = True
            number = values[id_at]
            if number is BLANK:
                if not self._bad(row, "id_number"):
                    problems.append(
                        self._row_problem(row.ref, "id_number", _("身份证号不能为空。"), "required")
                    )
                group.problems = True
                continue
            left_on = values[left_at] if left_at is not None else BLANK
            group.members.append(
                MemberRow(
                    ref=row.ref,
                    id_number=number,
                    values=tuple(
                        [NOT_GIVEN if values[i] is BLANK else values[i] for i in member_at]
                    ),
                    incomplete=bool(row.problems),
                    left_on=None if left_on is BLANK else left_on,
                )
            )
        return groups

    def _merge(self, group: _Group, row, shared, problems: list) -> None:
        """A household's values from one of its rows; a different value is a problem."""
        for key, i in shared:
            value = row.values[i]
            if value is BLANK:
                continue
            known = group.values.get(key)
            if known is None:
                group.values[key] = (value, row.ref)
            elif known[0] != value:
                problems.append(
                    self._row_problem(
                        row.ref,
                        key,
                        _("与本户%(first)s的“%(header)s”不一致，同一户的各行应相同。")
                        % {"first": known[1], "header": header_text(self.columns[i].header)},
                        "inconsistent",
                        level=HOUSEHOLD,
                    )
                )
                group.problems = True

    def _bad(self, row, key: str) -> bool:
        """Whether the row's cell of `key` was already reported (then it reads as empty)."""
        if not row.problems:
            return False
        header = self._header(row.ref.sheet)
        column = self.layout.column(key)
        letters = header.letters_of(column.key) if header and column else ""
        return any(p.letters == letters for p in row.problems)

    def _header(self, sheet: str) -> Header | None:
        return next((h for h in self.headers if h.sheet.name == sheet), None)

    def _present(self, sheet: str) -> set[tuple[str, str]]:
        """The (field, level) of the layout's columns that this sheet has."""
        header = self._header(sheet)
        if header is None:
            return set()
        return {(c.key, c.level) for c in header.columns.values() if c.imported}

    def _data(self, groups: dict[str, _Group], problems: list) -> HouseholdImport:
        villages = self._villages(groups, problems)
        stored = self._stored_grades(groups)
        households = []
        for group in groups.values():
            present = self._present(group.first.sheet)
            present_household = {key for key, level in present if level == HOUSEHOLD}
            present_member = {key for key, level in present if level == MEMBER}
            village_code = villages.get(group.code, "")
            values = []
            for key in self.household_fields:
                known = group.values.get(key)
                if known is not None:
                    value = known[0]
                    if (
                        key == "housing_grade"
                        and self.columns[self.index[(key, HOUSEHOLD)]].kind == "danger"
                    ):
                        value = _grade(value, stored.get(group.code))
                elif key in present_household:
                    value = household_services.import_empty_value(Household, key)
                else:
                    value = NOT_GIVEN
                values.append(value)
            defaults, member_defaults = {}, {}
            if "status" not in present_household and self.layout.default_status:
                defaults["status"] = self.layout.default_status
            year = group.values.get("year_identified")
            if "joined_on" in present_member and self.layout.key == "households_national" and year:
                member_defaults["joined_on"] = dt.date(year[0], 1, 1)
            households.append(
                HouseholdRow(
                    ref=group.first,
                    code=group.code,
                    village_code=village_code,
                    values=tuple(values),
                    members=self._members(group, present_member),
                    defaults=defaults,
                    member_defaults=member_defaults,
                    incomplete=group.problems,
                )
            )
        return HouseholdImport(self.household_fields, self.member_fields, households)

    def _members(self, group: _Group, present: set[str]) -> list[MemberRow]:
        """Members with an empty cell of a field that may be blank set to clear it."""
        empties = {
            key: household_services.import_empty_value(Member, key)
            for key in self.member_fields
            if key in present
        }
        out = []
        for member in group.members:
            values = tuple(
                empties.get(key, NOT_GIVEN) if value is NOT_GIVEN else value
                for key, value in zip(self.member_fields, member.values, strict=True)
            )
            member.values = values
            out.append(member)
        return out

    def _villages(self, groups: dict[str, _Group], problems: list) -> dict[str, str]:
        """{户编号: village code}. The system's layout names the village by its code (the
        service checks it is in scope); the national list by names, looked up in scope."""
        if ("village_code", HOUSEHOLD) in self.index:
            return {
                code: group.values["village_code"][0]
                for code, group in groups.items()
                if "village_code" in group.values
            }
        rows = Village.objects.visible_to(self.user).values_list(
            "code", "name", "township__name", "township__parent__name"
        )
        by_names: dict[tuple, list[str]] = {}
        for code, village, township, county in rows:
            by_names.setdefault((township, village), []).append(code)
            by_names.setdefault((county, township, village), []).append(code)
        out = {}
        for code, group in groups.items():
            names = [group.values.get(k, (None,))[0] for k in LOCATING[1:]]
            county, township, village = names
            if not township or not village:
                continue  # the service reports the missing village
            key = (county, township, village) if county else (township, village)
            found = by_names.get(key, [])
            if len(found) == 1:
                out[code] = found[0]
            elif found:
                problems.append(
                    self._row_problem(
                        group.first,
                        "village_name",
                        _("“%(township)s %(village)s”有重名，请补充“县(市、区、旗)”列。")
                        % {"township": township, "village": village},
                        "ambiguous",
                        level=HOUSEHOLD,
                    )
                )
            else:
                problems.append(
                    self._row_problem(
                        group.first,
                        "village_name",
                        _("找不到行政村“%(name)s”，或它不在您的管辖范围内。")
                        % {"name": "".join(n for n in names if n)},
                        "out_of_scope",
                        level=HOUSEHOLD,
                    )
                )
                group.problems = True
        return out

    def _stored_grades(self, groups: dict[str, _Group]) -> dict[str, str]:
        column = self.layout.column("housing_grade")
        if column is None or column.kind != "danger":
            return {}
        codes = list(groups)
        out = {}
        for start in range(0, len(codes), 5000):
            out.update(
                Household.objects.visible_to(self.user)
                .filter(code__in=codes[start : start + 5000])
                .values_list("code", "housing_grade")
            )
        return out

    # --- problems ----------------------------------------------------------------------------

    def _row_problem(self, ref: Ref, key: str, message: str, code: str, level: str = "") -> Problem:
        column = (
            self.layout.column(key)
            if not level
            else next((c for c in self.columns if c.key == key and c.level == level), None)
        )
        header = self._header(ref.sheet)
        text = header_text(column.header) if column else ""
        letters = ""
        if header is not None and column is not None:
            text = header.found.get(column.key + column.level, text)
            letters = next((k.decode() for k, c in header.columns.items() if c is column), "")
        return Problem(ref.sheet, ref.row, text, "", str(message), code, letters)

    def _problem(self, issue) -> Problem:
        ref: Ref = issue.ref
        key = issue.field
        if key == "village":
            key = "village_code" if ("village_code", HOUSEHOLD) in self.index else "village_name"
        level = ref.level or MEMBER
        if (key, level) not in self.index:
            level = HOUSEHOLD if (key, HOUSEHOLD) in self.index else MEMBER
        return self._row_problem(ref, key, issue.message, issue.code, level=level)


def _grade(dangerous: bool, stored: str | None) -> str:
    """危房户 against the housing grade: 是 = C/D, 否 = A/B; a stored grade of the same kind
    stays as it is."""
    if dangerous:
        return stored if stored in DANGEROUS_GRADES else "C"
    return stored if stored in SAFE_GRADES else "A"
