"""The Dimona REST client against a local server that follows the published contract.

The fake server checks what ONSS checks: the client-credentials grant, the JWT assertion signed
by the key of the registered certificate (its signature, issuer, subject, audience, expiry and
one use of each ``jti``), the bearer token on every call; it answers ``201`` with the
declaration's number in ``Location``, then ``S`` and ``A`` (or ``B``) to the polls.
"""

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.utils import translation

from contracts import dimona, dimona_rest
from contracts.dimona_rest import (
    ASSERTION_TYPE,
    DimonaClient,
    DimonaConfig,
    DimonaError,
    RestDimonaGateway,
)
from contracts.errors import ContractsError
from contracts.models import Contract, DimonaDeclaration
from contracts.services.contracts import approve_contract, cancel_contract
from tests.conftest import NOW
from tests.contracts.conftest import TODAY

CLIENT_ID = "self_service_chaman_0812345603_abcd"
TOKEN_PATH = "/REST/oauth/v5/token"
BASE_PATH = "/REST/dimona/v1"


def make_key_and_certificate(common_name: str = "coop SCE"):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


class FakeOnss:
    """What the social security's OAuth server and Dimona REST service answer."""

    def __init__(self, certificate_pem: bytes) -> None:
        self.certificate = x509.load_pem_x509_certificate(certificate_pem)
        self.certificate_pem = certificate_pem
        self.exchanges: list[tuple[str, str, object]] = []
        self.used_jti: set[str] = set()
        self.tokens: set[str] = set()
        self.declarations: dict[int, dict] = {}
        self.polls: dict[int, int] = {}
        self.refused_niss: set[str] = set()
        self.waiting_polls = 1  # S answered this many times before the result
        self.post_failures: list[int] = []  # statuses answered to the next POSTs
        self.url = ""

    # The OAuth server.
    def token(self, form: dict[str, str]) -> tuple[int, dict, dict]:
        if form.get("grant_type") != "client_credentials":
            return 400, {}, {"error": "unsupported_grant_type"}
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return 400, {}, {"error": "invalid_request"}
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                self.certificate.public_key(),
                algorithms=["RS256"],
                audience=self.url + TOKEN_PATH,
                issuer=CLIENT_ID,
                options={"require": ["exp", "jti", "iss", "sub", "aud"]},
            )
        except jwt.PyJWTError:
            return 401, {}, {"error": "invalid_client"}
        thumbprint = dimona_rest.certificate_thumbprint(self.certificate_pem)
        if (
            claims["sub"] != CLIENT_ID
            or claims["jti"] in self.used_jti
            or header.get("x5t#S256") != thumbprint
        ):
            return 401, {}, {"error": "invalid_client"}
        self.used_jti.add(claims["jti"])
        token = f"token-{len(self.tokens) + 1}"
        self.tokens.add(token)
        return 200, {}, {"access_token": token, "token_type": "Bearer", "expires_in": 600}

    # Dimona.
    def authorised(self, headers) -> bool:
        value = headers.get("Authorization", "")
        return value.startswith("Bearer ") and value[7:] in self.tokens

    def post_declaration(self, body: dict) -> tuple[int, dict, dict]:
        if self.post_failures:
            return self.post_failures.pop(0), {}, {"message": "busy"}
        if "employer" not in body or not any(
            kind in body for kind in ("dimonaIn", "dimonaOut", "dimonaUpdate", "dimonaCancel")
        ):
            return 400, {}, [{"property": "dimonaIn", "message": "required"}]
        number = 900_000_001 + len(self.declarations)
        self.declarations[number] = body
        self.polls[number] = 0
        return 201, {"Location": f"{self.url}{BASE_PATH}/declarations/{number}"}, {}

    def get_declaration(self, number: int) -> tuple[int, dict, dict]:
        if number not in self.declarations:
            return 404, {}, {"message": "unknown"}
        self.polls[number] += 1
        body = self.declarations[number]
        status = {"dimonaDeclarationId": str(number)}
        if self.polls[number] <= self.waiting_polls:
            status["result"] = "S"
        elif body.get("naturalPerson", {}).get("inss") in self.refused_niss:
            status.update(
                result="B",
                anomalies=[
                    {
                        "errorId": "00024-002",
                        "labelFr": "Le NISS du travailleur est inconnu",
                        "labelNl": "Het INSZ van de werknemer is onbekend",
                    }
                ],
            )
        else:
            status.update(result="A", dimonaPeriodId=str(number + 500_000_000))
        return 200, {}, {"declarationStatus": status}


@pytest.fixture
def certificate_files(tmp_path):
    key_pem, certificate_pem = make_key_and_certificate()
    (tmp_path / "dimona.key").write_bytes(key_pem)
    (tmp_path / "dimona.crt").write_bytes(certificate_pem)
    return tmp_path / "dimona.key", tmp_path / "dimona.crt", certificate_pem


@pytest.fixture
def onss(certificate_files):
    """The fake server on a free local port, for the test's duration."""
    fake = FakeOnss(certificate_files[2])

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def answer(self, status: int, headers: dict, body) -> None:
            content = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(content)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(content)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if self.path == TOKEN_PATH:
                form = {key: values[0] for key, values in parse_qs(raw).items()}
                fake.exchanges.append(("POST", self.path, sorted(form)))
                self.answer(*fake.token(form))
            elif self.path == f"{BASE_PATH}/declarations":
                body = json.loads(raw)
                fake.exchanges.append(("POST", self.path, body))
                if not fake.authorised(self.headers):
                    self.answer(401, {}, {"message": "invalid token"})
                else:
                    self.answer(*fake.post_declaration(body))
            else:
                self.answer(404, {}, {})

        def do_GET(self) -> None:
            fake.exchanges.append(("GET", self.path, None))
            prefix = f"{BASE_PATH}/declarations/"
            if not self.path.startswith(prefix) or not fake.authorised(self.headers):
                self.answer(401 if self.path.startswith(prefix) else 404, {}, {})
                return
            self.answer(*fake.get_declaration(int(self.path[len(prefix) :])))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    dimona_rest._TOKENS.tokens.clear()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def configured(settings, onss, certificate_files):
    key_path, cert_path, _certificate = certificate_files
    settings.COOP_DIMONA = {
        "token_url": onss.url + TOKEN_PATH,
        "base_url": onss.url + BASE_PATH,
        "client_id": CLIENT_ID,
        "key_path": str(key_path),
        "cert_path": str(cert_path),
        "scope": "",
        "employer_number": "0812345603",
        "timeout": 5,
        "poll_attempts": 4,
        "poll_first_delay": 1,
        "poll_max_delay": 4,
    }
    settings.COOP_DIMONA_GATEWAY = "contracts.dimona_rest.RestDimonaGateway"
    return settings.COOP_DIMONA


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps(monkeypatch):
    """The waits between polls, recorded instead of slept."""
    recorded = Sleeps()
    monkeypatch.setattr(dimona_rest.time, "sleep", recorded)
    return recorded


def gateway():
    return RestDimonaGateway()


def declare_in(member, *, end_date=datetime.date(2026, 3, 20)) -> str:
    """File the member's entry for 9 March 2026 onwards (joint committee 200, worker type OTH)."""
    return gateway().declare(
        member=member,
        start_date=datetime.date(2026, 3, 9),
        end_date=end_date,
        worker_type="OTH",
        joint_committee="200",
    )


def test_full_exchange_token_post_location_and_polls(configured, onss, member, sleeps, db):
    acknowledgement = declare_in(member)
    assert acknowledgement == "1400000001"
    assert onss.exchanges == [
        (
            "POST",
            TOKEN_PATH,
            ["client_assertion", "client_assertion_type", "grant_type"],
        ),
        (
            "POST",
            f"{BASE_PATH}/declarations",
            {
                "employer": {"enterpriseNumber": "0812345603"},
                "naturalPerson": {"inss": "85073003328"},
                "dimonaIn": {
                    "startDate": "2026-03-09",
                    "endDate": "2026-03-20",
                    "features": {"jointCommissionNbr": "200", "workerType": "OTH"},
                },
            },
        ),
        ("GET", f"{BASE_PATH}/declarations/900000001", None),
        ("GET", f"{BASE_PATH}/declarations/900000001", None),
    ]
    assert sleeps == [1]  # waited once, between the S and the A
    assert len(onss.used_jti) == 1


def test_the_token_is_kept_and_polls_back_off(configured, onss, member, sleeps, db):
    onss.waiting_polls = 3
    declare_in(member, end_date=datetime.date(2026, 3, 9))
    assert sleeps == [1, 2, 4]
    assert gateway().cancel(acknowledgement="1400000001") == "900000002"
    assert onss.declarations[900000002] == {
        "employer": {"enterpriseNumber": "0812345603"},
        "dimonaCancel": {"periodId": "1400000001"},
    }
    # One token for both declarations.
    assert [path for _method, path, _body in onss.exchanges].count(TOKEN_PATH) == 1


def test_out_and_update_declarations(configured, onss, sleeps, db):
    declared = gateway()
    assert declared.declare_exit(acknowledgement="77", end_date=datetime.date(2026, 3, 20)) == (
        "900000001"
    )
    declared.update(
        acknowledgement="77",
        start_date=datetime.date(2026, 3, 10),
        end_date=datetime.date(2026, 3, 21),
    )
    assert onss.declarations == {
        900000001: {
            "employer": {"enterpriseNumber": "0812345603"},
            "dimonaOut": {"periodId": "77", "endDate": "2026-03-20"},
        },
        900000002: {
            "employer": {"enterpriseNumber": "0812345603"},
            "dimonaUpdate": {"periodId": "77", "startDate": "2026-03-10", "endDate": "2026-03-21"},
        },
    }


def test_a_refused_declaration_names_the_anomalies(configured, onss, member, sleeps, db):
    onss.refused_niss.add("85073003328")
    for language, label in [
        ("fr", "Le NISS du travailleur est inconnu"),
        ("nl", "Het INSZ van de werknemer is onbekend"),
    ]:
        with translation.override(language), pytest.raises(DimonaError) as refused:
            declare_in(member)
        assert refused.value.code == "dimona_refused"
        assert f"00024-002 {label}" in refused.value.message


def test_a_jwt_signed_by_another_key_is_refused(configured, onss, member, tmp_path, db):
    other_key, _other_certificate = make_key_and_certificate("someone else")
    (tmp_path / "other.key").write_bytes(other_key)
    config = DimonaConfig(**{**configured, "key_path": str(tmp_path / "other.key")})
    with pytest.raises(DimonaError) as refused:
        DimonaClient(config).access_token()
    assert refused.value.code == "dimona_token"
    assert refused.value.message == (
        "The social security's login server refused the cooperative's credentials "
        "(invalid_client): check the client id and the certificate registered in Chaman."
    )
    assert onss.tokens == set()
    # The same client with the registered key is let in.
    assert DimonaClient(DimonaConfig(**configured)).access_token() == "token-1"


def test_a_replayed_or_foreign_assertion_is_refused(configured, onss):
    client = DimonaClient(DimonaConfig(**configured))
    assertion = client.client_assertion()
    claims = jwt.decode(assertion, options={"verify_signature": False})
    assert (claims["iss"], claims["sub"], claims["aud"]) == (
        CLIENT_ID,
        CLIENT_ID,
        onss.url + TOKEN_PATH,
    )
    assert claims["exp"] - claims["iat"] == 60
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    assert onss.token(form)[0] == 200
    assert onss.token(form) == (401, {}, {"error": "invalid_client"})  # jti used twice
    wrong_audience = DimonaClient(
        DimonaConfig(**{**configured, "token_url": "https://elsewhere.example/token"})
    ).client_assertion()
    assert onss.token({**form, "client_assertion": wrong_audience})[0] == 401
    assert onss.token({**form, "grant_type": "password"})[0] == 400


def test_still_waiting_then_tried_again_files_once(configured, onss, member, sleeps, db):
    onss.waiting_polls = 10
    with pytest.raises(DimonaError) as waiting:
        declare_in(member)
    assert waiting.value.code == "dimona_waiting"
    assert "900000001" in waiting.value.message
    onss.waiting_polls = 0
    assert declare_in(member) == "1400000001"
    assert len(onss.declarations) == 1  # the second try followed the declaration filed


def test_a_busy_service_is_asked_again(configured, onss, member, sleeps, db):
    onss.post_failures = [503]
    declare_in(member)
    assert len(onss.declarations) == 1


def test_a_server_error_on_post_is_not_repeated(configured, onss, member, sleeps, db):
    onss.post_failures = [500]
    with pytest.raises(DimonaError) as failed:
        declare_in(member)
    assert failed.value.message == (
        "Dimona failed (HTTP 500): nothing was declared; try again later."
    )
    assert [method for method, _path, _body in onss.exchanges] == ["POST", "POST"]


def test_unreachable_and_unconfigured(settings, configured, member, db, sleeps):
    settings.COOP_DIMONA = {**configured, "token_url": "http://127.0.0.1:9/token"}
    with pytest.raises(DimonaError) as unreachable:
        declare_in(member)
    assert unreachable.value.code == "dimona_unreachable"
    settings.COOP_DIMONA = {**configured, "client_id": "", "key_path": ""}
    with pytest.raises(DimonaError) as unconfigured:
        gateway()
    assert unconfigured.value.message == (
        "Dimona is not configured: set COOP_DIMONA_CLIENT_ID, COOP_DIMONA_KEY_PATH."
    )


def test_approval_files_with_onss_and_keeps_the_period(configured, onss, staff, submitted, sleeps):
    assert dimona.gateway_label() == "ONSS Dimona REST service (declarations are filed)"
    contract = approve_contract(staff_user=staff, contract=submitted, today=TODAY, now=NOW)
    declaration = DimonaDeclaration.objects.get(worker__contract=contract)
    assert declaration.acknowledgement == "1400000001"
    cancel_contract(user=staff, contract=contract, reason="Show cancelled", today=TODAY, now=NOW)
    cancellation = DimonaDeclaration.objects.get(kind=DimonaDeclaration.Kind.CANCELLATION)
    assert cancellation.acknowledgement == "900000002"
    assert onss.declarations[900000002]["dimonaCancel"] == {"periodId": "1400000001"}


def test_a_refused_approval_writes_nothing(configured, onss, staff, submitted, sleeps):
    onss.refused_niss.add("85073003328")
    with pytest.raises(ContractsError):
        approve_contract(staff_user=staff, contract=submitted, today=TODAY, now=NOW)
    submitted.refresh_from_db()
    assert submitted.status == Contract.Status.SUBMITTED
    assert not DimonaDeclaration.objects.exists()


def test_the_recording_gateway_is_the_development_default(settings):
    del settings.COOP_DIMONA_GATEWAY
    assert dimona.gateway_label() == "Recording gateway (development — nothing is sent to ONSS)"


def test_invalid_data_is_explained(configured, onss, sleeps, db):
    client = DimonaClient(DimonaConfig(**configured))
    with pytest.raises(DimonaError) as invalid:
        client.file({"employer": {"enterpriseNumber": "0812345603"}})
    assert invalid.value.code == "dimona_invalid"
    assert invalid.value.message == "Dimona refused the declaration's data: dimonaIn required"


def test_an_accepted_entry_is_filed_once_until_its_period_is_cancelled(
    configured, onss, member, sleeps, db
):
    assert declare_in(member) == "1400000001"
    # An approval rolled back after this worker was declared: trying again files nothing new.
    assert declare_in(member) == "1400000001"
    assert len(onss.declarations) == 1
    gateway().cancel(acknowledgement="1400000001")
    # Cancelled, then declared again: a new declaration and period.
    assert declare_in(member) == "1400000003"
    assert sorted(onss.declarations) == [900000001, 900000002, 900000003]
