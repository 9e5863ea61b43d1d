from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.start, name="start"),
    path("sign-in/<str:token>/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("sign-in-with-password/", views.password_sign_in, name="password_sign_in"),
    path("password/", views.password, name="password"),
    path("documents/", views.home, name="home"),
    path("documents/all/", views.document_list, name="document_list"),
    path("quotes/", views.quote_list, name="quote_list"),
    path("quotes/<int:pk>/pdf/", views.quote_pdf, name="quote_pdf"),
    path("documents/<int:pk>/", views.document_detail, name="document_detail"),
    path("documents/<int:pk>/pdf/", views.document_pdf, name="document_pdf"),
    path("documents/<int:pk>/ubl/", views.document_ubl, name="document_ubl"),
    path("documents/<int:pk>/question/", views.document_question, name="document_question"),
    path("questions/<int:pk>/answered/", views.question_answered, name="question_answered"),
]
