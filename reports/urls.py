"""The reports app's REST endpoints, mounted under /api/v1/ by config/api_urls.py."""

from common.api.routers import ApiRouter

from . import api_exports, apis
from .api_imports import ImportJobViewSet

router = ApiRouter()
router.register("circulars", apis.CircularViewSet)
router.register("exports", api_exports.ExportJobViewSet)
router.register("imports", ImportJobViewSet)

urlpatterns = router.urls
