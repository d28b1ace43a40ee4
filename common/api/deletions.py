"""The deletion feed: tombstones of every synced table, in the user's scope, in the same
commit-safe order as the data (common.sync), so that a mirror can delete what was deleted.

A client keeps one `next` link for this feed beside one per table. Tombstones are kept
`ZHUCUN_TOMBSTONE_RETENTION_DAYS` days; a cursor older than that answers 410 (the deletions it
would have seen may be gone), and the mirror rebuilds from a full pull.
"""

import django_filters
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.models import Tombstone
from common.selectors import tombstone_list

from .filters import DateTimeFilter, RegionFilter
from .pagination import SyncCursorPagination
from .permissions import view_permission
from .routers import sync_resources
from .serializers import SyncSerializer
from .viewsets import SyncViewSet


class DeletionSerializer(SyncSerializer):
    resource = serializers.CharField(help_text=_("被删除记录所属的资源，如 households。"))
    object_id = serializers.IntegerField(help_text=_("被删除记录的 ID。"))

    class Meta:
        model = Tombstone
        fields = ["id", "resource", "object_id", "deleted_at"]


class DeletionFilterSet(django_filters.FilterSet):
    region = RegionFilter(
        label=_("区划代码前缀"),
        help_text=_("只返回该区划之内被删除的记录，规则同各资源的 region。"),
    )
    resource = django_filters.CharFilter(
        method="filter_resource",
        label=_("资源"),
        help_text=_("只返回某一资源的删除记录，如 households、members。"),
    )
    since = DateTimeFilter(
        field_name="deleted_at",
        lookup_expr="gte",
        label=_("删除时间不早于"),
        help_text=_(
            "只返回此时间及以后的删除（RFC 3339，须带时区，如 2026-01-01T00:00:00+08:00）。"
            "增量同步请使用 next 游标。"
        ),
    )

    class Meta:
        model = Tombstone
        fields = []

    def filter_resource(self, queryset, name, value):
        return queryset.filter(resource=value)


class DeletionCursorPagination(SyncCursorPagination):
    @property
    def max_age(self) -> int:
        return settings.ZHUCUN_TOMBSTONE_RETENTION_DAYS * 24 * 3600


class DeletionViewSet(SyncViewSet):
    serializer_class = DeletionSerializer
    filterset_class = DeletionFilterSet
    pagination_class = DeletionCursorPagination
    summary = _("删除记录")
    description = _(
        "自上次同步以来被删除的记录（各资源的删除都在这里），只含本管辖范围内、且本角色能查看的"
        "资源。与各资源一样用 next 游标增量读取；镜像据此删除对应记录。删除记录保留"
        "ZHUCUN_TOMBSTONE_RETENTION_DAYS 天（默认90天），超过保留期的游标回答 410，须重新全量同步。"
    )
    example = {
        "id": 5012,
        "resource": "households",
        "object_id": 120345,
        "deleted_at": "2026-03-02T10:15:00+08:00",
    }

    def readable_resources(self) -> dict[str, str]:
        user = self.request.user
        return {
            vs.model()._meta.label_lower: name
            for name, vs in sync_resources().items()
            if vs is not DeletionViewSet and user.has_perm(view_permission(vs.model()))
        }

    def required_permissions(self) -> list[str]:
        return []

    def check_permissions(self, request):
        super().check_permissions(request)
        if not self.readable_resources():
            self.permission_denied(request, message=str(_("您的角色不能查看任何数据。")))

    def error_statuses(self) -> tuple[str, ...]:
        return (*super().error_statuses(), "410")

    def get_queryset(self):
        return tombstone_list(user=self.request.user, resources=self.readable_resources())
