from coop.errors import CoopError


class ContractsError(CoopError):
    """A contract or payroll rule refused the request."""
