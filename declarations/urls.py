from django.urls import path

from declarations import views

app_name = "declarations"

urlpatterns = [
    path("payslips/accounts/", views.accounts, name="accounts"),
    path("payslips/accounts/pdf/", views.account_download, name="account-download"),
]
