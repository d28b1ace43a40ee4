from django.contrib import admin

from common.admin import ScopedAdminMixin

from . import services
from .models import Region


@admin.register(Region)
class RegionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_select_related = ("parent",)
    list_filter = ("level",)
    search_fields = ("name", "code")
    ordering = ("code",)
    autocomplete_fields = ("parent",)
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        # The code is the key of scope and history: fixed once created.
        return ("code", "level", "parent") if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            services.region_rename(region=obj, name=form.cleaned_data["name"])
        else:
            created = services.region_create(
                code=obj.code, name=obj.name, level=obj.level, parent=obj.parent
            )
            obj.pk = created.pk

    def has_delete_permission(self, request, obj=None):
        return False
