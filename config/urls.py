from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from common.views import healthz, server_error
from reports.dashboard import dashboard_view

admin.site.site_header = admin.site.site_title = _("驻村通")
admin.site.index_title = _("驻村工作队管理")

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Before the admin's own URLs, whose catch-all would take "dashboard/" for an app label.
    path("admin/dashboard/", admin.site.admin_view(dashboard_view), name="dashboard"),
    path("admin/", admin.site.urls),
    path("work/", include("config.work_urls")),
    path("api/", include("config.api_urls")),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]

handler500 = server_error

if settings.DEBUG:  # pragma: no cover - local run only
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
