"""`doctor`'s look at the TLS of each https endpoint the active config calls: trusted by
this machine, or which certificate and which CA are missing, and what to do."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from bridge_app.config import env_ref_name
from bridge_app.runtime import TlsVerdict, check_tls

#: At most this many endpoints are checked, in parallel, all within DEADLINE_S.
MAX_ENDPOINTS = 8
DEADLINE_S = 5.0


def https_endpoints(config: Path) -> list[tuple[str, str, int]]:
    """(model name, host, port) of each distinct https ``api_base`` in ``config``; an
    ``os.environ/NAME`` reference is read from this process's environment when set."""
    try:
        document = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return []
    seen: dict[tuple[str, int], str] = {}
    for entry in _entries(document):
        params = entry.get("litellm_params") or {}
        base = params.get("api_base") if isinstance(params, dict) else None
        name = env_ref_name(base)
        if name is not None:
            base = os.environ.get(name)
        if not isinstance(base, str) or not base.lower().startswith("https://"):
            continue
        try:
            parts = urlsplit(base)
            host, port = parts.hostname, parts.port or 443
        except ValueError:
            continue
        if host and (host, port) not in seen:
            seen[(host, port)] = str(entry.get("model_name") or host)
    return [(name, host, port) for (host, port), name in seen.items()][:MAX_ENDPOINTS]


def _entries(document: Any) -> Iterator[dict[str, Any]]:
    entries = document.get("model_list") if isinstance(document, dict) else None
    for entry in entries or []:
        if isinstance(entry, dict):
            yield entry


CheckRow = tuple[str, Literal["ok", "warn", "fail"], str, str | None]  # name, status, detail, hint


def tls_checks(config: Path) -> list[CheckRow]:
    """(name, status, detail, hint) per endpoint, in the config's order."""
    endpoints = https_endpoints(config)
    if not endpoints:
        return []
    # Daemon threads and one deadline: a name lookup that hangs (getaddrinfo knows no
    # timeout) must neither hold up doctor nor keep the process from exiting.
    unanswered = TlsVerdict(False, f"no answer within {DEADLINE_S:g} s (name lookup or connect)")
    verdicts = [unanswered] * len(endpoints)

    def probe(index: int, host: str, port: int) -> None:
        try:
            verdicts[index] = check_tls(host, port)
        except Exception as exc:  # reported as a row, never raised out of doctor
            verdicts[index] = TlsVerdict(False, f"the check failed: {exc.__class__.__name__}")

    threads = [
        threading.Thread(target=probe, args=(i, host, port), name="doctor-tls", daemon=True)
        for i, (_name, host, port) in enumerate(endpoints)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + DEADLINE_S
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    found = list(verdicts)  # a late thread no longer changes what is reported
    return [
        _check(name, host, port, v) for (name, host, port), v in zip(endpoints, found, strict=True)
    ]


def _check(name: str, host: str, port: int, verdict: TlsVerdict) -> CheckRow:
    label = f"TLS to {name} ({host}:{port})"
    if verdict.ok:
        return label, "ok", verdict.detail, None
    if verdict.issuer is None:  # no handshake at all: the network, not trust
        return label, "warn", verdict.detail, "Check the network path to the endpoint."
    return (
        label,
        "fail",
        verdict.detail,
        f"Ask IT to add the CA '{verdict.issuer}' to this machine's trust store, or an admin "
        "sets the shared entry SSL_CERT_FILE to its file (README, 'An internal endpoint "
        "behind a company CA').",
    )
