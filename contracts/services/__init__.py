"""Every write of the contracts app, one module per topic."""
