"""The member's form to record a copyright payment."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy

from contracts.models import Contract
from coop.forms import Form, ModelChoiceField
from copyrights.models import WorkKind
from members.models import Activity


class CopyrightPaymentForm(Form):
    activity = ModelChoiceField(queryset=Activity.objects.none(), label=gettext_lazy("Activity"))
    contract = ModelChoiceField(
        queryset=Contract.objects.none(),
        required=False,
        label=gettext_lazy("Contract (optional)"),
        help_text=gettext_lazy("The artistic contract whose work this copyright pays, if any."),
    )
    work_kind = forms.ChoiceField(
        choices=[("", "---------"), *WorkKind.choices], label=gettext_lazy("Kind of work")
    )
    work_title = forms.CharField(max_length=200, label=gettext_lazy("Title of the work"))
    gross = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("1000000"),
        label=gettext_lazy("Gross copyright income (€)"),
    )
    salary_gross = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        max_value=Decimal("1000000"),
        required=False,
        label=gettext_lazy("Salary paid beside it for this work (€)"),
        help_text=gettext_lazy(
            "Leave empty when there is none. With a contract, its gross salary counts instead."
        ),
    )

    def __init__(self, *args, activities, contracts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["activity"].queryset = activities.order_by("name", "pk")
        self.fields["contract"].queryset = contracts
