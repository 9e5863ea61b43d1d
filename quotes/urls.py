from django.urls import path

from quotes import views

app_name = "quotes"

urlpatterns = [
    path("quotes/", views.quote_list, name="quote_list"),
    path("quotes/new/", views.quote_create, name="quote_create"),
    path("quotes/preview/", views.quote_preview, name="quote_preview"),
    path("quotes/<int:pk>/", views.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/edit/", views.quote_edit, name="quote_edit"),
    path("quotes/<int:pk>/delete/", views.quote_delete, name="quote_delete"),
    path("quotes/<int:pk>/send/", views.quote_send, name="quote_send"),
    path("quotes/<int:pk>/resend/", views.quote_resend, name="quote_resend"),
    path("quotes/<int:pk>/revoke/", views.quote_revoke, name="quote_revoke"),
    path("quotes/<int:pk>/new-version/", views.quote_new_version, name="quote_new_version"),
    path("quotes/<int:pk>/v<int:version>.pdf", views.quote_pdf, name="quote_pdf"),
    path("q/<str:token>/", views.quote_public, name="public"),
    path("q/<str:token>/pdf/", views.quote_public_pdf, name="public_pdf"),
]
