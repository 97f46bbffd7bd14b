from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from bridge_app.runtime import AppPaths, BridgeError, resource_path

COST_MAP_ENV = "LITELLM_LOCAL_MODEL_COST_MAP"


@dataclass(frozen=True)
class SelfTestResult:
    name: str
    ok: bool
    detail: str


def _offline_cost_map() -> str:
    # Must hold before litellm is imported, or its import fetches the map from the internet.
    if "litellm" in sys.modules:
        raise RuntimeError("litellm was imported before the check could look")
    if os.environ.get(COST_MAP_ENV) != "True":
        raise RuntimeError(f"{COST_MAP_ENV} is {os.environ.get(COST_MAP_ENV)!r}, not 'True'")
    return f"{COST_MAP_ENV}=True before litellm loads"


def _resources() -> str:
    found = []
    for kind, probe in (("kv", "diagnostics.kv"), ("assets", "icon.png"), ("configs", "")):
        path = resource_path(kind, probe) if probe else resource_path(kind)
        if not path.exists():
            raise RuntimeError(f"{path} is missing")
        found.append(str(resource_path(kind)))
    return ", ".join(found)


def _proxy_server() -> str:
    started = time.perf_counter()
    proxy = importlib.import_module("litellm.proxy.proxy_server")
    if not hasattr(proxy, "app"):
        raise RuntimeError("litellm.proxy.proxy_server has no ASGI app")
    return f"litellm.proxy.proxy_server imported in {time.perf_counter() - started:.1f} s"


def _model_map_and_tokenizer() -> str:
    litellm = importlib.import_module("litellm")
    if "gpt-4o" not in litellm.model_cost:
        raise RuntimeError("the bundled model cost map has no gpt-4o entry")
    tokens = litellm.token_counter(
        model="gpt-4o", messages=[{"role": "user", "content": "Hello from the bundle"}]
    )
    if not tokens:
        raise RuntimeError("the tokenizer counted no tokens")
    return f"{len(litellm.model_cost)} models in the local cost map; tokenizer counted {tokens}"


def _pac_engine() -> str:
    """pypac and its JavaScript engine (a compiled extension) answer a PAC file."""
    from pypac.parser import PACFile

    pac = PACFile(
        "function FindProxyForURL(url, host) {"
        ' return dnsDomainIs(host, ".corp.example") ? "PROXY proxy.corp.example:3128" : "DIRECT"; }'
    )
    answer = pac.find_proxy_for_url("https://llm.corp.example/v1", "llm.corp.example")
    if answer != "PROXY proxy.corp.example:3128":
        raise RuntimeError(f"a PAC file answered {answer!r}")
    return f"a PAC file answered {answer!r}"


def _proxy_sign_in() -> str:
    """pyspnego builds an NTLM message (its own code), and the system's provider for the
    logged-in user is present: SSPI's binding on Windows, GSSAPI's on Linux."""
    import spnego

    context = spnego.client(
        "probe",
        "probe",
        hostname="proxy.corp.example",
        protocol="ntlm",
        options=spnego.NegotiateOptions.use_ntlm,
    )
    token = context.step()
    if not token or not token.startswith(b"NTLMSSP\0"):
        raise RuntimeError(f"pyspnego's NTLM gave {(token or b'')[:8]!r}")
    provider = "sspilib" if sys.platform == "win32" else "gssapi"
    present = importlib.util.find_spec(provider) is not None
    if sys.platform == "win32" and not present:
        raise RuntimeError("sspilib (Windows sign-in) is missing")
    said = "present" if present else "not installed (the kerberos extra): NTLM only"
    return f"an NTLM message was built; {provider} {said}"


def _gui_stack() -> str:
    wanted = ("kivy", "kivymd", "materialshapes")
    missing = [name for name in wanted if importlib.util.find_spec(name) is None]
    if missing:
        raise RuntimeError("missing: " + ", ".join(missing))
    return "kivy, kivymd and materialshapes are present"


def prepare_gui_environment() -> None:
    """Kivy's own files go with the app's cache, as when the GUI runs, never to ~/.kivy."""
    kivy_home = AppPaths.from_environment().cache_dir / "kivy"
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(kivy_home))
    os.environ.setdefault("KIVY_NO_ARGS", "1")


def run_self_test(*, gui: Callable[[], str] | None = None) -> list[SelfTestResult]:
    """Check that a bundle holds every part the app needs, without touching the network.
    ``gui`` is the front end's own window check (this package does not import the UI).

    Order matters: the cost-map check must run before anything imports litellm.
    """
    checks: list[tuple[str, Callable[[], str]]] = [
        ("offline cost map", _offline_cost_map),
        ("shipped folders", _resources),
        ("LiteLLM proxy", _proxy_server),
        ("model map and tokenizer", _model_map_and_tokenizer),
        ("PAC files", _pac_engine),
        ("proxy sign-in", _proxy_sign_in),
        ("GUI stack", _gui_stack),
    ]
    if gui is not None:
        checks.append(("GUI window", gui))
    results = []
    for name, check in checks:
        try:
            results.append(SelfTestResult(name, True, check()))
        except BridgeError as exc:
            results.append(SelfTestResult(name, False, exc.message))
        except Exception as exc:  # a self-test reports every failure, it does not stop
            results.append(SelfTestResult(name, False, f"{type(exc).__name__}: {exc}"))
    return results
