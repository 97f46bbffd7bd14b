"""`doctor`'s look at the network path to each endpoint the active config calls: the
proxy chosen for it and why (the app's entries, the system's settings, a PAC file), and
for https whether its certificate is trusted by this machine, through that proxy, or
which certificate and which CA are missing, and what to do."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from bridge_app.config import env_ref_name
from bridge_app.runtime import (
    PROXY_ENTRY_NAMES,
    ProxyChoice,
    ProxyRules,
    TlsVerdict,
    check_tls,
    litellm_environment,
)

log = logging.getLogger(__name__)

#: At most this many endpoints are checked, in parallel, all within DEADLINE_S.
MAX_ENDPOINTS = 8
DEADLINE_S = 5.0


def endpoints(
    config: Path, environment: Mapping[str, str] | None = None
) -> list[tuple[str, str, str, int]]:
    """(model name, URL, host, port) of each distinct http(s) ``api_base`` in ``config``,
    at most MAX_ENDPOINTS; an ``os.environ/NAME`` reference is read from ``environment``
    (this process's environment by default)."""
    environment = os.environ if environment is None else environment
    try:
        document = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return []
    seen: dict[tuple[str, int], tuple[str, str]] = {}
    for entry in _entries(document):
        params = entry.get("litellm_params") or {}
        base = params.get("api_base") if isinstance(params, dict) else None
        name = env_ref_name(base)
        if name is not None:
            base = environment.get(name)
        if not isinstance(base, str) or not base.lower().startswith(("https://", "http://")):
            continue
        try:
            parts = urlsplit(base)
            host = parts.hostname
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except ValueError:
            continue
        if host and (host, port) not in seen:
            seen[(host, port)] = (str(entry.get("model_name") or host), base)
    return [(name, url, host, port) for (host, port), (name, url) in seen.items()][:MAX_ENDPOINTS]


def _entries(document: Any) -> Iterator[dict[str, Any]]:
    entries = document.get("model_list") if isinstance(document, dict) else None
    for entry in entries or []:
        if isinstance(entry, dict):
            yield entry


CheckRow = tuple[str, Literal["ok", "warn", "fail"], str, str | None]  # name, status, detail, hint


def network_checks(config: Path, entries: Mapping[str, str] | None = None) -> list[CheckRow]:
    """(name, status, detail, hint) rows per endpoint, in the config's order: the route
    (which proxy and why) and, for https, the TLS handshake made through that route.
    ``entries`` are the app's shared entries (proxy settings, os.environ/ references)."""
    entries = dict(entries or {})
    found = endpoints(config, {**os.environ, **entries})
    if not found:
        return []
    rules = ProxyRules(entries)
    routes = [rules.choose(url) for _name, url, _host, _port in found]
    # Daemon threads and one deadline: a name lookup that hangs (getaddrinfo knows no
    # timeout) must neither hold up doctor nor keep the process from exiting.
    unanswered = TlsVerdict(False, f"no answer within {DEADLINE_S:g} s (name lookup or connect)")
    verdicts: list[TlsVerdict | None] = [
        unanswered if url.lower().startswith("https://") else None for _n, url, _h, _p in found
    ]

    def probe(index: int, host: str, port: int, proxy: str | None) -> None:
        try:
            verdicts[index] = check_tls(host, port, proxy=proxy)
        except Exception as exc:  # reported as a row, never raised out of doctor
            verdicts[index] = TlsVerdict(False, f"the check failed: {exc.__class__.__name__}")

    threads = [
        threading.Thread(
            target=probe, args=(i, host, port, routes[i].proxy), name="doctor-tls", daemon=True
        )
        for i, (_name, _url, host, port) in enumerate(found)
        if verdicts[i] is not None
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + DEADLINE_S
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    results = list(verdicts)  # a late thread no longer changes what is reported
    rows: list[CheckRow] = []
    for (name, _url, host, port), route, verdict in zip(found, routes, results, strict=True):
        if route.proxy is not None or route.problem or rules.any_proxy:
            rows.append(_route(name, host, port, route))
        if verdict is not None:
            rows.append(_check(name, host, port, verdict, route))
    return rows


def _route(name: str, host: str, port: int, route: ProxyChoice) -> CheckRow:
    label = f"Route to {name} ({host}:{port})"
    where = f"via {route.shown}" if route.proxy else "direct"
    if route.problem:
        return (
            label,
            "warn",
            f"{where}: {route.reason}: {route.problem}",
            "Check the PROXY_PAC_URL entry (or the system's automatic proxy script) and "
            "that the PAC file answers (docs/network.md).",
        )
    return label, "ok", f"{where} ({route.reason})", None


def _check(
    name: str, host: str, port: int, verdict: TlsVerdict, route: ProxyChoice | None = None
) -> CheckRow:
    label = f"TLS to {name} ({host}:{port})"
    if verdict.ok:
        return label, "ok", verdict.detail, None
    if verdict.issuer is None:  # no handshake at all: the network, not trust
        if route is not None and route.proxy is not None:
            if "407" in verdict.detail and route.via:
                hint = (
                    f"The proxy {route.shown} did not accept this user's sign-in: on Windows "
                    "sign in with the company (domain) account; on Linux get a Kerberos ticket "
                    "with kinit; or an admin sets PROXY_USERNAME and PROXY_PASSWORD "
                    "(docs/network.md)."
                )
            elif "407" in verdict.detail and (
                "Negotiate" in verdict.detail or "NTLM" in verdict.detail
            ):
                hint = (
                    f"The proxy {route.shown} asks for Windows sign-in: an admin sets the shared "
                    "entry PROXY_AUTH to negotiate (docs/network.md)."
                )
            elif "407" in verdict.detail:
                hint = (
                    f"The proxy {route.shown} wants credentials it did not get or refused: "
                    "an admin sets the shared entries PROXY_USERNAME and PROXY_PASSWORD (or "
                    "the credentials in HTTPS_PROXY) (docs/network.md)."
                )
            else:
                hint = (
                    f"Check the proxy {route.shown} ({route.reason}) and its route to the endpoint."
                )
            return label, "fail", verdict.detail, hint
        return label, "warn", verdict.detail, "Check the network path to the endpoint."
    return (
        label,
        "fail",
        verdict.detail,
        f"Ask IT to add the CA '{verdict.issuer}' to this machine's trust store, or an admin "
        "sets the shared entry SSL_CERT_FILE to its file (README, 'An internal endpoint "
        "behind a company CA').",
    )


def network_layer(
    active_config: Callable[[], Path],
) -> Callable[[dict[str, str]], dict[str, str]]:
    """An environment layer for the embedded proxy: the proxy variables that send each
    upstream of the active config the way ProxyRules chose (LiteLLM reads only the
    environment), with what was chosen and any problem in the log."""

    def layer(environment: dict[str, str]) -> dict[str, str]:
        entries = {k: v for k, v in environment.items() if k in PROXY_ENTRY_NAMES}
        rules = ProxyRules(entries)
        found = endpoints(active_config(), {**os.environ, **environment})
        if not found and not rules.any_proxy:
            return {}
        routes = [(url, rules.choose(url)) for _name, url, _host, _port in found]
        for (name, _url, host, port), (_u, route) in zip(found, routes, strict=True):
            log.info(
                "network: %s (%s:%d) %s (%s)",
                name, host, port, f"via {route.shown}" if route.proxy else "direct", route.reason,
            )  # fmt: skip
        env, problems = litellm_environment(routes)
        for problem in problems:
            log.warning("network: %s", problem)
        return env

    return layer
