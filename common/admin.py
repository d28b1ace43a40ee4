"""Admin mixins. Every ModelAdmin is scoped (ScopedAdminMixin) or system-only (SystemAdminMixin).

The scoped mixin makes out-of-scope rows invisible everywhere the admin shows or accepts
rows: changelist, change/history/delete views (the same answer as a missing id), FK and M2M
choices, autocomplete (through the related model's scoped admin), list filters and actions
(actions receive the scoped changelist queryset, so posted foreign ids select nothing).
"""

from typing import Any

import pghistory.models
from django.contrib import admin, messages
from django.contrib.admin.utils import get_fields_from_path, unquote
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import ApplicationError, user_message, validation_messages
from .fields import EncryptedCharField
from .models import user_scope_prefix
from .paginator import FastCountPaginator
from .people import is_valid_id_number, normalize_id_number, normalize_phone, validate_phone


def badge(text: str, level: str = "warn") -> str:
    """A coloured warning badge for a changelist cell."""
    colours = {"warn": "#b45309", "bad": "#b91c1c", "ok": "#15803d"}
    return format_html(
        '<span style="display:inline-block;padding:1px 6px;margin:1px;border-radius:8px;'
        'color:#fff;background:{};font-size:11px;white-space:nowrap">{}</span>',
        colours[level],
        text,
    )


def badges(items: list[str]) -> str:
    """The badges of a cell side by side, or "-" when there is none."""
    return format_html_join("", "{}", ((b,) for b in items)) if items else "-"


def scoped(model: type[models.Model], user: Any) -> models.QuerySet:
    """The rows of `model` a user may see; models without scope are left as they are."""
    manager = model._default_manager
    if hasattr(manager, "visible_to"):
        return manager.visible_to(user)
    if user_scope_prefix(user) == "":
        return manager.all()
    return manager.all() if getattr(model, "scope_free", False) else manager.none()


# Actions an app adds to the admin of an app to its left (reports' "导出 Excel" on the
# household lists), without that app importing rightwards: registered when the adding app's
# admin module is loaded, offered by ScopedAdminMixin.get_actions like the admin's own.
_extra_actions: dict[type[models.Model], list] = {}


def register_action(model: type[models.Model], action) -> None:
    """Offer `action` (a function decorated with @admin.action) on `model`'s admin."""
    actions = _extra_actions.setdefault(model, [])
    if action not in actions:
        actions.append(action)


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related-field filter whose choices are the related rows the user may see."""

    def field_choices(self, field, request, model_admin):
        qs = scoped(field.related_model, request.user)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            qs = qs.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in qs]


class CappedChoicesFilter(admin.SimpleListFilter):
    """A sidebar filter by region or village id whose choices are listed up to `max_choices`.

    Above that the sidebar would be too long, so it lists only the chosen row (if the user may
    see it). Django drops a filter that lists nothing, so a value given in the address (a link
    from the dashboard or a report) would be ignored silently and the whole scope shown; this
    filter applies its value whenever one is given (an id out of scope selects nothing).
    Subclasses say which rows are choices (`choices_queryset`) and the path they filter on.
    """

    path = ""
    max_choices = 60
    # Fewer choices than this are not worth a sidebar (a county official's one county).
    min_choices = 1

    def choices_queryset(self, request) -> models.QuerySet:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        qs = self.choices_queryset(request)
        choices = list(qs.values_list("pk", "name")[: self.max_choices + 1])
        if self.min_choices <= len(choices) <= self.max_choices:
            return choices
        value = self.value()
        if value and value.isdigit():
            return list(qs.filter(pk=int(value)).values_list("pk", "name"))
        return []

    def has_output(self):
        return bool(self.lookup_choices) or bool(self.value())

    def queryset(self, request, queryset):
        value = self.value()
        if value is None or value == "":
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(**{f"{self.path}_id": int(value)})


class ScopedAdminMixin:
    """Scope every query of a ModelAdmin with `visible_to(request.user)`."""

    show_full_result_count = False
    paginator = FastCountPaginator
    # {"typed value kind": "hash field"}: a full ID number or phone typed into the search box
    # is matched through its keyed hash.
    protected_search: dict[str, str] = {}

    def _changeform_view(self, request, object_id, form_url, extra_context):
        """A business rule broken at save time (a race the form could not see) is reported
        as a message and nothing is written."""
        try:
            with transaction.atomic():
                return super()._changeform_view(request, object_id, form_url, extra_context)
        except (ApplicationError, ValidationError) as exc:
            if isinstance(exc, ValidationError):
                message, _extra = validation_messages(exc)
            else:
                message = exc.message
            self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def _get_base_actions(self):
        actions = super()._get_base_actions()
        names = {name for _func, name, _description in actions}
        for func in _extra_actions.get(self.model, ()):
            action = self.get_action(func)
            if action is not None and action[1] not in names:
                actions.append(action)
        return actions

    def get_queryset(self, request):
        qs = self.model._default_manager.visible_to(request.user)
        ordering = self.get_ordering(request)
        if ordering:
            qs = qs.order_by(*ordering)
        return qs

    def get_field_queryset(self, db, db_field, request):
        qs = scoped(db_field.remote_field.model, request.user).using(db)
        related_admin = self.admin_site._registry.get(db_field.remote_field.model)
        if related_admin is not None:
            ordering = related_admin.get_ordering(request)
            if ordering:
                qs = qs.order_by(*ordering)
        return qs

    def get_list_filter(self, request):
        result = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str):
                field = get_fields_from_path(self.model, entry)[-1]
                if field.is_relation:
                    entry = (entry, ScopedRelatedFieldListFilter)
            result.append(entry)
        return result

    def get_search_results(self, request, queryset, search_term):
        from common.crypto import keyed_hash

        term = (search_term or "").strip()
        if term and "id_number" in self.protected_search and is_valid_id_number(term):
            field = self.protected_search["id_number"]
            return queryset.filter(**{field: keyed_hash(normalize_id_number(term))}), False
        if term and "phone" in self.protected_search:
            try:
                phone = validate_phone(normalize_phone(term))
            except Exception:  # noqa: S110 - not a phone: fall through to the text search
                pass
            else:
                return queryset.filter(**{self.protected_search["phone"]: keyed_hash(phone)}), False
        return super().get_search_results(request, queryset, search_term)

    def history_view(self, request, object_id, extra_context=None):
        """Every recorded change of the object: when, who, from where, old and new values."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise Http404(_("未找到。"))
        events = (
            pghistory.models.Events.objects.tracks(obj)
            .order_by("-pgh_created_at", "-pgh_id")
            .values("pgh_created_at", "pgh_label", "pgh_diff", "pgh_context")[:500]
        )
        hidden = {
            name
            for f in self.model._meta.concrete_fields
            if isinstance(f, EncryptedCharField)
            for name in (f.name, f.attname)
        }
        rows = []
        for ev in events:
            context = ev["pgh_context"] or {}
            diff = ev["pgh_diff"] or {}
            changes = []
            for name, values in sorted(diff.items()):
                if name in ("updated_at",) or name.endswith("_hash"):
                    continue
                label = self._history_label(name)
                if name in hidden:
                    changes.append((label, "", _("（已修改，内容受保护）")))
                else:
                    old, new = values if isinstance(values, list) else (None, values)
                    changes.append((label, old, new))
            rows.append(
                {
                    "at": ev["pgh_created_at"],
                    "label": {"insert": _("新建"), "update": _("修改"), "delete": _("删除")}.get(
                        ev["pgh_label"], ev["pgh_label"]
                    ),
                    "actor": context.get("actor") or _("系统"),
                    "source": SOURCE_LABELS.get(
                        context.get("source"), context.get("source") or "-"
                    ),
                    "ip": context.get("ip", ""),
                    "changes": changes,
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("变更历史：%s") % obj,
            "subtitle": None,
            "object": obj,
            "rows": rows,
            "opts": self.model._meta,
            "app_label": self.model._meta.app_label,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/audit_history.html", context)

    def _history_label(self, name: str) -> str:
        for field in self.model._meta.concrete_fields:
            if name in (field.name, field.attname):
                return str(field.verbose_name)
        return name


SOURCE_LABELS = {
    "admin": gettext_lazy("管理后台"),
    "web": gettext_lazy("工作台"),
    "api": gettext_lazy("接口"),
    "task": gettext_lazy("后台任务"),
    "command": gettext_lazy("命令"),
    "import": gettext_lazy("导入"),
}


class SystemAdminMixin:
    """An admin for system-wide records (accounts security, audit), never for county staff.

    Only superusers and the role named in `system_roles` see it at all.
    """

    system_roles: tuple[str, ...] = ()

    def _allowed(self, request) -> bool:
        user = request.user
        return user.is_active and (
            user.is_superuser or getattr(user, "role", None) in self.system_roles
        )

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)


class FormActionMixin:
    """Admin actions that ask for input on an intermediate page, then call a service per row.

    `all_or_nothing`: every row in one transaction (the first refusal undoes the rest), else
    each row on its own with its own message.
    """

    def run_form_action(self, request, queryset, form, *, title, apply, all_or_nothing=True):
        from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

        if "apply" in request.POST and form.is_valid():
            data, done = form.cleaned_data, 0
            if all_or_nothing:
                try:
                    with transaction.atomic():
                        for obj in queryset:
                            apply(obj, data)
                            done += 1
                except (ApplicationError, ValidationError) as exc:
                    self.message_user(request, user_message(exc), messages.ERROR)
                    return None
            else:
                for obj in queryset:
                    try:
                        with transaction.atomic():
                            apply(obj, data)
                    except (ApplicationError, ValidationError) as exc:
                        self.message_user(request, f"{obj}：{user_message(exc)}", messages.ERROR)
                    else:
                        done += 1
            self.message_user(
                request,
                _("%(title)s：已办理 %(n)d 条。") % {"title": title, "n": done},
                messages.SUCCESS if done else messages.WARNING,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "rows": [str(obj) for obj in queryset[:200]],
            "action": request.POST.get("action", ""),
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/action_form.html", context)
