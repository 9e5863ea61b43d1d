from django.urls import path

from contracts import statement_views, views

app_name = "contracts"

urlpatterns = [
    path("contracts/", views.index, name="index"),
    path("contracts/new/", views.contract_create, name="create"),
    path("contracts/simulator/", views.simulator, name="simulator"),
    path("contracts/<int:pk>/", views.contract_detail, name="detail"),
    path("contracts/<int:pk>/edit/", views.contract_edit, name="edit"),
    path("contracts/<int:pk>/submit/", views.contract_submit, name="submit"),
    path("contracts/<int:pk>/cancel/", views.contract_cancel, name="cancel"),
    path("contracts/<int:pk>/invoice/", views.contract_invoice, name="invoice"),
    path("contracts/<int:pk>/attachments/", views.attachment_add, name="attachment-add"),
    path("contracts/attachments/<int:pk>/", views.attachment_download, name="attachment-download"),
    path("payslips/", views.payslips, name="payslips"),
    path("payslips/expenses/", views.expense_claims, name="expenses"),
    path("payslips/expenses/<int:pk>/", views.expense_claim_detail, name="expense-claim"),
    path(
        "payslips/expenses/<int:pk>/submit/",
        views.expense_claim_submit,
        name="expense-claim-submit",
    ),
    path(
        "payslips/expenses/<int:pk>/delete/",
        views.expense_claim_delete,
        name="expense-claim-delete",
    ),
    path(
        "payslips/expenses/receipts/<int:pk>/",
        views.expense_receipt_download,
        name="expense-receipt-download",
    ),
    path(
        "payslips/expenses/receipts/<int:pk>/remove/",
        views.expense_receipt_remove,
        name="expense-receipt-remove",
    ),
    path("payslips/<int:pk>/pdf/", views.payslip_download, name="payslip-download"),
    path("payslips/work-statement/", statement_views.statement, name="work-statement"),
    path("payslips/work-statement/pdf/", statement_views.statement_pdf, name="work-statement-pdf"),
    path("payslips/c4/<int:pk>/pdf/", statement_views.c4_pdf, name="c4-pdf"),
    path("payslips/c4/<int:pk>/data/", statement_views.c4_json, name="c4-data"),
    path("payslips/expenses/allowance/", statement_views.allowance_claim, name="allowance"),
]
