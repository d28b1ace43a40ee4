"""The teams app's REST endpoints, mounted under /api/v1/ by config/api_urls.py."""

from common.api.routers import ApiRouter

from . import apis

router = ApiRouter()
router.register("units", apis.UnitViewSet)
router.register("teams", apis.TeamViewSet)
router.register("cadres", apis.CadreViewSet)
router.register("assignments", apis.AssignmentViewSet)
router.register("attendance", apis.AttendanceViewSet)
router.register("leave", apis.LeaveViewSet)

urlpatterns = router.urls
