"""The reports app's REST endpoints, mounted under /api/v1/ by config/api_urls.py."""

from common.api.routers import ApiRouter

from .api_imports import ImportJobViewSet

router = ApiRouter()
router.register("imports", ImportJobViewSet)

urlpatterns = router.urls
