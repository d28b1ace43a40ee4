"""Create (or reset) the demo logins and print them. Local run only: refuses when DEBUG is off
unless --force is given."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from accounts.services import user_create, user_set_password
from common.audit import Source, audit_context
from teams.models import Assignment, AssignmentStatus
from teams.services import cadre_link_user
from villages.models import Level, Region

DEMO_PASSWORD = "Zhucun@2026"  # noqa: S105 - printed demo login of the local run


class Command(BaseCommand):
    help = "Create the demo accounts of the local run and print them."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("demo_accounts is for the local run (DEBUG on); use --force.")
        counties = list(Region.objects.filter(level=Level.COUNTY).order_by("code")[:2])
        if len(counties) < 2:
            raise CommandError("Load the demo data first: manage.py seed_demo.")
        county_a, county_b = counties
        township = Region.objects.filter(parent=county_a).order_by("code").first()
        province = Region.objects.get(level=Level.PROVINCE, code=county_a.code[:2] + "0" * 10)
        leader = (
            Assignment.objects.filter(
                status=AssignmentStatus.ACTIVE,
                is_leader=True,
                team__village__code__startswith=township.code[:9],
            )
            .select_related("cadre", "team")
            .order_by("team__village__code")
            .first()
        )
        member = (
            Assignment.objects.filter(
                team=leader.team, status=AssignmentStatus.ACTIVE, is_leader=False
            )
            .select_related("cadre")
            .first()
        )
        rows = [
            ("admin", "", None, "系统超级管理员（全部数据）", True),
            ("county_a", Role.COUNTY_ADMIN, county_a, f"{county_a.name}县级管理员", False),
            ("county_b", Role.COUNTY_ADMIN, county_b, f"{county_b.name}县级管理员", False),
            ("township_a", Role.TOWNSHIP_ADMIN, township, f"{township.name}乡镇管理员", False),
            ("inspector_a", Role.INSPECTOR, county_a, f"{county_a.name}督查人员", False),
            ("province", Role.PROVINCE, province, f"{province.name}接口账号", False),
            ("sysadmin", Role.SYSTEM_ADMIN, None, "系统管理员", False),
            ("secadmin", Role.SECURITY_ADMIN, None, "安全管理员", False),
            ("auditor", Role.AUDIT_ADMIN, None, "安全审计员", False),
        ]
        with audit_context(source=Source.COMMAND, command="demo_accounts"):
            for username, role, region, label, superuser in rows:
                self.ensure(username, role, region, label, superuser)
            for username, assignment, role in (
                ("leader_a", leader, Role.TEAM_LEADER),
                ("member_a", member, Role.TEAM_MEMBER),
            ):
                if assignment is None:
                    continue
                user = self.ensure(username, role, None, assignment.cadre.name, False)
                cadre_link_user(cadre=assignment.cadre, user=user)
        self.stdout.write("\n" + _("演示账号（密码均为 %s）：") % DEMO_PASSWORD)
        for user in (
            User.objects.filter(username__in=[r[0] for r in rows] + ["leader_a", "member_a"])
            .select_related("region")
            .order_by("date_joined", "pk")
        ):
            scope = user.region.name if user.region else ("全部" if user.is_superuser else "-")
            self.stdout.write(
                f"  {user.username:<12} {user.get_role_display() or '超级管理员':<8} "
                f"{scope:<10} {user.full_name}"
            )
        self.stdout.write(_("管理后台：%s") % "http://127.0.0.1:8000/admin/")

    def ensure(self, username, role, region, label, superuser) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            return user_create(
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                region=region,
                full_name=label,
                is_superuser=superuser,
            )
        user_set_password(user=user, password=DEMO_PASSWORD)
        return user
