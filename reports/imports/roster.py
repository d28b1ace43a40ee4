"""Dispatching units, and cadres with their postings, through the services of `teams`.

A county's roster is hundreds or a few thousand rows, so each row goes through the same
service the admin uses (unit_import_upsert, cadre_import_upsert), inside a savepoint: a row the
service refuses is rolled back alone and reported, and the next rows are still checked. The
dry run does all of it inside a transaction that is then rolled back, so it finds exactly
what the commit would; the commit rolls everything back when any row is refused.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from common.crypto import keyed_hash
from common.errors import ApplicationError, validation_messages
from common.people import normalize_id_number
from teams import services as team_services
from teams.models import Cadre, DispatchingUnit
from villages.models import Region, Village

from .cells import BLANK
from .households import Outcome
from .layouts import Layout, header_text
from .sheets import LayoutReader, Problem, Row
from .xlsx import Workbook

ROSTER_LOCK = 7002  # pg_advisory_xact_lock(ROSTER_LOCK, entity): one roster import at a time


class _Rollback(Exception):  # noqa: N818 - control flow, not an error
    pass


class RosterImporter:
    cacheable = False  # a roster is small: it is read again for the commit

    def __init__(self, *, book: Workbook, layout: Layout, user: Any):
        self.book, self.layout, self.user = book, layout, user
        self.index = {c.key: i for i, c in enumerate(layout.columns) if c.imported}
        self.headers = []

    def run(self, *, dry_run: bool, progress: Callable = lambda *a: None) -> Outcome:
        reader = self.reader = LayoutReader(self.book, self.layout)
        self.headers = reader.headers
        rows = list(reader.rows())
        problems: list[Problem] = [p for row in rows for p in row.problems]
        problems += reader.file_problems
        outcome = Outcome(
            problems,
            rows=reader.rows_read,
            sheets=[h.sheet.name for h in reader.headers],
            skipped_sheets=reader.skipped_sheets,
        )
        if reader.file_problems:
            return outcome
        if not rows:
            problems.append(Problem("", 0, "", "", _("文件中没有可导入的数据行。"), "empty"))
            return outcome
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        self.regions = self._regions(rows)
        try:
            with transaction.atomic():
                if not dry_run:
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT pg_advisory_xact_lock(%s, %s)",
                            [ROSTER_LOCK, 1 if self.layout.entity == "units" else 2],
                        )
                seen: dict[tuple, Any] = {}
                for done, row in enumerate(rows, 1):
                    if done % 200 == 0:
                        progress("check", done, len(rows))
                    if row.problems:
                        continue
                    key = self._key(row)
                    if key in seen:
                        problems.append(
                            self._problem(
                                row,
                                "id_number" if self.layout.entity == "cadres" else "name",
                                _("与%s重复：同一条记录只能出现一次。") % str(seen[key]),
                                "duplicate",
                            )
                        )
                        continue
                    seen[key] = row.ref
                    outcome_of_row = self._row(row, problems)
                    if outcome_of_row:
                        counts[outcome_of_row] += 1
                if dry_run or problems:
                    raise _Rollback
        except _Rollback:
            pass
        outcome.counts = {self.layout.entity: counts}
        return outcome

    # --- one row ---------------------------------------------------------------------------

    def _value(self, row: Row, key: str) -> Any:
        index = self.index.get(key)
        return BLANK if index is None else row.values[index]

    def _given(self, row: Row, keys: tuple[str, ...]) -> dict[str, Any]:
        out = {}
        header = self._header(row)
        for key in keys:
            column = self.layout.column(key)
            if column is None or (column.key + column.level) not in header.found:
                continue  # not in this file: keep what is stored
            value = self._value(row, key)
            out[key] = "" if value is BLANK else value
        return out

    def _row(self, row: Row, problems: list[Problem]) -> str | None:
        try:
            with transaction.atomic():
                if self.layout.entity == "units":
                    _unit, result = self._unit(row)
                else:
                    _cadre, result = self._cadre(row)
                return result
        except ValidationError as exc:
            message, extra = validation_messages(exc)
            fields = extra.get("fields") or {"": [message]}
            for key, messages in fields.items():
                for text in messages:
                    problems.append(self._problem(row, key, text, "invalid"))
        except ApplicationError as exc:
            problems.append(self._problem(row, "", exc.message, "rule"))
        return None

    def _unit(self, row: Row):
        region = self._region(row, "region")
        values = self._given(
            row, ("level", "kind", "principal_leader", "contact_name", "contact_phone")
        )
        values = {k: v for k, v in values.items() if v != "" or k not in ("level", "kind")}
        if values.get("contact_phone") == "":
            values.pop("contact_phone")  # an empty phone keeps the stored one (admin forms)
        return team_services.unit_import_upsert(
            actor=self.user, region=region, name=self._value(row, "name"), values=values
        )

    def _cadre(self, row: Row):
        values = self._given(row, ("name", "phone", "political_status", "position", "rank"))
        for key in ("name", "political_status", "phone"):
            if values.get(key) == "":
                values.pop(key)  # required, or protected: an empty cell keeps what is stored
        if self._value(row, "region") is not BLANK:
            values["region"] = self._region(row, "region")
        if self._value(row, "unit") is not BLANK:
            values["unit"] = self._unit_named(row)
        posting = None
        village_code = self._value(row, "village_code")
        if village_code is not BLANK:
            village = Village.objects.visible_to(self.user).filter(code=village_code).first()
            if village is None:
                raise ValidationError(
                    {"village_code": _("行政村代码 %s 不存在或不在您的管辖范围内。") % village_code}
                )
            role = self._value(row, "role")
            posting = {
                "village": village,
                "role": "member" if role is BLANK else role,
                "start": None if self._value(row, "start") is BLANK else self._value(row, "start"),
                "planned_end": None
                if self._value(row, "planned_end") is BLANK
                else self._value(row, "planned_end"),
            }
        return team_services.cadre_import_upsert(
            actor=self.user,
            id_number=self._value(row, "id_number"),
            values=values,
            posting=posting,
        )

    # --- lookups ---------------------------------------------------------------------------

    def _regions(self, rows: list[Row]) -> dict[str, Region]:
        """The regions the file names. Not only the user's: a unit of the province that sent a
        team into the county, or a cadre the province registered, is in the county's export;
        the services refuse a region outside the scope wherever it would be written."""
        codes = {
            row.values[self.index[key]]
            for row in rows
            for key in ("region", "unit_region")
            if key in self.index and row.values[self.index[key]] is not BLANK
        }
        return {r.code: r for r in Region.objects.filter(code__in=codes)}

    def _region(self, row: Row, key: str) -> Region:
        code = self._value(row, key)
        region = self.regions.get(code) if code is not BLANK else None
        if region is None:
            raise ValidationError(
                {key: _("区划代码 %s 不存在或不在您的管辖范围内。") % (code or "-")}
            )
        return region

    def _unit_named(self, row: Row) -> DispatchingUnit:
        """The unit by name among those the user sees, and the unit the row's cadre has now
        (a province's unit the county does not see stays the cadre's unit on import)."""
        name = self._value(row, "unit")
        own = Cadre.objects.visible_to(self.user).filter(
            id_hash=keyed_hash(normalize_id_number(str(self._value(row, "id_number"))))
        )
        units = DispatchingUnit.objects.filter(name=name).filter(
            Q(pk__in=DispatchingUnit.objects.visible_to(self.user).values("pk"))
            | Q(pk__in=own.values("unit_id"))
        )
        region_code = self._value(row, "unit_region")
        if region_code is not BLANK:
            units = units.filter(region__code=region_code)
        found = list(units[:2])
        if not found:
            raise ValidationError(
                {
                    "unit": _("找不到派出单位“%s”（或不在您的管辖范围内），请先登记或导入该单位。")
                    % name
                }
            )
        if len(found) > 1:
            raise ValidationError(
                {"unit": _("有多个名为“%s”的单位，请填写“工作单位所属区划代码”。") % name}
            )
        return found[0]

    def _key(self, row: Row) -> tuple:
        if self.layout.entity == "units":
            return (self._value(row, "region"), self._value(row, "name"))
        return (normalize_id_number(str(self._value(row, "id_number"))),)

    # --- problems ----------------------------------------------------------------------------

    def _header(self, row: Row):
        return next(h for h in self.reader.headers if h.sheet.name == row.ref.sheet)

    def _problem(self, row: Row, key: str, message: str, code: str) -> Problem:
        header = self._header(row)
        column = self.layout.column({"contact_phone": "contact_phone"}.get(key, key))
        text, letters = "", ""
        if column is not None:
            text = header.found.get(column.key + column.level, header_text(column.header))
            letters = header.letters_of(column.key)
        return Problem(row.ref.sheet, row.ref.row, text, "", str(message), code, letters)
