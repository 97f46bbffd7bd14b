"""Authenticode-sign and verify Windows executables and MSIs on Linux with osslsigncode.

    python packaging/authenticode.py sign --pfx FILE [--timestamp URL] PATH...
    python packaging/authenticode.py verify [--ca FILE] PATH...

The PFX password comes from $BRIDGE_AUTHENTICODE_PASSWORD (never from the command line,
where other users could read it). osslsigncode (Debian's package, made for this job)
writes the same PKCS#7 signature signtool does; a release built on the Windows runner uses
signtool (.github/workflows/release.yml), our CI signs with a test certificate and checks
the result here and under Wine.

Sign the executables *before* the bundle's manifest is signed: the manifest hashes the
files as shipped (python -m bridge_app.integrity sign-manifest DIR afterwards).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

PASSWORD_ENV = "BRIDGE_AUTHENTICODE_PASSWORD"  # noqa: S105 - the variable's name
DESCRIPTION = "LiteLLM Bridge"
URL = "https://github.com/litellm-bridge/litellm-bridge"


def _osslsigncode() -> str:
    tool = shutil.which("osslsigncode")
    if tool is None:
        sys.exit("authenticode.py: osslsigncode is not installed (apt-get install osslsigncode)")
    return tool


def sign(path: Path, pfx: Path, password: str, *, timestamp: str | None = None) -> None:
    """Sign ``path`` in place (SHA-256), replacing any earlier signature."""
    signed = path.with_name(path.name + ".signed")
    signed.unlink(missing_ok=True)
    # The password on standard input (-readpass -): a command line is readable by every
    # local user (ps, /proc/<pid>/cmdline).
    command = [_osslsigncode(), "sign", "-pkcs12", str(pfx), "-readpass", "-"]
    command += ["-h", "sha256", "-n", DESCRIPTION, "-i", URL]
    if timestamp:
        command += ["-ts", timestamp]
    done = subprocess.run(
        [*command, "-in", str(path), "-out", str(signed)],
        input=password,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        signed.unlink(missing_ok=True)
        detail = (done.stderr or done.stdout).strip()
        sys.exit(f"authenticode.py: signing {path.name} failed: {detail or done.returncode}")
    signed.replace(path)


def verify(path: Path, ca: Path | None = None) -> tuple[bool, str]:
    """Whether ``path`` carries a valid signature (chained to ``ca`` when given), and what
    osslsigncode says about it."""
    command = [_osslsigncode(), "verify", "-in", str(path)]
    if ca is not None:
        command += ["-CAfile", str(ca)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    signing = commands.add_parser("sign", help="sign files in place")
    signing.add_argument("--pfx", type=Path, required=True)
    signing.add_argument("--timestamp", help="an RFC 3161 timestamp server")
    signing.add_argument("paths", nargs="+", type=Path)
    checking = commands.add_parser("verify", help="check signatures")
    checking.add_argument("--ca", type=Path, help="the certificate authority to chain to")
    checking.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args()
    if args.command == "sign":
        password = os.environ.get(PASSWORD_ENV, "")
        for path in args.paths:
            sign(path, args.pfx, password, timestamp=args.timestamp)
            print(f"signed: {path}")
        return
    failed = 0
    for path in args.paths:
        ok, detail = verify(path, args.ca)
        print(f"{'valid' if ok else 'INVALID'}: {path}")
        if not ok:
            failed += 1
            print(detail, file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
