"""The assessments app's REST endpoints, mounted under /api/v1/ by config/api_urls.py."""

from common.api.routers import ApiRouter

from . import apis

router = ApiRouter()
router.register("inspections", apis.InspectionViewSet)
router.register("findings", apis.FindingViewSet)
router.register("rankings", apis.RankingViewSet)
router.register("escalations", apis.EscalationViewSet)
router.register("assessments", apis.AssessmentViewSet)

urlpatterns = router.urls
