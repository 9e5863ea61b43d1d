"""Browser forms of quotes: they check the shape of input; services check the rules."""

import datetime
from decimal import Decimal
from typing import cast

from django import forms
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from coop.forms import Form, ModelChoiceField
from invoicing.forms import invoicing_activities, list_member_choices
from invoicing.models import Client
from invoicing.selectors import clients_visible_to
from members.models import Language, User
from quotes.models import Quote, QuoteVersion
from quotes.schedule import RULE_HELP
from quotes.services import QuoteTerms


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _due_words(due: str) -> str:
    if due == "order":
        return gettext("at order")
    if due == "delivery":
        return gettext("on delivery")
    return date_format(datetime.date.fromisoformat(due), "d/m/Y")


def schedule_text(schedule: list[dict]) -> str:
    """A stored payment schedule as the member types it, in their language: one part a line."""
    return "\n".join(
        f"{part['label']}; "
        f"{number_format(Decimal(part['percent']).normalize(), use_l10n=True)}; "
        f"{_due_words(part['due'])}"
        for part in schedule or []
    )


def parse_schedule(text: str) -> list[dict]:
    """Read "label; percent; when" lines; the service checks them (services.clean_schedule)."""
    parts = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        cells = [cell.strip() for cell in line.split(";")]
        while len(cells) < 3:
            cells.append("")
        parts.append({"label": cells[0], "percent": cells[1], "due": cells[2]})
    return parts


class PercentField(forms.DecimalField):
    """A percentage typed with a comma or a dot before its decimals, whatever the language."""

    widget = forms.TextInput(attrs={"inputmode": "decimal"})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("localize", True)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace("\u00a0", "").rstrip("%").strip().replace(",", ".")
        return super().to_python(value)


class QuoteForm(Form):
    activity = ModelChoiceField(
        label=_("Activity"), queryset=Quote.objects.none(), empty_label=None
    )
    client = ModelChoiceField(
        label=_("Client"), queryset=Client.objects.none(), empty_label=_("Choose a client")
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the work is, printed above the lines."),
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=_date_input(),
        help_text=_("Leave empty for 30 days from today."),
    )
    payment_terms_days = forms.IntegerField(
        label=_("Payment terms (days)"),
        required=False,
        min_value=0,
        max_value=120,
        help_text=_("Leave empty to apply the client's payment terms."),
    )
    deposit_percent = PercentField(
        label=_("Deposit (%)"),
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal(100),
        help_text=RULE_HELP,
    )
    schedule = forms.CharField(
        label=_("Payment schedule"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            'Optional, one part a line: "label; percentage; at order, on delivery or a '
            'date", e.g. "Deposit; 30; at order" then "Balance; 70; on delivery".'
        ),
    )
    work_start = forms.DateField(label=_("Work starts"), required=False, widget=_date_input())
    work_end = forms.DateField(label=_("Work ends"), required=False, widget=_date_input())

    def __init__(self, *args, user: User, quote: Quote | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The querysets validate a choice (and list staff's): a member's form to fill in has
        # nothing to validate, and lists the same rows below.
        if self.is_bound or user.is_staff:
            activities = invoicing_activities(user)
            clients = clients_visible_to(user)
            if user.is_staff:
                activities = activities.of_user(user)
                clients = clients.filter(owner=user)
            if quote is not None:
                clients = clients | Client.objects.filter(pk=quote.client_id)
            self.activity_field.queryset = activities.order_by("name", "pk")
            self.client_field.queryset = clients.order_by("name", "pk")
        if not user.is_staff:
            # The same rows as the querysets (which validate the choice), read by queries
            # compiled once per process.
            list_member_choices(
                self.activity_field, self.client_field, user, quote.client_id if quote else None
            )
        if quote is not None and quote.sequence_number is not None:
            # A sent quote keeps its Activity and client.
            self.activity_field.disabled = True
            self.client_field.disabled = True
            self.activity_field.initial = quote.activity_id
            self.client_field.initial = quote.client_id

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

    def terms(self) -> QuoteTerms:
        data = self.cleaned_data
        return QuoteTerms(
            title=data["title"],
            description=data["description"],
            valid_until=data["valid_until"],
            payment_terms_days=data["payment_terms_days"],
            deposit_percent=data["deposit_percent"],
            schedule=parse_schedule(data["schedule"]),
            work_start=data["work_start"],
            work_end=data["work_end"],
        )

    @staticmethod
    def initial_from(quote: Quote, version: QuoteVersion) -> dict:
        return {
            "activity": quote.activity_id,
            "client": quote.client_id,
            "title": version.title,
            "description": version.description,
            "valid_until": version.valid_until,
            "payment_terms_days": version.payment_terms_days,
            "deposit_percent": version.deposit_percent,
            "schedule": schedule_text(version.schedule),
            "work_start": version.work_start,
            "work_end": version.work_end,
        }


class AcceptForm(Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    function = forms.CharField(
        label=_("Your function"),
        max_length=200,
        required=False,
        help_text=_("Your role in the organisation you accept for, if any."),
    )
    po_number = forms.CharField(
        label=_("Your purchase order number"),
        max_length=100,
        required=False,
        help_text=_("If your organisation gives one, it will appear on the invoices."),
    )
    conditions = forms.BooleanField(
        label=_("I accept this quote and its conditions."), required=True
    )
    # Checked by the service (services.clean_signature), which names the problem.
    signature = forms.CharField(required=False, widget=forms.HiddenInput, strip=False)


class DeclineForm(Form):
    reason = forms.CharField(
        label=_("Why do you decline the quote?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ChangeRequestForm(Form):
    message = forms.CharField(
        label=_("What would you like changed?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class LanguageForm(Form):
    language = forms.ChoiceField(choices=Language.choices, required=False)
