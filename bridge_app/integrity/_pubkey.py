"""The Ed25519 public key this build trusts for its bundle manifest.

Empty in the source tree on purpose: packaging/build.py writes the release key (from the
build's secret key pair) into a staged copy of this file before PyInstaller freezes it, so
the key travels inside the signed executable. The private key is never committed.
"""

RELEASE_PUBLIC_KEY = ""
