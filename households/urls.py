"""The households app's REST endpoints, mounted under /api/v1/ by config/api_urls.py."""

from common.api.routers import ApiRouter

from . import apis

router = ApiRouter()
router.register("households", apis.HouseholdViewSet)
router.register("members", apis.MemberViewSet)
router.register("incomes", apis.IncomeViewSet)
router.register("monitoring", apis.MonitoringViewSet)
router.register("measures", apis.MeasureViewSet)
router.register("pairings", apis.PairingViewSet)
router.register("visits", apis.VisitViewSet)

urlpatterns = router.urls
