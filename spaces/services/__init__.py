"""Every write of the spaces app: bookings and their rules, series, leases, charges, feeds.

One module per topic: ``times`` (the site's wall clock, shared by the others), ``rules``,
``pricing``, ``lifecycle`` (book, approve, refuse, cancel, check in, no-show), ``billing``,
``recurring``, ``leasing`` and ``feed_tokens``. Callers import the module they need.
"""
