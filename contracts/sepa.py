"""SEPA credit transfer files for payroll runs: built by the cooperative-wide builder."""

from coop.sepa import SCHEMA, SCHEMA_PATH, Transfer, build_credit_transfer, pay_from_cooperative

__all__ = ["SCHEMA", "SCHEMA_PATH", "Transfer", "build_credit_transfer", "pay_from_cooperative"]
