"""Forms of the member pages: they check the shape of the input; services check the rules."""

import datetime
import functools
import json
import re
from collections.abc import Callable
from decimal import Decimal

from django import forms
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contracts import selectors
from contracts.models import (
    Allowance,
    C4Certificate,
    Contract,
    ExpenseReceipt,
    TaxProfile,
    WorkDay,
)
from contracts.services.contracts import DayInput, WorkerInput
from contracts.services.expenses import MAX_RECEIPTS
from coop import bounds
from members.models import Member

HALF_DAY_WORDS = {"half", "½", "demi", "halve", "0.5"}
MAX_ATTACHMENT_LABEL = gettext_lazy("PDF, PNG or JPEG, at most 10 MB.")


class FormChoices:
    """The contract form's Activities, clients and workers, for a user (and the contract edited).

    The querysets check the posted ids, so they are built for a post only; the ``*_choices``
    (id, label) pairs fill the ``<select>``s. Each is read when first needed, once for the form
    and all its worker forms, by queries compiled once per process.
    """

    def __init__(self, user, contract: Contract | None = None):
        self.user = user
        self.activity = contract.activity_id if contract else 0
        self.client = (contract.client_id or 0) if contract else 0

    @cached_property
    def activities(self) -> QuerySet:
        return selectors.contract_form_activities(self.user, activity=self.activity)

    @cached_property
    def clients(self) -> QuerySet:
        return selectors.contract_form_clients(self.user, client=self.client)

    @cached_property
    def members(self) -> QuerySet:
        return selectors.contract_form_workers(self._worker_ids)

    @cached_property
    def _activity_rows(self) -> list[dict]:
        return selectors.contract_form_activity_rows(self.user, activity=self.activity)

    @cached_property
    def _worker_ids(self) -> set[int]:
        """Who may work on the Activities offered: their owners and co-members."""
        ids = {row["owner_id"] for row in self._activity_rows}
        ids.update(member for row in self._activity_rows for member in row["co_member_ids"])
        return ids

    @cached_property
    def activity_choices(self) -> list[tuple[int, str]]:
        return [(row["pk"], row["name"]) for row in self._activity_rows]

    @cached_property
    def client_choices(self) -> list[tuple[int, str]]:
        return selectors.contract_form_client_choices(self.user, client=self.client)

    @cached_property
    def member_choices(self) -> list[tuple[int, str]]:
        return selectors.contract_form_worker_choices(self._worker_ids)


def offer(field: forms.ModelChoiceField, queryset: QuerySet | None, read_choices: Callable) -> None:
    """Check the field against ``queryset`` but show the (id, label) pairs of ``read_choices``.

    They are read when the field is first shown, and follow the usual blank choice. A form
    that is only shown needs no queryset (None): nothing is checked.
    """
    if queryset is not None:
        field.queryset = queryset
    blank = [] if field.empty_label is None else [("", field.empty_label)]
    field.choices = functools.cache(lambda: blank + read_choices())


class ContractForm(forms.Form):
    activity = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Activity"))
    client = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=gettext_lazy("Client"),
        help_text=gettext_lazy("Leave empty for work that is not invoiced to a client."),
    )
    title = forms.CharField(max_length=bounds.TITLE_MAX_LENGTH, label=gettext_lazy("Title"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=bounds.DESCRIPTION_MAX_LENGTH,
        label=gettext_lazy("Description"),
    )
    place = forms.CharField(max_length=bounds.TITLE_MAX_LENGTH, label=gettext_lazy("Place of work"))
    kind = forms.ChoiceField(choices=Contract.Kind.choices, label=gettext_lazy("Kind of work"))
    amount_to_invoice = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        label=gettext_lazy("Amount to invoice (excl. VAT, €)"),
    )

    def __init__(self, *args, choices: FormChoices, **kwargs):
        super().__init__(*args, **kwargs)
        bound = self.is_bound
        offer(
            self.fields["activity"],
            choices.activities if bound else None,
            lambda: choices.activity_choices,
        )
        offer(
            self.fields["client"],
            choices.clients if bound else None,
            lambda: choices.client_choices,
        )


def parse_days(text: str) -> list[DayInput]:
    """Read one work day per line (or comma): ``2026-03-09`` or ``2026-03-09 half``."""
    days = []
    for chunk in re.split(r"[\n,;]+", text):
        words = chunk.strip().split()
        if not words:
            continue
        try:
            date = datetime.date.fromisoformat(words[0])
        except ValueError as error:
            raise forms.ValidationError(
                _("“%(value)s” is not a date like 2026-03-09.") % {"value": words[0]}
            ) from error
        portion = WorkDay.Portion.FULL
        if len(words) > 1:
            if words[1].lower() not in HALF_DAY_WORDS or len(words) > 2:
                raise forms.ValidationError(
                    _("After the date, write “half” for a half day, or nothing.")
                )
            portion = WorkDay.Portion.HALF
        days.append(DayInput(date=date, portion=portion))
    return days


class WorkerForm(forms.Form):
    member = forms.ModelChoiceField(queryset=Member.objects.none(), label=gettext_lazy("Worker"))
    daily_wage = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, label=gettext_lazy("Gross daily wage (€)")
    )
    days = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label=gettext_lazy("Work days"),
        help_text=gettext_lazy("One date per line (YYYY-MM-DD); add “half” for a half day."),
    )

    def __init__(
        self,
        *args,
        choices: FormChoices | None = None,
        first_day: datetime.date | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if choices is not None:
            offer(
                self.fields["member"],
                choices.members if self.is_bound else None,
                lambda: choices.member_choices,
            )
        # Work is declared before it starts: the earliest day to pick is tomorrow.
        first_day = first_day or timezone.localdate() + datetime.timedelta(days=1)
        example = first_day + datetime.timedelta(days=(7 - first_day.weekday()) % 7)
        self.fields["days"].widget.attrs.update(
            {
                "placeholder": f"{example}\n{example + datetime.timedelta(days=1)} half",
                # Read by static/js/work-days.js, which shows a calendar to pick the days.
                "data-work-days": "",
                "data-first-day": first_day.isoformat(),
                "data-full": _("full day"),
                "data-half": _("half day"),
                "data-previous-month": _("Previous month"),
                "data-next-month": _("Next month"),
                "data-legend": _(
                    "Click a day once for a full day, twice for a half day, a third time to "
                    "take it out."
                ),
            }
        )

    def show_taken(self, taken: dict[datetime.date, str]) -> None:
        """Mark the days the worker already works on another contract: the calendar shows
        them taken (and a clash if picked), the field's help lists them."""
        if not taken:
            return
        field = self.fields["days"]
        field.widget.attrs.update(
            {
                "data-taken": json.dumps({day.isoformat(): ref for day, ref in taken.items()}),
                "data-taken-label": _("already working on contract %(reference)s"),
                "data-clash": _(
                    "A day you picked is taken by another contract: the contract cannot be "
                    "saved with it."
                ),
            }
        )
        days = ", ".join(
            _("%(date)s (%(reference)s)")
            % {"date": formats.date_format(day, "SHORT_DATE_FORMAT"), "reference": reference}
            for day, reference in taken.items()
        )
        field.help_text = format_lazy(
            "{} {}",
            field.help_text,
            _("Already working on another contract: %(days)s.") % {"days": days},
        )

    def clean_days(self) -> list[DayInput]:
        return parse_days(self.cleaned_data["days"])

    def to_input(self) -> WorkerInput:
        return WorkerInput(
            member=self.cleaned_data["member"],
            daily_wage=self.cleaned_data["daily_wage"],
            days=self.cleaned_data["days"],
        )


class BaseWorkerFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if not any(form.cleaned_data for form in self.forms if not self._should_delete_form(form)):
            raise forms.ValidationError(_("Add at least one worker."))

    def inputs(self) -> list[WorkerInput]:
        return [form.to_input() for form in self.forms if form.cleaned_data]


WorkerFormSet = forms.formset_factory(
    WorkerForm, formset=BaseWorkerFormSet, extra=1, max_num=20, validate_max=True
)


def days_text(worker) -> str:
    return "\n".join(
        f"{day.date.isoformat()}{' half' if day.portion == WorkDay.Portion.HALF else ''}"
        for day in worker.days_in_order
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, label=gettext_lazy("Reason"), widget=forms.TextInput())


class AttachmentForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Signed quote"), help_text=MAX_ATTACHMENT_LABEL)


class SimulatorForm(forms.Form):
    invoice_excl_vat = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        max_value=Decimal("1000000"),
        label=gettext_lazy("Amount invoiced (excl. VAT, €)"),
        initial=Decimal("1000.00"),
    )
    expenses = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        label=gettext_lazy("Expenses reimbursed (€)"),
        initial=Decimal("0.00"),
    )
    kind = forms.ChoiceField(choices=Contract.Kind.choices, label=gettext_lazy("Kind of work"))
    household = forms.ChoiceField(
        choices=TaxProfile.Household.choices, label=gettext_lazy("Household")
    )
    children = forms.IntegerField(
        min_value=0, max_value=20, initial=0, label=gettext_lazy("Dependent children")
    )


class ExpenseClaimForm(forms.Form):
    activity = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Activity"))
    description = forms.CharField(max_length=255, label=gettext_lazy("What is the claim for?"))

    def __init__(self, *args, activities, read_choices: Callable | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only ids and names for the <select>: neither balances nor owners are shown.
        if read_choices is None:

            def read_choices():
                return list(activities.values_list("pk", "name"))

        offer(self.fields["activity"], activities, read_choices)


class ExpenseReceiptForm(forms.Form):
    """One receipt of a claim; a blank row beyond the first is skipped."""

    receipt = forms.FileField(label=gettext_lazy("Receipt"), help_text=MAX_ATTACHMENT_LABEL)
    receipt_description = forms.CharField(max_length=255, label=gettext_lazy("What was bought"))
    # A blank first choice, so that an untouched spare row stays blank and is skipped.
    category = forms.ChoiceField(
        choices=[("", "---------"), *ExpenseReceipt.Category.choices],
        label=gettext_lazy("Category"),
    )
    spent_on = forms.DateField(
        label=gettext_lazy("Date of the receipt"),
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[bounds.date_validator(bounds.check_receipt_date)],
    )
    amount = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        label=gettext_lazy("Amount incl. VAT (€)"),
    )
    vat = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        initial=Decimal("0.00"),
        label=gettext_lazy("VAT on the receipt (€)"),
    )


def expense_receipt_formset(rows: int, *, required: bool = True):
    """A formset of ``rows`` receipt rows (clamped to 1…MAX_RECEIPTS).

    The first row is required unless ``required`` is false (a draft may be saved empty).
    """
    rows = max(1, min(rows, MAX_RECEIPTS))
    return forms.formset_factory(
        ExpenseReceiptForm,
        extra=rows - 1 if required else rows,
        min_num=1 if required else 0,
        validate_min=required,
        max_num=MAX_RECEIPTS,
        validate_max=True,
        absolute_max=MAX_RECEIPTS,
    )


class AllowanceForm(ExpenseClaimForm):
    """A mileage or per-diem allowance: the member gives the quantity, the rate is the law's."""

    kind = forms.ChoiceField(choices=Allowance.Kind.choices, label=gettext_lazy("Allowance"))
    travelled_on = forms.DateField(
        label=gettext_lazy("Date of the trip (first day)"),
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[bounds.date_validator(bounds.check_receipt_date)],
    )
    kilometres = forms.DecimalField(
        max_digits=8,
        decimal_places=1,
        min_value=Decimal("0.1"),
        required=False,
        label=gettext_lazy("Kilometres (mileage)"),
    )
    days = forms.IntegerField(
        min_value=1,
        max_value=31,
        required=False,
        label=gettext_lazy("Days (per-diems, trips of 6 hours or more)"),
    )
    country = forms.ChoiceField(
        choices=[("", "---------")], required=False, label=gettext_lazy("Country (abroad)")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from invoicing.countries import country_choices

        self.fields["description"].label = gettext_lazy("What was the trip for?")
        self.fields["country"].choices = [("", "---------"), *country_choices()]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == Allowance.Kind.MILEAGE and not data.get("kilometres"):
            self.add_error("kilometres", _("Enter the kilometres travelled."))
        if kind in (Allowance.Kind.PER_DIEM_BELGIUM, Allowance.Kind.PER_DIEM_ABROAD) and not (
            data.get("days")
        ):
            self.add_error("days", _("Enter the number of days."))
        if kind == Allowance.Kind.PER_DIEM_ABROAD and not data.get("country"):
            self.add_error("country", _("Choose the country abroad you travelled to."))
        return data


class C4Form(forms.ModelForm):
    """Staff produce a C4 for an ended engagement: the worker and why it ended."""

    class Meta:
        model = C4Certificate
        fields = ["worker", "end_reason"]

    def clean(self):
        data = super().clean()
        worker = data.get("worker")
        if worker is not None:
            from contracts.c4 import check_c4
            from contracts.errors import ContractsError

            try:
                check_c4(worker, today=timezone.localdate())
            except ContractsError as error:
                self.add_error("worker", error.message)
        return data
