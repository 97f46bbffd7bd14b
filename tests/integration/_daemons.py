"""Waiting for a real daemon a test started (squid, krb5kdc) to listen on its loopback port,
with what it said when it died instead."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest


def wait_listening(
    proc: subprocess.Popen[str], port: int, name: str, *, timeout: float = 20
) -> bool:
    """True once ``port`` on 127.0.0.1 accepts; fails the test when ``proc`` exits first;
    False when it does not listen within ``timeout`` seconds (the caller stops it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{name} did not start: {proc.stderr and proc.stderr.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False
