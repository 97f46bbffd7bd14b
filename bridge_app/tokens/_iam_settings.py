"""The IAM connector settings: a validated schema, examples, and the one place that says
which keys exist.

Every input — a file an admin wrote, the GUI's form, what the database holds — goes
through ``parse_iam_settings``; anything it does not accept is an ``IamSettingsError``
with one line that names the key and, for unknown keys, lists the valid ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography import x509

from bridge_app.runtime import BridgeError

MAX_SETTINGS_BYTES = 64 * 1024  # a settings file is a few hundred bytes; 64 KiB is plenty
MAX_TEXT = 2048  # any single string value
MAX_STATIC_FIELDS = 32

Shape = Literal["custom", "oauth2-password", "oauth2-client-credentials", "oidc"]
SHAPES: tuple[Shape, ...] = ("custom", "oauth2-password", "oauth2-client-credentials", "oidc")
TokenSource = Literal["access_token", "id_token"]
TOKEN_SOURCES: tuple[TokenSource, ...] = ("access_token", "id_token")
ExpiryKind = Literal["expires_in", "absolute", "jwt"]
EXPIRY_KINDS: tuple[ExpiryKind, ...] = ("expires_in", "absolute", "jwt")
BodyFormat = Literal["json", "form"]
BODY_FORMATS: tuple[BodyFormat, ...] = ("json", "form")
ClientAuth = Literal["client_secret_basic", "client_secret_post", "none"]
CLIENT_AUTHS: tuple[ClientAuth, ...] = ("client_secret_basic", "client_secret_post", "none")

SHAPE_TITLES: dict[Shape, str] = {
    "custom": "Custom JSON / form login (employee ID + password)",
    "oauth2-password": "OAuth 2.0 password grant with refresh tokens (RFC 6749 §4.3, §6)",
    "oauth2-client-credentials": "OAuth 2.0 client credentials (service account, §4.4)",
    "oidc": "OpenID Connect: sign in with the company in the browser (code + PKCE, RFC 8252)",
}


class IamSettingsError(BridgeError):
    """The IAM settings are not acceptable; nothing was stored."""


@dataclass(frozen=True)
class IamSettings:
    """What the connector needs to know. Keys only some shapes use are ignored by the others
    (``token iam --example SHAPE`` shows which)."""

    url: str
    shape: Shape = "custom"
    # custom shape: the request body and where the answer keeps the token and its expiry
    body_format: BodyFormat = "json"
    employee_id_field: str = "employee_id"
    password_field: str = "password"  # noqa: S105 - a field name, not a password
    static_fields: Mapping[str, str] = field(default_factory=dict)
    token_path: str = "access_token"  # noqa: S105 - a JSON path, not a token
    expiry_kind: ExpiryKind = "expires_in"
    expiry_path: str = "expires_in"
    # OAuth 2.0 shapes
    client_id: str | None = None
    client_secret: str | None = None
    client_auth: ClientAuth = "client_secret_basic"
    scope: str | None = None
    # oidc: which token the upstream wants (the access token, or the ID token itself)
    token_source: TokenSource = "access_token"  # noqa: S105 - a choice, not a token
    # transport
    verify_tls: bool = True
    ca_bundle: str | None = None
    timeout_s: float = 15.0

    def __post_init__(self) -> None:
        # Also reached by direct construction (tests, the GUI form): same rules as files.
        _check(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IamSettings:
        return parse_iam_settings(data)

    @property
    def cleartext_warning(self) -> str | None:
        """Said wherever the settings are stored or tested: an ``http://`` IAM beyond this
        machine receives employee passwords and returns tokens unencrypted."""
        parts = urlsplit(self.url)
        if parts.scheme != "http" or (parts.hostname or "") in ("127.0.0.1", "::1", "localhost"):
            return None
        return (
            f"The IAM URL uses http:// ({parts.hostname}): passwords and tokens cross the "
            "network unencrypted. Use its https:// address."
        )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)} | {
            "static_fields": dict(self.static_fields)
        }

    def masked(self) -> dict[str, Any]:
        """For display: the client secret is never shown."""
        data = self.to_dict()
        if data.get("client_secret"):
            data["client_secret"] = "****"  # noqa: S105 - the mask itself
        return data

    @property
    def is_oauth(self) -> bool:
        return self.shape != "custom"

    @property
    def needs_employee(self) -> bool:
        """Whether a login asks for an employee ID and password."""
        return self.shape not in ("oauth2-client-credentials", "oidc")

    @property
    def browser(self) -> bool:
        """Whether people sign in in the browser (the company's own login page)."""
        return self.shape == "oidc"


VALID_KEYS: tuple[str, ...] = tuple(f.name for f in fields(IamSettings))

# key -> (types accepted, description used in messages)
_STRINGS = {
    "url",
    "employee_id_field",
    "password_field",
    "token_path",
    "expiry_path",
}
_OPTIONAL_STRINGS = {"client_id", "client_secret", "scope", "ca_bundle"}
_ENUMS: dict[str, tuple[str, ...]] = {
    "shape": SHAPES,
    "body_format": BODY_FORMATS,
    "expiry_kind": EXPIRY_KINDS,
    "client_auth": CLIENT_AUTHS,
    "token_source": TOKEN_SOURCES,
}


def _fail(message: str) -> IamSettingsError:
    return IamSettingsError(
        message, hint="`litellm-bridge token iam --example` prints a complete example."
    )


def parse_iam_settings(data: object) -> IamSettings:
    """Validate a decoded settings object (a JSON object) into IamSettings."""
    if not isinstance(data, Mapping):
        raise _fail(
            f"The IAM settings must be a JSON object with keys such as url and shape, "
            f"not {_kind(data)}."
        )
    unknown = sorted(str(k) for k in data if k not in VALID_KEYS)
    if unknown:
        raise _fail(
            f"Unknown IAM setting(s): {', '.join(unknown)}. Valid keys: {', '.join(VALID_KEYS)}."
        )
    if "url" not in data:
        raise _fail("The IAM settings have no url (the IAM's token endpoint).")
    values: dict[str, Any] = {}
    for key, value in data.items():
        values[str(key)] = _coerce(str(key), value)
    return IamSettings(**values)


def parse_iam_settings_text(raw: bytes | str, *, source: str = "the IAM settings") -> IamSettings:
    """Validate the text of a settings file: size, JSON syntax, nesting, then the schema."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_SETTINGS_BYTES:
        raise _fail(
            f"{source} is larger than {MAX_SETTINGS_BYTES // 1024} KiB; IAM settings are a "
            "few hundred bytes."
        )
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _fail(
                f"{source} is not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset "
                f"{exc.start} cannot be decoded."
            ) from None
    else:
        text = raw
    # The examples carry whole-line // comments; a file copied from one may keep them.
    text = "\n".join("" if line.lstrip().startswith("//") else line for line in text.splitlines())
    try:
        data = json.loads(text)
    except RecursionError:
        raise _fail(f"{source} is nested too deeply to be IAM settings.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        where = (
            f" (line {exc.lineno}, column {exc.colno})"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise _fail(f"{source} is not valid JSON{where}.") from None
    return parse_iam_settings(data)


def check_ca_bundle(settings: IamSettings) -> None:
    """The ``ca_bundle`` file, when one is named, exists and holds PEM certificates
    (checked when settings are stored or tested, not at every read: a file that goes
    missing later is reported by the login that needs it)."""
    if not settings.ca_bundle:
        return
    path = Path(settings.ca_bundle).expanduser()
    if not path.is_file():
        raise _fail(f"ca_bundle: there is no file {path}.")
    try:
        data = path.read_bytes()[: 4 * 1024 * 1024]
    except OSError as exc:
        raise _fail(f"ca_bundle: {path} cannot be read: {exc.strerror or exc}.") from None
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        certificates = []
    if not certificates:
        raise _fail(
            f"ca_bundle: {path} holds no PEM certificate (-----BEGIN CERTIFICATE-----).",
        )


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _coerce(key: str, value: object) -> object:
    if key in _ENUMS:
        allowed = _ENUMS[key]
        if not isinstance(value, str) or value not in allowed:
            shown = repr(value) if isinstance(value, str) else _kind(value)
            raise _fail(f"{key} must be one of {', '.join(allowed)}; got {shown[:60]}.")
        return value
    if key in _STRINGS or key in _OPTIONAL_STRINGS:
        if value is None and key in _OPTIONAL_STRINGS:
            return None
        if not isinstance(value, str):
            raise _fail(f"{key} must be a string, not {_kind(value)}.")
        if len(value) > MAX_TEXT:
            raise _fail(f"{key} is longer than {MAX_TEXT} characters.")
        return value
    if key == "verify_tls":
        if not isinstance(value, bool):
            raise _fail(f"verify_tls must be true or false (JSON booleans), not {_kind(value)}.")
        return value
    if key == "timeout_s":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(f"timeout_s must be a number of seconds, not {_kind(value)}.")
        return float(value)
    if key == "static_fields":
        if not isinstance(value, Mapping):
            raise _fail(
                f'static_fields must be an object of names to strings (e.g. {{"realm": '
                f'"staff"}}), not {_kind(value)}.'
            )
        if len(value) > MAX_STATIC_FIELDS:
            raise _fail(f"static_fields has more than {MAX_STATIC_FIELDS} entries.")
        for name, item in value.items():
            if not isinstance(item, str):
                raise _fail(f"static_fields.{str(name)[:40]} must be a string, not {_kind(item)}.")
            if len(str(name)) > 200 or len(item) > MAX_TEXT:
                raise _fail(f"static_fields.{str(name)[:40]} is too long.")
        return {str(k): str(v) for k, v in value.items()}
    raise _fail(f"Unknown IAM setting: {key}. Valid keys: {', '.join(VALID_KEYS)}.")


def _check(s: IamSettings) -> None:
    """Rules that span keys (and protect direct construction too)."""
    if not isinstance(s.url, str):
        raise _fail(f"url must be a string, not {_kind(s.url)}.")
    parts = urlsplit(s.url)
    if parts.username is not None or parts.password is not None:
        raise _fail(
            "The IAM URL must not contain a user name or password (user:password@host): it "
            "is shown and logged like any address.",
        )
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _fail(f"The IAM URL {s.url[:100]!r} is not a valid http(s) URL.")
    if s.shape not in SHAPES:
        raise _fail(f"shape must be one of {', '.join(SHAPES)}.")
    if s.body_format not in BODY_FORMATS:
        raise _fail(f"body_format must be one of {', '.join(BODY_FORMATS)}.")
    if s.expiry_kind not in EXPIRY_KINDS:
        raise _fail(f"expiry_kind must be one of {', '.join(EXPIRY_KINDS)}.")
    if s.client_auth not in CLIENT_AUTHS:
        raise _fail(f"client_auth must be one of {', '.join(CLIENT_AUTHS)}.")
    if s.token_source not in TOKEN_SOURCES:
        raise _fail(f"token_source must be one of {', '.join(TOKEN_SOURCES)}.")
    if not isinstance(s.verify_tls, bool):
        raise _fail("verify_tls must be true or false.")
    if (
        isinstance(s.timeout_s, bool)
        or not isinstance(s.timeout_s, int | float)
        or not math.isfinite(s.timeout_s)
        or not 0.1 <= s.timeout_s <= 120
    ):
        raise _fail("timeout_s must be between 0.1 and 120 seconds.")
    for name in ("employee_id_field", "password_field", "token_path", "expiry_path"):
        if not str(getattr(s, name)).strip():
            raise _fail(f"{name} must not be empty.")
    if s.is_oauth and not (s.client_id or "").strip():
        raise _fail(f"The {s.shape} shape needs a client_id (ask the IAM team for one).")
    if s.shape == "oauth2-client-credentials" and s.client_auth != "none" and not s.client_secret:
        raise _fail("The oauth2-client-credentials shape needs a client_secret.")


_COMMON_NOTES = {
    "shape": "one of: " + ", ".join(SHAPES),
    "url": "the IAM's token endpoint (POST)",
    "client_id": "the OAuth client registered for the app",
    "client_secret": "only for confidential clients; null otherwise (stored encrypted)",
    "client_auth": "client_secret_basic | client_secret_post | none",
    "scope": "space-separated scopes, or null",
    "verify_tls": "false only for a test IAM: the password would travel unchecked",
    "ca_bundle": "the company CA (a PEM file that exists) when the IAM's certificate is "
    "signed by it, e.g. /etc/ssl/certs/corp-root-ca.pem; null otherwise",
    "timeout_s": "0.1..120 seconds for one IAM call",
}

_EXAMPLES: dict[Shape, tuple[dict[str, Any], dict[str, str]]] = {
    "custom": (
        {
            "shape": "custom",
            "url": "https://iam.corp.example/api/v2/login",
            "body_format": "json",
            "employee_id_field": "staffNumber",
            "password_field": "secret",
            "static_fields": {"realm": "engineering"},
            "token_path": "result.accessToken",
            "expiry_kind": "expires_in",
            "expiry_path": "result.ttlSeconds",
            "verify_tls": True,
            "ca_bundle": None,
            "timeout_s": 15,
        },
        {
            "shape": "one of: " + ", ".join(SHAPES),
            "url": "the IAM's login endpoint (POST)",
            "body_format": "json or form (application/x-www-form-urlencoded)",
            "employee_id_field": "the body field that carries the employee ID",
            "password_field": "the body field that carries the employee password",
            "static_fields": "extra fields sent with every login (strings)",
            "token_path": "dotted path of the token in the JSON answer",
            "expiry_kind": "expires_in (seconds) | absolute (epoch or ISO 8601) | jwt (exp)",
            "expiry_path": "dotted path of the expiry (unused with jwt)",
        },
    ),
    "oauth2-password": (
        {
            "shape": "oauth2-password",
            "url": "https://sso.corp.example/realms/staff/protocol/openid-connect/token",
            "client_id": "litellm-bridge",
            "client_secret": None,
            "client_auth": "none",
            "scope": "openid llm.invoke",
            "verify_tls": True,
            "ca_bundle": None,
            "timeout_s": 15,
        },
        {
            "url": "the token endpoint",
            "client_id": "the OAuth client registered for the app",
            "client_secret": "only for confidential clients; null otherwise",
            "client_auth": "client_secret_basic | client_secret_post | none",
            "scope": "space-separated scopes, or null",
        },
    ),
    "oidc": (
        {
            "shape": "oidc",
            "url": "https://login.corp.example/realms/staff",
            "client_id": "litellm-bridge",
            "client_secret": None,
            "client_auth": "none",
            "scope": "openid profile email offline_access",
            "token_source": "access_token",
            "verify_tls": True,
            "ca_bundle": None,
            "timeout_s": 15,
        },
        {
            "url": "the issuer: its /.well-known/openid-configuration names the endpoints",
            "client_id": "a public client registered with the redirect http://127.0.0.1 (any port)",
            "client_secret": "null for a public client (PKCE protects the code)",
            "scope": "openid is added; offline_access for refresh tokens",
            "token_source": "access_token | id_token: which one the upstream wants",
        },
    ),
    "oauth2-client-credentials": (
        {
            "shape": "oauth2-client-credentials",
            "url": "https://sso.corp.example/oauth2/token",
            "client_id": "build-agent-17",
            "client_secret": "set-by-the-admin",
            "client_auth": "client_secret_basic",
            "scope": "llm.invoke",
            "verify_tls": True,
            "ca_bundle": None,
            "timeout_s": 15,
        },
        {
            "client_id": "the service account's client id",
            "client_secret": "the service account's secret (stored encrypted)",
            "client_auth": "client_secret_basic | client_secret_post",
        },
    ),
}


def example_settings(shape: str = "custom") -> str:
    """A complete example for ``shape``: JSON with a comment line per key (``//`` lines
    must be removed before use; ``token iam --example SHAPE --json`` prints plain JSON)."""
    if shape not in SHAPES:
        raise _fail(f"Unknown shape {shape[:60]!r}; choose one of {', '.join(SHAPES)}.")
    data, notes = _EXAMPLES[shape]
    notes = {**_COMMON_NOTES, **notes}
    assert set(data) <= set(notes), set(data) - set(notes)  # every key has its comment
    lines = [f"// {SHAPE_TITLES[shape]}", "{"]
    items = list(data.items())
    for index, (key, value) in enumerate(items):
        if key in notes:
            lines.append(f"  // {key}: {notes[key]}")
        comma = "," if index < len(items) - 1 else ""
        lines.append(f"  {json.dumps(key)}: {json.dumps(value)}{comma}")
    lines.append("}")
    return "\n".join(lines)


def example_data(shape: str = "custom") -> dict[str, Any]:
    if shape not in SHAPES:
        raise _fail(f"Unknown shape {shape[:60]!r}; choose one of {', '.join(SHAPES)}.")
    return dict(_EXAMPLES[shape][0])
