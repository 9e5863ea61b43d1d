"""Browser forms of invoicing: they check the shape of input; services check the rules."""

import datetime
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import cast

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from coop import bounds
from coop.compiled import CompiledQuery
from coop.forms import Form, ListedChoices, ModelChoiceField
from coop.widgets import FORM_RENDERER, LanguageCachedSelect
from invoicing import vat
from invoicing.calculation import VatCategory
from invoicing.countries import COUNTRY_CODES, country_choices
from invoicing.models import Client, Invoice, InvoiceLine, RecurringInvoice
from invoicing.selectors import clients_visible_to
from invoicing.services.credit import CreditLineInput
from invoicing.services.drafts import AllowanceChargeInput, LineInput, line_input_of
from members.models import Activity, Language, Member, User

VAT_RATE_CHOICES = [
    ("21.00", "21 %"),
    ("12.00", "12 %"),
    ("6.00", "6 %"),
    ("0.00", "0 %"),
]
# A line row whose three key cells are empty is a spare row, not a line.
LINE_KEY_FIELDS = ("description", "quantity", "unit_price")
LINES_PREFIX = "lines"
ADJUSTMENTS_PREFIX = "adjustments"
EXTRA_LINES = 3


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _supply_day_field(label, help_text) -> forms.DateField:
    """An optional day of the supply: its date, or the first or last day of its period."""
    return forms.DateField(
        label=label,
        required=False,
        widget=_date_input(),
        validators=[bounds.date_validator(bounds.check_supply_date)],
        help_text=help_text,
    )


def _vat_category_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("VAT category"),
        choices=InvoiceLine.VatCategoryChoice.choices,
        initial=VatCategory.STANDARD,
        widget=LanguageCachedSelect,
    )


def _rate(value: str) -> Decimal:
    """Read a posted VAT rate; anything but a number is no valid choice (never a crash)."""
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError) as error:
        raise ValueError(value) from error


def _vat_rate_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=_("VAT rate"),
        choices=VAT_RATE_CHOICES,
        coerce=_rate,
        initial="21.00",
        widget=LanguageCachedSelect,
    )


def _decimal_input(size: int) -> forms.TextInput:
    # A text box, not type="number": Belgian members type "19,99" and browsers differ on it.
    return forms.TextInput(attrs={"inputmode": "decimal", "size": size, "autocomplete": "off"})


class CountryField(forms.ChoiceField):
    """A client's country, from the list of every country named in the reader's language."""

    widget = LanguageCachedSelect
    codes = frozenset(COUNTRY_CODES)

    def __init__(self, **kwargs):
        super().__init__(choices=country_choices, **kwargs)

    def valid_value(self, value) -> bool:
        return value in self.codes


def invoicing_activities(user: User):
    """The Activities a user may invoice for: theirs (staff: all), run by an active member.

    A select shows their names, and the service checks the chosen one again: no balances.
    """
    activities = Activity.objects.all() if user.is_staff else Activity.objects.of_user(user)
    return activities.filter(owner__status=Member.Status.ACTIVE).only("name")


class ClientForm(Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Client.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    street = forms.CharField(label=_("Street and number"), max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), max_length=16)
    city = forms.CharField(label=_("City"), max_length=100)
    country = CountryField(label=_("Country"), initial="BE")
    email = forms.EmailField(
        label=_("E-mail for invoices"),
        help_text=_("Invoices and reminders are sent to this address."),
    )
    language = forms.ChoiceField(
        label=_("Language of the invoices"), choices=Language.choices, initial=Language.FRENCH
    )
    vat_number = forms.CharField(
        label=_("VAT number"),
        max_length=32,
        required=False,
        help_text=_(
            "For a company, with its country prefix: BE0403019261, CHE-116.281.710 MWST. "
            "Numbers of the EU and of countries with a known scheme are checked."
        ),
    )
    peppol_id = forms.CharField(
        label=_("Peppol id"),
        max_length=64,
        required=False,
        help_text=_("Optional: Belgian companies are found from their VAT number."),
    )
    gln = forms.CharField(
        label=_("GLN"),
        max_length=32,
        required=False,
        help_text=_("Optional: the client's GS1 Global Location Number (13 digits)."),
    )
    payment_terms_days = forms.IntegerField(
        label=_("Payment terms (days)"), min_value=0, max_value=120, initial=30
    )

    @classmethod
    def initial_from(cls, client: Client) -> dict:
        return {name: getattr(client, name) for name in cls.base_fields}


class ClientEditForm(ClientForm):
    """The kind of a client is settled when it is added."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["kind"]


class ClientLookupForm(Form):
    """A VAT number whose public identification prefills a new client."""

    vat_number = forms.CharField(label=_("VAT number"), max_length=32)
    country = CountryField(label=_("Country"), initial="BE")


class ClientSearchForm(Form):
    q = forms.CharField(label=_("Name or VAT number"), required=False, max_length=100)


# The selects of a member's new draft, read by queries compiled once per process.
_ACTIVITY_CHOICES = CompiledQuery(
    Activity,
    lambda _shape, user: invoicing_activities(User(pk=user)).values("pk", "name"),
    user=int,
)
_CLIENT_CHOICES = CompiledQuery(
    Client,
    lambda _shape, user: (
        clients_visible_to(User(pk=user)).order_by("name", "pk").values("pk", "name", "vat_number")
    ),
    user=int,
)


# A draft's client select: the member's clients and the one its author chose.
_DRAFT_CLIENT_CHOICES = CompiledQuery(
    Client,
    lambda _shape, user, client: (
        (clients_visible_to(User(pk=user)) | Client.objects.filter(pk=client))
        .order_by("name", "pk")
        .values("pk", "name", "vat_number")
    ),
    user=int,
    client=int,
)


def activity_choice_rows(user: User) -> list[dict]:
    """The ``pk`` and ``name`` of the Activities a member may invoice for, as
    ``invoicing_activities`` lists them, by a query compiled once per process."""
    return _ACTIVITY_CHOICES.rows(user=user.pk)


def client_choice_rows(user: User, client: int | None = None) -> list[dict]:
    """The ``pk``, ``name`` and ``vat_number`` of a member's clients by name, and of the
    ``client`` a draft names, by queries compiled once per process."""
    if client is None:
        return _CLIENT_CHOICES.rows(user=user.pk)
    return _DRAFT_CLIENT_CHOICES.rows(user=user.pk, client=client)


def list_member_choices(
    activity_field: ModelChoiceField,
    client_field: ModelChoiceField,
    user: User,
    client: int | None = None,
    *,
    client_label: Callable[[dict], str] = lambda row: row["name"],
) -> None:
    """List a member's Activities and clients (and the ``client`` a draft names) in a form's
    selects, from ``activity_choice_rows`` and ``client_choice_rows``."""
    activity_field.widget.choices = ListedChoices(
        [(row["pk"], row["name"]) for row in activity_choice_rows(user)]
    )
    client_field.widget.choices = ListedChoices(
        [
            ("", client_field.empty_label),
            *((row["pk"], client_label(row)) for row in client_choice_rows(user, client)),
        ]
    )


class DraftForm(Form):
    activity = ModelChoiceField(
        label=_("Activity"), queryset=Activity.objects.none(), empty_label=None
    )
    client = ModelChoiceField(
        label=_("Client"), queryset=Client.objects.none(), empty_label=_("Choose a client")
    )
    buyer_reference = forms.CharField(
        label=_("Buyer reference"),
        max_length=bounds.BUYER_REFERENCE_MAX_LENGTH,
        required=False,
        help_text=_(
            "The reference your client asked you to put on the invoice, if any. Clients "
            "reached on Peppol need this or a purchase order number."
        ),
    )
    order_reference = forms.CharField(
        label=_("Purchase order"),
        max_length=bounds.BUYER_REFERENCE_MAX_LENGTH,
        required=False,
        help_text=_("The number of your client's purchase order, if they sent you one."),
    )
    supply_date = _supply_day_field(
        _("Date of supply"),
        _("When the work was done, if not today. Invoice by the 15th of the next month."),
    )
    period_start = _supply_day_field(
        _("Period of service from"),
        _("For work over several days, instead of a date of supply: the first day."),
    )
    period_end = _supply_day_field(_("Period of service until"), _("The last day of the period."))
    due_date = forms.DateField(
        label=_("Due date"),
        required=False,
        widget=_date_input(),
        validators=[bounds.date_validator(bounds.check_draft_due_date)],
        help_text=_("Leave empty to apply the client's payment terms."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=bounds.NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Printed on the invoice."),
    )

    def __init__(self, *args, user: User, invoice: Invoice | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The querysets validate a choice (and list staff's): a member's form to fill in has
        # nothing to validate, and lists the same rows below.
        if self.is_bound or user.is_staff:
            self._choose_from(user, invoice)
        if not user.is_staff:
            # The same rows as the querysets (which validate the choice).
            list_member_choices(
                self.activity_field,
                self.client_field,
                user,
                invoice.client_id if invoice else None,
                client_label=lambda row: _client_text(row["name"], row["vat_number"]),
            )

    def _choose_from(self, user: User, invoice: Invoice | None) -> None:
        activities = invoicing_activities(user)
        clients = clients_visible_to(user)
        if user.is_staff:
            # On these pages staff invoice as members, from their own Activities and clients
            # (others' are the admin's business): never a select of every row in the database.
            activities = activities.of_user(user)
            clients = clients.filter(owner=user)
            if invoice is not None:
                activities = activities | invoicing_activities(user).filter(pk=invoice.activity_id)
        self.activity_field.queryset = activities
        if invoice is not None:
            # A co-member's draft keeps the client its author chose.
            clients = clients | Client.objects.filter(pk=invoice.client_id)
        self.client_field.queryset = clients.order_by("name", "pk")
        self.client_field.label_from_instance = _client_label

    @property
    def activity_field(self) -> ModelChoiceField:
        return cast(ModelChoiceField, self.fields["activity"])

    @property
    def client_field(self) -> ModelChoiceField:
        return cast(ModelChoiceField, self.fields["client"])

    def has_activities(self) -> bool:
        return self.activity_field.has_rows()

    def has_clients(self) -> bool:
        return self.client_field.has_rows()


def parse_percent_or_amount(text: str) -> tuple[Decimal | None, Decimal | None]:
    """Read "10 %" as a percentage and "25,00" as an amount; return (percent, amount).

    Raise ValidationError for anything else. The service checks the ranges.
    """
    text = (text or "").strip()
    if not text:
        return None, None
    is_percent = text.endswith("%")
    number = text.rstrip("%").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = Decimal(number)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise forms.ValidationError(
            gettext("Type a percentage such as 10 %% or an amount such as 25,00.") % {},
            code="invalid",
        )
    return (value, None) if is_percent else (None, value)


class PercentOrAmountField(forms.CharField):
    """A discount or charge typed as "10 %" or as an amount in euros."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", _decimal_input(7))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        parse_percent_or_amount(value)
        return value


def _client_text(name: str, vat_number: str) -> str:
    return f"{name} ({vat_number})" if vat_number else name


def _client_label(client: Client) -> str:
    return _client_text(client.name, client.vat_number)


class LineForm(Form):
    """One row of the lines table; a row left empty is ignored."""

    description = forms.CharField(
        label=_("Description"), max_length=bounds.LINE_DESCRIPTION_MAX_LENGTH, required=False
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=10,
        decimal_places=2,
        required=False,
        localize=True,
        widget=_decimal_input(6),
    )
    # The selects of a line have fixed options: their markup is written once per language.
    unit = forms.ChoiceField(
        label=_("Unit"),
        choices=InvoiceLine.Unit.choices,
        initial=InvoiceLine.Unit.HOUR,
        widget=LanguageCachedSelect,
    )
    unit_price = forms.DecimalField(
        label=_("Unit price excl. VAT"),
        max_digits=12,
        decimal_places=2,
        required=False,
        localize=True,
        widget=_decimal_input(9),
    )
    supply_kind = forms.ChoiceField(
        label=_("Goods or services"),
        choices=InvoiceLine.SupplyKindChoice.choices,
        initial=vat.SupplyKind.SERVICES,
        # Members mostly sell services: a row posted without the choice is one.
        required=False,
        widget=LanguageCachedSelect,
    )
    vat_category = forms.ChoiceField(
        label=_("VAT category"),
        choices=InvoiceLine.VatCategoryChoice.choices,
        initial=VatCategory.STANDARD,
    )
    vat_rate = _vat_rate_field()
    exemption_reason = forms.CharField(
        label=_("Exemption reason"),
        max_length=255,
        required=False,
        help_text=_(
            "Only for an exemption (E): its legal basis, such as art. 44 §2 8° of the VAT Code. "
            "Reverse charge, intra-EU supplies, exports and out-of-scope lines get the law's "
            "mention."
        ),
    )
    exemption_code = forms.ChoiceField(
        label=_("Exemption code"),
        choices=[("", "—"), *((code, code) for code in vat.EXEMPTION_CODES)],
        required=False,
        widget=LanguageCachedSelect,
    )
    discount = PercentOrAmountField(label=_("Discount"))
    discount_reason = forms.CharField(
        label=_("Reason for the discount"), max_length=255, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["discount"].help_text = (
            gettext("A percentage (10 %%) or an amount excl. VAT (25,00).") % {}
        )

    def is_blank(self) -> bool:
        return not any(str(self[name].value() or "").strip() for name in LINE_KEY_FIELDS)

    def clean(self):
        cleaned = super().clean()
        if not self.is_blank():
            for name in LINE_KEY_FIELDS:
                if cleaned.get(name) in (None, "") and name not in self.errors:
                    self.add_error(name, self.fields[name].error_messages["required"])
        return cleaned

    def counts(self) -> bool:
        """Tell whether this row is a valid line to invoice (not empty, not removed)."""
        return self.is_valid() and not self.cleaned_data.get("DELETE") and not self.is_blank()

    def line_input(self) -> LineInput:
        data = self.cleaned_data
        percent, amount = parse_percent_or_amount(data.get("discount", ""))
        return LineInput(
            description=data["description"],
            quantity=data["quantity"],
            unit=data["unit"],
            unit_price=data["unit_price"],
            vat_category=data["vat_category"],
            vat_rate=data["vat_rate"],
            exemption_reason=data["exemption_reason"],
            supply_kind=data["supply_kind"] or vat.SupplyKind.SERVICES,
            exemption_code=data["exemption_code"],
            allowance_percent=percent,
            allowance_amount=amount,
            allowance_reason=data.get("discount_reason", ""),
        )


class BaseLineFormSet(forms.BaseFormSet):
    def line_inputs(self) -> list[LineInput]:
        """The lines to invoice, in the order of the rows."""
        return [form.line_input() for form in self.forms if form.counts()]

    def has_incomplete_rows(self) -> bool:
        return any(
            not form.is_valid() and not form.cleaned_data.get("DELETE") for form in self.forms
        )

    def rows_as_initial(self) -> list[dict]:
        """The rows as typed, without the removed ones, to show them again unvalidated."""
        rows = []
        for form in self.forms:
            if form["DELETE"].value():
                continue
            rows.append({name: form[name].value() for name in LineForm.base_fields})
        return rows


LineFormSet = forms.formset_factory(
    LineForm,
    formset=BaseLineFormSet,
    renderer=FORM_RENDERER,
    extra=EXTRA_LINES,
    can_delete=True,
    max_num=200,
    absolute_max=200,
)


def line_formset(data=None, *, initial=None, extra: int = EXTRA_LINES) -> BaseLineFormSet:
    """Return the lines formset; ``extra`` empty rows follow the given ones."""
    formset = cast(BaseLineFormSet, LineFormSet(data, initial=initial, prefix=LINES_PREFIX))
    formset.extra = extra
    return formset


def percent_or_amount_text(percent: Decimal | None, amount: Decimal | None) -> str:
    """Show a stored discount or charge the way a member types it."""
    if percent is not None:
        return f"{percent.normalize():f} %".replace(".", ",")
    if amount:
        return f"{amount:.2f}".replace(".", ",")
    return ""


def initial_lines(lines) -> list[dict]:
    """The rows of a draft's line forms, from its saved lines."""
    rows = []
    for line in lines:
        row = asdict(line_input_of(line))
        row["vat_rate"] = f"{line.vat_rate:.2f}"
        row["discount"] = percent_or_amount_text(line.allowance_percent, line.allowance_amount)
        row["discount_reason"] = line.allowance_reason
        rows.append(row)
    return rows


class AllowanceChargeForm(Form):
    """A discount or charge on the whole invoice; a row without a value is ignored."""

    is_charge = forms.TypedChoiceField(
        label=_("Kind"),
        choices=[("0", _("Discount")), ("1", _("Charge"))],
        coerce=lambda value: value == "1",
        initial="0",
        widget=LanguageCachedSelect,
    )
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)
    value = PercentOrAmountField(label=_("Percentage or amount"))
    vat_category = _vat_category_field()
    vat_rate = _vat_rate_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"].help_text = (
            gettext("10 %% of the lines at this VAT rate, or 25,00 excl. VAT.") % {}
        )

    def is_blank(self) -> bool:
        return not any(str(self[name].value() or "").strip() for name in ("reason", "value"))

    def counts(self) -> bool:
        return self.is_valid() and not self.cleaned_data.get("DELETE") and not self.is_blank()

    def allowance_charge_input(self) -> AllowanceChargeInput:
        data = self.cleaned_data
        percent, amount = parse_percent_or_amount(data["value"])
        return AllowanceChargeInput(
            is_charge=data["is_charge"],
            reason=data["reason"],
            vat_category=data["vat_category"],
            vat_rate=data["vat_rate"],
            percent=percent,
            amount=amount,
        )


class BaseAllowanceChargeFormSet(forms.BaseFormSet):
    def allowance_charge_inputs(self) -> list[AllowanceChargeInput]:
        return [form.allowance_charge_input() for form in self.forms if form.counts()]

    def rows_as_initial(self) -> list[dict]:
        return [
            {name: form[name].value() for name in AllowanceChargeForm.base_fields}
            for form in self.forms
            if not form["DELETE"].value()
        ]


AllowanceChargeFormSet = forms.formset_factory(
    AllowanceChargeForm,
    formset=BaseAllowanceChargeFormSet,
    renderer=FORM_RENDERER,
    extra=1,
    can_delete=True,
    max_num=20,
    absolute_max=20,
)


def allowance_charge_formset(data=None, *, initial=None) -> BaseAllowanceChargeFormSet:
    """Return the formset of the invoice's discounts and charges, with one spare row.

    Posted data without the formset (a page from before it existed, an older script) means
    no discount and no charge.
    """
    if data is not None and f"{ADJUSTMENTS_PREFIX}-TOTAL_FORMS" not in data:
        data = {
            f"{ADJUSTMENTS_PREFIX}-TOTAL_FORMS": "0",
            f"{ADJUSTMENTS_PREFIX}-INITIAL_FORMS": "0",
        }
    return cast(
        BaseAllowanceChargeFormSet,
        AllowanceChargeFormSet(data, initial=initial, prefix=ADJUSTMENTS_PREFIX),
    )


def initial_allowance_charges(allowance_charges) -> list[dict]:
    """The rows of a draft's forms of discounts and charges, from its saved ones."""
    return [
        {
            "is_charge": "1" if item.is_charge else "0",
            "reason": item.reason,
            "value": percent_or_amount_text(item.percent, item.amount),
            "vat_category": item.vat_category,
            "vat_rate": f"{item.vat_rate:.2f}",
        }
        for item in allowance_charges
    ]


# Choices of the status filter beside the statuses themselves (the member's home links to them).
AWAITING_PAYMENT = "open"
OVERDUE = "overdue"
OPEN_STATUSES = [Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID]


class InvoiceFilterForm(Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("All statuses")),
            (AWAITING_PAYMENT, _("Awaiting payment")),
            (OVERDUE, _("Overdue")),
            *Invoice.Status.choices,
        ],
    )
    client = ModelChoiceField(
        label=_("Client"),
        queryset=Client.objects.none(),
        required=False,
        empty_label=_("All clients"),
    )
    activity = ModelChoiceField(
        label=_("Activity"),
        queryset=Activity.objects.none(),
        required=False,
        empty_label=_("All Activities"),
    )
    issued_from = forms.DateField(label=_("Issued from"), required=False, widget=_date_input())
    issued_to = forms.DateField(label=_("Issued until"), required=False, widget=_date_input())

    LOOKUPS = {
        "status": "status",
        "client": "client",
        "activity": "activity",
        "issued_from": "issue_date__gte",
        "issued_to": "issue_date__lte",
    }

    def __init__(
        self,
        *args,
        user: User,
        activities: list[tuple[int, str]] | None = None,
        clients: list[tuple[int, str]] | None = None,
        **kwargs,
    ):
        """``activities``, ``clients``: the user's Activities and own clients (key and name,
        by name), if already read."""
        super().__init__(*args, **kwargs)
        # Everyone, staff included, filters by their own clients and Activities here (staff
        # search everyone's in the admin): never a select of every row in the database. The
        # selects show names; a chosen row only filters by its key.
        client_field = cast(ModelChoiceField, self.fields["client"])
        activity_field = cast(ModelChoiceField, self.fields["activity"])
        # The querysets validate a choice (a bound form) and list the rows not given.
        if self.is_bound or clients is None:
            client_field.queryset = (
                Client.objects.filter(owner=user).only("name").order_by("name", "pk")
            )
        if clients is not None:
            client_field.widget.choices = [("", client_field.empty_label), *clients]
        if self.is_bound or activities is None:
            activity_field.queryset = (
                Activity.objects.of_user(user).only("name").order_by("name", "pk")
            )
        if activities is not None:
            activity_field.widget.choices = [("", activity_field.empty_label), *activities]

    def filter(self, invoices, *, today: datetime.date):
        """Apply the valid filters; a wrong one is shown as an error and ignored.

        "Awaiting payment" keeps the issued invoices not fully paid (what is due on them is
        positive while they are in these statuses), "overdue" those of them due before today.
        """
        self.is_valid()
        lookups = {
            self.LOOKUPS[name]: value
            for name, value in self.cleaned_data.items()
            if value not in (None, "")
        }
        status = lookups.get("status")
        if status in (AWAITING_PAYMENT, OVERDUE):
            lookups.update(status__in=OPEN_STATUSES, kind=Invoice.Kind.INVOICE)
            del lookups["status"]
            if status == OVERDUE:
                lookups["due_date__lt"] = today
        return invoices.filter(**lookups)


class ResendForm(Form):
    recipient = forms.EmailField(
        label=_("Send to another address"),
        required=False,
        help_text=_("Leave empty to send it to the client's invoicing address."),
    )


class CreditNoteRequestForm(Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Printed on the credit note: for example “order cancelled”."),
    )
    full_credit = forms.BooleanField(
        label=_("Credit the whole invoice"),
        required=False,
        initial=True,
        help_text=_("Uncheck it to credit only the lines and quantities below."),
    )


class CreditLineForm(Form):
    """How much of one invoice line to credit; a row left empty credits nothing of it."""

    position = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    quantity = forms.DecimalField(
        label=_("Quantity to credit"),
        max_digits=10,
        decimal_places=2,
        required=False,
        localize=True,
        widget=_decimal_input(6),
    )
    amount = forms.DecimalField(
        label=_("or amount excl. VAT"),
        max_digits=12,
        decimal_places=2,
        required=False,
        localize=True,
        widget=_decimal_input(9),
    )

    def credit_line(self) -> CreditLineInput | None:
        data = self.cleaned_data
        if data.get("quantity") is None and data.get("amount") is None:
            return None
        return CreditLineInput(
            position=data["position"], quantity=data.get("quantity"), amount=data.get("amount")
        )


class BaseCreditLineFormSet(forms.BaseFormSet):
    def credit_lines(self) -> list[CreditLineInput]:
        """The lines to credit, in the invoice's order."""
        return [line for form in self.forms if (line := form.credit_line()) is not None]


CreditLineFormSet = forms.formset_factory(
    CreditLineForm,
    formset=BaseCreditLineFormSet,
    extra=0,
    max_num=200,
    absolute_max=200,
    renderer=FORM_RENDERER,
)


def credit_line_formset(invoice: Invoice, data=None) -> BaseCreditLineFormSet:
    """One row per line of the invoice, to say how much of it to credit."""
    initial = [{"position": line.position} for line in invoice.lines.all()]
    return cast(
        BaseCreditLineFormSet, CreditLineFormSet(data, initial=initial, prefix=LINES_PREFIX)
    )


class RecurringInvoiceForm(DraftForm):
    """A recurring invoice: the draft's client and references, and its schedule.

    ``recurring``: the recurring invoice edited, whose client a co-member keeps.
    """

    title = forms.CharField(
        label=_("Name"),
        max_length=bounds.TITLE_MAX_LENGTH,
        help_text=_("For you, to find it in your list: “Monthly retainer”, “Yearly licence”."),
    )
    frequency = forms.ChoiceField(
        label=_("Repeat"), choices=RecurringInvoice.Frequency.choices, initial="monthly"
    )
    interval = forms.IntegerField(
        label=_("Every"),
        min_value=1,
        max_value=52,
        initial=1,
        help_text=_("1 for every month; 3 for every quarter; 2 for every other week."),
    )
    day_of_month = forms.IntegerField(
        label=_("Day of the month"),
        min_value=1,
        max_value=31,
        required=False,
        help_text=_(
            "Monthly and yearly only; empty for the first date's day. 29, 30 or 31 become the "
            "last day of shorter months."
        ),
    )
    start_date = forms.DateField(
        label=_("First invoice on"),
        widget=_date_input(),
        help_text=_("The first period starts on this date."),
    )
    end_date = forms.DateField(
        label=_("Last invoice on or before"),
        required=False,
        widget=_date_input(),
        help_text=_(
            "Optional: or give a number of invoices, or neither to go on until you end it."
        ),
    )
    count = forms.IntegerField(
        label=_("Number of invoices"), min_value=1, max_value=999, required=False
    )
    mode = forms.ChoiceField(
        label=_("When an invoice is due"),
        choices=RecurringInvoice.Mode.choices,
        initial=RecurringInvoice.Mode.AUTO_SEND,
        widget=forms.RadioSelect,
        help_text=_(
            "Issued invoices follow the cooperative's review rules like any other: one that "
            "needs staff review waits for it before it is sent."
        ),
    )

    field_order = [
        "title",
        "activity",
        "client",
        "frequency",
        "interval",
        "day_of_month",
        "start_date",
        "end_date",
        "count",
        "mode",
        "buyer_reference",
        "order_reference",
        "notes",
    ]

    def __init__(self, *args, user: User, recurring=None, **kwargs):
        super().__init__(*args, user=user, invoice=recurring, **kwargs)
        for name in ("supply_date", "period_start", "period_end", "due_date"):
            del self.fields[name]
        self.fields["notes"].help_text = _("Printed on each invoice.")
