"""HTTP probes against the proxy's own health routes (loopback, no key needed)."""

from __future__ import annotations

import functools
import ssl
import time

import httpx

from bridge_app.runtime import BridgeError


def wait_ready(url: str, *, deadline: float) -> None:
    """Poll /health/readiness until it answers 200, or raise at ``deadline``
    (a time.perf_counter() value)."""
    last = "no answer yet"
    # trust_env=False: a corporate HTTP_PROXY must never see loopback traffic. The first
    # readiness answer can take seconds on a loaded machine (LiteLLM imports lazily); a
    # short per-call timeout would cancel it and start over forever, so each call may use
    # the time left until the deadline.
    with httpx.Client(timeout=10.0, trust_env=False) as client:
        while True:
            try:
                response = client.get(f"{url}/health/readiness")
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = f"{exc.__class__.__name__}: {exc}"
            if time.perf_counter() > deadline:
                raise BridgeError(
                    f"The proxy started but /health/readiness never answered ({last}).",
                    hint="See `litellm-bridge logs`.",
                )
            time.sleep(0.02)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # httpx builds a verifying TLS context (reading the CA bundle) for every Client, even
    # for plain-HTTP loopback URLs: the watchdog's probe did that every few seconds.
    return ssl.create_default_context()


def probe_liveliness(url: str, *, timeout: float) -> str | None:
    """None when healthy, else what went wrong."""
    try:
        with httpx.Client(timeout=timeout, trust_env=False, verify=_tls_context()) as client:
            response = client.get(f"{url}/health/liveliness")
    except httpx.HTTPError as exc:
        return f"{exc.__class__.__name__}: {exc}"
    if response.status_code != 200:
        return f"/health/liveliness answered HTTP {response.status_code}"
    return None
