from django.urls import path

from spaces import views

app_name = "spaces"

urlpatterns = [
    path("bookings/", views.index, name="index"),
]
