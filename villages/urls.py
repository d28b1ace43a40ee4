"""The villages app's REST endpoints, mounted under /api/v1/ by config/api_urls.py."""

from common.api.routers import ApiRouter

from . import apis

router = ApiRouter()
router.register("regions", apis.RegionViewSet)
router.register("villages", apis.VillageViewSet)

urlpatterns = router.urls
