"""Admin of red/black-list circulars: the rules, the build page and job list, drafts worded
through the services, publish and correct as actions, and the printable page, Word and Excel
files of each circular (out of scope: 404 like a missing id)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from common.admin import FormActionMixin, ScopedAdminMixin, badge, scoped
from common.errors import ApplicationError, user_message
from villages.models import Level, Region

from . import documents, selectors, services
from .models import (
    Circular,
    CircularEntry,
    CircularEvent,
    CircularRule,
    CircularRun,
    CircularStatus,
)


def _owns(user, region: Region) -> bool:
    prefix = "" if user.is_superuser else user.scope_prefix
    return prefix is not None and region.code.startswith(prefix)


# --- rules ----------------------------------------------------------------------------------


class CircularRuleForm(forms.ModelForm):
    class Meta:
        model = CircularRule
        fields = ("region", "effective_from", *services.RULE_FIELDS)
        widgets = {
            "red_consequence": forms.Textarea(attrs={"rows": 2}),
            "black_consequence": forms.Textarea(attrs={"rows": 2}),
            "body_template": forms.Textarea(attrs={"rows": 3}),
            "closing_template": forms.Textarea(attrs={"rows": 3}),
        }


@admin.register(CircularRule)
class CircularRuleAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = CircularRuleForm
    list_display = (
        "region",
        "name",
        "effective_from",
        "red_count",
        "black_count",
        "serious_bars_red",
        "serious_forces_black",
        "issuer",
        "number_prefix",
    )
    list_select_related = ("region",)
    ordering = ("prefix", "-effective_from")
    autocomplete_fields = ("region",)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or _owns(request.user, obj.region))

    def get_readonly_fields(self, request, obj=None):
        return ("region", "effective_from") if obj else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.circular_rule_set(
            region=data.get("region") or obj.region,
            effective_from=data.get("effective_from") or obj.effective_from,
            **{k: data[k] for k in services.RULE_FIELDS},
        ).pk


# --- circulars ------------------------------------------------------------------------------


class EntryForm(forms.ModelForm):
    class Meta:
        model = CircularEntry
        fields = ("facts", "consequence")
        widgets = {
            "facts": forms.Textarea(attrs={"rows": 4, "cols": 60}),
            "consequence": forms.Textarea(attrs={"rows": 3, "cols": 30}),
        }

    def _post_clean(self):
        # circular_entry_update validates and refuses; the form only carries the wording.
        from django.forms.models import construct_instance

        self.instance = construct_instance(self, self.instance, self._meta.fields)


class EntryInline(admin.TabularInline):
    """The lists: wording editable on a draft, a team can be taken off (删除), none added."""

    model = CircularEntry
    form = EntryForm
    extra = 0
    fields = (
        "kind",
        "order",
        "team_name",
        "township_name",
        "place",
        "score",
        "facts",
        "consequence",
    )
    readonly_fields = ("kind", "order", "team_name", "township_name", "place", "score")

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("kind", "order")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != CircularStatus.DRAFT:
            return self.fields
        return self.readonly_fields

    def has_add_permission(self, request, obj=None):
        return False  # the lists come from the data; a rebuild replaces them

    def has_change_permission(self, request, obj=None):
        draft = obj is None or obj.status == CircularStatus.DRAFT
        return draft and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return obj is not None and self.has_change_permission(request, obj)

    @admin.display(description=_("排名"))
    def place(self, obj):
        return f"{obj.rank}/{obj.of}"


class StepInline(admin.TabularInline):
    model = CircularEvent
    extra = 0
    fields = ("created_at", "action", "old", "new", "actor", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class CircularForm(forms.ModelForm):
    # The draft's revision as loaded: a save over someone else's change is refused by
    # circular_update.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    class Meta:
        model = Circular
        fields = ("title", "recipients", "body", "closing", "correction_reason")
        widgets = {
            "title": forms.TextInput(attrs={"size": 80}),
            "recipients": forms.TextInput(attrs={"size": 80}),
            "body": forms.Textarea(attrs={"rows": 4}),
            "closing": forms.Textarea(attrs={"rows": 4}),
            "correction_reason": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "version" in self.fields and self.instance.pk:
            self.fields["version"].initial = self.instance.revision

    def _post_clean(self):
        from django.forms.models import construct_instance

        self.instance = construct_instance(self, self.instance, self._meta.fields)


class PublishForm(forms.Form):
    published_on = forms.DateField(
        label=_("成文日期"),
        required=False,
        help_text=_("留空为今天。发布后分配文号，通报及名单不能再修改。"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class CorrectForm(forms.Form):
    reason = forms.CharField(
        label=_("更正说明"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("将复制原通报生成更正草稿；更正通报发布后，原通报标记为已更正。"),
    )


class BuildForm(forms.Form):
    county = forms.ModelChoiceField(label=_("县"), queryset=Region.objects.none())
    period = forms.DateField(
        label=_("月份"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = scoped(Region, user).filter(level=Level.COUNTY)


FILE_VIEWS = ("print", "word", "xlsx")


@admin.register(Circular)
class CircularAdmin(FormActionMixin, ScopedAdminMixin, admin.ModelAdmin):
    form = CircularForm
    list_display = (
        "number_display",
        "county",
        "period_display",
        "title",
        "status_badge",
        "red",
        "black",
        "published_on",
    )
    list_display_links = ("number_display", "title")
    list_select_related = ("county",)
    list_filter = ("status", "period", "county")
    search_fields = ("title", "number")
    ordering = ("-period", "county__code", "-id")
    inlines = (EntryInline, StepInline)
    actions = ("build", "publish", "correct")
    list_per_page = 50

    def get_queryset(self, request):
        return selectors.circular_list(user=request.user).order_by(*self.get_ordering(request))

    def get_fields(self, request, obj=None):
        fields = [
            "county",
            "period_display",
            "status",
            "number",
            "published_on",
            "published_by",
            "issuer",
            "title",
            "recipients",
            "body",
            "closing",
        ]
        if obj is not None and obj.status == CircularStatus.DRAFT:
            fields.append("version")
        if obj is not None and obj.supersedes_id:
            fields += ["supersedes_link", "correction_reason"]
        if obj is not None and obj.status != CircularStatus.DRAFT:
            fields += ["corrected_by"]
        return [*fields, "built_at"]

    def get_readonly_fields(self, request, obj=None):
        fixed = (
            "county",
            "period_display",
            "status",
            "number",
            "published_on",
            "published_by",
            "issuer",
            "supersedes_link",
            "corrected_by",
            "built_at",
        )
        if obj is None or obj.status != CircularStatus.DRAFT:
            return self.get_fields(request, obj)
        return fixed

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a draft is deleted on its own page
        return actions

    def has_add_permission(self, request):
        return False  # drafts are built from the data: see the build page

    def has_change_permission(self, request, obj=None):
        draft = obj is None or obj.status == CircularStatus.DRAFT
        return draft and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        draft = obj is not None and obj.status == CircularStatus.DRAFT
        return draft and super().has_delete_permission(request, obj)

    # --- columns and fields

    @admin.display(description=_("发文字号"), ordering="number")
    def number_display(self, obj):
        return obj.number or _g("（草稿）")

    @admin.display(description=_("月份"), ordering="period")
    def period_display(self, obj):
        return f"{obj.period:%Y-%m}"

    @admin.display(description=_("状态"), ordering="status")
    def status_badge(self, obj):
        level = {"draft": "warn", "published": "ok", "superseded": "bad"}[obj.status]
        return badge(obj.get_status_display(), level)

    @admin.display(description=_("红榜"))
    def red(self, obj):
        return obj.red

    @admin.display(description=_("黑榜"))
    def black(self, obj):
        return obj.black

    @admin.display(description=_("更正的通报"))
    def supersedes_link(self, obj):
        old = obj.supersedes
        url = reverse("admin:reports_circular_change", args=[old.pk])
        return format_html('<a href="{}">{}</a>', url, old.number)

    @admin.display(description=_("更正通报"))
    def corrected_by(self, obj):
        links = format_html_join(
            "、",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:reports_circular_change", args=[c.pk]), c.number or _g("草稿"))
                for c in obj.corrections.order_by("-id")
            ),
        )
        return links or "-"

    # --- saving through the services

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        services.circular_update(
            circular=obj,
            actor=request.user,
            title=data["title"],
            recipients=data["recipients"],
            body=data["body"],
            closing=data["closing"],
            correction_reason=data.get("correction_reason") if obj.supersedes_id else None,
            revision=data.get("version"),
        )

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            # What the admin's change message reads (formset.save() is not used).
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if formset.model is not CircularEntry:
                continue
            removed = {f.instance.pk for f in formset.deleted_forms}
            for entry_form in formset.forms:
                entry = entry_form.instance
                if entry.pk in removed:
                    services.circular_entry_remove(entry=entry, actor=request.user)
                    formset.deleted_objects.append(entry)
                elif entry.pk and entry_form.has_changed():
                    services.circular_entry_update(
                        entry=entry,
                        actor=request.user,
                        facts=entry_form.cleaned_data["facts"],
                        consequence=entry_form.cleaned_data["consequence"],
                    )
                    formset.changed_objects.append((entry, entry_form.changed_data))

    def delete_model(self, request, obj):
        services.circular_delete(circular=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for circular in queryset:
            services.circular_delete(circular=circular, actor=request.user)

    # --- actions

    def _need(self, request, perm: str):
        if not request.user.has_perm(perm):
            raise PermissionDenied

    @admin.action(description=_("生成通报草稿（按所选通报的县和月份重新生成）"))
    def build(self, request, queryset):
        self._need(request, "reports.add_circular")
        queued = set()
        for circular in queryset.select_related("county"):
            key = (circular.county_id, circular.period)
            if circular.status != CircularStatus.DRAFT:
                self.message_user(
                    request,
                    _g("%s：已发布的通报不能重新生成，如需修改请发布更正。") % circular,
                    messages.ERROR,
                )
                continue
            if key in queued:
                continue
            services.circular_request(
                county=circular.county, period=circular.period, actor=request.user
            )
            queued.add(key)
        if queued:
            self.message_user(
                request,
                _g("已提交 %d 份通报草稿的生成，完成后刷新查看。") % len(queued),
                messages.SUCCESS,
            )

    @admin.action(description=_("发布"))
    def publish(self, request, queryset):
        self._need(request, "reports.publish_circular")
        form = PublishForm(request.POST if "apply" in request.POST else None)
        return self.run_form_action(
            request,
            queryset,
            form,
            title=_g("发布通报"),
            apply=lambda c, d: services.circular_publish(
                circular=c, actor=request.user, published_on=d.get("published_on")
            ),
            all_or_nothing=False,
        )

    @admin.action(description=_("发布更正"))
    def correct(self, request, queryset):
        self._need(request, "reports.publish_circular")
        form = CorrectForm(request.POST if "apply" in request.POST else None)

        def apply(circular, data):
            draft = services.circular_correct(
                circular=circular, actor=request.user, reason=data["reason"]
            )
            url = reverse("admin:reports_circular_change", args=[draft.pk])
            self.message_user(
                request,
                format_html(
                    '{}<a href="{}">{}</a>',
                    _g("已生成更正草稿，请修改后发布："),
                    url,
                    _g("打开更正草稿"),
                ),
                messages.SUCCESS,
            )

        return self.run_form_action(
            request, queryset, form, title=_g("发布更正"), apply=apply, all_or_nothing=False
        )

    # --- pages and files

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("build/", wrap(self.build_view), name="reports_circular_build"),
            path("<path:object_id>/print/", wrap(self.print_view), name="reports_circular_print"),
            path("<path:object_id>/word/", wrap(self.word_view), name="reports_circular_word"),
            path("<path:object_id>/xlsx/", wrap(self.xlsx_view), name="reports_circular_xlsx"),
            *super().get_urls(),
        ]

    def _circular(self, request, object_id) -> Circular:
        """The circular in scope, or 404 exactly like a missing id."""
        circular = selectors.circular_get(user=request.user, pk=object_id)
        if not self.has_view_or_change_permission(request, circular):
            raise Http404
        return circular

    def print_view(self, request, object_id):
        circular = self._circular(request, object_id)
        return TemplateResponse(
            request, "reports/circular_print.html", documents.circular_context(circular)
        )

    def word_view(self, request, object_id):
        return documents.docx_response(self._circular(request, object_id))

    def xlsx_view(self, request, object_id):
        return documents.xlsx_response(self._circular(request, object_id))

    def build_view(self, request):
        """Queue a county's draft of a month as a job and show the recent jobs."""
        self._need(request, "reports.add_circular")
        form = BuildForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                run = services.circular_request(
                    county=form.cleaned_data["county"],
                    period=form.cleaned_data["period"],
                    actor=request.user,
                )
            except (ApplicationError, ValidationError) as exc:
                form.add_error(None, user_message(exc))
            else:
                self.message_user(
                    request,
                    _g("已提交%(county)s %(period)s 的通报草稿生成，完成后刷新本页查看。")
                    % {"county": run.county.name, "period": f"{run.period:%Y-%m}"},
                )
                return HttpResponseRedirect(request.path)
        runs = CircularRun.objects.visible_to(request.user).select_related(
            "county", "circular", "circular__county"
        )[:20]
        context = {
            **self.admin_site.each_context(request),
            "title": _g("生成通报草稿"),
            "opts": self.model._meta,
            "form": form,
            "runs": runs,
        }
        return TemplateResponse(request, "admin/reports/circular_build.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        posted = request.POST.get("version") if request.method == "POST" else None
        if posted is not None:
            # Changed since the page was loaded (worded, entries edited, rebuilt): say so before
            # the form trips over entries a rebuild replaced. The service checks again, locked.
            current = self.get_object(request, unquote(object_id))
            if current is not None and str(current.revision) != posted:
                self.message_user(request, services.conflict_message(), messages.ERROR)
                return HttpResponseRedirect(request.path)
        extra_context = {
            **(extra_context or {}),
            "can_publish": request.user.has_perm("reports.publish_circular"),
        }
        return super().change_view(request, object_id, form_url, extra_context)
