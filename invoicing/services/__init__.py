"""Every write of the invoicing app, one module per part of the invoice's life."""
