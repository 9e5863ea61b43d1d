"""Copyright fixtures: income-2024 dates and a helper that records a payment."""

import datetime
from decimal import Decimal

from copyrights.services import record_copyright_payment

DAY_2024 = datetime.date(2024, 3, 4)


def record(member, activity, gross: str, *, user=None, today=DAY_2024, **extra):
    return record_copyright_payment(
        user=user or member.user,
        member=member,
        activity=activity,
        work_kind=extra.pop("work_kind", "visual"),
        work_title=extra.pop("work_title", "Illustrations for 'Le Petit Loup'"),
        gross=Decimal(gross),
        today=today,
        **extra,
    )
