"""The demo world's sign-in details, shown by the README and the start-up banner."""

DEMO_PASSWORD = "coop-demo-2026"  # noqa: S105 - published demo login
# Demo staff have two-factor authentication set up with this TOTP secret: add it to an
# authenticator app, or run `python3 dev.py manage totp_code <e-mail>` in development.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - published demo secret

DEMO_STAFF = "admin@coop.test"
DEMO_MEMBER = "ana.peeters@coop.test"

DEMO_LOGINS = [
    ("staff (admin, TOTP)", DEMO_STAFF, DEMO_PASSWORD),
    ("space manager", "spaces@coop.test", DEMO_PASSWORD),
    ("space manager", "spaces2@coop.test", DEMO_PASSWORD),
    ("member", DEMO_MEMBER, DEMO_PASSWORD),
    ("member (applicant)", "noah.janssens@coop.test", DEMO_PASSWORD),
]
