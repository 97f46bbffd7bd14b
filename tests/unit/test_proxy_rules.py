"""The route decision (bridge_app/runtime/_network.py): which proxy a call takes and why,
from the app's entries, the system's environment, a PAC file or Windows' own settings."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bridge_app.runtime import ProxyRules, litellm_environment, mask_proxy

pytestmark = pytest.mark.windows  # pypac's JavaScript engine and Windows' settings there too

PAC = """function FindProxyForURL(url, host) {
  if (dnsDomainIs(host, ".corp.example")) return "PROXY proxy.corp.example:3128; DIRECT";
  if (host == "socks.example") return "SOCKS5 s.example:1080";
  return "DIRECT";
}
"""


def rules(entries: dict[str, str], system: dict[str, str] | None = None) -> ProxyRules:
    return ProxyRules(entries, system=system or {}, windows_settings=False)


def test_loopback_is_always_direct_whatever_is_set() -> None:
    r = rules({"HTTPS_PROXY": "http://p:1"}, {"HTTPS_PROXY": "http://q:2"})
    for url in (
        "https://127.0.0.1:8443",
        "http://localhost/v1",
        "https://[::1]:9/",
        "http://127.5.0.1",
    ):
        choice = r.choose(url)
        assert (choice.proxy, choice.reason) == (None, "loopback is always direct"), url


def test_the_apps_entries_come_before_the_system_and_no_proxy_before_both() -> None:
    r = rules(
        {
            "HTTPS_PROXY": "http://app-proxy:8080",
            "NO_PROXY": ".internal.example, direct.example:443",
        },
        {"HTTPS_PROXY": "http://system-proxy:3128"},
    )
    assert r.choose("https://llm.corp.example/v1").proxy == "http://app-proxy:8080"
    assert r.choose("https://llm.corp.example/v1").reason == "the app's HTTPS_PROXY entry"
    bypass = r.choose("https://a.internal.example/v1")
    assert (bypass.proxy, bypass.reason) == (
        None,
        "the app's NO_PROXY entry lists '.internal.example'",
    )
    assert r.choose("https://direct.example/v1").proxy is None
    system = rules({}, {"HTTPS_PROXY": "http://system-proxy:3128", "NO_PROXY": "*"})
    assert system.choose("https://x.example").reason == "the system's NO_PROXY lists '*'"
    only_system = rules({}, {"HTTPS_PROXY": "system-proxy:3128"})
    choice = only_system.choose("https://x.example")
    assert (choice.proxy, choice.reason) == ("http://system-proxy:3128", "the system's HTTPS_PROXY")
    assert rules({}).choose("https://x.example").reason == "no proxy is set"
    assert not rules({}).any_proxy and only_system.any_proxy


def test_credentials_are_added_once_and_never_shown() -> None:
    r = rules(
        {
            "HTTPS_PROXY": "http://p.example:8080",
            "PROXY_USERNAME": "dom\\emp 1",
            "PROXY_PASSWORD": "p@ss:w/rd",
        }
    )
    choice = r.choose("https://x.example")
    assert choice.proxy == "http://dom%5Cemp%201:p%40ss%3Aw%2Frd@p.example:8080"
    assert choice.shown == "http://dom%5Cemp%201:****@p.example:8080"
    own = rules({"HTTPS_PROXY": "http://u:secret@p.example:8080", "PROXY_USERNAME": "other"})
    assert own.choose("https://x.example").proxy == "http://u:secret@p.example:8080"
    assert mask_proxy("http://[::1]:3128") == "http://[::1]:3128"


@pytest.fixture
def pac_file(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "proxy.pac"
    path.write_text(PAC, encoding="utf-8")
    yield path.as_uri()


def test_a_pac_file_decides_per_host_and_says_what_it_answered(pac_file: str) -> None:
    r = rules({"PROXY_PAC_URL": pac_file, "PROXY_USERNAME": "u", "PROXY_PASSWORD": "pw"})
    corp = r.choose("https://llm.corp.example/v1")
    assert corp.proxy == "http://u:pw@proxy.corp.example:3128"
    assert (
        corp.reason == f"the app's PAC file {pac_file} says 'PROXY proxy.corp.example:3128; DIRECT'"
    )
    public = r.choose("https://api.example.org/v1")
    assert (public.proxy, public.reason) == (None, f"the app's PAC file {pac_file} says 'DIRECT'")
    socks = r.choose("https://socks.example/")
    assert socks.proxy is None and socks.problem == (
        "socks5://s.example:1080 is a SOCKS proxy, which the bridge cannot use"
    )


def test_a_pac_file_that_cannot_be_used_goes_direct_and_says_why(tmp_path: Path) -> None:
    missing = (tmp_path / "absent.pac").as_uri()
    choice = rules({"PROXY_PAC_URL": missing}).choose("https://x.example")
    assert choice.proxy is None
    assert choice.reason == f"the app's PAC file {missing} could not be used, so calls go direct"
    assert choice.problem and choice.problem.startswith("it could not be read: ")
    broken = tmp_path / "broken.pac"
    broken.write_text("function FindProxyForURL(url, host) { return nope(); }", encoding="utf-8")
    choice = rules({"PROXY_PAC_URL": broken.as_uri()}).choose("https://x.example")
    assert choice.problem and choice.problem.startswith("it is not a valid PAC file")
    refused = rules({"PROXY_PAC_URL": "http://127.0.0.1:9/proxy.pac"}).choose("https://x.example")
    assert refused.problem and refused.problem.startswith("it could not be fetched: ConnectError")


def test_litellm_gets_one_proxy_per_scheme_and_the_direct_hosts_in_no_proxy(pac_file: str) -> None:
    r = rules({"PROXY_PAC_URL": pac_file})
    urls = ["https://a.corp.example/v1", "https://api.example.org/v1", "http://127.0.0.1:4000"]
    env, problems = litellm_environment([(u, r.choose(u)) for u in urls])
    assert env["HTTPS_PROXY"] == "http://proxy.corp.example:3128"
    assert env["NO_PROXY"] == "localhost,127.0.0.1,::1,api.example.org"
    assert "HTTP_PROXY" not in env and problems == []
    if sys.platform != "win32":  # Python lets the lower-case twin win
        assert env["https_proxy"] == env["HTTPS_PROXY"] and env["no_proxy"] == env["NO_PROXY"]
    url = "https://api.example.org/v1"
    direct, _ = litellm_environment([(url, rules({}).choose(url))])
    assert direct["NO_PROXY"] == "*" and "HTTPS_PROXY" not in direct


def test_two_upstreams_that_need_different_proxies_are_a_named_problem(tmp_path: Path) -> None:
    pac = tmp_path / "two.pac"
    pac.write_text(
        "function FindProxyForURL(url, host) {\n"
        '  return host == "a.example" ? "PROXY pa:1" : "PROXY pb:2";\n'
        "}\n",
        encoding="utf-8",
    )
    r = rules({"PROXY_PAC_URL": pac.as_uri()})
    env, problems = litellm_environment(
        [(u, r.choose(u)) for u in ("https://a.example/", "https://b.example/")]
    )
    assert env["HTTPS_PROXY"] == "http://pa:1"
    assert problems == [
        "b.example should go through http://pb:2, but LiteLLM takes one proxy for all its "
        "https calls: http://pa:1 is used"
    ]


INTERNET_SETTINGS = r"Software\Microsoft\Windows\CurrentVersion\Internet Settings"


@pytest.fixture
def windows_settings() -> Iterator[Callable[[dict[str, object]], None]]:
    """Windows' per-user proxy settings (what Settings > Network > Proxy writes), put
    back as they were afterwards."""
    import winreg  # type: ignore[import-not-found,unused-ignore]

    names = ("ProxyEnable", "ProxyServer", "ProxyOverride", "AutoConfigURL")
    key = winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, INTERNET_SETTINGS, 0, winreg.KEY_ALL_ACCESS)
    saved: dict[str, tuple[object, int] | None] = {}
    for name in names:
        try:
            saved[name] = winreg.QueryValueEx(key, name)
        except FileNotFoundError:
            saved[name] = None
    yield _write_settings
    for name, old in saved.items():
        if old is None:
            with contextlib.suppress(FileNotFoundError):
                winreg.DeleteValue(key, name)
        else:
            winreg.SetValueEx(key, name, 0, old[1], old[0])
    winreg.CloseKey(key)


def _write_settings(values: dict[str, object]) -> None:
    import winreg  # type: ignore[import-not-found,unused-ignore]

    with winreg.CreateKeyEx(
        winreg.HKEY_CURRENT_USER, INTERNET_SETTINGS, 0, winreg.KEY_ALL_ACCESS
    ) as key:
        for name, value in values.items():
            if value is None:
                with contextlib.suppress(FileNotFoundError):
                    winreg.DeleteValue(key, name)
            elif isinstance(value, int):
                winreg.SetValueEx(key, name, 0, winreg.REG_DWORD, value)
            else:
                winreg.SetValueEx(key, name, 0, winreg.REG_SZ, str(value))


@pytest.mark.skipif(sys.platform != "win32", reason="Windows' own proxy settings")
def test_windows_proxy_settings_and_its_automatic_script_are_the_systems_route(
    windows_settings: Callable[[dict[str, object]], None], pac_file: str
) -> None:
    windows_settings(
        {
            "ProxyEnable": 1,
            "ProxyServer": "winproxy.example:8080",
            "ProxyOverride": "*.bypass.example;<local>",
            "AutoConfigURL": None,
        }
    )
    r = ProxyRules({}, system={})
    assert r.any_proxy
    choice = r.choose("https://llm.example/v1")
    assert (choice.proxy, choice.reason) == (
        "http://winproxy.example:8080",
        "Windows' proxy settings",
    )
    bypass = r.choose("https://a.bypass.example/v1")
    assert (bypass.proxy, bypass.reason) == (None, "Windows' proxy bypass list names it")
    # The app's own entry still comes first.
    assert ProxyRules({"HTTPS_PROXY": "http://app:1"}, system={}).choose(
        "https://x.example"
    ).proxy == ("http://app:1")
    # An automatic configuration script (a PAC file) wins over the fixed proxy, as in Windows.
    windows_settings({"AutoConfigURL": pac_file})
    corp = ProxyRules({}, system={}).choose("https://llm.corp.example/v1")
    assert corp.proxy == "http://proxy.corp.example:3128"
    assert corp.reason == (
        f"Windows' automatic configuration script {pac_file} says "
        "'PROXY proxy.corp.example:3128; DIRECT'"
    )
    windows_settings({"ProxyEnable": 0, "AutoConfigURL": None})
    off = ProxyRules({}, system={})
    assert not off.any_proxy
    assert (
        off.choose("https://x.example").reason
        == "no proxy is set (Windows' proxy settings are off)"
    )


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("HTTPS_PROXY", "http://proxy.corp:8080", None),
        ("HTTPS_PROXY", "proxy.corp:8080", None),
        ("HTTP_PROXY", "http://u:p%40ss@proxy.corp:8080", None),
        ("HTTPS_PROXY", "socks5://s.corp:1080", "is a SOCKS proxy, which the bridge cannot use"),
        ("HTTPS_PROXY", "http://u:secret@proxy:80a", "'http://****@proxy:80a' is not an http://"),
        ("HTTPS_PROXY", "http://proxy.corp:80a", "is not an http:// proxy address"),
        ("HTTPS_PROXY", "ftp://proxy.corp", "is not an http:// proxy address"),
        ("HTTPS_PROXY", "http://", "is not an http:// proxy address"),
        ("PROXY_PAC_URL", "http://pac.corp/proxy.pac", None),
        ("PROXY_PAC_URL", "file:///etc/proxy.pac", None),
        ("PROXY_PAC_URL", "pac.corp/proxy.pac", "is not an http(s):// or file:// URL"),
        ("NO_PROXY", "anything, .goes", None),
    ],
)
def test_a_route_entry_with_an_unusable_value_is_refused_when_set(
    name: str, value: str, says: str | None
) -> None:
    from bridge_app.envvars import EnvError
    from bridge_app.envvars._names import check_value

    if says is None:
        assert check_value(name, value) == value
    else:
        with pytest.raises(EnvError, match=re.escape(says)) as refused:
            check_value(name, value)
        assert refused.value.hint and "docs/network.md" in refused.value.hint
        assert "secret" not in refused.value.message  # a password is never said back


@pytest.mark.windows
@pytest.mark.skipif(sys.platform != "win32", reason="Windows' registry (the Wine leg)")
def test_windows_automatically_detect_settings_searches_by_wpad(
    windows_settings: Callable[[dict[str, object]], None],
) -> None:
    """The switch "Automatically detect settings" (the flag 0x08 in byte 8 of
    DefaultConnectionSettings) makes Windows search for a PAC file by WPAD; so does the
    app. No wpad name answers on this machine: said, and calls go direct."""
    import winreg  # type: ignore[import-not-found,unused-ignore]

    windows_settings({"ProxyEnable": 0, "AutoConfigURL": None})
    path = INTERNET_SETTINGS + r"\Connections"
    key = winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, path, 0, winreg.KEY_ALL_ACCESS)
    try:
        saved = winreg.QueryValueEx(key, "DefaultConnectionSettings")
    except FileNotFoundError:
        saved = None
    try:
        settings = bytes([0x46, 0, 0, 0, 1, 0, 0, 0, 0x09]) + bytes(32)  # direct + detect
        winreg.SetValueEx(key, "DefaultConnectionSettings", 0, winreg.REG_BINARY, settings)
        choice = ProxyRules({}, system={}).choose("https://llm.corp.example/v1")
        assert choice.proxy is None
        assert choice.reason == (
            "Windows' 'Automatically detect settings': WPAD found no PAC file, so calls go direct"
        ), choice
        assert choice.problem, choice
        off = bytes([0x46, 0, 0, 0, 2, 0, 0, 0, 0x01]) + bytes(32)  # direct only
        winreg.SetValueEx(key, "DefaultConnectionSettings", 0, winreg.REG_BINARY, off)
        assert ProxyRules({}, system={}).choose("https://x.example").reason == (
            "no proxy is set (Windows' proxy settings are off)"
        )
    finally:
        if saved is None:
            with contextlib.suppress(FileNotFoundError):
                winreg.DeleteValue(key, "DefaultConnectionSettings")
        else:
            winreg.SetValueEx(key, "DefaultConnectionSettings", 0, saved[1], saved[0])
        winreg.CloseKey(key)
