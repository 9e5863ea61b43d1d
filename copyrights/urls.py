from django.urls import path

from copyrights import views

app_name = "copyrights"

urlpatterns = [
    path("copyrights/", views.index, name="index"),
    path("copyrights/new/", views.record, name="record"),
    path("copyrights/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("copyrights/<int:pk>/statement/", views.statement_download, name="statement"),
]
