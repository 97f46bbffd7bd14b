"""A real authenticating HTTP proxy for tests: Debian's squid on a loopback port, with
Basic authentication (its own `basic_ncsa_auth` helper and an htpasswd file), or Windows
sign-in (Negotiate with its `negotiate_kerberos_auth` helper and a keytab; NTLM with
`ntlm_fake_auth`, which takes any user), and a hosts
file of its own, so that an internal name such as ``internal-llm.corp.test`` resolves only
at the proxy, as it does behind a corporate proxy, while every byte stays on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.integration._daemons import wait_listening
from tests.integration._upstream import free_port

HELPERS = Path("/usr/lib/squid")
HELPER = HELPERS / "basic_ncsa_auth"


class Squid:
    def __init__(
        self,
        *,
        users: Mapping[str, str],
        hosts: Mapping[str, str],
        negotiate: tuple[Path, str] | None = None,  # (keytab, service principal)
        ntlm: bool = False,
        environment: Mapping[str, str] | None = None,  # for its helpers (KRB5_CONFIG)
    ) -> None:
        squid, openssl = shutil.which("squid") or "/usr/sbin/squid", shutil.which("openssl")
        if not Path(squid).exists() or not HELPER.exists() or openssl is None:
            pytest.fail("squid and openssl are needed: run `bash scripts/setup.sh --e2e`")
        # Its own folder under the system temp folder, not pytest's (0700, root's): squid
        # started by root works as the `proxy` user, which must reach and write it.
        folder = self.folder = Path(tempfile.mkdtemp(prefix="bridge-squid-"))
        folder.chmod(0o755)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.named_url = f"http://localhost:{self.port}"  # as a Kerberos service name needs
        lines = []
        for user, password in users.items():
            hashed = subprocess.run(
                [openssl, "passwd", "-apr1", password], capture_output=True, text=True, check=True
            ).stdout.strip()
            lines.append(f"{user}:{hashed}\n")
        (folder / "passwd").write_text("".join(lines), encoding="utf-8")
        (folder / "hosts").write_text(
            "".join(f"{ip} {name}\n" for name, ip in hosts.items()), encoding="utf-8"
        )
        self.access_log = folder / "access.log"
        auth = (
            f"auth_param basic program {HELPER} {folder}/passwd\n"
            "auth_param basic realm Corporate proxy (test)\n"
        )
        if negotiate is not None:
            keytab = folder / "http.keytab"
            shutil.copy(negotiate[0], keytab)
            auth = (
                f"auth_param negotiate program {HELPERS}/negotiate_kerberos_auth "
                f"-k {keytab} -s {negotiate[1]}\n"
                "auth_param negotiate children 2\n"
                "auth_param negotiate keep_alive on\n"
            )
        elif ntlm:
            auth = (
                f"auth_param ntlm program {HELPERS}/ntlm_fake_auth\n"
                "auth_param ntlm children 2\n"
                "auth_param ntlm keep_alive on\n"
            )
        (folder / "squid.conf").write_text(
            f"http_port 127.0.0.1:{self.port}\n"
            f"pid_filename {folder}/squid.pid\n"
            f"cache_log {folder}/cache.log\n"
            f"access_log stdio:{self.access_log}\n"
            f"coredump_dir {folder}\n"
            "cache deny all\n"
            f"hosts_file {folder}/hosts\n"
            "dns_nameservers 127.0.0.1\n"  # names outside the hosts file fail, nothing leaves
            + auth
            + "acl authenticated proxy_auth REQUIRED\n"
            "http_access allow authenticated\n"
            "http_access deny all\n"
            "netdb_filename none\n"
            "shutdown_lifetime 0 seconds\n",
            encoding="utf-8",
        )
        if os.geteuid() == 0:  # squid drops root for its own user, which must write here
            shutil.chown(folder, user="proxy")
            for path in folder.iterdir():
                shutil.chown(path, user="proxy")
        self._proc = subprocess.Popen(
            [squid, "-N", "-f", str(folder / "squid.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(environment or {})},
        )
        if wait_listening(self._proc, self.port, "squid", timeout=20):
            return
        self.stop()
        pytest.fail("squid did not listen within 20 s")

    def log(self) -> list[str]:
        """The access log's lines: time, duration, client, result/status, bytes, method,
        URL, user, hierarchy/peer, type."""
        if not self.access_log.exists():
            return []
        return self.access_log.read_text(encoding="utf-8").splitlines()

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
