"""What the portal adds to the member's invoice page: the clients' questions on it."""

from django.template.loader import render_to_string

from portal import selectors


def questions_panel(request, invoice) -> str:
    """The questions clients asked about the invoice (the page already checked the member
    sees it), with a button to mark each answered; "" when none."""
    if not invoice.is_issued:
        return ""
    questions = list(selectors.questions_on(invoice)[:20])
    if not questions:
        return ""
    return render_to_string(
        "portal/_member_questions.html",
        {"questions": questions, "invoice": invoice},
        request=request,
    )
