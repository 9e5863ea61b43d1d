from django.urls import path

from checkout import views

app_name = "checkout"

urlpatterns = [
    path("pay/<str:token>/", views.pay, name="pay"),
    path("pay/<str:token>/online/", views.pay_online, name="pay_online"),
    path("pay/<str:token>/return/<uuid:reference>/", views.pay_return, name="pay_return"),
    path("checkout/webhook/<slug:provider>/", views.webhook, name="webhook"),
    path(
        "checkout/simulated/<str:payment_id>/",
        views.simulated_checkout,
        name="simulated",
    ),
]
