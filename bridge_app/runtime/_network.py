"""Which proxy a call to a URL goes through, decided once for the whole app, the way the
operating system and IT set it, and said in words.

Sources, first match wins:

1. loopback (127.0.0.0/8, ::1, ``localhost``) is always direct;
2. ``NO_PROXY`` (the app's entry, else the system's) lists the host: direct;
3. the app's ``HTTPS_PROXY``/``HTTP_PROXY`` entries;
4. the app's ``PROXY_PAC_URL`` entry: the PAC file's ``FindProxyForURL`` answer (the
   value ``wpad``: the PAC file WPAD finds by the machine's DNS name);
5. the system: ``HTTPS_PROXY``/``HTTP_PROXY`` in the environment the process started
   with; on Windows the per-user settings (a PAC file named by ``AutoConfigURL``, else
   WPAD when "Automatically detect settings" is on, else ``ProxyServer`` with its
   ``ProxyOverride`` bypass list);
6. direct.

A proxy without credentials in its URL gets ``PROXY_USERNAME``/``PROXY_PASSWORD`` when
those entries are set (Basic authentication). With ``PROXY_AUTH`` set to ``negotiate``
(Kerberos, else NTLM, as the logged-in user), ``ntlm`` or ``kerberos``, the route names the
bridge's local relay instead, which signs in to that proxy (runtime/_relay.py).

PAC files are evaluated by ``pypac`` (the library made for it: a JavaScript engine with the
PAC helper functions); they are fetched directly (not through a proxy), once per
:class:`ProxyRules`.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
import threading
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import quote, unquote, urlsplit

from bridge_app.runtime._proxy_settings import PROXY_AUTH_VALUES

log = logging.getLogger(__name__)

#: The app's entries that decide the route (stored encrypted like any other entry).
PROXY_ENTRY_NAMES = (
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "PROXY_PAC_URL",
    "PROXY_USERNAME",
    "PROXY_PASSWORD",
    "PROXY_AUTH",
)

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
PAC_TIMEOUT_S = 5.0

# The proxy variables of the environment the process started with: the system's settings.
# Later the app puts its own entries into os.environ for LiteLLM; those must not pass for
# the system's.
_SYSTEM_ENV = {
    k.upper(): v
    for k, v in os.environ.items()
    if k.upper() in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY") and v.strip()
}


@dataclass(frozen=True)
class ProxyChoice:
    """``proxy`` (a URL, credentials included) or None for direct, and why."""

    proxy: str | None
    reason: str
    problem: str | None = None  # a source that should have decided but could not be used
    via: str | None = None  # the company proxy behind the relay that ``proxy`` names
    sign_in: str | None = None  # how the relay signs in there: Negotiate, NTLM

    @property
    def shown(self) -> str:
        """The proxy as a person may see it: the password masked."""
        if self.via:
            return f"{mask_proxy(self.via)} (signing in with {self.sign_in})"
        return mask_proxy(self.proxy) if self.proxy else "direct"


def mask_proxy(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username}:****@{host}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bypassed(host: str, no_proxy: str) -> str | None:
    """The NO_PROXY item that matches ``host`` (curl's and Python's rules: a suffix with or
    without a leading dot, ``*`` for all, an optional port ignored), or None."""
    host = host.strip("[]").lower()
    for raw in no_proxy.replace(";", ",").split(","):
        item = raw.strip().lower()
        if not item:
            continue
        if item == "*":
            return item
        name = item.lstrip(".")
        if name.startswith("[") or name.count(":") > 1:  # an IPv6 address, maybe bracketed
            name = name.split("]")[0].strip("[")
        else:
            name = name.split(":")[0]
        if name and (host == name or host.endswith("." + name)):
            return item
    return None


def _with_credentials(proxy: str, settings: Mapping[str, str]) -> str:
    if "://" not in proxy:
        proxy = f"http://{proxy}"
    user = settings.get("PROXY_USERNAME")
    parts = urlsplit(proxy)
    if not user or parts.username:
        return proxy
    secret = quote(user, safe="") + ":" + quote(settings.get("PROXY_PASSWORD", ""), safe="")
    return parts._replace(netloc=f"{secret}@{parts.netloc}").geturl()


class ProxyRules:
    """The route decision for one set of settings (the app's entries and the system's)."""

    def __init__(
        self,
        entries: Mapping[str, str],
        *,
        system: Mapping[str, str] | None = None,
        windows_settings: bool | None = None,
    ) -> None:
        self._entries = {k: v for k, v in entries.items() if k in PROXY_ENTRY_NAMES and v}
        self._system = dict(_SYSTEM_ENV if system is None else system)
        self._windows = sys.platform == "win32" if windows_settings is None else windows_settings
        self._pac: dict[str, tuple[object | None, str | None]] = {}
        self._lock = threading.Lock()

    @property
    def any_proxy(self) -> bool:
        """Whether any source names a proxy at all (else every route is plainly direct)."""
        named = ("HTTPS_PROXY", "HTTP_PROXY", "PROXY_PAC_URL")
        if any(self._entries.get(n) for n in named):
            return True
        if any(self._system.get(n) for n in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")):
            return True
        if self._windows and sys.platform == "win32":
            return bool(_windows_pac_url() or urllib.request.getproxies_registry())  # type: ignore[attr-defined]
        return False

    # -- the decision -------------------------------------------------------------------

    def choose(self, url: str) -> ProxyChoice:
        choice = self._choose(url)
        auth = self._entries.get("PROXY_AUTH", "basic").strip().lower()
        if choice.proxy is None or auth not in PROXY_AUTH_VALUES or auth == "basic":
            return choice
        from bridge_app.runtime._relay import SCHEMES, relay_for

        upstream = urlsplit(choice.proxy)
        bare = upstream._replace(netloc=upstream.netloc.rpartition("@")[2]).geturl()
        try:
            relay = relay_for(
                bare,
                auth,
                unquote(upstream.username) if upstream.username else None,
                unquote(upstream.password) if upstream.password else None,
            )
        except OSError as exc:
            return replace(choice, problem=f"the sign-in relay could not start: {exc}")
        return replace(choice, proxy=relay.url, via=choice.proxy, sign_in=SCHEMES[auth])

    def _choose(self, url: str) -> ProxyChoice:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        scheme = parts.scheme.lower() or "https"
        if is_loopback(host):
            return ProxyChoice(None, "loopback is always direct")
        for label, no_proxy in (
            ("the app's NO_PROXY entry", self._entries.get("NO_PROXY")),
            ("the system's NO_PROXY", self._system.get("NO_PROXY")),
        ):
            item = bypassed(host, no_proxy or "")
            if item is not None:
                return ProxyChoice(None, f"{label} lists '{item}'")
        for name in (f"{scheme.upper()}_PROXY", "HTTPS_PROXY", "HTTP_PROXY"):
            if self._entries.get(name):
                return ProxyChoice(
                    _with_credentials(self._entries[name], self._entries),
                    f"the app's {name} entry",
                )
        pac_entry = self._entries.get("PROXY_PAC_URL", "").strip()
        if pac_entry.lower() == "wpad":
            return self._from_wpad(url, host, "the app's PROXY_PAC_URL=wpad")
        if pac_entry:
            return self._from_pac(pac_entry, url, host, "the app's PAC file")
        for name in (f"{scheme.upper()}_PROXY", "ALL_PROXY"):
            if self._system.get(name):
                return ProxyChoice(
                    _with_credentials(self._system[name], self._entries), f"the system's {name}"
                )
        if self._windows:
            return self._windows_choice(url, host)
        return ProxyChoice(None, "no proxy is set")

    def _windows_choice(self, url: str, host: str) -> ProxyChoice:
        pac_url = _windows_pac_url()
        if pac_url:
            return self._from_pac(pac_url, url, host, "Windows' automatic configuration script")
        from bridge_app.runtime._wpad import windows_auto_detect

        if windows_auto_detect():
            return self._from_wpad(url, host, "Windows' 'Automatically detect settings'")
        proxies = urllib.request.getproxies_registry()  # type: ignore[attr-defined]
        proxy = proxies.get(urlsplit(url).scheme) or proxies.get("https") or proxies.get("http")
        if not proxy:
            return ProxyChoice(None, "no proxy is set (Windows' proxy settings are off)")
        if urllib.request.proxy_bypass_registry(host):  # type: ignore[attr-defined]
            return ProxyChoice(None, "Windows' proxy bypass list names it")
        return ProxyChoice(_with_credentials(proxy, self._entries), "Windows' proxy settings")

    # -- PAC -----------------------------------------------------------------------------

    def _from_pac(self, pac_url: str, url: str, host: str, label: str) -> ProxyChoice:
        pac, error = self._load_pac(pac_url)
        if pac is None:
            return ProxyChoice(
                None,
                f"{label} {pac_url} could not be used, so calls go direct",
                problem=error,
            )
        from pypac.parser import parse_pac_value

        try:
            answer = str(pac.find_proxy_for_url(url, host))  # type: ignore[attr-defined]
        except Exception as exc:  # a script error is the PAC file's, reported, not raised
            return ProxyChoice(
                None, f"{label} {pac_url} failed for {host}", problem=f"the script failed: {exc}"
            )
        choices = parse_pac_value(answer)
        first = choices[0] if choices else "DIRECT"
        said = f"{label} {pac_url} says '{answer.strip()}'"
        if first == "DIRECT":
            return ProxyChoice(None, said)
        if not first.startswith("http"):
            return ProxyChoice(
                None, said, problem=f"{first} is a SOCKS proxy, which the bridge cannot use"
            )
        return ProxyChoice(_with_credentials(first, self._entries), said)

    def _from_wpad(self, url: str, host: str, label: str) -> ProxyChoice:
        from bridge_app.runtime._wpad import candidates

        tried, name = candidates()
        for pac_url in tried:
            pac, _error = self._load_pac(pac_url)
            if pac is not None:
                return self._from_pac(pac_url, url, host, f"{label}: WPAD's PAC file")
        return ProxyChoice(
            None,
            f"{label}: WPAD found no PAC file, so calls go direct",
            problem=f"tried {', '.join(tried)}"
            if tried
            else f"this machine's name {name!r} has no domain to search",
        )

    def _load_pac(self, pac_url: str) -> tuple[object | None, str | None]:
        with self._lock:
            if pac_url not in self._pac:
                self._pac[pac_url] = _fetch_pac(pac_url)
            return self._pac[pac_url]


def _fetch_pac(pac_url: str) -> tuple[object | None, str | None]:
    """(the parsed PAC file, None) or (None, what went wrong)."""
    from pypac.parser import MalformedPacError, PACFile

    try:
        if pac_url.lower().startswith("file:"):
            local = urllib.request.url2pathname(urlsplit(pac_url).path)
            with open(local, encoding="utf-8") as f:
                text = f.read()
        else:
            import httpx

            # Direct and without the shell's variables: the PAC file is what says which
            # proxy to use, so it cannot be fetched through one.
            with httpx.Client(timeout=PAC_TIMEOUT_S, trust_env=False) as client:
                response = client.get(pac_url)
            if response.status_code != 200:
                return None, f"fetching it answered HTTP {response.status_code}"
            text = response.text
    except (OSError, ValueError) as exc:
        return None, f"it could not be read: {exc}"
    except Exception as exc:  # httpx's transport errors
        return None, f"it could not be fetched: {exc.__class__.__name__}: {exc}"
    try:
        return PACFile(text), None
    except MalformedPacError as exc:
        return None, f"it is not a valid PAC file: {exc}"


def _windows_pac_url() -> str | None:
    if sys.platform != "win32":
        return None
    try:
        from pypac.os_settings import autoconfig_url_from_registry

        url = autoconfig_url_from_registry()
    except Exception as exc:  # no key or no access: Windows' settings say nothing
        log.debug("no AutoConfigURL: %s", exc)
        return None
    return str(url) if url else None


def litellm_environment(
    routes: Iterable[tuple[str, ProxyChoice]],
) -> tuple[dict[str, str], list[str]]:
    """The proxy variables for LiteLLM, which reads the process environment (both its
    aiohttp and httpx transports go through ``urllib.request.getproxies``), so that each
    upstream URL takes the route chosen for it (``routes``: (url, choice) pairs from
    ``ProxyRules.choose``); and the problems found.

    One proxy per scheme can be said this way: upstreams that a PAC file sends to
    different proxies get the first one (a problem says so). Direct upstreams and loopback
    are listed in NO_PROXY; with no proxied upstream NO_PROXY is ``*``, which also keeps
    Windows' own proxy settings (read when the environment names none) out of the way.
    Lower-case twins are set too: Python lets ``https_proxy`` win over ``HTTPS_PROXY``."""
    proxies: dict[str, str] = {}
    direct: list[str] = []
    problems: list[str] = []
    for url, choice in routes:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if choice.problem:
            problems.append(f"{host}: {choice.reason}: {choice.problem}")
        if choice.proxy is None:
            if host and not is_loopback(host) and host not in direct:
                direct.append(host)
            continue
        scheme = parts.scheme.lower()
        chosen = proxies.setdefault(scheme, choice.proxy)
        if chosen != choice.proxy:
            problems.append(
                f"{host} should go through {choice.shown}, but LiteLLM takes one proxy for "
                f"all its {scheme} calls: {mask_proxy(chosen)} is used"
            )
    env: dict[str, str] = {}
    for scheme, proxy in proxies.items():
        env[f"{scheme.upper()}_PROXY"] = proxy
    env["NO_PROXY"] = ",".join([*LOOPBACK_NAMES, *direct]) if proxies else "*"
    if sys.platform != "win32":  # one case-insensitive environment on Windows
        env.update({name.lower(): value for name, value in list(env.items())})
    return env, problems
