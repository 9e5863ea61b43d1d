"""The portal session: who is signed in to the portal, kept in the browser's session.

It is not a member login: ``request.user`` stays whoever (or nobody) is signed in to the site,
and the portal reads its own key. It ends after ``SESSION_LIFETIME`` whatever the client does,
or when the client signs out.
"""

import datetime

from django.utils import timezone

from portal.selectors import PortalIdentity
from portal.services import SESSION_LIFETIME

SESSION_KEY = "portal"


def open_session(
    request, *, email: str, language: str, now: datetime.datetime, opened_by: str = "link"
) -> None:
    """Sign the browser in to the portal as ``email`` (a new session key: no fixation);
    ``opened_by`` says how ("link", or "password")."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "email": email,
        "language": language,
        "expires_at": (now + SESSION_LIFETIME).isoformat(),
        "opened_by": opened_by,
    }


def opened_by(request) -> str:
    """How the browser's portal session was opened: "link" or "password"."""
    data = request.session.get(SESSION_KEY)
    return data.get("opened_by", "link") if isinstance(data, dict) else ""


def close_session(request) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def current_identity(request, *, now: datetime.datetime | None = None) -> PortalIdentity | None:
    """The portal identity of the browser's session, or None (never signed in, or expired)."""
    if not hasattr(request, "session"):
        return None
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        expires_at = datetime.datetime.fromisoformat(data["expires_at"])
        email = data["email"]
    except (KeyError, TypeError, ValueError):
        return None
    if expires_at <= (now or timezone.now()):
        request.session.pop(SESSION_KEY, None)
        return None
    return PortalIdentity(email=email, language=data.get("language") or "fr")
