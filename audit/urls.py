from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("profile/data/", views.data_exports, name="data_exports"),
    path(
        "profile/data/<int:pk>/download/", views.data_export_download, name="data_export_download"
    ),
]
