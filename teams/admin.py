"""Admin for county and township staff: the roster with its derived warnings.

Every write goes through teams.services; actions that need input (recall, rotation) ask for
it on an intermediate page; large selections run as a Celery job.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from common.admin import (
    CappedChoicesFilter,
    FormActionMixin,
    ScopedAdminMixin,
    badge,
    badges,
    scoped,
)
from common.crypto import keyed_hash
from common.forms import ProtectedFieldsMixin
from common.people import mask_id_number
from villages import services as village_services
from villages.models import Level, Region, Village

from . import selectors, services
from .models import (
    Assignment,
    AssignmentStatus,
    Cadre,
    DispatchingUnit,
    TeamStatus,
    TeamUnit,
    WorkTeam,
)


class TownshipFilter(CappedChoicesFilter):
    """Townships inside the user's scope (乡镇)."""

    title = _("乡镇")
    parameter_name = "township"
    path = "village__township"
    choice_model = Region

    # Above a county the townships are too many for a sidebar: filter by county there.
    max_choices = 60

    def choices_queryset(self, request):
        return scoped(Region, request.user).filter(level=Level.TOWNSHIP).order_by("code")


class CountyFilter(TownshipFilter):
    """Counties inside the user's scope, for city and province users (县)."""

    title = _("县")
    parameter_name = "county"
    path = "village__township__parent"
    min_choices = 2

    def choices_queryset(self, request):
        return scoped(Region, request.user).filter(level=Level.COUNTY).order_by("code")


class WarningFilter(admin.SimpleListFilter):
    """Filter on the derived warnings annotated by the model's `with_warnings()`."""

    title = _("预警")
    parameter_name = "warning"
    options: dict[str, tuple[str, dict]] = {}

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _q) in self.options.items()]

    def queryset(self, request, queryset):
        option = self.options.get(self.value() or "")
        return queryset.filter(**option[1]) if option else queryset


# --- villages ----------------------------------------------------------------------------


class VillageWarningFilter(WarningFilter):
    options = {
        "no_team": (_("无在岗工作队"), {"has_active_team": False}),
        "no_first_secretary": (_("无第一书记"), {"has_first_secretary": False}),
    }


class VillageTownshipFilter(TownshipFilter):
    path = "township"


class VillageForm(forms.ModelForm):
    class Meta:
        model = Village
        fields = (
            "region",
            "name",
            "poverty_status",
            "exit_year",
            "is_deep_poverty",
            "is_weak_organisation",
            "is_relocation_site",
            "population",
            "household_count",
            "collective_income",
        )

    def _post_clean(self):
        # Village code and township come from the region: fill them before model validation.
        region = self.cleaned_data.get("region")
        if region is not None and not self.instance.pk:
            self.instance.code = region.code
            self.instance.township_id = region.parent_id
        super()._post_clean()


@admin.register(Village)
class VillageAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Village profiles with the roster warnings (no active team, no 第一书记)."""

    form = VillageForm
    list_display = ("code", "name", "township", "poverty_status", "flags", "warnings")
    list_select_related = ("township",)
    list_filter = (
        VillageTownshipFilter,
        "poverty_status",
        "is_deep_poverty",
        "is_weak_organisation",
        "is_relocation_site",
        VillageWarningFilter,
    )
    search_fields = ("name", "code")
    ordering = ("code",)
    autocomplete_fields = ("region",)
    list_per_page = 50

    def get_queryset(self, request):
        qs = selectors.village_list_with_roster(user=request.user)
        return qs.order_by(*self.get_ordering(request))

    def get_readonly_fields(self, request, obj=None):
        return ("region", "code", "township") if obj else ()

    @admin.display(description=_("标识"))
    def flags(self, obj):
        marks = [
            (obj.is_deep_poverty, _g("深度贫困")),
            (obj.is_weak_organisation, _g("软弱涣散")),
            (obj.is_relocation_site, _g("搬迁安置点")),
        ]
        return format_html("{}", "、".join(text for on, text in marks if on) or "-")

    @admin.display(description=_("预警"))
    def warnings(self, obj):
        out = []
        if not obj.has_active_team:
            out.append(badge(_g("无在岗工作队"), "bad"))
        elif not obj.has_first_secretary:
            out.append(badge(_g("无第一书记"), "bad"))
        return badges(out)

    def save_model(self, request, obj, form, change):
        data = {k: v for k, v in form.cleaned_data.items() if k != "region"}
        if change:
            village_services.village_update(village=obj, **data)
        else:
            created = village_services.village_create(region=form.cleaned_data["region"], **data)
            obj.pk = created.pk

    def has_delete_permission(self, request, obj=None):
        return False


# --- dispatching units -------------------------------------------------------------------


class UnitForm(ProtectedFieldsMixin, forms.ModelForm):
    contact_phone = forms.CharField(label=_("联系电话"), required=False)
    protected_fields = {"contact_phone": "phone"}

    class Meta:
        model = DispatchingUnit
        fields = ("name", "level", "kind", "region", "principal_leader", "contact_name")


@admin.register(DispatchingUnit)
class DispatchingUnitAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = UnitForm
    list_display = ("name", "level", "kind", "region", "principal_leader", "contact_name")
    list_select_related = ("region",)
    list_filter = ("level", "kind")
    search_fields = ("name", "principal_leader")
    ordering = ("name",)
    autocomplete_fields = ("region",)
    list_per_page = 50

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in services.UNIT_FIELDS if k in form.cleaned_data}
        if change:
            if not data.get("contact_phone"):
                data.pop("contact_phone", None)
            services.unit_update(unit=DispatchingUnit.objects.get(pk=obj.pk), **data)
        else:
            obj.pk = services.unit_create(**data).pk

    def has_delete_permission(self, request, obj=None):
        return False


# --- teams -------------------------------------------------------------------------------


class TeamWarningFilter(WarningFilter):
    options = {
        "understaffed": (_("不足3人"), {"status": TeamStatus.ACTIVE, "active_members__lt": 3}),
        "no_first_secretary": (
            _("无第一书记"),
            {"status": TeamStatus.ACTIVE, "has_first_secretary": False},
        ),
        "ending_soon": (_("任期将满"), {"term_ending_soon": True}),
        "overdue": (_("有队员超期在岗"), {"members_overdue": True}),
    }


class AssignmentInline(ScopedAdminMixin, admin.TabularInline):
    """The team's roster, read-only here: assignments change through their own actions."""

    model = Assignment
    fk_name = "team"
    fields = ("cadre", "role", "start", "planned_end", "status", "ended_on")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("-status", "-is_leader", "-is_first_secretary", "start")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("cadre")

    @admin.display(description=_("职务"))
    def role(self, obj):
        return obj.role_label

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TeamUnitInline(ScopedAdminMixin, admin.TabularInline):
    """Joint dispatching units; saved through teams.services.team_update."""

    model = TeamUnit
    fk_name = "team"
    extra = 0
    autocomplete_fields = ("unit",)
    verbose_name = _("联合派出单位")
    verbose_name_plural = _("联合派出单位")


class TeamForm(forms.ModelForm):
    class Meta:
        model = WorkTeam
        fields = ("village", "name", "lead_unit", "term_start", "term_end")

    def clean_village(self):
        village = self.cleaned_data["village"]
        if (
            not self.instance.pk
            and WorkTeam.objects.filter(village=village, status=TeamStatus.ACTIVE).exists()
        ):
            raise ValidationError(
                _g("%(village)s已有在岗的驻村工作队（一村一队），请先结束原工作队的任期。")
                % {"village": village.name}
            )
        return village


@admin.register(WorkTeam)
class WorkTeamAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = TeamForm
    list_display = (
        "name",
        "village",
        "township",
        "lead_unit",
        "term_start",
        "term_end",
        "status",
        "members",
        "warnings",
    )
    list_select_related = ("village", "village__township", "lead_unit")
    list_filter = (
        TownshipFilter,
        "status",
        "lead_unit__level",
        "village__poverty_status",
        "lead_unit",
        TeamWarningFilter,
    )
    search_fields = ("name", "village__name", "lead_unit__name")
    ordering = ("village__code", "-term_start")
    autocomplete_fields = ("village", "lead_unit")
    inlines = (TeamUnitInline, AssignmentInline)
    actions = ("end_term",)
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).with_warnings()

    def get_readonly_fields(self, request, obj=None):
        return ("village", "status", "ended_on") if obj else ()

    @admin.display(description=_("乡镇"), ordering="village__township__name")
    def township(self, obj):
        return obj.village.township.name

    @admin.display(description=_("在岗人数"), ordering="active_members")
    def members(self, obj):
        return obj.active_members

    @admin.display(description=_("预警"))
    def warnings(self, obj):
        out = []
        if obj.status == TeamStatus.ACTIVE:
            if obj.active_members < 3:
                out.append(badge(_g("不足3人"), "bad"))
            if not obj.has_first_secretary:
                out.append(badge(_g("无第一书记"), "bad"))
        if obj.term_ending_soon:
            out.append(badge(_g("任期将满")))
        if obj.members_overdue:
            out.append(badge(_g("有队员超期在岗")))
        return badges(out)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.team_update(
                team=WorkTeam.objects.get(pk=obj.pk),
                **{k: data[k] for k in services.TEAM_FIELDS},
            )
        else:
            obj.pk = services.team_create(
                village=data["village"],
                name=data["name"],
                lead_unit=data["lead_unit"],
                term_start=data["term_start"],
                term_end=data["term_end"],
            ).pk

    def save_related(self, request, form, formsets, change):
        """The joint units of the inline go through the service; the roster is read-only."""
        for formset in formsets:
            # Nothing is saved by the formsets themselves; the change message reads these.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if formset.model is TeamUnit:
                units = [
                    f.cleaned_data["unit"]
                    for f in formset.forms
                    if f.cleaned_data.get("unit") and not f.cleaned_data.get("DELETE")
                ]
                services.team_update(
                    team=WorkTeam.objects.get(pk=form.instance.pk), other_units=units
                )

    @admin.action(description=_("结束任期（工作队及其全部在岗队员）"), permissions=["change"])
    def end_term(self, request, queryset):
        ids = list(queryset.filter(status=TeamStatus.ACTIVE).values_list("pk", flat=True))
        today = timezone.localdate()
        if len(ids) > settings.ZHUCUN_INLINE_ACTION_LIMIT:
            from .tasks import teams_end_term_task

            transaction.on_commit(
                lambda: teams_end_term_task.delay(
                    team_ids=ids, ended_on=today.isoformat(), actor_id=request.user.pk
                )
            )
            self.message_user(request, _g("已提交后台任务：结束 %d 个工作队的任期。") % len(ids))
            return
        for team in WorkTeam.objects.filter(pk__in=ids):
            services.team_end_term(team=team, ended_on=today)
        self.message_user(request, _g("已结束 %d 个工作队的任期。") % len(ids), messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        return False


# --- cadres ------------------------------------------------------------------------------


class CadreWarningFilter(WarningFilter):
    options = {
        "serving": (_("在岗"), {"serving": True}),
        "not_serving": (_("未在岗"), {"serving": False}),
        "past_end": (_("超期在岗"), {"past_planned_end": True}),
        "ending_soon": (_("任期将满"), {"term_ending_soon": True}),
    }


class CadreForm(ProtectedFieldsMixin, forms.ModelForm):
    """ID number and phone are never sent to the browser: the form shows them masked."""

    id_number = forms.CharField(label=_("身份证号"), required=False, max_length=32)
    phone = forms.CharField(label=_("手机号"), required=False, max_length=32)
    protected_fields = {"id_number": "id_number", "phone": "phone"}

    class Meta:
        model = Cadre
        fields = ("name", "political_status", "unit", "position", "rank", "region", "user")

    def clean_id_number(self):
        number = super().clean_id_number()
        taken = Cadre.objects.filter(id_hash=keyed_hash(number)) if number else None
        if taken is not None and self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken is not None and taken.exists():
            raise ValidationError(
                _g("身份证号 %(id)s 已登记在另一名干部名下。") % {"id": mask_id_number(number)}
            )
        return number

    def _post_clean(self):
        # Model-level checks run in the service, which knows the protected values.
        pass


@admin.register(Cadre)
class CadreAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = CadreForm
    list_display = (
        "name",
        "gender",
        "birth_date",
        "id_masked",
        "phone_display",
        "unit",
        "political_status",
        "warnings",
    )
    list_select_related = ("unit",)
    list_filter = ("unit__level", "political_status", "gender", "unit", CadreWarningFilter)
    search_fields = ("name", "unit__name", "assignments__team__village__name")
    protected_search = {"id_number": "id_hash", "phone": "phone_hash"}
    ordering = ("name", "id")
    autocomplete_fields = ("unit", "region", "user")
    readonly_fields = ("gender", "birth_date")
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).with_warnings()

    @admin.display(description=_("身份证号"))
    def id_masked(self, obj):
        return obj.id_number_masked

    @admin.display(description=_("手机号"))
    def phone_display(self, obj):
        return obj.phone_masked or "-"

    @admin.display(description=_("预警"))
    def warnings(self, obj):
        out = []
        if obj.past_planned_end:
            out.append(badge(_g("超期在岗"), "bad"))
        if obj.term_ending_soon:
            out.append(badge(_g("任期将满")))
        if not obj.serving:
            out.append(badge(_g("未在岗"), "ok"))
        return badges(out)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            k: data[k]
            for k in ("name", "political_status", "unit", "position", "rank", "region", "user")
            if k in data
        }
        if change:
            for key in ("id_number", "phone"):
                if data.get(key):
                    fields[key] = data[key]
            services.cadre_update(cadre=Cadre.objects.get(pk=obj.pk), **fields)
        else:
            obj.pk = services.cadre_create(
                id_number=data["id_number"], phone=data.get("phone", ""), **fields
            ).pk

    def has_delete_permission(self, request, obj=None):
        return False


# --- assignments -------------------------------------------------------------------------


class AssignmentWarningFilter(WarningFilter):
    options = {
        "past_end": (_("超期在岗"), {"past_planned_end": True}),
        "ending_soon": (_("任期将满"), {"term_ending_soon": True}),
    }


class RoleFilter(admin.SimpleListFilter):
    title = _("职务")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return [("leader", _("队长")), ("first_secretary", _("第一书记")), ("member", _("队员"))]

    def queryset(self, request, queryset):
        return {
            "leader": lambda: queryset.filter(is_leader=True),
            "first_secretary": lambda: queryset.filter(is_first_secretary=True),
            "member": lambda: queryset.filter(is_leader=False, is_first_secretary=False),
        }.get(self.value() or "", lambda: queryset)()


class AssignmentTownshipFilter(TownshipFilter):
    path = "team__village__township"


class EndForm(forms.Form):
    ended_on = forms.DateField(label=_("离岗日期"), initial=timezone.localdate)
    reason = forms.CharField(
        label=_("原因"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class RecallForm(EndForm):
    reason = forms.CharField(label=_("召回原因"), widget=forms.Textarea(attrs={"rows": 3}))
    successor = forms.ModelChoiceField(
        label=_("接任干部（可选）"), queryset=Cadre.objects.none(), required=False
    )


class ReplaceForm(EndForm):
    successor = forms.ModelChoiceField(label=_("接任干部"), queryset=Cadre.objects.none())


class AssignmentForm(forms.ModelForm):
    class Meta:
        model = Assignment
        fields = ("cadre", "team", "is_leader", "is_first_secretary", "start", "planned_end")

    def clean(self):
        data = super().clean()
        cadre, team = data.get("cadre"), data.get("team")
        if (
            cadre
            and Assignment.objects.filter(cadre=cadre, status=AssignmentStatus.ACTIVE).exists()
        ):
            self.add_error(
                "cadre", _g("%(name)s已有在岗任职，须先结束或召回原任职。") % {"name": cadre.name}
            )
        if team:
            active = Assignment.objects.filter(team=team, status=AssignmentStatus.ACTIVE)
            if team.status != TeamStatus.ACTIVE:
                self.add_error("team", _g("该工作队已撤离，不能再安排任职。"))
            if data.get("is_leader") and active.filter(is_leader=True).exists():
                self.add_error("is_leader", _g("该工作队已有在岗队长，请先安排原队长离岗。"))
            if data.get("is_first_secretary") and active.filter(is_first_secretary=True).exists():
                self.add_error(
                    "is_first_secretary", _g("该工作队已有在岗第一书记，请先安排原第一书记离岗。")
                )
        return data


@admin.register(Assignment)
class AssignmentAdmin(FormActionMixin, ScopedAdminMixin, admin.ModelAdmin):
    form = AssignmentForm
    list_display = (
        "cadre",
        "team",
        "village",
        "role",
        "start",
        "planned_end",
        "status",
        "ended_on",
        "warnings",
    )
    list_select_related = ("cadre", "team", "team__village")
    list_filter = ("status", RoleFilter, AssignmentTownshipFilter, AssignmentWarningFilter)
    search_fields = ("cadre__name", "team__name", "team__village__name")
    protected_search = {"id_number": "cadre__id_hash"}
    ordering = ("team__village__code", "-is_leader", "-is_first_secretary", "start")
    autocomplete_fields = ("cadre", "team")
    fields = ("cadre", "team", "is_leader", "is_first_secretary", "start", "planned_end")
    actions = ("end_term", "recall", "replace")
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).with_warnings()

    def get_readonly_fields(self, request, obj=None):
        if obj:
            return (*self.fields, "status", "ended_on", "end_reason", "successor")
        return ()

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) if obj else self.fields

    @admin.display(description=_("驻村"), ordering="team__village__code")
    def village(self, obj):
        return obj.team.village.name

    @admin.display(description=_("职务"))
    def role(self, obj):
        return obj.role_label

    @admin.display(description=_("预警"))
    def warnings(self, obj):
        out = []
        if obj.past_planned_end:
            out.append(badge(_g("超期在岗"), "bad"))
        if obj.term_ending_soon:
            out.append(badge(_g("任期将满")))
        return badges(out)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.assignment_create(
            cadre=data["cadre"],
            team=data["team"],
            start=data["start"],
            planned_end=data["planned_end"],
            is_leader=data["is_leader"],
            is_first_secretary=data["is_first_secretary"],
        ).pk

    def has_delete_permission(self, request, obj=None):
        return False

    # Actions that need input show a form first, then call the service for each row.

    def _run_with_form(self, request, queryset, form_class, title, apply):
        form = form_class(request.POST if "apply" in request.POST else None)
        if "successor" in form.fields:
            form.fields["successor"].queryset = scoped(Cadre, request.user)
        active = queryset.filter(status=AssignmentStatus.ACTIVE).select_related("cadre", "team")
        return self.run_form_action(request, active, form, title=title, apply=apply)

    @admin.action(description=_("任期结束"), permissions=["change"])
    def end_term(self, request, queryset):
        return self._run_with_form(
            request,
            queryset,
            EndForm,
            _g("任期结束"),
            lambda a, d: services.assignment_end(
                assignment=a, ended_on=d["ended_on"], reason=d["reason"]
            ),
        )

    @admin.action(description=_("召回"), permissions=["change"])
    def recall(self, request, queryset):
        return self._run_with_form(
            request,
            queryset,
            RecallForm,
            _g("召回"),
            lambda a, d: services.assignment_recall(
                assignment=a,
                ended_on=d["ended_on"],
                reason=d["reason"],
                successor_cadre=d.get("successor"),
            ),
        )

    @admin.action(description=_("轮换（指定接任干部）"), permissions=["change"])
    def replace(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _g("轮换须逐条办理：请只选择一条任职。"), messages.WARNING)
            return None
        return self._run_with_form(
            request,
            queryset,
            ReplaceForm,
            _g("轮换"),
            lambda a, d: services.assignment_replace(
                assignment=a,
                successor_cadre=d["successor"],
                ended_on=d["ended_on"],
                reason=d["reason"],
            ),
        )


from . import admin_presence  # noqa: E402, F401 - registers the presence admins
