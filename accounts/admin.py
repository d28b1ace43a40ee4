from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from pghistory.admin import EventsAdmin

from common.admin import ScopedAdminMixin, SystemAdminMixin
from common.paginator import FastCountPaginator

from . import services
from .models import ApiPull, ApiToken, User
from .roles import API_TOKEN_ROLES, GRANTABLE_ROLES, Role


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("username", "full_name", "role", "region")


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    add_form = UserCreationForm
    list_display = ("username", "full_name", "role", "region", "is_active", "last_login")
    list_select_related = ("region",)
    list_filter = ("role", "is_active")
    search_fields = ("username", "full_name")
    ordering = ("username",)
    autocomplete_fields = ("region",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("基本信息"), {"fields": ("full_name", "email", "role", "region", "is_active")}),
        (_("登录记录"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "full_name", "role", "region", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not request.user.is_superuser:
            grantable = GRANTABLE_ROLES.get(request.user.role, set())
            kwargs["choices"] = [("", "---------")] + [
                (value, label) for value, label in Role.choices if value in grantable
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if obj is None or not allowed or request.user.is_superuser:
            return allowed
        return obj.role in GRANTABLE_ROLES.get(request.user.role, set())

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.user_update(
                user=obj,
                actor=request.user,
                **{k: data[k] for k in services.USER_FIELDS if k in data},
            )
        else:
            created = services.user_create(
                username=data["username"],
                password=data["password1"],
                role=data["role"],
                region=data.get("region"),
                full_name=data.get("full_name", ""),
                actor=request.user,
            )
            obj.pk = created.pk


admin.site.unregister(Group)


class SecurityAdminMixin(SystemAdminMixin):
    system_roles = (Role.SECURITY_ADMIN,)


@admin.register(AccessAttempt)
class LoginAttemptAdmin(SecurityAdminMixin, AccessAttemptAdmin):
    """Deleting an attempt unlocks that username and address (解锁)."""


@admin.register(AccessLog)
class LoginLogAdmin(SecurityAdminMixin, AccessLogAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessFailureLog)
class LoginFailureLogAdmin(SecurityAdminMixin, AccessFailureLogAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


class AuditEventsAdmin(SystemAdminMixin, EventsAdmin):
    """Every audit event of every model, for the audit administrator (安全审计员) only."""

    system_roles = (Role.AUDIT_ADMIN,)

    def has_delete_permission(self, request, obj=None):
        return False


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "name", "expires_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "user" in self.fields:  # the add form; an issued token is read-only
            self.fields["user"].queryset = User.objects.filter(
                role__in=API_TOKEN_ROLES, is_active=True
            ).order_by("username")
            self.fields["user"].help_text = _("只能为省级接口账号签发。")


@admin.register(ApiToken)
class ApiTokenAdmin(SecurityAdminMixin, admin.ModelAdmin):
    """Tokens of machine clients, issued and revoked by the security administrator. The key is
    shown once, in the message after issuing; only its hash is kept."""

    form = ApiTokenForm
    list_display = (
        "name",
        "prefix",
        "user",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_select_related = ("user",)
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return False  # revoked tokens stay, with their pulls

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return (*self.readonly_fields, "user", "name", "expires_at")
        return ()

    def save_model(self, request, obj, form, change):
        if change:
            return
        token, key = services.api_token_issue(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data.get("expires_at"),
            actor=request.user,
        )
        obj.pk = token.pk
        self.message_user(
            request,
            _("令牌已签发，请立即复制交给使用方，此后不再显示：%(key)s") % {"key": key},
            messages.WARNING,
        )

    @admin.action(description=_("吊销所选令牌"))
    def revoke(self, request, queryset):
        for token in queryset:
            services.api_token_revoke(token=token, actor=request.user)
        self.message_user(request, _("已吊销 %(n)d 个令牌。") % {"n": len(queryset)})


@admin.register(ApiPull)
class ApiPullAdmin(SystemAdminMixin, admin.ModelAdmin):
    """Every answer of the read API, for the audit administrator: who pulled what, with
    which filters, how many rows, and who revealed full ID numbers and phones, and why."""

    system_roles = (Role.AUDIT_ADMIN,)
    list_display = (
        "created_at",
        "username",
        "resource",
        "action",
        "rows",
        "status",
        "revealed",
        "reason",
        "ip",
        "duration_ms",
    )
    list_filter = ("revealed", "resource", "status")
    search_fields = ("username",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    paginator = FastCountPaginator
    readonly_fields = [f.name for f in ApiPull._meta.fields]

    def has_delete_permission(self, request, obj=None):
        return False
