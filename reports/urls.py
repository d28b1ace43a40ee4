"""The reports app's REST endpoints, mounted under /api/v1/ by config/api_urls.py."""

from common.api.routers import ApiRouter

router = ApiRouter()

urlpatterns = router.urls
