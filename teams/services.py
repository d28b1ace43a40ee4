"""Every write to the roster: units, teams, cadres and assignments.

The database enforces what must never happen (one active team per village, one active
assignment per cadre, one leader and one first secretary per team); the services check the
same rules first so that the user reads a clear Chinese message instead of an error page.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import TEAM_ROLES, Role
from common.crypto import keyed_hash
from common.errors import ApplicationError
from common.people import id_birth_date, id_sex, mask_id_number, validate_id_number, validate_phone
from villages.models import Region, Village

from .models import Assignment, AssignmentStatus, Cadre, DispatchingUnit, TeamStatus, WorkTeam

# --- dispatching units -------------------------------------------------------------------


@transaction.atomic
def unit_create(
    *,
    name: str,
    level: str,
    kind: str,
    region: Region,
    principal_leader: str = "",
    contact_name: str = "",
    contact_phone: str = "",
) -> DispatchingUnit:
    unit = DispatchingUnit(
        name=(name or "").strip(),
        level=level,
        kind=kind,
        region=region,
        principal_leader=principal_leader.strip(),
        contact_name=contact_name.strip(),
        contact_phone=validate_phone(contact_phone) if contact_phone else "",
    )
    unit.full_clean()
    unit.save()
    return unit


UNIT_FIELDS = (
    "name",
    "level",
    "kind",
    "region",
    "principal_leader",
    "contact_name",
    "contact_phone",
)


@transaction.atomic
def unit_update(*, unit: DispatchingUnit, **changes: Any) -> DispatchingUnit:
    if changes.get("contact_phone"):
        changes["contact_phone"] = validate_phone(changes["contact_phone"])
    return _apply(unit, changes, UNIT_FIELDS)


@transaction.atomic
def unit_merge(*, source: DispatchingUnit, target: DispatchingUnit) -> int:
    """Move every cadre and team of `source` to `target` (units merge in reorganisations).

    Bulk updates: the audit triggers record each changed row with the surrounding context.
    Returns the number of rows moved.
    """
    if source.pk == target.pk:
        raise ApplicationError(_("不能把单位合并到它自己。"))
    moved = Cadre.objects.filter(unit=source).update(unit=target, updated_at=timezone.now())
    moved += WorkTeam.objects.filter(lead_unit=source).update(
        lead_unit=target, updated_at=timezone.now()
    )
    for team in WorkTeam.objects.filter(other_units=source):
        team.other_units.remove(source)
        if team.lead_unit_id != target.pk:
            team.other_units.add(target)
    return moved


# --- teams -------------------------------------------------------------------------------


def _active_team_error(village: Village) -> ApplicationError:
    return ApplicationError(
        _("%(village)s已有在岗的驻村工作队（一村一队），请先结束原工作队的任期。")
        % {"village": village.name},
        extra={"village": village.pk},
    )


@transaction.atomic
def team_create(
    *,
    village: Village,
    name: str,
    lead_unit: DispatchingUnit,
    term_start: dt.date,
    term_end: dt.date,
    other_units: list[DispatchingUnit] | None = None,
) -> WorkTeam:
    """Create the active team of a village. A second active team is refused (一村一队)."""
    Village.objects.select_for_update().filter(pk=village.pk).first()
    if WorkTeam.objects.filter(village=village, status=TeamStatus.ACTIVE).exists():
        raise _active_team_error(village)
    team = WorkTeam(
        village=village,
        name=(name or "").strip(),
        lead_unit=lead_unit,
        term_start=term_start,
        term_end=term_end,
    )
    team.full_clean()
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError as exc:  # a concurrent creation won the race
        raise _active_team_error(village) from exc
    if other_units:
        team.other_units.set([u for u in other_units if u.pk != lead_unit.pk])
    return team


TEAM_FIELDS = ("name", "lead_unit", "term_start", "term_end")


@transaction.atomic
def team_update(
    *, team: WorkTeam, other_units: list[DispatchingUnit] | None = None, **changes: Any
) -> WorkTeam:
    team = _apply(team, changes, TEAM_FIELDS)
    if other_units is not None:
        team.other_units.set([u for u in other_units if u.pk != team.lead_unit_id])
    return team


@transaction.atomic
def team_end_term(*, team: WorkTeam, ended_on: dt.date, reason: str = "") -> WorkTeam:
    """End a team's term: every active member's assignment ends the same day."""
    team = WorkTeam.objects.select_for_update().get(pk=team.pk)
    if team.status == TeamStatus.ENDED:
        return team
    for assignment in team.assignments.filter(status=AssignmentStatus.ACTIVE):
        assignment_end(
            assignment=assignment, ended_on=ended_on, reason=reason or _("工作队任期结束")
        )
    team.status = TeamStatus.ENDED
    team.ended_on = ended_on
    team.full_clean()
    team.save(update_fields=["status", "ended_on", "updated_at"])
    return team


# --- cadres ------------------------------------------------------------------------------


def _id_taken_error(id_number: str) -> ValidationError:
    return ValidationError(
        {
            "id_number": _("身份证号 %(id)s 已登记在另一名干部名下。")
            % {"id": mask_id_number(id_number)}
        }
    )


@transaction.atomic
def cadre_create(
    *,
    name: str,
    id_number: str,
    unit: DispatchingUnit,
    region: Region,
    phone: str = "",
    political_status: str = "cpc",
    position: str = "",
    rank: str = "",
    user: User | None = None,
) -> Cadre:
    """Register a cadre; birth date and gender come from the ID number."""
    number = validate_id_number(id_number)
    if Cadre.objects.filter(id_hash=keyed_hash(number)).exists():
        raise _id_taken_error(number)
    cadre = Cadre(
        name=(name or "").strip(),
        id_number=number,
        birth_date=id_birth_date(number),
        gender=id_sex(number),
        phone=validate_phone(phone) if phone else "",
        political_status=political_status,
        unit=unit,
        position=position.strip(),
        rank=rank.strip(),
        region=region,
        user=user,
    )
    cadre.full_clean(exclude=["id_hash", "phone_hash"])
    try:
        with transaction.atomic():
            cadre.save()
    except IntegrityError as exc:
        raise _id_taken_error(number) from exc
    return cadre


CADRE_FIELDS = (
    "name",
    "id_number",
    "phone",
    "political_status",
    "unit",
    "position",
    "rank",
    "region",
    "user",
)


@transaction.atomic
def cadre_update(*, cadre: Cadre, **changes: Any) -> Cadre:
    if "id_number" in changes:
        number = validate_id_number(changes["id_number"])
        if Cadre.objects.filter(id_hash=keyed_hash(number)).exclude(pk=cadre.pk).exists():
            raise _id_taken_error(number)
        changes["id_number"] = number
        if number != cadre.id_number:
            changes["birth_date"] = id_birth_date(number)
            changes["gender"] = id_sex(number)
    if "phone" in changes:
        changes["phone"] = validate_phone(changes["phone"]) if changes["phone"] else ""
    return _apply(
        cadre,
        changes,
        (*CADRE_FIELDS, "birth_date", "gender"),
        derived={"id_number": "id_hash", "phone": "phone_hash"},
    )


@transaction.atomic
def cadre_link_user(*, cadre: Cadre, user: User | None) -> Cadre:
    """Give a cadre a login; a team member's scope follows the active assignment."""
    if user is not None and Cadre.objects.filter(user=user).exclude(pk=cadre.pk).exists():
        raise ApplicationError(_("该账号已关联其他干部。"))
    if cadre.user_id != (user.pk if user else None):
        cadre.user = user
        cadre.save(update_fields=["user", "updated_at"])
    _sync_user_scope(cadre)
    return cadre


# --- assignments -------------------------------------------------------------------------


def _cadre_busy_error(cadre: Cadre) -> ApplicationError:
    return ApplicationError(
        _("%(name)s已有在岗任职，须先结束或召回原任职。") % {"name": cadre.name},
        extra={"cadre": cadre.pk},
    )


def _sync_user_scope(cadre: Cadre) -> None:
    """A team member's region is the village of their active assignment, or none."""
    if cadre.user_id is None:
        return
    user = User.objects.select_for_update().get(pk=cadre.user_id)
    if user.role not in TEAM_ROLES and user.role:
        return
    active = (
        Assignment.objects.filter(cadre=cadre, status=AssignmentStatus.ACTIVE)
        .select_related("team__village")
        .first()
    )
    region_id = active.team.village.region_id if active else None
    role = user.role
    if active:
        role = Role.TEAM_LEADER if active.is_leader else Role.TEAM_MEMBER
    if user.region_id != region_id or user.role != role:
        user.region_id = region_id
        user.role = role
        user.save(update_fields=["region", "role"])


@transaction.atomic
def assignment_create(
    *,
    cadre: Cadre,
    team: WorkTeam,
    start: dt.date,
    planned_end: dt.date,
    is_leader: bool = False,
    is_first_secretary: bool = False,
) -> Assignment:
    """Assign a cadre to a team. A cadre holds one active assignment at a time."""
    Cadre.objects.select_for_update().filter(pk=cadre.pk).first()
    team = WorkTeam.objects.select_for_update().get(pk=team.pk)
    if team.status != TeamStatus.ACTIVE:
        raise ApplicationError(_("该工作队已撤离，不能再安排任职。"))
    if Assignment.objects.filter(cadre=cadre, status=AssignmentStatus.ACTIVE).exists():
        raise _cadre_busy_error(cadre)
    active = Assignment.objects.filter(team=team, status=AssignmentStatus.ACTIVE)
    if is_leader and active.filter(is_leader=True).exists():
        raise ApplicationError(_("该工作队已有在岗队长，请先安排原队长离岗。"))
    if is_first_secretary and active.filter(is_first_secretary=True).exists():
        raise ApplicationError(_("该工作队已有在岗第一书记，请先安排原第一书记离岗。"))
    assignment = Assignment(
        cadre=cadre,
        team=team,
        start=start,
        planned_end=planned_end,
        is_leader=is_leader,
        is_first_secretary=is_first_secretary,
    )
    if planned_end <= start:
        raise ValidationError({"planned_end": _("计划期满日期应晚于到岗日期。")})
    assignment.full_clean()
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError as exc:  # lost a race with a concurrent assignment
        raise _cadre_busy_error(cadre) from exc
    _sync_user_scope(cadre)
    return assignment


def _close(
    assignment: Assignment,
    *,
    status: str,
    ended_on: dt.date,
    reason: str,
    successor: Assignment | None = None,
) -> Assignment:
    if assignment.status != AssignmentStatus.ACTIVE:
        raise ApplicationError(
            _("该任职已不在岗（%(status)s），不能再次办理。")
            % {"status": assignment.get_status_display()}
        )
    if ended_on < assignment.start:
        raise ApplicationError(_("离岗日期不能早于到岗日期。"))
    assignment.status = status
    assignment.ended_on = ended_on
    assignment.end_reason = reason
    assignment.successor = successor
    assignment.full_clean(validate_constraints=False)
    assignment.save(update_fields=["status", "ended_on", "end_reason", "successor", "updated_at"])
    return assignment


def _locked(assignment: Assignment) -> Assignment:
    return (
        Assignment.objects.select_for_update().select_related("cadre", "team").get(pk=assignment.pk)
    )


@transaction.atomic
def assignment_end(*, assignment: Assignment, ended_on: dt.date, reason: str = "") -> Assignment:
    """The term ended normally. Ending an ended assignment again changes nothing."""
    assignment = _locked(assignment)
    if assignment.status == AssignmentStatus.ENDED:
        return assignment
    _close(
        assignment,
        status=AssignmentStatus.ENDED,
        ended_on=ended_on,
        reason=(reason or "").strip() or _("任期届满"),
    )
    _sync_user_scope(assignment.cadre)
    return assignment


def _successor(predecessor: Assignment, successor_cadre: Cadre, start: dt.date) -> Assignment:
    return assignment_create(
        cadre=successor_cadre,
        team=predecessor.team,
        start=start,
        planned_end=max(predecessor.planned_end, start + dt.timedelta(days=1)),
        is_leader=predecessor.is_leader,
        is_first_secretary=predecessor.is_first_secretary,
    )


@transaction.atomic
def assignment_recall(
    *, assignment: Assignment, ended_on: dt.date, reason: str, successor_cadre: Cadre | None = None
) -> Assignment:
    """Recall a cadre (召回): a reason is required; a successor takes over the same roles."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("召回须填写原因。")})
    assignment = _locked(assignment)
    _close(assignment, status=AssignmentStatus.RECALLED, ended_on=ended_on, reason=reason)
    _sync_user_scope(assignment.cadre)
    if successor_cadre is not None:
        successor = _successor(assignment, successor_cadre, ended_on)
        assignment.successor = successor
        assignment.save(update_fields=["successor", "updated_at"])
    return assignment


@transaction.atomic
def assignment_replace(
    *, assignment: Assignment, successor_cadre: Cadre, ended_on: dt.date, reason: str = ""
) -> Assignment:
    """Rotate a cadre out (轮换): the successor takes over the same roles the same day."""
    assignment = _locked(assignment)
    if successor_cadre.pk == assignment.cadre_id:
        raise ApplicationError(_("接任人不能是本人。"))
    _close(
        assignment,
        status=AssignmentStatus.REPLACED,
        ended_on=ended_on,
        reason=(reason or "").strip() or _("轮换"),
    )
    _sync_user_scope(assignment.cadre)
    successor = _successor(assignment, successor_cadre, ended_on)
    assignment.successor = successor
    assignment.save(update_fields=["successor", "updated_at"])
    return assignment


# --- helpers -----------------------------------------------------------------------------


def _apply(
    obj, changes: dict[str, Any], allowed: tuple[str, ...], derived: dict[str, str] | None = None
):
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ApplicationError(_("这些字段不能修改：%s") % ", ".join(sorted(unknown)))
    changed = [name for name, value in changes.items() if getattr(obj, name) != value]
    if not changed:
        return obj
    for name in changed:
        setattr(obj, name, changes[name])
    obj.full_clean(exclude=list((derived or {}).values()))
    fields = {
        obj._meta.get_field(n).attname if obj._meta.get_field(n).is_relation else n for n in changed
    }
    fields |= {derived[n] for n in changed if derived and n in derived}
    obj.save(update_fields=[*sorted(fields), "updated_at"])
    return obj


# --- imports: create or update units and cadres by their natural keys -------------------


def _changes(obj, values: dict[str, Any]) -> dict[str, Any]:
    """The given values that differ from what is stored (protected ones compared by hash)."""
    out = {}
    for name, value in values.items():
        hash_field = {"phone": "phone_hash", "id_number": "id_hash"}.get(name)
        if hash_field and hasattr(obj, hash_field):
            if (keyed_hash(value) if value else "") != getattr(obj, hash_field):
                out[name] = value
        elif name == "contact_phone":
            if value != obj.contact_phone:
                out[name] = value
        elif getattr(obj, name) != value:
            out[name] = value
    return out


@transaction.atomic
def unit_import_upsert(
    *, actor: User, region: Region, name: str, values: dict[str, Any]
) -> tuple[DispatchingUnit, str]:
    """Create or update a dispatching unit by its natural key (region, name). A new unit's
    region must be in the actor's scope; an existing unit must be one the actor sees (and may
    edit in the admin): registered in the scope, or one that sent a team into it — a province's
    unit in a county's export imports back. Returns the unit and "created", "updated" or
    "unchanged"."""
    name = (name or "").strip()
    unit = DispatchingUnit.objects.select_for_update().filter(region=region, name=name).first()
    if (
        unit is not None
        and not DispatchingUnit.objects.visible_to(actor).filter(pk=unit.pk).exists()
    ):
        unit = None  # not the actor's to see: answered like a unit that does not exist
    if unit is None and not Region.objects.visible_to(actor).filter(pk=region.pk).exists():
        raise ValidationError({"region": _("区划不存在或不在您的管辖范围内。")})
    if unit is None:
        missing = [
            label
            for key, label in (("level", _("单位层级")), ("kind", _("单位类型")))
            if not values.get(key)
        ]
        if missing:
            raise ValidationError({"level": _("新单位须填写%s。") % "、".join(missing)})
        return unit_create(name=name, region=region, **values), "created"
    changes = _changes(unit, values)
    if not changes:
        return unit, "unchanged"
    return unit_update(unit=unit, **changes), "updated"


ROLES = {
    "leader_secretary": (True, True),
    "leader": (True, False),
    "secretary": (False, True),
    "member": (False, False),
}


@transaction.atomic
def cadre_import_upsert(
    *,
    actor: User,
    id_number: str,
    values: dict[str, Any],
    posting: dict[str, Any] | None = None,
) -> tuple[Cadre, str]:
    """Create or update a cadre by ID number, and post them to a village's active team.

    `values`: cadre fields (name, phone, political_status, unit, position, rank, region).
    `posting`: village, role (ROLES), start, planned_end. A cadre already serving on that
    team in that role is left as is; one serving elsewhere, or differently, is refused
    (rotation, recall and the end of a term are workflows of their own). A cadre the actor
    does not see is refused; a region or unit given must be in the actor's scope unless it is
    the one the cadre already has (a cadre registered by the province and serving in the
    county imports back from the county's export). Returns the cadre and "created",
    "updated" or "unchanged".
    """
    try:
        number = validate_id_number(id_number)
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from None
    cadre = Cadre.objects.select_for_update().filter(id_hash=keyed_hash(number)).first()
    if cadre is not None and not Cadre.objects.visible_to(actor).filter(pk=cadre.pk).exists():
        raise ValidationError(
            {
                "id_number": _("身份证号 %s 的干部已由您管辖范围以外的地区登记，不能导入。")
                % mask_id_number(number)
            }
        )
    region = values.get("region")
    if (
        region is not None
        and (cadre is None or region.pk != cadre.region_id)
        and not Region.objects.visible_to(actor).filter(pk=region.pk).exists()
    ):
        raise ValidationError({"region": _("管理区划不存在或不在您的管辖范围内。")})
    unit = values.get("unit")
    if (
        unit is not None
        and (cadre is None or unit.pk != cadre.unit_id)
        and not DispatchingUnit.objects.visible_to(actor).filter(pk=unit.pk).exists()
    ):
        raise ValidationError({"unit": _("工作单位不存在或不在您的管辖范围内。")})
    outcome = "unchanged"
    if cadre is None:
        missing = [
            label
            for key, label in (
                ("name", _("姓名")),
                ("unit", _("工作单位")),
                ("region", _("管理区划")),
            )
            if not values.get(key)
        ]
        if missing:
            raise ValidationError({"name": _("新干部须填写%s。") % "、".join(missing)})
        cadre = cadre_create(id_number=number, **values)
        outcome = "created"
    else:
        changes = _changes(cadre, values)
        if changes:
            cadre = cadre_update(cadre=cadre, **changes)
            outcome = "updated"
    if posting and _post(cadre, **posting):
        outcome = "updated" if outcome == "unchanged" else outcome
    return cadre, outcome


def _post(
    cadre: Cadre, *, village: Village, role: str, start: dt.date | None, planned_end: dt.date | None
) -> bool:
    """Assign the cadre to the village's active team unless already serving there as said.
    True when an assignment was made."""
    is_leader, is_first_secretary = ROLES.get(role or "member", (False, False))
    active = (
        Assignment.objects.filter(cadre=cadre, status=AssignmentStatus.ACTIVE)
        .select_related("team__village")
        .first()
    )
    if active is not None:
        if active.team.village_id != village.pk:
            raise ApplicationError(
                _("%(name)s已在%(village)s在岗，须先在系统中办理离岗、轮换或召回。")
                % {"name": cadre.name, "village": active.team.village.name}
            )
        same = (active.is_leader, active.is_first_secretary) == (is_leader, is_first_secretary)
        same = same and start in (None, active.start) and planned_end in (None, active.planned_end)
        if not same:
            raise ApplicationError(
                _(
                    "%(name)s在%(village)s的在岗任职（%(role)s，%(start)s 至 %(end)s）"
                    "与文件不一致；任职变动请在系统中办理。"
                )
                % {
                    "name": cadre.name,
                    "village": village.name,
                    "role": active.role_label,
                    "start": active.start,
                    "end": active.planned_end,
                }
            )
        return False
    team = WorkTeam.objects.filter(village=village, status=TeamStatus.ACTIVE).first()
    if team is None:
        raise ApplicationError(_("%s没有在岗的驻村工作队，请先建立工作队。") % village.name)
    if start is None or planned_end is None:
        raise ValidationError({"start": _("安排驻村须填写到岗日期和计划期满。")})
    assignment_create(
        cadre=cadre,
        team=team,
        start=start,
        planned_end=planned_end,
        is_leader=is_leader,
        is_first_secretary=is_first_secretary,
    )
    return True
