"""Listening beyond loopback needs the admin setting; which addresses that exposes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge_app.proxy import (
    ExposureRefusedError,
    ProxyState,
    check_bind_host,
    exposed_addresses,
    is_loopback_host,
    url_for,
)
from bridge_app.runtime import AppPaths
from bridge_app.services import Services, build_services


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost"])
def test_loopback_addresses_need_no_permission(host: str) -> None:
    assert is_loopback_host(host)
    check_bind_host(host, allowed=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.0.2.10", "fd00::7"])
def test_anything_else_is_refused_until_an_admin_allows_it(host: str) -> None:
    assert not is_loopback_host(host)
    with pytest.raises(ExposureRefusedError) as refused:
        check_bind_host(host, allowed=False)
    assert "other machines" in refused.value.message
    assert "proxy.allow_non_loopback" in refused.value.message
    check_bind_host(host, allowed=True)


def test_the_exposed_addresses_of_a_wildcard_include_every_interface() -> None:
    every = exposed_addresses("0.0.0.0")
    assert "127.0.0.1" in every
    assert every[-1] == "127.0.0.1"  # the reachable-from-elsewhere ones first
    assert all(":" not in a for a in every)
    assert exposed_addresses("192.0.2.10") == ["192.0.2.10"]
    assert "::1" in exposed_addresses("::") and "127.0.0.1" in exposed_addresses("::")
    assert url_for("fd00::7", 4000) == "http://[fd00::7]:4000"


@pytest.fixture
def services(app_paths: AppPaths) -> Iterator[Services]:
    built = build_services(app_paths)
    yield built
    built.close()


def test_a_start_from_any_front_end_is_refused_without_the_setting(services: Services) -> None:
    # The window's Start uses the setting proxy.host; the check is in the proxy service.
    services.settings.set("proxy.host", "0.0.0.0")
    supervisor = services.proxy.supervisor(port=0)
    with pytest.raises(ExposureRefusedError):
        supervisor.start()
    assert supervisor.status().state == ProxyState.FAILED
    assert "may not listen on 0.0.0.0" in (supervisor.status().last_error or "")
