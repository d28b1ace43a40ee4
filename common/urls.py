"""common's REST endpoint: the deletion feed (mounted under /api/v1/ by config/api_urls.py)."""

from common.api.deletions import DeletionViewSet
from common.api.routers import ApiRouter

router = ApiRouter()
router.register("deletions", DeletionViewSet)

urlpatterns = router.urls
