"""Version 1 of the REST API."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from checkout import api as checkout_api
from contracts import api as contracts_api
from copyrights import api as copyrights_api
from invoicing import api as invoicing_api
from invoicing import recurring_api
from members import api as members_api
from portal import api as portal_api
from quotes import api as quotes_api
from quotes import order_api
from spaces import api as spaces_api

app_name = "api"

router = SimpleRouter()
router.register("clients", invoicing_api.ClientViewSet, basename="client")
router.register("invoices", invoicing_api.InvoiceViewSet, basename="invoice")
router.register(
    "recurring-invoices", recurring_api.RecurringInvoiceViewSet, basename="recurring-invoice"
)
router.register("tokens", members_api.ApiTokenViewSet, basename="api-token")
contracts_api.register(router)
copyrights_api.register(router)
spaces_api.register(router)
quotes_api.register(router)
order_api.register(router)

urlpatterns = [
    path("me", members_api.MeView.as_view(), name="me"),
    path("activities/", members_api.ActivityList.as_view(), name="activity-list"),
    path("activities/<int:pk>/", members_api.ActivityDetail.as_view(), name="activity-detail"),
    path(
        "activities/<int:pk>/ledger/",
        members_api.ActivityLedger.as_view(),
        name="activity-ledger",
    ),
    path(
        "invoices/<int:pk>/online-payments/",
        checkout_api.InvoiceOnlinePayments.as_view(),
        name="invoice-online-payments",
    ),
    path("portal/documents/", portal_api.PortalDocumentList.as_view(), name="portal-documents"),
    path(
        "portal/documents/<int:pk>/",
        portal_api.PortalDocumentDetail.as_view(),
        name="portal-document-detail",
    ),
    *router.urls,
]
