"""The site's URLs: browser pages, admin, accounts, API and health check."""

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from coop import views
from invoicing.admin import guarantee_fund_view
from members.views import switch_language

# Staff sign in through allauth, so the admin gets rate limiting and two-factor authentication.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = settings.COOP_NAME
admin.site.site_title = settings.COOP_NAME

handler404 = "coop.views.page_not_found"
handler500 = "coop.views.server_error"

urlpatterns = [
    path("", include("members.urls")),
    path("", include("audit.urls")),
    path("accounts/", include("allauth.urls")),
    path(
        "admin/invoicing/guarantee-fund/",
        admin.site.admin_view(guarantee_fund_view),
        name="guarantee_fund",
    ),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", switch_language, name="set_language"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("api/v1/", include("coop.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("invoices/", include("invoicing.urls")),
    path("portal/", include("portal.urls")),
    path("", include("quotes.urls")),
    path("", include("quotes.order_urls")),
    path("", include("contracts.urls")),
    path("", include("taxforms.urls")),
    path("", include("declarations.urls")),
    path("", include("copyrights.urls")),
    path("", include("spaces.urls")),
    path("", include("checkout.urls")),
]
