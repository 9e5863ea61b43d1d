from django.urls import path

from contracts import views

app_name = "contracts"

urlpatterns = [
    path("contracts/", views.index, name="index"),
    path("payslips/", views.payslips, name="payslips"),
]
