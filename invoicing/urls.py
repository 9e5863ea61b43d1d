from django.urls import path

from invoicing import recurring_views, views

app_name = "invoicing"

urlpatterns = [
    path("", views.invoice_list, name="invoice_list"),
    path("new/", views.invoice_create, name="invoice_create"),
    path("preview/", views.invoice_preview, name="invoice_preview"),
    path("<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("<int:pk>/edit/", views.invoice_edit, name="invoice_edit"),
    path("<int:pk>/delete/", views.invoice_delete, name="invoice_delete"),
    path("<int:pk>/submit/", views.invoice_submit, name="invoice_submit"),
    path("<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("<int:pk>/ubl/", views.invoice_ubl, name="invoice_ubl"),
    path("<int:pk>/resend/", views.invoice_resend, name="invoice_resend"),
    path("<int:pk>/credit-note/", views.invoice_credit, name="invoice_credit"),
    path("recurring/", recurring_views.recurring_list, name="recurring_list"),
    path("recurring/new/", recurring_views.recurring_create, name="recurring_create"),
    path("recurring/<int:pk>/", recurring_views.recurring_detail, name="recurring_detail"),
    path("recurring/<int:pk>/edit/", recurring_views.recurring_edit, name="recurring_edit"),
    path("recurring/<int:pk>/pause/", recurring_views.recurring_pause, name="recurring_pause"),
    path("recurring/<int:pk>/resume/", recurring_views.recurring_resume, name="recurring_resume"),
    path("recurring/<int:pk>/end/", recurring_views.recurring_end, name="recurring_end"),
    path("clients/", views.client_list, name="client_list"),
    path("clients/new/", views.client_create, name="client_create"),
    path("clients/<int:pk>/edit/", views.client_edit, name="client_edit"),
]
