"""The IAM settings form (shape, URL, field names, token and expiry paths, TLS), shared by
the Token screen and the first-run wizard: the screens own the buttons and call the core."""

from __future__ import annotations

import json
from typing import Any

from kivy.properties import StringProperty
from kivymd.uix.boxlayout import MDBoxLayout

from bridge_app.runtime import BridgeError
from bridge_app.services import IamSettings, TokenGrant, parse_iam_settings
from bridge_app.ui import strings as S

_OAUTH = ("url", "client_id", "client_secret", "client_auth", "scope", "ca_bundle", "timeout_s")
#: What each IAM shape reads (``token iam --example SHAPE`` shows the same split).
FIELDS_BY_SHAPE = {
    "oauth2-password": _OAUTH,
    "oauth2-client-credentials": _OAUTH,
    "oidc": (*_OAUTH, "token_source"),
    "custom": (
        "url",
        "body_format",
        "employee_id_field",
        "password_field",
        "static_fields",
        "token_path",
        "expiry_kind",
        "expiry_path",
        "ca_bundle",
        "timeout_s",
    ),
}


class IamForm(MDBoxLayout):
    """``shape`` is the chosen IAM shape; ``fill`` shows settings, ``settings`` reads them
    back validated (one clear line when something is wrong)."""

    shape = StringProperty("oauth2-password")

    def on_kv_post(self, base_widget: Any) -> None:
        grid = self.ids.iam_fields
        self._fields = [c for c in reversed(grid.children) if isinstance(c.key, str)]
        self.bind(shape=self._show_fields)
        self._show_fields()

    def _show_fields(self, *_args: Any) -> None:
        """Only the fields the chosen shape reads (the others keep what was typed)."""
        grid = self.ids.iam_fields
        grid.clear_widgets()
        wanted = FIELDS_BY_SHAPE.get(self.shape, FIELDS_BY_SHAPE["custom"])
        for field in self._fields:
            if field.key in wanted:
                grid.add_widget(field)
            if field.key == "url":  # the token endpoint, or the issuer for browser sign-in
                field.hint = S.IAM_URL_BY_SHAPE.get(self.shape, "")

    def inputs(self) -> dict[str, Any]:
        """Every field of the form, shown or not."""
        return {field.key: field for field in self._fields}

    def fill(self, data: dict[str, Any]) -> None:
        self.shape = str(data.get("shape") or "custom")
        for key, field in self.inputs().items():
            value = data.get(key)
            if key == "client_secret":
                value = None  # never shown; empty keeps the stored one
            elif key == "static_fields":
                value = json.dumps(value, ensure_ascii=False) if value else None
            field.text = "" if value is None else str(value)
        self.ids.verify_tls.active = bool(data.get("verify_tls", True))

    def settings(self, stored: IamSettings | None = None) -> IamSettings:
        """The form as settings; an empty client secret keeps the one ``stored``."""
        data: dict[str, Any] = {"shape": self.shape, "verify_tls": self.ids.verify_tls.active}
        wanted = FIELDS_BY_SHAPE.get(self.shape, ())
        for key, field in self.inputs().items():
            text = field.text.strip()
            if key not in wanted:
                continue
            if not text:
                continue
            if key == "static_fields":
                data[key] = _json_object(text)
            elif key == "timeout_s":
                try:
                    data[key] = float(text)
                except ValueError:
                    raise BridgeError("timeout_s must be a number of seconds.") from None
            else:
                data[key] = text
        keep = stored is not None and stored.client_secret and self.shape != "custom"
        if keep and "client_secret" not in data:
            assert stored is not None
            data["client_secret"] = stored.client_secret
        return parse_iam_settings(data)


def _json_object(text: str) -> Any:
    """The extra login fields as typed, decoded; what they must be (an object of names to
    strings) is ``parse_iam_settings``' check, the same as for the CLI."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise BridgeError(
            'Extra login fields must be a JSON object of names to strings, e.g. {"realm": '
            '"engineering"}; this is not JSON.'
        ) from None


def describe_test(settings: IamSettings, grant: TokenGrant) -> str:
    """What a test login shows: the IAM's answer with its tokens masked."""
    return (
        f"The IAM answered with a token ({settings.shape}); nothing was stored.\n"
        f"Lifetime {grant.lifetime_s:.0f} s, refresh token: "
        f"{'yes' if grant.refresh_token else 'no'}.\n"
        + json.dumps(grant.masked_answer(), indent=2, ensure_ascii=False)
    )
