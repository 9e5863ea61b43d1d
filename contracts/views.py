"""Member pages for contracts, payslips and expense claims."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def index(request):
    """The member's contracts (being built)."""
    return render(request, "upcoming.html", {"section": "contracts"})


@login_required
def payslips(request):
    """The member's payslips (being built)."""
    return render(request, "upcoming.html", {"section": "payslips"})
