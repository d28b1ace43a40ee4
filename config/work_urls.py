"""The team workbench (/work/): presence pages from teams, household pages from households,
findings from assessments, circulars from reports."""

from django.urls import path

from assessments import views as assessments
from households import views as households
from reports import views as reports
from teams import views as teams

app_name = "work"

urlpatterns = [
    path("login/", teams.WorkLoginView.as_view(), name="login"),
    path("logout/", teams.logout_view, name="logout"),
    path("", households.home, name="home"),
    path("checkin/", teams.check_in, name="checkin"),
    path("households/", households.household_search, name="households"),
    path("households/<int:pk>/", households.household_detail, name="household"),
    path("households/<int:pk>/visit/", households.visit_new, name="visit_new"),
    path("households/<int:pk>/income/", households.income_new, name="income_new"),
    path("visits/", households.visit_list, name="visits"),
    path("visits/<int:pk>/", households.visit_detail, name="visit"),
    path("visits/<int:pk>/photo/", households.visit_photo, name="visit_photo"),
    path("leave/", teams.leave_list, name="leave_list"),
    path("leave/new/", teams.leave_new, name="leave_new"),
    path("leave/<int:pk>/", teams.leave_detail, name="leave"),
    path("diary/", teams.diary_list, name="diary"),
    path("diary/new/", teams.diary_new, name="diary_new"),
    path("presence/", teams.presence, name="presence"),
    path("findings/<int:pk>/", assessments.finding_detail, name="finding"),
    path("circulars/<int:pk>/", reports.circular_detail, name="circular"),
]
