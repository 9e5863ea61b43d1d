"""The staff admin stays usable at the cooperative's size (100,000 members, millions of
invoices): no form, inline or list filter loads a big table into a widget, and no changelist of
a big table counts it in full. The admin classes are inspected, not rendered with big data."""

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.filters import EmptyFieldListFilter, SimpleListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.widgets import (
    AutocompleteMixin,
    ForeignKeyRawIdWidget,
    RelatedFieldWidgetWrapper,
)
from django.contrib.auth import get_user_model
from django.contrib.postgres.indexes import GinIndex
from django.test import RequestFactory

from audit.admin import CappedCountPaginator

# Tables that grow with the members, their invoices, contracts and bookings.
BIG_MODEL_NAMES = [
    "members.Member",
    "members.MembershipEvent",
    "members.ShareSubscription",
    "members.Activity",
    "members.LedgerEntry",
    "members.ApiToken",
    "invoicing.Client",
    "invoicing.Buyer",
    "invoicing.Invoice",
    "invoicing.InvoiceLine",
    "invoicing.InvoiceAllowanceCharge",
    "invoicing.Dispatch",
    "invoicing.BankStatementLine",
    "invoicing.Payment",
    "invoicing.Reminder",
    "invoicing.Refund",
    "contracts.TaxProfile",
    "contracts.Contract",
    "contracts.ContractWorker",
    "contracts.WorkDay",
    "contracts.ContractAttachment",
    "contracts.ContractEvent",
    "contracts.DimonaDeclaration",
    "contracts.Payslip",
    "contracts.ExpenseClaim",
    "contracts.ExpenseReceipt",
    "spaces.BookingSeries",
    "spaces.Booking",
    "spaces.BookingEvent",
    "spaces.Lease",
    "spaces.LeaseCharge",
    "spaces.FeedToken",
    "audit.AuditEvent",
    "audit.DataExport",
]


def big_models():
    return {get_user_model(), *(apps.get_model(name) for name in BIG_MODEL_NAMES)}


def is_big(model):
    return model._meta.concrete_model in big_models()


def loads_every_row(widget):
    """A select (or multiple select) of every row, unlike a raw id box or an autocomplete."""
    if isinstance(widget, RelatedFieldWidgetWrapper):
        widget = widget.widget
    if isinstance(widget, (ForeignKeyRawIdWidget, AutocompleteMixin)):
        return False
    return isinstance(widget, forms.Select | forms.SelectMultiple)


def form_offenders(where, form_class):
    return [
        f"{where}: field {name!r} lists every {field.queryset.model._meta.object_name}"
        for name, field in form_class.base_fields.items()
        if isinstance(field, forms.ModelChoiceField)
        and is_big(field.queryset.model)
        and loads_every_row(field.widget)
    ]


def list_filter_offenders(where, model, list_filter):
    offenders = []
    for entry in list_filter:
        if isinstance(entry, type) and issubclass(entry, SimpleListFilter):
            continue
        path, filter_class = entry if isinstance(entry, tuple) else (entry, None)
        if isinstance(filter_class, type) and issubclass(filter_class, EmptyFieldListFilter):
            continue
        if not isinstance(path, str):
            continue
        field = get_fields_from_path(model, path)[-1]
        if field.is_relation and is_big(field.related_model):
            offenders.append(f"{where}: list_filter {path!r} lists every row of a big table")
    return offenders


def staff_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def admin_offenders(user):
    offenders = []
    request = staff_request(user)
    for model, model_admin in admin.site._registry.items():
        where = type(model_admin).__name__
        if is_big(model) and model_admin.show_full_result_count:
            offenders.append(f"{where}: counts the whole table (show_full_result_count)")
        if is_big(model) and not issubclass(model_admin.paginator, CappedCountPaginator):
            offenders.append(f"{where}: its paginator counts the whole table")
        offenders += list_filter_offenders(where, model, model_admin.get_list_filter(request))
        pages = []
        # Without the change permission the change page shows values, not widgets.
        if model_admin.has_change_permission(request, model()):
            pages.append(("change form", model()))
        if model_admin.has_add_permission(request):
            pages.append(("add form", None))
        for page, obj in pages:
            form_class = model_admin.get_form(request, obj)
            offenders += form_offenders(f"{where} {page}", form_class)
            for inline in model_admin.get_inline_instances(request, obj):
                formset = inline.get_formset(request, obj)
                inline_name = type(inline).__name__
                offenders += form_offenders(f"{where} {page} {inline_name}", formset.form)
    return sorted(set(offenders))


def test_no_admin_loads_or_counts_a_big_table(db):
    staff = get_user_model().objects.create_superuser(email="scale@example.org", password="x")

    offenders = admin_offenders(staff)
    assert offenders == [], "\n".join(offenders)


def test_the_walk_catches_a_select_a_filter_and_a_full_count(db):
    """The checks themselves find what they look for."""

    class LoadsEverything(admin.ModelAdmin):
        list_filter = ["user"]

    member_model = apps.get_model("members.Member")
    model_admin = LoadsEverything(member_model, admin.site)
    staff = get_user_model().objects.create_superuser(email="scale@example.org", password="x")
    request = staff_request(staff)

    form = model_admin.get_form(request, None, fields=["user", "legal_name"])
    assert form_offenders("LoadsEverything", form) == [
        "LoadsEverything: field 'user' lists every User"
    ]
    assert list_filter_offenders("LoadsEverything", member_model, ["user", "status"]) == [
        "LoadsEverything: list_filter 'user' lists every row of a big table"
    ]
    assert model_admin.show_full_result_count
    assert not issubclass(model_admin.paginator, CappedCountPaginator)


def test_names_staff_search_by_part_have_a_trigram_index():
    """A search for a part of a name (icontains) reads a trigram index, not every row."""
    searched = set()
    for model, model_admin in admin.site._registry.items():
        for search_field in model_admin.search_fields:
            if search_field[0] not in "^=@":
                field = get_fields_from_path(model, search_field)[-1]
                searched.add((field.model._meta.label, field.name))

    for label, name in [
        ("members.Member", "legal_name"),
        ("members.Activity", "name"),
        ("invoicing.Client", "name"),
    ]:
        assert (label, name) in searched
        assert any(
            isinstance(index, GinIndex)
            and index.fields == [name]
            and index.opclasses == ["gin_trgm_ops"]
            for index in apps.get_model(label)._meta.indexes
        ), (label, name)
