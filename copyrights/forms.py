"""The member's form to record a copyright payment."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy

from contracts.models import Contract
from coop.forms import Form, ListedChoices, ModelChoiceField
from copyrights import selectors
from copyrights.models import WorkKind
from members.models import Activity, User


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

    def __init__(self, *args, activities, contracts, user: User | None = None, **kwargs):
        """``activities`` and ``contracts`` check the choice; with the ``user``, the selects
        list them from queries compiled once per process, read when first shown."""
        super().__init__(*args, **kwargs)
        self.fields["activity"].queryset = activities.order_by("name", "pk")
        self.fields["contract"].queryset = contracts
        if user is not None:
            self.fields["activity"].widget.choices = ListedChoices(self._activity_choices(user))
            self.fields["contract"].widget.choices = ListedChoices(self._contract_choices(user))

    def _activity_choices(self, user: User):
        field = self.fields["activity"]
        if field.empty_label is not None:
            yield ("", field.empty_label)
        for row in selectors.recordable_activity_rows(user):
            yield (row["pk"], field.label_from_instance(Activity(pk=row["pk"], name=row["name"])))

    def _contract_choices(self, user: User):
        field = self.fields["contract"]
        if field.empty_label is not None:
            yield ("", field.empty_label)
        for row in selectors.recordable_contract_rows(user):
            yield (
                row["pk"],
                field.label_from_instance(Contract(pk=row["pk"], title=row["title"])),
            )
