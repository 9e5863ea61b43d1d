"""The site's URLs: browser pages, admin, accounts, API and health check."""

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from coop import views
from invoicing.admin import guarantee_fund_view
from members.views import switch_language

# Staff sign in through allauth, so the admin gets rate limiting and two-factor authentication.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = settings.COOP_NAME
admin.site.site_title = settings.COOP_NAME


def upcoming(name: str):
    """A navigation entry whose module is not installed yet: an honest empty page."""
    view = TemplateView.as_view(template_name="upcoming.html", extra_context={"section": name})
    return path(f"{name}/", login_required(view), name=name)


urlpatterns = [
    path("", include("members.urls")),
    path("accounts/", include("allauth.urls")),
    path(
        "admin/invoicing/guarantee-fund/",
        admin.site.admin_view(guarantee_fund_view),
        name="guarantee_fund",
    ),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", switch_language, name="set_language"),
    path("healthz", views.healthz, name="healthz"),
    path("api/v1/", include("coop.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("invoices/", include("invoicing.urls")),
    upcoming("contracts"),
    upcoming("payslips"),
    upcoming("bookings"),
]
