"""Every write to households, members, incomes, lines, monitoring, measures and pairings."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from common.crypto import keyed_hash
from common.errors import ApplicationError
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


def _member_taken_error(number: str, other: Member) -> ValidationError:
    return ValidationError(
        {
            "id_number": _("身份证号 %(id)s 已是户 %(code)s 的在册成员，一人不能同时在两户。")
            % {"id": mask_id_number(number), "code": other.household.code}
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
        raise _member_taken_error(number, other)
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
            raise _member_taken_error(number, other)
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
