"""Roles grant actions; scope (the user's region) grants rows. DESIGN.md section 3."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from common.api import REVEAL_PERMISSION


class Role(models.TextChoices):
    PROVINCE = "province", _("省级接口")
    CITY = "city", _("市级")
    COUNTY_ADMIN = "county_admin", _("县级管理员")
    TOWNSHIP_ADMIN = "township_admin", _("乡镇管理员")
    INSPECTOR = "inspector", _("督查人员")
    TEAM_LEADER = "team_leader", _("工作队长")
    TEAM_MEMBER = "team_member", _("工作队员")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("安全审计员")


# Roles that work in the Django admin (is_staff is derived from the role).
STAFF_ROLES = {
    Role.CITY,
    Role.COUNTY_ADMIN,
    Role.TOWNSHIP_ADMIN,
    Role.INSPECTOR,
    Role.SYSTEM_ADMIN,
    Role.SECURITY_ADMIN,
    Role.AUDIT_ADMIN,
}
# The three separated administrators (三员分立) hold no region: they see no business rows.
SYSTEM_ROLES = {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}
TEAM_ROLES = {Role.TEAM_LEADER, Role.TEAM_MEMBER}
# Roles whose accounts may hold API tokens (machine clients of the read API).
API_TOKEN_ROLES = {Role.PROVINCE}

# Which roles a role may hand out when it creates accounts (never its own or a higher one).
GRANTABLE_ROLES = {
    Role.COUNTY_ADMIN: {Role.TOWNSHIP_ADMIN, Role.INSPECTOR, Role.TEAM_LEADER, Role.TEAM_MEMBER},
    Role.SYSTEM_ADMIN: {r for r in Role if r not in SYSTEM_ROLES},
}

_VIEW = ("view",)
_EDIT = ("view", "add", "change")

_BUSINESS = {
    "villages": ("region", "village"),
    "teams": (
        "dispatchingunit",
        "workteam",
        "teamunit",
        "cadre",
        "assignment",
        "presencerule",
        "attendance",
        "leaverequest",
        "diaryentry",
    ),
    "households": (
        "household",
        "member",
        "incomerecord",
        "incomeline",
        "reportband",
        "monitoring",
        "measure",
        "pairing",
        "visitlog",
    ),
    "assessments": (
        "inspection",
        "finding",
        "indicatorscheme",
        "monthlyranking",
        "rankingrun",
        "escalation",
        "yearlyscheme",
        "assessment",
        "assessmentrun",
    ),
    "reports": (
        "circularrule",
        "circular",
        "circularentry",
        "circularevent",
        "circularrun",
    ),
}


# Excel imports: the job itself; what may be imported is the permission on its rows
# (reports.imports.services.PERMISSIONS).
_IMPORTS = {"reports": ("importjob",)}


def _perms(app_models: dict[str, tuple[str, ...]], actions: tuple[str, ...]) -> set[str]:
    return {
        f"{app}.{action}_{model}"
        for app, models_ in app_models.items()
        for model in models_
        for action in actions
    }


ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    # The provincial office's systems mirror their province through the API: read
    # everything; full ID numbers and phones (the national list is keyed by them) only when a
    # request says why, and every such request is logged.
    Role.PROVINCE: frozenset(_perms(_BUSINESS, _VIEW) | {REVEAL_PERMISSION}),
    Role.CITY: frozenset(_perms(_BUSINESS, _VIEW) | _perms(_IMPORTS, _VIEW)),
    Role.COUNTY_ADMIN: frozenset(
        _perms({"teams": ("teamunit",)}, ("delete",))
        | _perms({"villages": ("region",)}, _VIEW)
        | _perms({"villages": ("village",)}, _EDIT)
        | _perms({"teams": _BUSINESS["teams"]}, _EDIT)
        | _perms({"households": _BUSINESS["households"]}, _EDIT)
        | _perms({"assessments": _BUSINESS["assessments"]}, _EDIT)
        | {"assessments.finalize_assessment"}  # the county finalizes its yearly grades
        | _perms({"reports": _BUSINESS["reports"]}, _EDIT)
        # Drafts may be discarded; publishing (and correcting) is its own grant.
        | {"reports.delete_circular", "reports.publish_circular"}
        | _perms({"accounts": ("user",)}, _EDIT)
        | _perms(_IMPORTS, _EDIT)
    ),
    Role.TOWNSHIP_ADMIN: frozenset(
        _perms(_BUSINESS, _VIEW)
        | _perms({"villages": ("village",)}, ("change",))
        | _perms(
            {
                "households": (
                    "household",
                    "member",
                    "incomerecord",
                    "monitoring",
                    "measure",
                    "pairing",
                )
            },
            _EDIT,
        )
        | _perms({"teams": ("leaverequest",)}, ("change",))
        | _perms({"teams": ("attendance",)}, ("add",))
        | _perms({"assessments": ("finding",)}, ("change",))
        | _perms(_IMPORTS, _EDIT)
    ),
    # Inspectors record what they find: an absence from the village marks that day absent.
    Role.INSPECTOR: frozenset(
        _perms(_BUSINESS, _VIEW)
        | _perms({"teams": ("attendance",)}, ("add",))
        | _perms({"assessments": ("inspection", "finding")}, _EDIT)
    ),
    Role.SYSTEM_ADMIN: frozenset(_perms({"accounts": ("user",)}, _EDIT)),
    Role.SECURITY_ADMIN: frozenset(),
    Role.AUDIT_ADMIN: frozenset(),
}

# --- exports ---
# Every role that reads the lists may export the rows it can see, masked; the provincial
# API client too (its scope is its province). Full ID numbers and phones in a file are a
# county administrator's decision, with a stated purpose, audited (reports.exports).
_EXPORT = frozenset({"reports.add_exportjob", "reports.view_exportjob"})
for _role in (Role.PROVINCE, Role.CITY, Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.INSPECTOR):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS.get(_role, frozenset()) | _EXPORT
ROLE_PERMISSIONS[Role.COUNTY_ADMIN] |= {"reports.export_unmasked"}
