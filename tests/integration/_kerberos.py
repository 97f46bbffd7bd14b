"""A real Kerberos realm for tests: Debian's MIT krb5 KDC on a loopback port, with its
database, configuration and ticket cache in a folder of the test's own, so that the
bridge signs in to a proxy as an employee of a Windows domain would: with a ticket, not a
password. Nothing reads or changes /etc/krb5.conf."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.integration._daemons import wait_listening
from tests.integration._upstream import free_port

REALM = "BRIDGE.TEST"
KDC, KDB5_UTIL, KADMIN = "/usr/sbin/krb5kdc", "/usr/sbin/kdb5_util", "/usr/sbin/kadmin.local"


class Realm:
    """``BRIDGE.TEST`` with a KDC on 127.0.0.1; ``service(name)`` adds a service principal
    with a keytab, ``kinit(user, password)`` fills the ticket cache that ``environment``
    names."""

    def __init__(self) -> None:
        for tool in (KDC, KDB5_UTIL, KADMIN, "/usr/bin/kinit"):
            if not Path(tool).exists():
                pytest.fail(f"{tool} is needed: run `bash scripts/setup.sh --e2e`")
        folder = self.folder = Path(tempfile.mkdtemp(prefix="bridge-krb5-"))
        folder.chmod(0o755)  # squid's helper, running as `proxy`, reads the config here
        self.port = free_port()
        self.ccache = folder / "ccache"
        (folder / "krb5.conf").write_text(
            "[libdefaults]\n"
            f"  default_realm = {REALM}\n"
            "  dns_lookup_kdc = false\n"
            "  dns_lookup_realm = false\n"
            "  rdns = false\n"
            "  dns_canonicalize_hostname = false\n"
            "  udp_preference_limit = 1\n"
            f"[realms]\n  {REALM} = {{\n    kdc = 127.0.0.1:{self.port}\n  }}\n"
            f"[domain_realm]\n  localhost = {REALM}\n",
            encoding="utf-8",
        )
        (folder / "kdc.conf").write_text(
            f"[kdcdefaults]\n  kdc_ports = {self.port}\n  kdc_tcp_ports = {self.port}\n"
            f"[realms]\n  {REALM} = {{\n"
            f"    database_name = {folder}/principal\n"
            f"    key_stash_file = {folder}/stash\n"
            f"    acl_file = {folder}/kadm5.acl\n"
            "  }\n"
            f"[logging]\n  kdc = FILE:{folder}/kdc.log\n",
            encoding="utf-8",
        )
        (folder / "kadm5.acl").write_text("", encoding="utf-8")
        self.environment = {
            "KRB5_CONFIG": str(folder / "krb5.conf"),
            "KRB5CCNAME": f"FILE:{self.ccache}",
        }
        self._admin_env = {**self.environment, "KRB5_KDC_PROFILE": str(folder / "kdc.conf")}
        self._run(KDB5_UTIL, "create", "-s", "-r", REALM, "-P", "master-key-for-tests", "-W")
        self._proc = subprocess.Popen(
            [KDC, "-n", "-r", REALM],
            env=self._admin_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if wait_listening(self._proc, self.port, "krb5kdc", timeout=15):
            return
        self.stop()
        pytest.fail("krb5kdc did not listen within 15 s")

    def _run(self, *argv: str, stdin: str | None = None) -> str:
        import os

        done = subprocess.run(
            argv,
            env={**os.environ, **self._admin_env},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
        return done.stdout

    def user(self, name: str, password: str) -> None:
        self._run(KADMIN, "-r", REALM, "-q", f"addprinc -pw {password} {name}")

    def service(self, principal: str) -> Path:
        """A service principal (``HTTP/localhost``) and its keytab file."""
        keytab = self.folder / (principal.replace("/", "_") + ".keytab")
        self._run(KADMIN, "-r", REALM, "-q", f"addprinc -randkey {principal}")
        self._run(KADMIN, "-r", REALM, "-q", f"ktadd -k {keytab} {principal}")
        return keytab

    def kinit(self, name: str, password: str) -> None:
        self._run("/usr/bin/kinit", name, stdin=f"{password}\n")

    def kdestroy(self) -> None:
        self.ccache.unlink(missing_ok=True)

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)
