"""ONSS's Dimona REST service: employment declarations filed for real (DOMAIN.md §7).

The exchange, as the published contract describes it:

1. an access token from the social security's OAuth server: the client-credentials grant, the
   client authenticated by a JWT it signs with the key of the X.509 certificate registered in
   Chaman (RFC 7523: ``iss`` and ``sub`` the client id, ``aud`` the token URL, a short ``exp``, a
   unique ``jti``);
2. ``POST {base}/declarations`` with the declaration (In, Out, Update or Cancel): ``201`` and the
   declaration's number at the end of the ``Location`` header; the processing is asynchronous;
3. ``GET {base}/declarations/{number}`` until its ``result`` is final: ``A`` accepted, ``W``
   accepted with a warning, ``B`` refused (with anomalies), ``S`` still waiting (an
   identification asked of SIGeDIS); polled with a back-off.

Retries are idempotent: a GET is repeated freely; a POST only when the request surely did not
arrive (no connection, or 503), and a declaration posted is remembered by the digest of its
content for a week, so that trying again (an approval rolled back while ONSS was still waiting,
or because another worker's declaration was refused) follows the declaration already filed
instead of filing another. A refused declaration, and an entry whose period was cancelled, are
forgotten: filed again, they are new declarations.

Everything is configured in ``settings.COOP_DIMONA`` (token and base URLs, client id, key and
certificate paths), per environment; the field names of the declaration follow the published
API documentation of Dimona v1 and were checked against no live service.
"""

import base64
import datetime
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from urllib3.exceptions import NewConnectionError

from contracts.errors import ContractsError
from members.models import Member

ACCEPTED, WARNING, REFUSED, WAITING = "A", "W", "B", "S"
FINAL = {ACCEPTED, WARNING, REFUSED}
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# How long a posted declaration is remembered by its content (seconds).
REMEMBER_POSTED = 7 * 24 * 60 * 60
# Attempts of one exchange that may safely be repeated (a GET, a POST that did not arrive).
TRANSPORT_ATTEMPTS = 3


class DimonaError(ContractsError):
    """Dimona refused a declaration, or could not be reached: nothing was recorded here."""


@dataclass(frozen=True)
class DimonaConfig:
    token_url: str
    base_url: str
    client_id: str
    key_path: str
    cert_path: str
    employer_number: str
    scope: str = ""
    timeout: int = 20
    poll_attempts: int = 6
    poll_first_delay: int = 1
    poll_max_delay: int = 16

    @classmethod
    def from_settings(cls) -> "DimonaConfig":
        config = cls(**settings.COOP_DIMONA)  # type: ignore[arg-type]
        missing = [
            name for name in ("client_id", "key_path", "cert_path") if not getattr(config, name)
        ]
        if missing:
            raise DimonaError(
                _("Dimona is not configured: set %(names)s.")
                % {"names": ", ".join(f"COOP_DIMONA_{name.upper()}" for name in missing)},
                code="dimona_configuration",
            )
        return config


@dataclass(frozen=True)
class DimonaResult:
    declaration_id: str
    result: str
    period_id: str = ""
    anomalies: list[dict] = field(default_factory=list)

    def anomaly_text(self) -> str:
        """The anomalies in the reader's language (French or Dutch; French otherwise)."""
        key = "labelNl" if translation.get_language() == "nl" else "labelFr"
        return "; ".join(
            f"{anomaly.get('errorId', '')} {anomaly.get(key) or anomaly.get('labelFr', '')}".strip()
            for anomaly in self.anomalies
        )


def dimona_in(
    *,
    employer_number: str,
    niss: str,
    start_date: datetime.date,
    end_date: datetime.date,
    worker_type: str,
    joint_committee: str,
) -> dict:
    """The declaration of a worker's entry (with its planned end)."""
    return {
        "employer": {"enterpriseNumber": employer_number},
        "naturalPerson": {"inss": niss},
        "dimonaIn": {
            "startDate": start_date.isoformat(),
            "endDate": end_date.isoformat(),
            "features": {"jointCommissionNbr": joint_committee, "workerType": worker_type},
        },
    }


def dimona_out(*, employer_number: str, period_id: str, end_date: datetime.date) -> dict:
    """The declaration of a worker's exit from a declared period."""
    return {
        "employer": {"enterpriseNumber": employer_number},
        "dimonaOut": {"periodId": period_id, "endDate": end_date.isoformat()},
    }


def dimona_update(
    *, employer_number: str, period_id: str, start_date: datetime.date, end_date: datetime.date
) -> dict:
    """The change of a declared period's dates."""
    return {
        "employer": {"enterpriseNumber": employer_number},
        "dimonaUpdate": {
            "periodId": period_id,
            "startDate": start_date.isoformat(),
            "endDate": end_date.isoformat(),
        },
    }


def dimona_cancel(*, employer_number: str, period_id: str) -> dict:
    """The cancellation of a declared period."""
    return {
        "employer": {"enterpriseNumber": employer_number},
        "dimonaCancel": {"periodId": period_id},
    }


def certificate_thumbprint(certificate_pem: bytes) -> str:
    """The certificate's SHA-256 thumbprint, base64url without padding (``x5t#S256``)."""
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    digest = certificate.fingerprint(hashes.SHA256())
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class _TokenCache:
    """Access tokens per client id, kept until shortly before they expire (per process)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens: dict[tuple[str, str], tuple[str, float]] = {}


_TOKENS = _TokenCache()


class DimonaClient:
    """Speaks Dimona REST: token, POST, polling; maps every failure to a ``DimonaError``."""

    def __init__(
        self,
        config: DimonaConfig,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.config = config
        self.session = session or requests.Session()
        self.sleep = sleep or (lambda seconds: time.sleep(seconds))
        self.clock = clock or time.time

    # Authentication --------------------------------------------------------------------------

    def client_assertion(self) -> str:
        """A JWT asserting the client's identity, signed with the certificate's private key."""
        key = serialization.load_pem_private_key(Path(self.config.key_path).read_bytes(), None)
        if isinstance(key, rsa.RSAPrivateKey):
            algorithm = "RS256"
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            algorithm = "ES256"
        else:
            raise DimonaError(
                _("The Dimona certificate's key must be an RSA or elliptic-curve key."),
                code="dimona_configuration",
            )
        issued = int(self.clock())
        claims = {
            "iss": self.config.client_id,
            "sub": self.config.client_id,
            "aud": self.config.token_url,
            "jti": uuid.uuid4().hex,
            "iat": issued,
            "nbf": issued,
            "exp": issued + 60,
        }
        headers = {"x5t#S256": certificate_thumbprint(Path(self.config.cert_path).read_bytes())}
        return jwt.encode(claims, key, algorithm=algorithm, headers=headers)

    def access_token(self, *, renew: bool = False) -> str:
        cache_key = (self.config.token_url, self.config.client_id)
        with _TOKENS.lock:
            kept = _TOKENS.tokens.get(cache_key)
            if kept and not renew and kept[1] > self.clock():
                return kept[0]
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.client_assertion(),
        }
        if self.config.scope:
            form["scope"] = self.config.scope
        response = self._send("POST", self.config.token_url, safe_to_repeat=True, data=form)
        body = _json(response)
        if not isinstance(body, dict):
            body = {}
        if response.status_code != 200 or not body.get("access_token"):
            code = body.get("error") or f"HTTP {response.status_code}"
            raise DimonaError(
                _(
                    "The social security's login server refused the cooperative's credentials "
                    "(%(code)s): check the client id and the certificate registered in Chaman."
                )
                % {"code": code},
                code="dimona_token",
            )
        lifetime = int(body.get("expires_in") or 300)
        with _TOKENS.lock:
            # Renewed 30 seconds early: a token never expires on its way.
            _TOKENS.tokens[cache_key] = (body["access_token"], self.clock() + lifetime - 30)
        return body["access_token"]

    # Exchanges -------------------------------------------------------------------------------

    def submit(self, declaration: dict) -> str:
        """Post the declaration (once per content) and return its declaration number."""
        content = _content(declaration)
        remembered = _posted_key(content)
        declaration_id = cache.get(remembered)
        if declaration_id:
            return declaration_id
        response = self._authorised(
            "POST",
            f"{self.config.base_url}/declarations",
            safe_to_repeat=False,
            data=content.encode(),
            headers={"Content-Type": "application/json"},
        )
        if response.status_code != 201:
            raise self._refusal(response)
        location = response.headers.get("Location", "").rstrip("/")
        declaration_id = location.rsplit("/", 1)[-1]
        if not declaration_id.isdigit():
            raise DimonaError(
                _("Dimona accepted the declaration but gave no declaration number."),
                code="dimona_location",
            )
        cache.set(remembered, declaration_id, REMEMBER_POSTED)
        return declaration_id

    def status(self, declaration_id: str) -> DimonaResult:
        """Read where the declaration's processing stands."""
        response = self._authorised(
            "GET", f"{self.config.base_url}/declarations/{declaration_id}", safe_to_repeat=True
        )
        if response.status_code != 200:
            raise self._refusal(response)
        answer = _json(response)
        body = answer.get("declarationStatus", {}) if isinstance(answer, dict) else {}
        return DimonaResult(
            declaration_id=str(body.get("dimonaDeclarationId") or declaration_id),
            result=str(body.get("result") or WAITING),
            period_id=str(body.get("dimonaPeriodId") or ""),
            anomalies=list(body.get("anomalies") or []),
        )

    def file(self, declaration: dict) -> DimonaResult:
        """Post the declaration and wait, with a back-off, for its accepted result.

        A refusal raises ``DimonaError`` with the anomalies; so does a declaration still waiting
        when the polls are spent (trying again later follows the same declaration).
        """
        declaration_id = self.submit(declaration)
        delay = self.config.poll_first_delay
        result = DimonaResult(declaration_id=declaration_id, result=WAITING)
        for attempt in range(self.config.poll_attempts):
            if attempt:
                self.sleep(delay)
                delay = min(delay * 2, self.config.poll_max_delay)
            result = self.status(declaration_id)
            if result.result in FINAL:
                break
        posted = _posted_key(_content(declaration))
        if result.result == REFUSED:
            # Refused: the same content filed again later is a new declaration.
            cache.delete(posted)
        elif result.result in FINAL and result.period_id:
            # Accepted: the period remembers its declaration until it is cancelled.
            cache.set(_period_key(result.period_id), posted, REMEMBER_POSTED)
        if result.result == REFUSED:
            raise DimonaError(
                _("Dimona refused declaration %(number)s: %(anomalies)s")
                % {"number": declaration_id, "anomalies": result.anomaly_text() or "—"},
                code="dimona_refused",
            )
        if result.result not in FINAL:
            raise DimonaError(
                _(
                    "Dimona is still processing declaration %(number)s (the worker's "
                    "identification is awaited): try again later; it will not be filed twice."
                )
                % {"number": declaration_id},
                code="dimona_waiting",
            )
        return result

    def forget_period(self, period_id: str) -> None:
        """After a cancellation: the same entry declared again is a new declaration."""
        posted = cache.get(_period_key(period_id))
        cache.delete_many([key for key in (posted, _period_key(period_id)) if key])

    # Transport -------------------------------------------------------------------------------

    def _authorised(self, method: str, url: str, *, safe_to_repeat: bool, **kwargs):
        headers = {**kwargs.pop("headers", {}), "Accept": "application/json"}
        for renew in (False, True):
            headers["Authorization"] = f"Bearer {self.access_token(renew=renew)}"
            response = self._send(
                method, url, safe_to_repeat=safe_to_repeat, headers=headers, **kwargs
            )
            # An expired token is refused before anything is processed: asked again once.
            if response.status_code != 401:
                return response
        return response

    def _send(self, method: str, url: str, *, safe_to_repeat: bool, **kwargs):
        delay = 1
        for attempt in range(TRANSPORT_ATTEMPTS):
            last = attempt == TRANSPORT_ATTEMPTS - 1
            try:
                response = self.session.request(method, url, timeout=self.config.timeout, **kwargs)
            except requests.RequestException as error:
                # A GET may be sent again; a POST only when it surely never arrived (no
                # connection made): after a read timeout ONSS may be processing it.
                if last or not (safe_to_repeat or _never_arrived(error)):
                    raise self._unreachable(error) from error
            else:
                busy = response.status_code == 503 or (
                    safe_to_repeat and response.status_code in (502, 504)
                )
                if not busy or last:
                    return response
            self.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _unreachable(self, error: Exception) -> DimonaError:
        return DimonaError(
            _("Dimona could not be reached (%(error)s): nothing was declared; try again later.")
            % {"error": type(error).__name__},
            code="dimona_unreachable",
        )

    def _refusal(self, response) -> DimonaError:
        body = _json(response)
        if response.status_code == 400:
            details = body if isinstance(body, list) else [body]
            text = "; ".join(
                " ".join(
                    str(item[name]) for name in ("property", "message", "detail") if item.get(name)
                )
                if isinstance(item, dict)
                else str(item)
                for item in details
                if item
            )
            return DimonaError(
                _("Dimona refused the declaration's data: %(details)s") % {"details": text or "—"},
                code="dimona_invalid",
            )
        if response.status_code in (401, 403):
            return DimonaError(
                _(
                    "Dimona refused the cooperative's access (HTTP %(status)d): check the REST "
                    "channel and its rights in Chaman."
                )
                % {"status": response.status_code},
                code="dimona_forbidden",
            )
        if response.status_code == 404:
            return DimonaError(
                _("Dimona knows no such declaration."), code="dimona_unknown_declaration"
            )
        return DimonaError(
            _("Dimona failed (HTTP %(status)d): nothing was declared; try again later.")
            % {"status": response.status_code},
            code="dimona_server",
        )


def _content(declaration: dict) -> str:
    return json.dumps(declaration, sort_keys=True, separators=(",", ":"))


def _posted_key(content: str) -> str:
    return f"dimona:posted:{hashlib.sha256(content.encode()).hexdigest()}"


def _period_key(period_id: str) -> str:
    return f"dimona:period:{period_id}"


def _never_arrived(error: requests.RequestException) -> bool:
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)


def _json(response) -> Any:
    """The JSON body: an object or, for some 400s, a list; an empty object otherwise."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict | list) else {}


class RestDimonaGateway:
    """Files declarations with ONSS's Dimona REST service (selected by COOP_DIMONA_GATEWAY)."""

    label = gettext_lazy("ONSS Dimona REST service (declarations are filed)")

    def __init__(self, client: DimonaClient | None = None) -> None:
        self.client = client or DimonaClient(DimonaConfig.from_settings())

    @property
    def employer_number(self) -> str:
        return self.client.config.employer_number

    def declare(
        self,
        *,
        member: Member,
        start_date: datetime.date,
        end_date: datetime.date,
        worker_type: str,
        joint_committee: str,
    ) -> str:
        """File a Dimona In; return the declared period's number (what Out/Update/Cancel name)."""
        result = self.client.file(
            dimona_in(
                employer_number=self.employer_number,
                niss=member.niss,
                start_date=start_date,
                end_date=end_date,
                worker_type=worker_type,
                joint_committee=joint_committee,
            )
        )
        return result.period_id or result.declaration_id

    def cancel(self, *, acknowledgement: str) -> str:
        """File a Dimona Cancel of the declared period; return the cancellation's number."""
        result = self.client.file(
            dimona_cancel(employer_number=self.employer_number, period_id=acknowledgement)
        )
        self.client.forget_period(acknowledgement)
        return result.declaration_id

    def update(
        self, *, acknowledgement: str, start_date: datetime.date, end_date: datetime.date
    ) -> str:
        """File a Dimona Update of the declared period's dates; return its number."""
        result = self.client.file(
            dimona_update(
                employer_number=self.employer_number,
                period_id=acknowledgement,
                start_date=start_date,
                end_date=end_date,
            )
        )
        return result.declaration_id

    def declare_exit(self, *, acknowledgement: str, end_date: datetime.date) -> str:
        """File a Dimona Out ending the declared period; return its number."""
        result = self.client.file(
            dimona_out(
                employer_number=self.employer_number, period_id=acknowledgement, end_date=end_date
            )
        )
        return result.declaration_id
