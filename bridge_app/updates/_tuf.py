"""The Update Framework client: signed metadata and bundles from an HTTP(S) URL or a folder.

The repository an IT admin publishes holds TUF metadata (root, timestamp, snapshot,
targets) under ``metadata/`` and the files under ``targets/``: ``channels/stable.json``
(``{"version": "0.2.0", "bundles": {"linux-x86_64": "litellm-bridge-0.2.0-linux-x86_64.tar.gz",
"windows-x86_64": "litellm-bridge-0.2.0-windows-x86_64.zip"}}``; a single ``"bundle"`` is
taken where it is this platform's) and the
bundles it names. python-tuf verifies signatures, expiry, versions, lengths and hashes;
anything it refuses becomes an ``UpdateError`` with the reason in words.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse, urlsplit

from tuf.api import exceptions as tuf_errors
from tuf.ngclient._internal.proxy import ProxyEnvironment  # python-tuf's pool managers
from tuf.ngclient.fetcher import FetcherInterface
from tuf.ngclient.updater import Updater
from tuf.ngclient.urllib3_fetcher import Urllib3Fetcher
from urllib3 import PoolManager, ProxyManager, make_headers

from bridge_app.runtime import ProxyRules, trust_context
from bridge_app.updates._archives import bundle_for_this_machine
from bridge_app.updates._errors import CHANNEL_TARGET, Progress, UpdateError
from bridge_app.updates._root import trusted_root

log = logging.getLogger(__name__)


class _RoutedProxies(ProxyEnvironment):
    """python-tuf's pool managers, with the proxy for each host chosen by the app's route
    rules (entries, the system's settings, a PAC file) instead of the environment alone,
    and Basic credentials sent to a proxy that has them (urllib3 does not take them from
    the proxy URL)."""

    def __init__(self, network: Mapping[str, str], **kw_args: Any) -> None:
        super().__init__(**kw_args)
        self._rules = ProxyRules(network)

    def _get_proxy(self, scheme: str | None, host: str | None) -> str | None:
        if host is None or scheme not in ("http", "https"):
            return None
        return self._rules.choose(f"{scheme}://{host}/").proxy

    def get_pool_manager(self, scheme: str | None, host: str | None) -> PoolManager:
        proxy = self._get_proxy(scheme, host)
        if proxy is None:
            return super().get_pool_manager(scheme, host)
        if proxy not in self._pool_managers:
            parts = urlsplit(proxy)
            target, headers = proxy, {}
            if parts.username is not None:
                pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
                headers = make_headers(proxy_basic_auth=pair)
                target = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
            self._pool_managers[proxy] = ProxyManager(
                target, proxy_headers=headers, **self._kw_args
            )
        return self._pool_managers[proxy]


def _trust_context(extra_ca: str | None) -> ssl.SSLContext:
    """The process's trust (the OS store when in use) plus the app's one extra-CA setting,
    the shared SSL_CERT_FILE entry, as for LiteLLM's calls and the IAM's."""
    try:
        return trust_context(extra_ca)
    except (OSError, ssl.SSLError) as exc:
        log.warning("SSL_CERT_FILE %s could not be loaded for updates: %s", extra_ca, exc)
        return trust_context()


class _ProgressFetcher(FetcherInterface):
    """HTTP(S) through python-tuf's own fetcher, or a folder (``file://``), counting bytes."""

    def __init__(self, network: Mapping[str, str] | None = None) -> None:
        self._http = Urllib3Fetcher(app_user_agent="litellm-bridge")
        # Its pool managers come from the environment alone: swapped for the app's route
        # (python-tuf is pinned below 8; tests/integration/test_updates.py goes through a
        # real proxy, so a change of this internal shows).
        self._http._proxy_env = _RoutedProxies(
            network or {},
            headers={"User-Agent": "litellm-bridge"},
            ssl_context=_trust_context((network or {}).get("SSL_CERT_FILE")),
        )
        self.progress: Progress | None = None
        self.expected = 0

    def _fetch(self, url: str) -> Iterator[bytes]:
        chunks = self._file(url) if url.startswith("file:") else self._http._fetch(url)
        done = 0
        for chunk in chunks:
            done += len(chunk)
            if self.progress is not None:
                self.progress(done, max(self.expected, done))
            yield chunk

    @staticmethod
    def _file(url: str) -> Iterator[bytes]:
        path = Path(unquote(urlparse(url).path))
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise tuf_errors.DownloadHTTPError(f"{path} does not exist", 404) from None
        except OSError as exc:
            raise tuf_errors.DownloadError(f"cannot read {path}: {exc}") from exc
        with handle:
            while chunk := handle.read(65536):
                yield chunk


def source_url(source: str) -> str:
    """An update source as a base URL: http(s) as given, a folder as file://."""
    if source.startswith(("http://", "https://", "file:")):
        return source.rstrip("/")
    return Path(source).expanduser().resolve().as_uri()


def _explain(exc: Exception) -> UpdateError:
    if isinstance(exc, tuf_errors.ExpiredMetadataError):
        return UpdateError(
            f"The update source's signed metadata has expired ({exc}); nothing was installed.",
            hint="The IT department must re-sign and publish the update metadata.",
        )
    if isinstance(exc, tuf_errors.LengthOrHashMismatchError):
        return UpdateError(
            f"The downloaded bundle does not match its signed hash or length ({exc}); it was "
            "refused and nothing was installed.",
            hint="The bundle on the update source was changed after it was signed: tell IT.",
        )
    if isinstance(exc, tuf_errors.UnsignedMetadataError):
        return UpdateError(
            f"The update metadata is not signed by the trusted keys ({exc}).",
            hint="Someone may be tampering with the update source: tell IT.",
        )
    if isinstance(exc, tuf_errors.RepositoryError):
        return UpdateError(f"The update source's metadata was refused: {exc}.")
    if isinstance(exc, tuf_errors.DownloadError):
        return UpdateError(
            f"Could not download from the update source: {exc}.",
            hint="Check the network or the share, and the setting updates.source.",
        )
    return UpdateError(f"The update check failed: {exc.__class__.__name__}: {exc}.")


class TufClient:
    """One trusted TUF client per check: metadata cached in ``metadata_dir`` (which holds
    the trusted ``root.json``), downloads in ``download_dir``."""

    def __init__(
        self,
        *,
        source: str,
        metadata_dir: Path,
        download_dir: Path,
        network: Mapping[str, str] | None = None,
    ) -> None:
        self._base = source_url(source)
        self._metadata_dir = metadata_dir
        self._download_dir = download_dir
        self._fetcher = _ProgressFetcher(network)

    def _updater(self) -> Updater:
        root = trusted_root(self._metadata_dir)
        if root is None:
            raise UpdateError(
                "No trusted update root is installed.",
                hint="An admin runs `litellm-bridge update configure SOURCE --root root.json`.",
            )
        self._download_dir.mkdir(parents=True, exist_ok=True)
        try:  # nothing is downloaded here: a failure is this machine's root
            return Updater(
                metadata_dir=str(self._metadata_dir),
                metadata_base_url=f"{self._base}/metadata/",
                target_base_url=f"{self._base}/targets/",
                target_dir=str(self._download_dir),
                fetcher=self._fetcher,
                bootstrap=root,
            )
        except Exception as exc:
            raise UpdateError(
                f"The trusted update root on this machine is damaged ({exc}); nothing was "
                "checked or installed.",
                hint="An admin installs it again: `litellm-bridge update configure SOURCE "
                "--root root.json`.",
            ) from exc

    def channel(self) -> dict[str, str]:
        """The verified ``channels/stable.json``."""
        try:
            updater = self._updater()
            updater.refresh()
            info = updater.get_targetinfo(CHANNEL_TARGET)
            if info is None:
                raise UpdateError(f"The update source publishes no {CHANNEL_TARGET}.")
            path = updater.download_target(info, str(self._download_dir / "stable.json"))
        except UpdateError:
            raise
        except Exception as exc:
            raise _explain(exc) from exc
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if (
            not isinstance(data, dict)
            or "version" not in data
            or not ("bundle" in data or isinstance(data.get("bundles"), dict))
        ):
            raise UpdateError(f"{CHANNEL_TARGET} on the update source is not valid.")
        return {"version": str(data["version"]), "bundle": bundle_for_this_machine(data)}

    def download(self, name: str, progress: Progress | None = None) -> Path:
        """The verified bundle ``name`` (from the cache when already there)."""
        try:
            updater = self._updater()
            updater.refresh()
            info = updater.get_targetinfo(name)
            if info is None:
                raise UpdateError(f"The update source's signed metadata lists no {name}.")
            cached = updater.find_cached_target(info)
            if cached:
                return Path(cached)
            self._fetcher.progress, self._fetcher.expected = progress, info.length
            return Path(updater.download_target(info))
        except UpdateError:
            raise
        except Exception as exc:
            raise _explain(exc) from exc
        finally:
            self._fetcher.progress = None
