"""Version 1 of the REST API."""

from django.urls import path

from members import api as members_api

app_name = "api"

urlpatterns = [
    path("me", members_api.MeView.as_view(), name="me"),
    path("activities/", members_api.ActivityList.as_view(), name="activity-list"),
    path("activities/<int:pk>/", members_api.ActivityDetail.as_view(), name="activity-detail"),
    path(
        "activities/<int:pk>/ledger/", members_api.ActivityLedger.as_view(), name="activity-ledger"
    ),
]
