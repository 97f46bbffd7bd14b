"""A fresh Windows machine under Wine, for installers: its own Wine prefix (nothing of the
test environment's Python, packages or earlier installs), with only what the release bundle
needs from the test set-up (the two DLLs Wine 8.0 lacks, scripts/windows/README.md), and an
Authenticode test certificate authority."""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

WIN_CACHE = (
    Path(
        os.environ.get("BRIDGE_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "litellm-bridge"
    )
    / "windows"
)
MISSING_DLLS = ("bcryptprimitives", "ucrtcplx")


def windows_path(path: Path) -> str:
    """Wine's Z: drive is the Linux root."""
    return "Z:" + str(path.resolve()).replace("/", "\\")


class Machine:
    """``wine`` programs on a Windows 10 of its own; ``close()`` stops its wineserver."""

    def __init__(self, root: Path) -> None:
        self.prefix = root / "prefix"
        self.env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "WINEPREFIX": str(self.prefix),
            "WINEARCH": "win64",
            "WINEDEBUG": os.environ.get("WINEDEBUG", "-all"),
            "WINEDLLOVERRIDES": "mscoree,mshtml=;d3dcompiler_47=n,b",
            "BRIDGE_KEYRING": "off",
        }
        for name in ("DISPLAY", "XAUTHORITY"):
            if os.environ.get(name):
                self.env[name] = os.environ[name]
        self.run("wineboot", "-u", timeout=300, check=True)
        self.run(
            "reg", "add", r"HKCU\Software\Wine", "/v", "Version", "/t", "REG_SZ", "/d", "win10",
            "/f", check=True,
        )  # fmt: skip
        self.run(
            "reg", "add", r"HKCU\Software\Wine\WineDbg", "/v", "ShowCrashDialog", "/t",
            "REG_DWORD", "/d", "0", "/f", check=True,
        )  # fmt: skip
        for name in MISSING_DLLS:
            built = WIN_CACHE / "build" / f"{name}.dll"
            assert built.is_file(), f"{built} is missing: run scripts/windows.sh --setup"
            shutil.copy(built, self.drive_c / "windows" / "system32" / f"{name}.dll")

    @property
    def drive_c(self) -> Path:
        return self.prefix / "drive_c"

    def run(
        self,
        *args: str,
        timeout: float = 600,
        check: bool = False,
        stdin: str = "",
        **extra: str,
    ) -> subprocess.CompletedProcess[str]:
        """A Windows program with pipes for its streams (Python dies on a regular file)."""
        done = subprocess.run(
            ["wine", *args],
            env={**self.env, **extra},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        done.stdout = done.stdout.replace("\r", "")
        done.stderr = done.stderr.replace("\r", "")
        if check:
            assert done.returncode == 0, f"{args}: {done.returncode}\n{done.stdout}{done.stderr}"
        return done

    def msiexec(self, *args: str, log: Path) -> int:
        """msiexec ARGS /qn with a verbose log; its exit code (0 done, 1603 failed...)."""
        done = self.run("msiexec", *args, "/qn", "/l*v", windows_path(log), timeout=900)
        return done.returncode

    def reg_value(self, key: str, name: str) -> str | None:
        """The data of a registry value as `reg query` prints it, or None when absent."""
        done = self.run("reg", "query", key, "/v", name)
        if done.returncode != 0:
            return None
        for line in done.stdout.splitlines():
            text = line.strip()
            if text.lower().startswith(name.lower() + " "):  # names may hold spaces
                kind_and_data = text[len(name) :].split(None, 1)  # REG_SZ    "C:\..."
                return kind_and_data[1] if len(kind_and_data) == 2 else ""
        return None

    def close(self) -> None:
        subprocess.run(["wineserver", "-k"], env=self.env, check=False, timeout=60)


def code_signing_certificate(folder: Path, password: str) -> tuple[Path, Path]:
    """A test certificate authority and a code-signing certificate it issued: the PFX
    (certificate, key, chain) to sign with, and the authority's PEM to verify against."""
    now = datetime.datetime.now(datetime.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("LiteLLM Bridge Test Code Signing CA"))
        .issuer_name(name("LiteLLM Bridge Test Code Signing CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("LiteLLM Bridge Test Publisher"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pfx = folder / "codesign.pfx"
    pfx.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"publisher",
            key,
            cert,
            [ca],
            serialization.BestAvailableEncryption(password.encode()),
        )
    )
    ca_pem = folder / "codesign-ca.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return pfx, ca_pem
