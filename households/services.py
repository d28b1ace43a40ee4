"""Every write to households, members, incomes, lines, monitoring, measures and pairings."""

import datetime as dt
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from common.crypto import keyed_hash
from common.errors import ApplicationError
from common.fields import EncryptedCharField
from common.geo import parse_position
from common.people import (
    id_birth_date,
    id_sex,
    mask_id_number,
    validate_id_number,
    validate_phone,
)
from teams.locks import year_lock_check
from teams.models import Cadre
from teams.presence import active_assignment
from villages.models import Region, Village, significant_prefix

from .codes import WORKING_LABOUR, Relation
from .models import (
    Household,
    HouseholdStatus,
    HouseholdStatusChange,
    IncomeLine,
    IncomeRecord,
    Measure,
    Member,
    Monitoring,
    MonitoringEvent,
    Pairing,
    ReportBand,
    VillageIncomeLine,
    VisitKind,
    VisitLog,
    cause_errors,
)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def _status(code: str) -> HouseholdStatus:
    try:
        return HouseholdStatus.objects.get(pk=code)
    except HouseholdStatus.DoesNotExist:
        raise ValidationError({"status": _("未知的户状态：%s") % code}) from None


# --- households --------------------------------------------------------------------------

HOUSEHOLD_FIELDS = (
    "household_type",
    "standard",
    "main_cause",
    "other_causes",
    "year_identified",
    "year_lifted",
    "card_colour",
    "food_clothing_secure",
    "education_secure",
    "medical_secure",
    "housing_grade",
    "safe_water",
    "relocated",
    "relocation_year",
    "phone",
)


@transaction.atomic
def household_create(
    *,
    village: Village,
    code: str,
    status: str,
    main_cause: str,
    year_identified: int,
    changed_on: dt.date | None = None,
    actor: User | None = None,
    **fields: Any,
) -> Household:
    unknown = set(fields) - set(HOUSEHOLD_FIELDS)
    if unknown:
        raise ApplicationError(_("这些字段不能填写：%s") % ", ".join(sorted(unknown)))
    code = (code or "").strip()
    if Household.objects.filter(code=code).exists():
        raise ValidationError({"code": _("户编号 %s 已存在。") % code})
    if fields.get("phone"):
        fields["phone"] = validate_phone(fields["phone"])
    household = Household(
        village=village,
        code=code,
        status=_status(status),
        main_cause=main_cause,
        year_identified=year_identified,
        **fields,
    )
    household.full_clean(exclude=["phone_hash"])
    household.save()
    HouseholdStatusChange.objects.create(
        household=household,
        old=None,
        new=household.status,
        reason=_("建档"),
        changed_on=changed_on or timezone.localdate(),
        actor=actor,
    )
    return household


@transaction.atomic
def household_update(*, household: Household, **changes: Any) -> Household:
    unknown = set(changes) - set(HOUSEHOLD_FIELDS)
    if unknown:
        raise ApplicationError(_("这些字段不能修改：%s") % ", ".join(sorted(unknown)))
    if changes.get("phone"):
        changes["phone"] = validate_phone(changes["phone"])
    changed = [k for k, v in changes.items() if getattr(household, k) != v]
    if not changed:
        return household
    for key in changed:
        setattr(household, key, changes[key])
    household.full_clean(exclude=["phone_hash"])
    fields = set(changed) | ({"phone_hash"} if "phone" in changed else set())
    household.save(update_fields=[*sorted(fields), "updated_at"])
    return household


@transaction.atomic
def household_change_status(
    *,
    household: Household,
    status: str,
    changed_on: dt.date,
    reason: str = "",
    actor: User | None = None,
) -> Household:
    """Change the registry status and record it in the history. The same status is a no-op."""
    household = Household.objects.select_for_update().get(pk=household.pk)
    new = _status(status)
    if household.status_id == new.pk:
        return household
    old = household.status
    household.status = new
    if new.pk == "lifted" and household.year_lifted is None:
        household.year_lifted = changed_on.year
    household.full_clean(exclude=["phone_hash"])
    household.save(update_fields=["status", "year_lifted", "updated_at"])
    HouseholdStatusChange.objects.create(
        household=household, old=old, new=new, changed_on=changed_on, reason=reason, actor=actor
    )
    return household


def _refresh_head_name(household: Household) -> None:
    head = household.members.filter(left_on__isnull=True, relation=Relation.HEAD).first()
    name = head.name if head else ""
    if household.head_name != name:
        household.head_name = name
        household.save(update_fields=["head_name", "updated_at"])


# --- members -----------------------------------------------------------------------------

MEMBER_FIELDS = (
    "name",
    "phone",
    "relation",
    "ethnicity",
    "education",
    "school_status",
    "health",
    "disability_grade",
    "labour",
    "migrant_months",
    "medical_insured",
    "serious_illness_insured",
    "pension_insured",
    "joined_on",
)


def _active_elsewhere(number: str, exclude_pk: int | None = None) -> Member | None:
    others = Member.objects.filter(id_hash=keyed_hash(number), left_on__isnull=True)
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    return others.select_related("household").first()


def _member_taken_error(number: str, code: str) -> ValidationError:
    return ValidationError(
        {
            "id_number": _("身份证号 %(id)s 已是户 %(code)s 的在册成员，一人不能同时在两户。")
            % {"id": mask_id_number(number), "code": code}
        }
    )


@transaction.atomic
def member_add(
    *,
    household: Household,
    name: str,
    id_number: str,
    relation: str,
    joined_on: dt.date,
    **fields: Any,
) -> Member:
    """Add a person to a household. A person is an active member of one household at most."""
    unknown = set(fields) - set(MEMBER_FIELDS)
    if unknown:
        raise ApplicationError(_("这些字段不能填写：%s") % ", ".join(sorted(unknown)))
    number = validate_id_number(id_number)
    other = _active_elsewhere(number)
    if other is not None:
        raise _member_taken_error(number, other.household.code)
    if (
        relation == Relation.HEAD
        and household.members.filter(left_on__isnull=True, relation=Relation.HEAD).exists()
    ):
        raise ValidationError({"relation": _("该户已有在册户主。")})
    if fields.get("phone"):
        fields["phone"] = validate_phone(fields["phone"])
    member = Member(
        household=household,
        name=(name or "").strip(),
        id_number=number,
        relation=relation,
        joined_on=joined_on,
        sex=id_sex(number),
        birth_date=id_birth_date(number),
        **fields,
    )
    member.full_clean(exclude=["id_hash", "phone_hash"])
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:
        raise ValidationError({"id_number": _("此人已是另一户的在册成员。")}) from exc
    if relation == Relation.HEAD:
        _refresh_head_name(household)
    return member


@transaction.atomic
def member_update(*, member: Member, **changes: Any) -> Member:
    unknown = set(changes) - {*MEMBER_FIELDS, "id_number"}
    if unknown:
        raise ApplicationError(_("这些字段不能修改：%s") % ", ".join(sorted(unknown)))
    if "id_number" in changes:
        number = validate_id_number(changes["id_number"])
        other = _active_elsewhere(number, exclude_pk=member.pk) if member.left_on is None else None
        if other is not None:
            raise _member_taken_error(number, other.household.code)
        changes["id_number"] = number
        changes["sex"], changes["birth_date"] = id_sex(number), id_birth_date(number)
    if changes.get("phone"):
        changes["phone"] = validate_phone(changes["phone"])
    changed = [k for k, v in changes.items() if getattr(member, k) != v]
    if not changed:
        return member
    for key in changed:
        setattr(member, key, changes[key])
    member.full_clean(exclude=["id_hash", "phone_hash"])
    fields = set(changed)
    fields |= {"id_hash"} if "id_number" in changed else set()
    fields |= {"phone_hash"} if "phone" in changed else set()
    member.save(update_fields=[*sorted(fields), "updated_at"])
    _refresh_head_name(member.household)
    return member


@transaction.atomic
def member_leave(*, member: Member, left_on: dt.date, reason: str) -> Member:
    """A member leaves the household (迁出、死亡、分户 …); the record stays for history."""
    if member.left_on is not None:
        return member
    if not (reason or "").strip():
        raise ValidationError({"left_reason": _("请填写离户原因。")})
    if left_on < member.joined_on:
        raise ValidationError({"left_on": _("离户日期不能早于入户日期。")})
    member.left_on, member.left_reason = left_on, reason.strip()
    member.save(update_fields=["left_on", "left_reason", "updated_at"])
    _refresh_head_name(member.household)
    return member


# --- incomes -----------------------------------------------------------------------------

INCOME_FIELDS = ("wage", "business", "property_income", "transfer", "production_cost")


@transaction.atomic
def income_record_save(*, household: Household, month: dt.date, **amounts: Decimal) -> IncomeRecord:
    """Register (or correct) the income of a month. The yearly figures follow in SQL."""
    unknown = set(amounts) - set(INCOME_FIELDS)
    if unknown:
        raise ApplicationError(_("这些字段不能填写：%s") % ", ".join(sorted(unknown)))
    if month.day != 1:
        month = month.replace(day=1)
    if month > timezone.localdate():
        raise ValidationError({"month": _("不能登记未来月份的收入。")})
    year_lock_check(years=[month.year], village_id=household.village_id, what=_("登记收入"))
    record = IncomeRecord.objects.filter(household=household, month=month).first()
    if record is None:
        record = IncomeRecord(household=household, month=month)
    changed = [k for k, v in amounts.items() if getattr(record, k) != Decimal(str(v))]
    for key in changed:
        setattr(record, key, Decimal(str(amounts[key])))
    record.full_clean(validate_unique=False, validate_constraints=False)
    if record.pk is None:
        record.save()
    elif changed:
        record.save(update_fields=[*changed, "updated_at"])
    return record


# --- income lines and report bands -------------------------------------------------------


@transaction.atomic
def income_line_set(*, year: int, region: Region, amount: Decimal, note: str = "") -> IncomeLine:
    """Set the monitoring line of a year for a region. Every flag follows at once."""
    line = IncomeLine.objects.filter(year=year, region=region).first() or IncomeLine(
        year=year, region=region
    )
    line.prefix = significant_prefix(region.code, region.level)
    line.amount, line.note = Decimal(str(amount)), note
    line.full_clean()
    line.save()
    return line


@transaction.atomic
def report_band_create(*, region: Region, amount: Decimal) -> ReportBand:
    band = ReportBand(
        region=region,
        prefix=significant_prefix(region.code, region.level),
        amount=Decimal(str(amount)),
    )
    band.full_clean()
    band.save()
    return band


def line_for(village: Village, year: int) -> Decimal | None:
    row = VillageIncomeLine.objects.filter(village=village, year=year).first()
    return row.amount if row else None


# --- monitoring --------------------------------------------------------------------------


def _event(monitoring, kind, on, actor, note=""):
    MonitoringEvent.objects.create(monitoring=monitoring, kind=kind, on=on, actor=actor, note=note)


@transaction.atomic
def monitoring_identify(
    *,
    household: Household,
    category: str,
    risk_types: list[str],
    discovery: str,
    identified_on: dt.date,
    actor: User | None = None,
    note: str = "",
) -> Monitoring:
    """Mark a household as a monitoring object (识别纳入); after a 风险消除 it is 再标注."""
    Household.objects.select_for_update().filter(pk=household.pk).first()
    if household.monitorings.filter(status=Monitoring.Status.MONITORING).exists():
        raise ApplicationError(_("该户已在监测中。"))
    if not risk_types:
        raise ValidationError({"risk_types": _("请至少选择一种风险类型。")})
    earlier = household.monitorings.exists()
    monitoring = Monitoring(
        household=household,
        category=category,
        risk_types=risk_types,
        discovery=discovery,
        identified_on=identified_on,
    )
    monitoring.full_clean(validate_constraints=False)
    monitoring.save()
    kind = MonitoringEvent.Kind.REMARKED if earlier else MonitoringEvent.Kind.IDENTIFIED
    _event(monitoring, kind, identified_on, actor, note)
    return monitoring


def monitoring_elimination_check(
    *, household: Household, today: dt.date | None = None
) -> list[dict[str, str]]:
    """Every condition for 风险消除 that fails (domain.md section 3); empty when it may.

    identified at least half a year ago; at least one measure carried out; income above the
    year's line in each of the last six complete months (all registered); 两不愁三保障 and
    safe water; at least one member who can work.
    """
    today = today or timezone.localdate()
    failures = []
    monitoring = household.monitorings.filter(status=Monitoring.Status.MONITORING).first()
    if monitoring is None:
        return [{"code": "not_monitored", "message": _("该户不在监测中。")}]
    if monitoring.identified_on > add_months(today, -6):
        failures.append(
            {
                "code": "too_recent",
                "message": _("识别纳入监测未满半年（%s识别）。") % monitoring.identified_on,
            }
        )
    if not household.measures.filter(start__lte=today).exists():
        failures.append({"code": "no_measure", "message": _("尚未落实任何帮扶措施。")})
    failures += _income_failures(household, today)
    if not household.three_guarantees:
        failures.append(
            {"code": "guarantees", "message": _("“两不愁三保障”及饮水安全尚未全部达标。")}
        )
    if not household.members.filter(left_on__isnull=True, labour__in=WORKING_LABOUR).exists():
        failures.append(
            {"code": "no_labour", "message": _("家庭成员均无劳动能力，不得标注风险消除。")}
        )
    return failures


def _income_failures(household: Household, today: dt.date) -> list[dict[str, str]]:
    first = add_months(today.replace(day=1), -6)
    months = [add_months(first, i) for i in range(6)]
    line = line_for(household.village, months[-1].year)
    if line is None:
        return [{"code": "no_line", "message": _("%d年度尚未设定监测线。") % months[-1].year}]
    records = {r.month: r for r in household.incomes.filter(month__in=months)}
    missing = [m for m in months if m not in records]
    if missing:
        return [
            {
                "code": "income_missing",
                "message": _("近六个月收入登记不全（缺%s）。")
                % "、".join(f"{m:%Y年%-m月}" for m in missing),
            }
        ]
    below = []
    for month in months:
        members = household.members.filter(
            Q(left_on__isnull=True) | Q(left_on__gte=month), joined_on__lt=add_months(month, 1)
        ).count()
        if members == 0 or records[month].net * 12 / members < line:
            below.append(month)
    if below:
        return [
            {
                "code": "income_below_line",
                "message": _(
                    "近六个月人均纯收入未稳定高于监测线（%(line)s元），低于的月份：%(months)s。"
                )
                % {"line": f"{line:,.0f}", "months": "、".join(f"{m:%Y年%-m月}" for m in below)},
            }
        ]
    return []


@transaction.atomic
def monitoring_eliminate(
    *, monitoring: Monitoring, eliminated_on: dt.date, actor: User | None = None, note: str = ""
) -> Monitoring:
    """Mark 风险消除 when every condition holds; otherwise say every one that fails."""
    monitoring = Monitoring.objects.select_for_update().get(pk=monitoring.pk)
    if monitoring.status == Monitoring.Status.ELIMINATED:
        return monitoring
    failures = monitoring_elimination_check(household=monitoring.household, today=eliminated_on)
    if failures:
        raise ApplicationError(
            _("不符合风险消除条件：") + "；".join(f["message"] for f in failures),
            extra={"failures": failures},
        )
    monitoring.status = Monitoring.Status.ELIMINATED
    monitoring.eliminated_on = eliminated_on
    monitoring.save(update_fields=["status", "eliminated_on", "updated_at"])
    _event(monitoring, MonitoringEvent.Kind.ELIMINATED, eliminated_on, actor, note)
    return monitoring


@transaction.atomic
def monitoring_rollback(
    *, monitoring: Monitoring, on: dt.date, reason: str, actor: User | None = None
) -> Monitoring:
    """回退: a 风险消除 found wrong goes back to monitoring; the history keeps both."""
    monitoring = Monitoring.objects.select_for_update().get(pk=monitoring.pk)
    if monitoring.status != Monitoring.Status.ELIMINATED:
        raise ApplicationError(_("只有已消除风险的监测才能回退。"))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写回退原因。")})
    if Monitoring.objects.filter(
        household=monitoring.household_id, status=Monitoring.Status.MONITORING
    ).exists():
        raise ApplicationError(_("该户已重新纳入监测，不能回退。"))
    monitoring.status = Monitoring.Status.MONITORING
    monitoring.eliminated_on = None
    monitoring.save(update_fields=["status", "eliminated_on", "updated_at"])
    _event(monitoring, MonitoringEvent.Kind.ROLLED_BACK, on, actor, reason.strip())
    return monitoring


# --- measures ----------------------------------------------------------------------------


@transaction.atomic
def measure_add(
    *,
    household: Household,
    kind: str,
    start: dt.date,
    end: dt.date | None = None,
    owner: str = "",
    note: str = "",
) -> Measure:
    measure = Measure(
        household=household, kind=kind, start=start, end=end, owner=owner.strip(), note=note.strip()
    )
    measure.full_clean()
    measure.save()
    return measure


# --- pairing -----------------------------------------------------------------------------


def _cadre_serves_county(cadre: Cadre, household: Household) -> bool:
    county = household.village.code[:6]
    return (
        Cadre.objects.filter(pk=cadre.pk)
        .filter(
            Q(region__code__startswith=county)
            | Q(assignments__status="active", assignments__team__village__code__startswith=county)
        )
        .exists()
    )


@transaction.atomic
def pairing_assign(
    *,
    household: Household,
    cadre: Cadre,
    start: dt.date,
    reason: str = "",
    replace: bool = False,
    actor: User | None = None,
) -> Pairing:
    """Make `cadre` the household's responsible cadre (一户一人).

    A household with a responsible cadre keeps them unless `replace` is asked for, in which
    case the previous pairing ends the day the new one starts.
    """
    Household.objects.select_for_update().filter(pk=household.pk).first()
    current = household.pairings.filter(end__isnull=True).select_related("cadre").first()
    if current is not None and current.cadre_id == cadre.pk:
        return current
    if current is not None and not replace:
        raise ApplicationError(
            _("户 %(code)s 已有帮扶责任人%(name)s（一户一人）；如需调整，请选择“替换”。")
            % {"code": household.code, "name": current.cadre.name},
            extra={"household": household.pk},
        )
    if not _cadre_serves_county(cadre, household):
        raise ApplicationError(_("%(name)s不在该户所在县任职，不能结对。") % {"name": cadre.name})
    if current is not None:
        if start < current.start:
            raise ValidationError({"start": _("新结对的开始日期不能早于原结对的开始日期。")})
        current.end = start
        current.end_reason = reason or _("调整帮扶责任人")
        current.save(update_fields=["end", "end_reason", "updated_at"])
    pairing = Pairing(household=household, cadre=cadre, start=start, reason=reason)
    pairing.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            pairing.save()
    except IntegrityError as exc:
        raise ApplicationError(_("该户已有在岗的帮扶责任人（一户一人）。")) from exc
    return pairing


@transaction.atomic
def pairing_end(*, pairing: Pairing, end: dt.date, reason: str) -> Pairing:
    if pairing.end is not None:
        return pairing
    pairing.end, pairing.end_reason = end, reason
    pairing.full_clean(validate_constraints=False)
    pairing.save(update_fields=["end", "end_reason", "updated_at"])
    return pairing


# --- visits --------------------------------------------------------------------------------

PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def _checked_photo(photo: Any) -> Any:
    """The upload if it is a JPEG, PNG or WebP image within the size cap (by its content,
    never by its name), renamed with the extension of what it really is."""
    from django.conf import settings
    from PIL import Image, UnidentifiedImageError

    if photo.size > settings.ZHUCUN_PHOTO_MAX_BYTES:
        raise ValidationError(
            {"photo": _("照片不能超过%d MB。") % (settings.ZHUCUN_PHOTO_MAX_BYTES // 2**20)}
        )
    try:
        photo.seek(0)
        with Image.open(photo) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError({"photo": _("照片须为 JPG、PNG 或 WebP 图片。")}) from None
    if kind not in PHOTO_FORMATS:
        raise ValidationError({"photo": _("照片须为 JPG、PNG 或 WebP 图片。")})
    photo.seek(0)
    photo.name = f"photo.{PHOTO_FORMATS[kind]}"
    return photo


@transaction.atomic
def visit_record(
    *,
    household: Household,
    cadre: Cadre,
    visited_on: dt.date,
    kind: str,
    seen: str,
    client_key: Any,
    problems: str = "",
    requests: str = "",
    follow_up: str = "",
    photo: Any = None,
    latitude: Any = None,
    longitude: Any = None,
) -> VisitLog:
    """Record a visit by a serving cadre to a household of the village they serve.

    The same `client_key` from the same cadre returns the visit it made the first time.
    """
    existing = VisitLog.objects.filter(cadre=cadre, client_key=client_key).first()
    if existing is not None:
        return existing
    assignment = active_assignment(cadre)
    if household.village_id != assignment.team.village_id:
        raise ValidationError({"household": _("只能记录本村农户的走访。")})
    if kind not in VisitKind.values:
        raise ValidationError({"kind": _("请选择走访方式。")})
    if visited_on > timezone.localdate():
        raise ValidationError({"visited_on": _("走访日期不能晚于今天。")})
    if visited_on < assignment.start:
        raise ValidationError({"visited_on": _("走访日期不能早于到岗日期。")})
    if not (seen or "").strip():
        raise ValidationError({"seen": _("请填写走访情况。")})
    year_lock_check(
        years=[visited_on.year],
        cadre_id=cadre.pk,
        village_id=household.village_id,
        what=_("记录走访"),
    )
    lat, lon = parse_position(latitude, longitude)
    visit = VisitLog(
        household=household,
        cadre=cadre,
        team=assignment.team,
        visited_on=visited_on,
        kind=kind,
        seen=seen.strip(),
        problems=(problems or "").strip(),
        requests=(requests or "").strip(),
        follow_up=(follow_up or "").strip(),
        latitude=lat,
        longitude=lon,
        client_key=client_key,
    )
    if photo:
        visit.photo = _checked_photo(photo)
    visit.full_clean(validate_constraints=False, exclude=["photo"])
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:  # the same submission, saved concurrently: that one stands
        if visit.photo:
            visit.photo.delete(save=False)
        return VisitLog.objects.get(cadre=cadre, client_key=client_key)
    return visit


# --- imports: create or update households and members in bulk ---------------------------


class _NotGiven:
    """A value an import does not set: the column is not in the file, or the cell is empty
    where emptiness keeps what is stored (see import_empty_value)."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Any = _NotGiven()
IMPORT_HOUSEHOLD_FIELDS = ("status", *HOUSEHOLD_FIELDS)
IMPORT_MEMBER_FIELDS = MEMBER_FIELDS
IMPORT_CHUNK = 5000
# pg_advisory_xact_lock(IMPORT_LOCK, county code): imports of one county run one at a time.
IMPORT_LOCK = 7001
_STORED_HOUSEHOLD = tuple(f for f in HOUSEHOLD_FIELDS if f != "phone")
_STORED_MEMBER = tuple(f for f in MEMBER_FIELDS if f != "phone")


@dataclass(slots=True)
class MemberRow:
    """A person in an import. `ref` names the source row (opaque here, handed back in
    issues); `values` follow `HouseholdImport.member_fields`, NOT_GIVEN where nothing is set.
    `incomplete`: some of the row's values could not be read (the caller reported them), so
    a missing value is not reported again. `left_on`: the row is a former member's, who left
    the household that day (as exports of the member list show them): it must match what is
    stored, and it is never written."""

    ref: Any
    id_number: str
    values: tuple
    incomplete: bool = False
    left_on: dt.date | None = None


@dataclass(slots=True)
class HouseholdRow:
    """A household in an import, with `values` following `HouseholdImport.household_fields`.

    `defaults`: values a new household takes where none is given; `member_defaults`: the same
    for its new members. `incomplete`: some of its rows could not be read, so the rules about
    the household as a whole (one head) are not checked for it (it is never written anyway).
    """

    ref: Any
    code: str
    village_code: str
    values: tuple
    members: list[MemberRow] = dataclass_field(default_factory=list)
    defaults: dict[str, Any] = dataclass_field(default_factory=dict)
    member_defaults: dict[str, Any] = dataclass_field(default_factory=dict)
    incomplete: bool = False


@dataclass
class HouseholdImport:
    household_fields: tuple[str, ...]
    member_fields: tuple[str, ...]
    households: list[HouseholdRow]


@dataclass(slots=True)
class ImportIssue:
    ref: Any
    field: str
    message: str
    code: str = "invalid"


@dataclass
class ImportResult:
    issues: list[ImportIssue]
    counts: dict[str, dict[str, int]]


def import_empty_value(model: type, name: str) -> Any:
    """What an empty cell sets. A field that may be blank is cleared; any other field keeps
    what is stored, and so do protected values (ID number, phone), as in the admin forms."""
    f = model._meta.get_field(name)
    if isinstance(f, EncryptedCharField) or f.is_relation or not f.blank:
        return NOT_GIVEN
    if f.null:
        return None
    return [] if f.get_internal_type() == "ArrayField" else ""


@transaction.atomic
def household_import_upsert(
    *,
    data: HouseholdImport,
    actor: User,
    dry_run: bool = False,
    today: dt.date | None = None,
    progress: Any = None,
) -> ImportResult:
    """Create or update households with their members, all or nothing.

    Natural keys: 户编号 for households, the keyed hash of the ID number for members. Every
    row is checked with the rules of household_create/_update/_change_status and
    member_add/_update (the model fields' own validation, the ID number and phone rules, the
    causes rules, one household per person, one head per household, the actor's scope) before
    anything is written; with any issue nothing is. Households and members whose values are
    all as stored are not written, so importing a file again changes nothing and leaves no
    audit row. Writes are set-based (a few statements per 5 000 rows); the audit triggers
    record every written row with the surrounding audit context (actor, source "import").
    Imports touching a county take its advisory lock before reading, so two overlapping
    imports run one after the other and the second finds the first one's rows.
    """
    if not dry_run and any(
        h.incomplete or any(m.incomplete for m in h.members) for h in data.households
    ):
        raise ApplicationError(_("有未能读取的行，不能导入；请先改正文件。"))
    run = _HouseholdImport(data, actor, today or timezone.localdate(), progress)
    if not dry_run:
        run.lock()
    run.check()
    if not run.issues and not dry_run:
        run.write()
    return ImportResult(run.issues, run.counts)


def _required_label(name: str) -> str:
    return {
        "status": _("户状态"),
        "main_cause": _("主要致贫原因"),
        "year_identified": _("识别年份"),
        "name": _("姓名"),
        "relation": _("与户主关系"),
        "joined_on": _("入户日期"),
    }[name]


class _FieldCheck:
    """The model fields' own clean() (choices, lengths, ranges, blank), remembered per value:
    an import repeats the same few codes and dates hundreds of thousands of times."""

    def __init__(self, model: type):
        self.model = model
        self.memo: dict[tuple[str, Any], tuple[Any, str | None]] = {}

    def __call__(self, name: str, value: Any) -> tuple[Any, str | None]:
        key = (name, tuple(value) if isinstance(value, list) else value)
        found = self.memo.get(key)
        if found is None:
            try:
                found = (self.model._meta.get_field(name).clean(value, None), None)
            except ValidationError as exc:
                found = (None, "；".join(exc.messages))
            self.memo[key] = found
        return found


def _constraint_message(model: type, name: str) -> str:
    for constraint in model._meta.constraints:
        if constraint.name == name:
            return str(constraint.violation_error_message)
    raise LookupError(name)


class _HouseholdImport:
    def __init__(self, data: HouseholdImport, actor: User, today: dt.date, progress: Any):
        self.data, self.actor, self.today = data, actor, today
        self.progress = progress or (lambda *args: None)
        self.issues: list[ImportIssue] = []
        self.hf = {name: i for i, name in enumerate(data.household_fields)}
        self.mf = {name: i for i, name in enumerate(data.member_fields)}
        unknown = (set(self.hf) - set(IMPORT_HOUSEHOLD_FIELDS)) | (
            set(self.mf) - set(IMPORT_MEMBER_FIELDS)
        )
        if unknown:
            raise ApplicationError(_("这些字段不能导入：%s") % ", ".join(sorted(unknown)))
        self.check_household = _FieldCheck(Household)
        self.check_member = _FieldCheck(Member)
        self.counts = {
            kind: {"created": 0, "updated": 0, "unchanged": 0} for kind in ("households", "members")
        }
        self.existing: dict[str, dict[str, Any]] = {}
        self.failed: set[str] = set()  # households with a bad row: no head check (no echo)
        # What write() does, planned by check().
        self.new_households: list[tuple[HouseholdRow, dict[str, Any]]] = []
        self.changed_households: list[tuple[int, dict[str, Any]]] = []
        self.status_changes: list[tuple[int, str, str]] = []
        self.new_members: list[tuple[HouseholdRow, MemberRow, str, str]] = []
        self.changed_members: list[tuple[int, dict[str, Any], bool]] = []
        self.former_members = 0  # rows of former members found as stored

    def issue(self, ref: Any, name: str, message: Any, code: str = "invalid") -> None:
        self.issues.append(ImportIssue(ref, name, str(message), code))

    def lock(self) -> None:
        counties = sorted({h.village_code[:6] for h in self.data.households})
        with connection.cursor() as cursor:
            for county in counties:
                if county.isdigit():
                    cursor.execute(
                        "SELECT pg_advisory_xact_lock(%s, %s)", [IMPORT_LOCK, int(county)]
                    )

    # --- checks -----------------------------------------------------------------------------

    def check(self) -> None:
        households = self.data.households
        villages = dict(
            Village.objects.visible_to(self.actor)
            .filter(code__in=_array({h.village_code for h in households}, "varchar"))
            .values_list("code", "id")
        )
        # Every household with these codes, in scope or not: a 户编号 is unique everywhere,
        # and one registered outside the actor's scope is reported (never shown or written).
        for chunk in _chunks([h.code for h in households], IMPORT_CHUNK * 4):
            for row in Household.objects.filter(code__in=_array(chunk, "varchar")).values(
                "id",
                "code",
                "village_id",
                "status_id",
                "head_name",
                "phone_hash",
                *_STORED_HOUSEHOLD,
            ):
                self.existing[row["code"]] = row
        visible = set(
            Village.objects.visible_to(self.actor)
            .filter(pk__in=_array({row["village_id"] for row in self.existing.values()}, "bigint"))
            .values_list("pk", flat=True)
        )
        statuses = set(HouseholdStatus.objects.values_list("code", flat=True))
        self.progress("check", 0, len(households))
        plans: dict[str, dict[str, Any] | None] = {}
        for done, household in enumerate(households, 1):
            if household.code in plans:
                self.issue(
                    household.ref, "code", _("户编号 %s 重复出现。") % household.code, "duplicate"
                )
                self.failed.add(household.code)
                continue
            plans[household.code] = self._check_household(household, villages, visible, statuses)
            if plans[household.code] is None:
                self.failed.add(household.code)
            if done % IMPORT_CHUNK == 0:
                self.progress("check", done, len(households))
        members = self._check_members()
        self._check_heads(plans, members)
        if not self.issues:
            self._plan(plans, members)
        self.progress("check", len(households), len(households))

    def _check_household(self, household, villages, visible, statuses) -> dict[str, Any] | None:
        ref, current = household.ref, self.existing.get(household.code)
        if not household.code or len(household.code) > 32:
            self.issue(ref, "code", _("户编号不能为空，且不超过32个字符。"), "required")
            return None
        if current is not None and current["village_id"] not in visible:
            self.issue(
                ref,
                "code",
                _("户编号 %s 已登记在您的管辖范围以外，不能导入。") % household.code,
                "out_of_scope",
            )
            return None
        ok = True
        village_id = villages.get(household.village_code)
        if village_id is None:
            self.issue(
                ref,
                "village",
                _("行政村代码 %s 不存在或不在您的管辖范围内。") % (household.village_code or "-"),
                "out_of_scope",
            )
            ok = False
        elif current is not None and current["village_id"] != village_id:
            self.issue(
                ref,
                "village",
                _("户编号 %s 已登记在另一个村，导入不能改变所在村。") % household.code,
            )
            ok = False
        cleaned: dict[str, Any] = {}
        given = {
            name: household.values[i]
            for name, i in self.hf.items()
            if household.values[i] is not NOT_GIVEN
        }
        if current is None:
            given = {**household.defaults, **given}
        for name, value in given.items():
            if name == "status":
                if value in statuses:
                    cleaned[name] = value
                else:
                    self.issue(ref, name, _("未知的户状态：%s") % value)
                    ok = False
            elif name == "phone":
                try:
                    cleaned[name] = validate_phone(value)
                except ValidationError as exc:
                    self.issue(ref, name, exc.messages[0], "phone")
                    ok = False
            else:
                value, error = self.check_household(name, value)
                if error:
                    self.issue(ref, name, error)
                    ok = False
                else:
                    cleaned[name] = value
        if current is None and not household.incomplete:
            for name in ("status", "main_cause", "year_identified"):
                if name not in given:
                    self.issue(
                        ref, name, _("新建档户须填写%s。") % _required_label(name), "required"
                    )
                    ok = False
        if not ok:
            return None
        if current is None:
            effective = {
                f.name: f.get_default()
                for f in Household._meta.concrete_fields
                if f.name in _STORED_HOUSEHOLD
            }
        else:
            effective = dict(current)
        effective.update(cleaned)
        errors = cause_errors(effective["main_cause"], effective["other_causes"])
        for name, message in errors.items():
            self.issue(ref, name, message)
        lifted, identified = effective["year_lifted"], effective["year_identified"]
        if lifted is not None and identified is not None and lifted < identified:
            message = _constraint_message(Household, "household_lifted_after_identified")
            self.issue(ref, "year_lifted", message)
            errors["year_lifted"] = message
        if errors:
            return None
        cleaned["village_id"] = village_id
        return cleaned

    def _check_members(self) -> dict[str, list[tuple]]:
        """{household code: [(member, ID number, its hash, stored row or None)]}.

        Field values are checked column by column, each distinct value once (an import
        repeats the same codes and dates over and over); stored rows are tuples in the
        order of `self.stored_member`."""
        bad = self._check_member_values()
        refused: set[int] = set()  # members with a bad value
        by_hash: dict[str, tuple[HouseholdRow, MemberRow, str]] = {}
        former: list[tuple[HouseholdRow, MemberRow, str]] = []
        for household in self.data.households:
            for member in household.members:
                try:
                    number = validate_id_number(member.id_number)
                except ValidationError as exc:
                    self.issue(member.ref, "id_number", exc.messages[0], "id_number")
                    self.failed.add(household.code)
                    continue
                digest = keyed_hash(number)
                if member.left_on is not None:
                    former.append((household, member, digest))
                    continue
                first = by_hash.get(digest)
                if first is not None:
                    self.issue(
                        member.ref,
                        "id_number",
                        _("身份证号 %(id)s 与%(first)s重复：同一人只能出现一次。")
                        % {"id": mask_id_number(number), "first": first[1].ref},
                        "duplicate",
                    )
                    self.failed.add(household.code)
                    continue
                by_hash[digest] = (household, member, number)
                for i, errors in bad:
                    value = member.values[i]
                    if value is not NOT_GIVEN and value in errors:
                        self.issue(member.ref, self.data.member_fields[i], errors[value])
                        self.failed.add(household.code)
                        refused.add(id(member))
        self._check_former(former)
        stored = self._stored_members(list(by_hash))
        taken = {row[2] for row in stored.values() if row[4] is None}
        visible = set(
            Household.objects.visible_to(self.actor)
            .filter(pk__in=_array(taken, "bigint"))
            .values_list("pk", flat=True)
        )
        out: dict[str, list] = {}
        for digest, (household, member, number) in by_hash.items():
            row = stored.get(digest)
            if row is not None and row[3] != household.code:
                if row[4] is None:
                    if row[2] in visible:
                        message = _member_taken_error(number, row[3]).messages[0]
                    else:
                        message = _(
                            "身份证号 %s 已是您管辖范围以外某户的在册成员，一人不能同时在两户。"
                        ) % mask_id_number(number)
                    self.issue(member.ref, "id_number", message, "taken")
                    self.failed.add(household.code)
                    continue
                row = None  # left another household: joins this one as a new member
            elif row is not None and row[4] is not None:
                self.issue(
                    member.ref,
                    "id_number",
                    _("此人已于 %(day)s 离开户 %(code)s；重新入户请在系统中办理。")
                    % {"day": row[4], "code": household.code},
                    "left",
                )
                self.failed.add(household.code)
                continue
            if id(member) in refused:
                continue
            if (
                row is None
                and not member.incomplete
                and not self._new_member_complete(household, member)
            ):
                self.failed.add(household.code)
                continue
            out.setdefault(household.code, []).append((member, number, digest, row))
        return out

    def _check_member_values(self) -> list[tuple[int, dict[Any, str]]]:
        """[(field index, {bad value: message})]: every distinct value of every member field
        checked once, by the model field's own clean() (phones by the phone rule)."""
        out = []
        for i, name in enumerate(self.data.member_fields):
            values = {
                m.values[i]
                for h in self.data.households
                for m in h.members
                if m.values[i] is not NOT_GIVEN
            }
            for h in self.data.households:
                if name in h.member_defaults:
                    values.add(h.member_defaults[name])
            errors = {}
            for value in values:
                if name == "phone":
                    try:
                        if validate_phone(value) != value:
                            errors[value] = _("电话号码格式不正确。")
                    except ValidationError as exc:
                        errors[value] = exc.messages[0]
                    continue
                cleaned, error = self.check_member(name, value)
                if error is None and cleaned != value:
                    error = _("“%s”的格式不正确。") % value
                if error is not None:
                    errors[value] = error
            if errors:
                out.append((i, errors))
        return out

    def _check_former(self, former: list[tuple[HouseholdRow, MemberRow, str]]) -> None:
        """Rows of former members (a 离户日期 given) are left as they are when they match a
        stored departure from that household on that day, value for value; anything else
        would change a membership or a closed record, which the system's workflows do."""
        if not former:
            return
        fields = [name for name in self.data.member_fields if name != "phone"]
        stored: dict[tuple[str, str, dt.date], dict[str, Any]] = {}
        for chunk in _chunks(list({digest for _h, _m, digest in former}), IMPORT_CHUNK * 4):
            for row in Member.objects.filter(
                id_hash__in=_array(chunk, "varchar"), left_on__isnull=False
            ).values("id_hash", "household__code", "left_on", "phone_hash", *fields):
                stored[(row["id_hash"], row["household__code"], row["left_on"])] = row
        phone_at = self.mf.get("phone")
        for household, member, digest in former:
            row = stored.get((digest, household.code, member.left_on))
            if row is None:
                self.issue(
                    member.ref,
                    "left_on",
                    _(
                        "系统中没有此人于 %(day)s 离开户 %(code)s 的记录："
                        "离户日期不能通过导入填写，离户、重新入户请在系统中办理。"
                    )
                    % {"day": member.left_on, "code": household.code},
                    "left",
                )
                self.failed.add(household.code)
                continue
            changed = [
                name
                for name in fields
                if member.values[self.mf[name]] is not NOT_GIVEN
                and member.values[self.mf[name]] != row[name]
            ]
            phone = member.values[phone_at] if phone_at is not None else NOT_GIVEN
            if phone is not NOT_GIVEN and phone and keyed_hash(phone) != row["phone_hash"]:
                changed.append("phone")
            if changed:
                self.issue(
                    member.ref,
                    changed[0],
                    _("已离户成员的信息不能通过导入修改（%s与系统不一致）；请在系统中办理。")
                    % "、".join(str(Member._meta.get_field(name).verbose_name) for name in changed),
                    "left",
                )
                self.failed.add(household.code)
            else:
                self.former_members += 1

    def _new_member_complete(self, household: HouseholdRow, member: MemberRow) -> bool:
        ok = True
        for name in ("name", "relation", "joined_on"):
            i = self.mf.get(name)
            given = i is not None and member.values[i] is not NOT_GIVEN
            if not given and name not in household.member_defaults:
                self.issue(
                    member.ref, name, _("新成员须填写%s。") % _required_label(name), "required"
                )
                ok = False
        return ok

    def _stored_members(self, hashes: list[str]) -> dict[str, tuple]:
        """{hash: (id, hash, household id, household code, left on, phone hash, *fields)}:
        the active membership of each person if there is one, else the latest one left."""
        wanted = {f for f in self.data.member_fields if f != "phone"} | {"relation", "name"}
        self.stored_member = ("phone_hash", *sorted(wanted))
        columns = ", ".join(f'm."{Member._meta.get_field(f).column}"' for f in self.stored_member)
        sql = (
            'SELECT m."id", m."id_hash", m."household_id", h."code", m."left_on", '  # noqa: S608
            f"{columns} FROM households_member m JOIN households_household h "
            'ON h."id" = m."household_id" WHERE m."id_hash" = ANY(%s)'
        )
        stored: dict[str, tuple] = {}
        with connection.cursor() as cursor:
            for chunk in _chunks(hashes, IMPORT_CHUNK * 4):
                cursor.execute(sql, [chunk])
                for row in cursor.fetchall():
                    prior = stored.get(row[1])
                    if prior is None or (
                        prior[4] is not None and (row[4] is None or row[4] > prior[4])
                    ):
                        stored[row[1]] = row
        return stored

    def _check_heads(self, plans, members) -> None:
        """Exactly one active head per household once the import is applied."""
        ids = [row["id"] for row in self.existing.values()]
        heads: dict[int, list[int]] = {}
        for chunk in _chunks(ids, IMPORT_CHUNK * 4):
            for pk, household_id in Member.objects.filter(
                household_id__in=_array(chunk, "bigint"),
                left_on__isnull=True,
                relation=Relation.HEAD,
            ).values_list("id", "household_id"):
                heads.setdefault(household_id, []).append(pk)
        relation_at = self.mf.get("relation")
        stored_relation = self.stored_member.index("relation") + 5
        for household in self.data.households:
            if household.code in self.failed or household.incomplete:
                continue
            if all(member.left_on is not None for member in household.members):
                continue  # only former members: the import changes no membership of it
            rows = members.get(household.code, [])
            current = self.existing.get(household.code)
            touched = {row[0] for _m, _n, _d, row in rows if row is not None}
            count = (
                sum(1 for pk in heads.get(current["id"], []) if pk not in touched) if current else 0
            )
            for member, _number, _digest, row in rows:
                given = member.values[relation_at] if relation_at is not None else NOT_GIVEN
                if given is NOT_GIVEN and row is not None:
                    given = row[stored_relation]
                elif given is NOT_GIVEN:
                    given = household.member_defaults.get("relation")
                if given == Relation.HEAD:
                    count += 1
            if count != 1:
                ref = household.members[0].ref if household.members else household.ref
                if count == 0:
                    message = (
                        _("户 %s 没有户主：须有一名成员的与户主关系为“户主”。") % household.code
                    )
                else:
                    message = _("户 %(code)s 有 %(n)d 名户主，一户只能有一名在册户主。") % {
                        "code": household.code,
                        "n": count,
                    }
                self.issue(ref, "relation", message, "head")

    def _given(self, member: MemberRow, row: tuple | None, name: str) -> Any:
        """A member's value of `name`: given in the import, else stored, else None."""
        i = self.mf.get(name)
        if i is not None and member.values[i] is not NOT_GIVEN:
            return member.values[i]
        return row[self.stored_at[name]] if row is not None else None

    def _plan(self, plans, members) -> None:
        self.stored_at = {name: i + 5 for i, name in enumerate(self.stored_member)}
        self.counts["members"]["unchanged"] += self.former_members
        compared = [(name, i) for name, i in self.mf.items() if name != "phone"]
        phone_at = self.mf.get("phone")
        for household in self.data.households:
            cleaned, current = plans[household.code], self.existing.get(household.code)
            rows = members.get(household.code, [])
            head_name = None
            for member, _number, _digest, row in rows:
                relation = self._given(member, row, "relation")
                if relation is None:
                    relation = household.member_defaults.get("relation")
                if relation == Relation.HEAD:
                    head_name = self._given(member, row, "name") or ""
            if current is None:
                self.new_households.append((household, {**cleaned, "head_name": head_name or ""}))
                self.counts["households"]["created"] += 1
            else:
                self._plan_update(current, cleaned, head_name)
            for member, number, digest, row in rows:
                if row is None:
                    self.new_members.append((household, member, number, digest))
                    self.counts["members"]["created"] += 1
                    continue
                values = member.values
                changes = {
                    name: values[i]
                    for name, i in compared
                    if values[i] is not NOT_GIVEN and values[i] != row[self.stored_at[name]]
                }
                if phone_at is not None:
                    phone = values[phone_at]
                    if phone is not NOT_GIVEN and phone and keyed_hash(phone) != row[5]:
                        changes["phone"] = phone
                if changes:
                    stored_relation = row[self.stored_at["relation"]]
                    steps_down = (
                        stored_relation == Relation.HEAD
                        and changes.get("relation", Relation.HEAD) != Relation.HEAD
                    )
                    self.changed_members.append((row[0], changes, steps_down))
                    self.counts["members"]["updated"] += 1
                else:
                    self.counts["members"]["unchanged"] += 1

    def _plan_update(self, current: dict, cleaned: dict, head_name: str | None) -> None:
        changes = {
            k: v
            for k, v in cleaned.items()
            if k not in ("village_id", "status", "phone") and current[k] != v
        }
        if cleaned.get("phone") and keyed_hash(cleaned["phone"]) != current["phone_hash"]:
            changes["phone"] = cleaned["phone"]
        if head_name is not None and head_name != current["head_name"]:
            changes["head_name"] = head_name
        status = cleaned.get("status")
        moved = bool(status) and status != current["status_id"]
        if moved:
            self.status_changes.append((current["id"], current["status_id"], status))
            if status == "lifted" and changes.get("year_lifted", current["year_lifted"]) is None:
                changes["year_lifted"] = self.today.year  # as household_change_status does
        if changes or moved:
            self.changed_households.append(
                (current["id"], {**changes, **({"status": status} if moved else {})})
            )
            self.counts["households"]["updated"] += 1
        else:
            self.counts["households"]["unchanged"] += 1

    # --- writes -----------------------------------------------------------------------------

    def write(self) -> None:
        now = timezone.now()
        total = sum(
            map(
                len,
                (
                    self.new_households,
                    self.changed_households,
                    self.changed_members,
                    self.new_members,
                ),
            )
        )
        self.progress("write", 0, total)
        with _Statements() as statements:
            self._write(statements, now, total)

    def _write(self, statements: "_Statements", now: dt.datetime, total: int) -> None:
        done = 0
        ids = {code: row["id"] for code, row in self.existing.items()}
        defaults = {
            f.name: f.get_default()
            for f in Household._meta.concrete_fields
            if f.name in _STORED_HOUSEHOLD
        }
        for chunk in _chunks(self.new_households, IMPORT_CHUNK):
            rows = []
            for household, values in chunk:
                values = dict(values)
                status = values.pop("status")
                rows.append(
                    {
                        **defaults,
                        **_protected(Household, {"phone": "", **values}, "phone"),
                        "code": household.code,
                        "status_id": status,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            ids.update(
                {code: pk for pk, code in _insert(Household, rows, ("id", "code"), statements)}
            )
            done += len(chunk)
            self.progress("write", done, total)
        created, changed = _("导入建档"), _("导入")
        changes = [
            (ids[h.code], None, values["status"], created) for h, values in self.new_households
        ]
        changes += [(pk, old, new, changed) for pk, old, new in self.status_changes]
        for chunk in _chunks(changes, IMPORT_CHUNK):
            _insert(
                HouseholdStatusChange,
                statements=statements,
                rows=[
                    {
                        "household_id": pk,
                        "old_id": old,
                        "new_id": new,
                        "changed_on": self.today,
                        "reason": reason,
                        "actor_id": self.actor.pk,
                        "created_at": now,
                    }
                    for pk, old, new, reason in chunk
                ],
            )
        for chunk in _chunks(self.changed_households, IMPORT_CHUNK):
            rows = []
            for pk, values in chunk:
                values = _protected(Household, values, "phone")
                if "status" in values:
                    values["status_id"] = values.pop("status")
                rows.append((pk, values))
            _update(Household, rows, now, statements)
            done += len(chunk)
            self.progress("write", done, total)
        # A head stepping down goes first, so that the one-head index never sees two at once.
        ordered = sorted(self.changed_members, key=lambda row: not row[2])
        for chunk in _chunks(ordered, IMPORT_CHUNK):
            _update(
                Member,
                [(pk, _protected(Member, values, "phone")) for pk, values, _s in chunk],
                now,
                statements,
            )
            done += len(chunk)
            self.progress("write", done, total)
        defaults = {
            f.name: f.get_default()
            for f in Member._meta.concrete_fields
            if f.name in _STORED_MEMBER
        }
        fields = self.data.member_fields
        for chunk in _chunks(self.new_members, IMPORT_CHUNK):
            rows = []
            for household, member, number, digest in chunk:
                values = {**defaults, **household.member_defaults}
                values.update(
                    (name, value)
                    for name, value in zip(fields, member.values, strict=True)
                    if value is not NOT_GIVEN
                )
                phone = values.pop("phone", "")
                values.update(
                    {
                        "phone": phone,
                        "phone_hash": keyed_hash(phone) if phone else "",
                        "id_number": number,
                        "id_hash": digest,
                        "household_id": ids[household.code],
                        "sex": id_sex(number),
                        "birth_date": id_birth_date(number),
                        "left_on": None,
                        "left_reason": "",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                rows.append(values)
            _insert(Member, rows, statements=statements)
            done += len(chunk)
            self.progress("write", done, total)


def _protected(model: type, values: dict[str, Any], name: str) -> dict[str, Any]:
    """The values with a protected value's keyed hash beside it: the field whose source it
    is (stored encrypted, found by hash; see common.fields)."""
    if name not in values:
        return values
    hash_field = next(
        f.name for f in model._meta.concrete_fields if getattr(f, "source", None) == name
    )
    value = values[name]
    return {**values, hash_field: keyed_hash(value) if value else ""}


def _array(values: Any, sql_type: str) -> RawSQL:
    """Many values as one array parameter (`IN (SELECT unnest(%s))`): Django would otherwise
    handle each of tens of thousands of values as a parameter of its own."""
    return RawSQL(f"SELECT unnest(%s::{sql_type}[])", [list(values)])  # noqa: S611


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _prep(f: Any, values: list[Any]) -> list[Any]:
    """A column's values as the database takes them: arrays as comma-joined text (unnest()
    flattens arrays of arrays), protected values encrypted by the field itself."""
    if f.get_internal_type() == "ArrayField":
        return [",".join(value or []) for value in values]
    if isinstance(f, EncryptedCharField):
        return [f.get_prep_value(value) for value in values]
    return values


def _literal_item(value: Any) -> str:
    if value is None:
        return "NULL"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):  # dates and datetimes (ISO 8601, time zone included)
        return value.isoformat()
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _column(f: Any, values: list[Any], alias: str) -> tuple[str | None, str, Any]:
    """How one column of many rows travels: (unnest() argument or None, select expression,
    parameter). A column with one value for every row (creation time, defaults) is a single
    parameter; any other is one PostgreSQL array literal, built here: psycopg2 would adapt
    each of its thousands of values on its own, which costs more than the insert."""
    db_type = f.db_type(connection)
    array_field = f.get_internal_type() == "ArrayField"
    values = _prep(f, values)
    first = values[0]
    if all(value == first for value in values) and not isinstance(first, float):
        select = "%s" if not array_field else "string_to_array(%s, ',')"
        base = db_type.split("[", 1)[0]
        return None, f"{select}::{base}{'[]' if array_field else ''}", first
    literal = "{" + ",".join(map(_literal_item, values)) + "}"
    if array_field:
        return "%s::text[]", f"string_to_array({alias}, ',')::{db_type.split('[', 1)[0]}[]", literal
    return f"%s::{db_type}[]", alias, literal


def _insert(
    model: type,
    rows: list[dict[str, Any]],
    returning: tuple[str, ...] = (),
    statements: "_Statements | None" = None,
) -> list:
    """INSERT … SELECT FROM unnest(…): one statement for many rows. With `statements`, a
    statement whose result is not needed runs while the next one is being prepared."""
    if not rows:
        return []
    names = list(rows[0])
    if any(row.keys() != rows[0].keys() for row in rows):
        raise ValueError("every row of a bulk insert must name the same columns")
    fields = [model._meta.get_field(name) for name in names]
    selects, constants, casts, arrays, aliases = [], [], [], [], []
    for i, (name, f) in enumerate(zip(names, fields, strict=True)):
        cast, select, param = _column(f, [row[name] for row in rows], f"u.c{i}")
        selects.append(select)
        if cast is None:
            constants.append(param)
        else:
            casts.append(cast)
            arrays.append(param)
            aliases.append(f"c{i}")
    columns = ", ".join(f'"{f.column}"' for f in fields)
    source = f" FROM unnest({', '.join(casts)}) AS u({', '.join(aliases)})" if casts else ""
    if not casts:
        source = f" FROM generate_series(1, {len(rows)})"
    sql = f'INSERT INTO "{model._meta.db_table}" ({columns}) SELECT {", ".join(selects)}{source}'
    params = [*constants, *arrays]  # in the order of their placeholders
    statements = statements or _Statements()
    if returning:
        sql += " RETURNING " + ", ".join(f'"{model._meta.get_field(n).column}"' for n in returning)
        return statements.now(sql, params)
    statements.later(sql, params)
    return []


def _update(
    model: type,
    rows: list[tuple[int, dict[str, Any]]],
    now: dt.datetime,
    statements: "_Statements | None" = None,
) -> None:
    """UPDATE … FROM unnest(…): one statement per set of changed columns."""
    statements = statements or _Statements()
    groups: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = {}
    for pk, values in rows:
        groups.setdefault(tuple(sorted(values)), []).append((pk, values))
    for names, group in groups.items():
        fields = [model._meta.get_field(name) for name in names]
        sets, constants, casts, arrays = [], [now], ["%s::bigint[]"], [[pk for pk, _v in group]]
        aliases = ["id"]
        for i, (name, f) in enumerate(zip(names, fields, strict=True)):
            cast, select, param = _column(f, [values[name] for _pk, values in group], f"u.c{i}")
            sets.append(f'"{f.column}" = {select}')
            if cast is None:
                constants.append(param)
            else:
                casts.append(cast)
                arrays.append(param)
                aliases.append(f"c{i}")
        sql = (
            f'UPDATE "{model._meta.db_table}" AS t SET "updated_at" = %s, {", ".join(sets)} '  # noqa: S608
            f"FROM unnest({', '.join(casts)}) AS u({', '.join(aliases)}) WHERE t.id = u.id"
        )
        statements.later(sql, [*constants, *arrays])


class _Statements:
    """The statements of an import's write, in order, on the transaction's connection.

    A statement whose result is not needed runs in a helper thread while the importer
    prepares the next one (encrypting ID numbers and phones, building the arrays): the
    database and Python work at the same time instead of in turn. One statement runs at a
    time, always on the transaction's connection, so order and transaction are as if they
    ran one after the other. The first statement goes through Django's cursor, which
    attaches the audit context (actor, source) to the transaction; the database keeps it to
    the end of the transaction for the statements that follow on the raw connection.
    Without `with`, every statement simply runs at once.
    """

    def __init__(self) -> None:
        self.pool: ThreadPoolExecutor | None = None
        self.pending: Future | None = None
        self.context_attached = False
        self.pipelined = False

    def __enter__(self) -> "_Statements":
        self.pipelined = True
        return self

    def __exit__(self, kind, error, trace) -> None:
        try:
            if kind is None:
                self.wait()
            elif self.pending is not None:
                self.pending.exception()  # let it end before the transaction rolls back
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)

    def now(self, sql: str, params: list) -> list:
        """Run a statement through Django's cursor and return its rows."""
        self.wait()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            self.context_attached = True
            return cursor.fetchall() if cursor.description else []

    def later(self, sql: str, params: list) -> None:
        if not (self.pipelined and self.context_attached):
            self.now(sql, params)
            return
        self.wait()
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-write")
        self.pending = self.pool.submit(_execute, connection.connection, sql, params)

    def wait(self) -> None:
        if self.pending is not None:
            future, self.pending = self.pending, None
            with connection.wrap_database_errors:  # psycopg2's errors as Django's
                future.result()


def _execute(raw: Any, sql: str, params: list) -> None:
    with raw.cursor() as cursor:
        cursor.execute(sql, params)
