from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from pghistory.admin import EventsAdmin

from common.admin import ScopedAdminMixin, SystemAdminMixin

from . import services
from .models import User
from .roles import GRANTABLE_ROLES, Role


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
