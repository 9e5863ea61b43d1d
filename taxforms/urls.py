from django.urls import path

from taxforms import views

app_name = "taxforms"

urlpatterns = [
    path("payslips/tax-certificates/", views.certificates, name="certificates"),
    path(
        "payslips/tax-certificates/<int:pk>/pdf/",
        views.certificate_download,
        name="certificate-download",
    ),
]
