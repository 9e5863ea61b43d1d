"""Pages for rooms and bookings."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def index(request):
    """Bookings (being built)."""
    return render(request, "upcoming.html", {"section": "bookings"})
