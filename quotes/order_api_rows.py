"""The order API list's first page written without DRF's serializers: OrderSerializer's output,
faster.

Through DRF the page's orders are read by a queryset built and compiled on every request, their
invoices by a prefetch, and each serializer builds its fields anew (two of them, nested) before
asking each field for its source and format. Here the first page (the one most asked for) and
its orders' invoices are read by queries compiled once per process (coop.compiled), and each
value is written by the very field OrderSerializer declares for it, into the same JSON
(tests/quotes/test_order_api_rows.py compares both). OrderSerializer still describes the
answers in the API schema, writes later pages and remains the reference.
"""

import functools
from collections import defaultdict

from rest_framework import serializers
from rest_framework.reverse import reverse

from coop.compiled import AnyOf, Array, CompiledInstances
from coop.keyset import KeysetPage, page_of_rows
from members.models import User
from quotes import orders, selectors
from quotes.models import OrderInvoice, Quote

_ORDERS = CompiledInstances(
    Quote,
    lambda shape, *, user: (
        selectors.quotes_visible_to(User(pk=user, is_staff=shape[0]))
        .filter(ordered_version__isnull=False)
        .select_related("ordered_version")
        .defer("ordered_version__snapshot", "ordered_version__signature")
        .order_by(*selectors.QUOTE_KEYSET.ordering())[: shape[1] + 1]
    ),
    user=int,
)

_INVOICES = CompiledInstances(
    OrderInvoice,
    lambda _shape, *, quotes: (
        OrderInvoice.objects.filter(AnyOf("quote_id", quotes))
        .select_related("invoice")
        .only(*orders.ORDER_INVOICE_FIELDS)
        .order_by("created_at", "pk")
    ),
    quotes=Array,
)

# A stand-in id for the invoice's address, written once per answer and replaced by each id.
_STAND_IN = 918_273_645


@functools.cache
def _writers() -> tuple[serializers.Serializer, list, list]:
    """OrderSerializer (for its method fields), and per serializer of the answer each field's
    name, the attributes its source follows and the field, in the serializer's order."""
    from quotes.order_api import OrderInvoiceSerializer, OrderSerializer

    def fields(serializer: serializers.Serializer) -> list:
        return [(name, field.source_attrs, field) for name, field in serializer.fields.items()]

    order = OrderSerializer()
    return order, fields(order), fields(OrderInvoiceSerializer())


def _write(writers: list, instance, urls: tuple[str, str], nested=None, methods=None) -> dict:
    """Each field's value as DRF writes it: None stays None, a related row is its key (or its
    address), a method field is the serializer's method's answer, a nested list ``nested``."""
    answer = {}
    for name, attributes, field in writers:
        if isinstance(field, serializers.SerializerMethodField):
            answer[name] = getattr(methods, field.method_name)(instance)
            continue
        if isinstance(field, serializers.BaseSerializer):
            answer[name] = nested
            continue
        if isinstance(field, serializers.RelatedField):
            # DRF reads only the key of a related row.
            *path, last = attributes
            value = instance
            for attribute in path:
                value = getattr(value, attribute)
            value = getattr(value, f"{last}_id")
            if value is None:
                answer[name] = None
            elif isinstance(field, serializers.HyperlinkedRelatedField):
                answer[name] = f"{urls[0]}{value}{urls[1]}"
            else:
                answer[name] = value
            continue
        value = instance
        for attribute in attributes:
            value = getattr(value, attribute)
        answer[name] = None if value is None else field.to_representation(value)
    return answer


def represent(quotes: list[Quote], request) -> list[dict]:
    """OrderSerializer's representation of each order read by ``first_page``."""
    if not quotes:
        return []
    serializer, order_writers, invoice_writers = _writers()
    invoices_of: dict[int, list[OrderInvoice]] = defaultdict(list)
    for row in _INVOICES.instances(quotes=[quote.pk for quote in quotes]):
        invoices_of[row.quote_id].append(row)
    # The invoice's address as HyperlinkedRelatedField writes it, around the invoice's id.
    url = reverse("api:invoice-detail", kwargs={"pk": _STAND_IN}, request=request)
    before, _stand_in, after = url.rpartition(str(_STAND_IN))
    answers = []
    for quote in quotes:
        invoices = invoices_of[quote.pk]
        # What OrderSerializer's method fields read (see its _figures).
        quote._order_figures = orders.order_figures(quote, invoices)
        nested = [_write(invoice_writers, row, (before, after)) for row in invoices]
        answers.append(_write(order_writers, quote, (before, after), nested, serializer))
    return answers


def first_page(user: User, *, size: int) -> KeysetPage:
    """The first page of the user's orders, newest first: ``KeysetPagination``'s, read by its
    query compiled once."""
    rows = _ORDERS.instances((user.is_staff, size), user=user.pk)
    return page_of_rows(rows, selectors.QUOTE_KEYSET, size=size)
