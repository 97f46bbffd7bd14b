"""Talking to a remote LiteLLM gateway: reachability, TLS, the key, its version and its
models. Every failure a person can cause ends in a RemoteError that says what to do."""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from bridge_app.runtime import BridgeError, ProxyRules

DEFAULT_TIMEOUT = 10.0


class RemoteError(BridgeError):
    """A remote gateway could not be added, reached or used (the message says why)."""


@dataclass(frozen=True)
class RemoteModel:
    id: str
    provider: str | None = None  # from /model/info, when the key may read it
    upstream_model: str | None = None
    mode: str | None = None


@dataclass(frozen=True)
class ProbeResult:
    url: str
    reachable: bool
    tls: str  # "not used (http)" | "verified (system CAs)" | "verified (private CA)"
    auth: str  # "key accepted" | "no key needed" | "no key given"
    latency_ms: float
    version: str | None
    models: tuple[str, ...] = field(default_factory=tuple)

    def lines(self) -> list[str]:
        return [
            f"gateway:  {self.url}",
            f"reached:  yes, in {self.latency_ms:.0f} ms",
            f"TLS:      {self.tls}",
            f"key:      {self.auth}",
            f"LiteLLM:  {self.version or 'version not disclosed'}",
            f"models:   {', '.join(self.models) if self.models else 'none offered'}",
        ]


def _verify(url: str, ca_pem: str | None) -> ssl.SSLContext | bool:
    if not url.startswith("https://"):
        return True
    context = ssl.create_default_context()
    if ca_pem:
        try:
            context.load_verify_locations(cadata=ca_pem)
        except ssl.SSLError as exc:
            raise RemoteError(
                "The CA certificate given for this gateway cannot be read.",
                hint=f"Give a PEM file with the CA that signed the gateway's certificate ({exc}).",
            ) from exc
    return context


def proxy_for(url: str, network: Mapping[str, str]) -> str | None:
    """The corporate proxy the embedded proxy would use for ``url``: the app's one route
    decision (runtime ProxyRules: entries, the system's settings, a PAC file)."""
    return ProxyRules(network).choose(url).proxy


def _client(url: str, ca_pem: str | None, timeout: float, proxy: str | None = None) -> httpx.Client:
    # trust_env=False: the shell's own variables do not decide the route; the app's network
    # entries do (``proxy``), as they do for the embedded proxy.
    return httpx.Client(
        base_url=url, verify=_verify(url, ca_pem), timeout=timeout, trust_env=False, proxy=proxy
    )


def _connect_error(url: str, exc: Exception) -> RemoteError:
    text = str(exc)
    if isinstance(exc, httpx.ConnectError) and (
        "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower()
    ):
        return RemoteError(
            f"The TLS certificate of {url} is not trusted: {text.split('] ')[-1]}",
            hint="If the gateway uses your company's private CA, add it with --ca-file PATH.",
        )
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return RemoteError(
            f"Nothing answers at {url} ({text or 'connection refused'}).",
            hint="Check the address and port, and that the gateway is running.",
        )
    if isinstance(exc, httpx.TimeoutException):
        return RemoteError(
            f"{url} did not answer in time.", hint="Check the gateway and the network."
        )
    return RemoteError(f"Could not talk to {url}: {text or exc.__class__.__name__}.")


def _error_text(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error)
        if error:
            return str(error)
        return str(data.get("detail") or data)[:200]
    return str(data)[:200]


def _auth_refused(url: str, response: httpx.Response, has_key: bool) -> RemoteError:
    reason = _error_text(response)
    if not has_key:
        return RemoteError(
            f"{url} needs a key (it answered {response.status_code}: {reason}).",
            hint="Add the gateway's key: remote add NAME URL --key-stdin (or set it again).",
        )
    return RemoteError(
        f"The gateway refused the key (401 Unauthorized: HTTP {response.status_code}, {reason}).",
        hint="Ask the gateway's admin for a valid key and store it again with --key-stdin.",
    )


def _looks_refused(response: httpx.Response, has_key: bool) -> bool:
    if response.status_code in (401, 403):
        return True
    # LiteLLM without a database answers an unknown key with 400 "No connected db." and a
    # missing key with 500 (it looks for prisma); both mean "this key is not accepted here".
    text = _error_text(response).lower()
    if response.status_code == 400:
        return "no connected db" in text or "no_db_connection" in text or "api key" in text
    return response.status_code == 500 and not has_key


def _litellm_version(
    client: httpx.Client, headers: dict[str, str]
) -> tuple[bool, str | None, float]:
    """(is it LiteLLM?, its version). LiteLLM's proxy answers /health/liveliness with
    "I'm alive!" without a key; its version is public in /public/model_hub/info, else in
    /health/readiness/details for a valid key."""
    started = time.perf_counter()
    live = client.get("/health/liveliness")
    latency = (time.perf_counter() - started) * 1000
    if live.status_code != 200 or "alive" not in live.text.lower():
        return False, None, latency
    for path, extra in (("/public/model_hub/info", {}), ("/health/readiness/details", headers)):
        try:
            answer = client.get(path, headers=extra)
            version = answer.json().get("litellm_version") if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):
            continue
        if version:
            return True, str(version), latency
    return True, None, latency


def probe(
    url: str,
    key: str | None,
    *,
    ca_pem: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    proxy: str | None = None,
) -> ProbeResult:
    """Reach the gateway, check it is LiteLLM, check the key against /v1/models."""
    try:
        with _client(url, ca_pem, timeout, proxy) as client:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            is_litellm, version, latency = _litellm_version(client, headers)
            if not is_litellm:
                raise RemoteError(
                    f"{url} answers, but it is not a LiteLLM proxy "
                    "(no /health/liveliness answer from LiteLLM).",
                    hint="Use the base address of the team's LiteLLM gateway, without /v1.",
                )
            response = client.get("/v1/models", headers=headers)
    except httpx.HTTPError as exc:
        raise _connect_error(url, exc) from exc
    if _looks_refused(response, bool(key)):
        raise _auth_refused(url, response, bool(key))
    if response.status_code != 200:
        raise RemoteError(
            f"{url} answered /v1/models with HTTP {response.status_code}: {_error_text(response)}"
        )
    models = _model_ids(response)
    if url.startswith("https://"):
        tls = "verified (private CA)" if ca_pem else "verified (system CAs)"
    else:
        tls = "not used (http)"
    return ProbeResult(
        url=url,
        reachable=True,
        tls=tls,
        auth="key accepted" if key else "no key needed",
        latency_ms=round(latency, 1),
        version=version,
        models=tuple(models),
    )


def _model_ids(response: httpx.Response) -> list[str]:
    try:
        data = response.json().get("data") or []
    except (ValueError, AttributeError):
        return []
    return sorted(str(m["id"]) for m in data if isinstance(m, dict) and m.get("id"))


def list_models(
    url: str,
    key: str | None,
    *,
    ca_pem: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    proxy: str | None = None,
) -> list[RemoteModel]:
    """The gateway's models from /v1/models, with /model/info details when the key may
    read them (a virtual key often may not)."""
    result = probe(url, key, ca_pem=ca_pem, timeout=timeout, proxy=proxy)
    details: dict[str, dict[str, Any]] = {}
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with _client(url, ca_pem, timeout, proxy) as client:
            info = client.get("/model/info", headers=headers)
        if info.status_code == 200:
            for entry in info.json().get("data") or []:
                if isinstance(entry, dict) and entry.get("model_name"):
                    details.setdefault(str(entry["model_name"]), entry)
    except (httpx.HTTPError, ValueError, AttributeError):
        pass  # details are optional
    models = []
    for model_id in result.models:
        entry = details.get(model_id, {})
        params = entry.get("litellm_params") or {}
        info_block = entry.get("model_info") or {}
        upstream = str(params.get("model")) if params.get("model") else None
        models.append(
            RemoteModel(
                id=model_id,
                provider=upstream.split("/", 1)[0] if upstream and "/" in upstream else None,
                upstream_model=upstream,
                mode=str(info_block.get("mode")) if info_block.get("mode") else None,
            )
        )
    return models
