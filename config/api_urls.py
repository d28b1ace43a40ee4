"""/api/: version 1 of the read API (every app's `urls.py`), its OpenAPI schema and the
Swagger UI (served from the vendored drf-spectacular-sidecar files, no CDN)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from common.api.views import ApiRoot, api_not_found

app_name = "api"

urlpatterns = [
    path("v1/", ApiRoot.as_view(), name="root"),
    path("v1/", include("common.urls")),
    path("v1/", include("villages.urls")),
    path("v1/", include("teams.urls")),
    path("v1/", include("households.urls")),
    path("v1/", include("assessments.urls")),
    path("v1/", include("reports.urls")),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api:schema", permission_classes=[AllowAny]),
        name="docs",
    ),
    re_path(r"^.*$", api_not_found),
]
