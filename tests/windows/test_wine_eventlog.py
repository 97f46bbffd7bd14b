"""Audit events to the Windows Event Log, from the Windows build under Wine: the same
`audit forward` commands an admin runs, and what reached ReportEventW (Wine keeps no event
log, but its `eventlog` debug channel shows every call: the event type, the event ID and
the strings)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.windows._wine import ADMIN, ADMIN_PW, wine

pytestmark = [
    pytest.mark.windows,
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="drives Wine from Linux"),
]

_CALL = re.compile(
    r"ReportEventW \(0*CAFE4242,0x(?P<type>[0-9a-f]{4}),0x0000,0x(?P<id>[0-9a-f]{8}),",
    re.IGNORECASE,
)


def test_audit_events_reach_the_windows_event_log(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = wine(home, "user", "create", ADMIN, "--admin", "--password-stdin", stdin=ADMIN_PW)
    assert made.returncode == 0, made.stderr
    bad = wine(home, "login", ADMIN, "--password-stdin", stdin="not-the-password\n")
    assert bad.returncode != 0
    chosen = wine(
        home,
        "audit",
        "forward",
        "set",
        "eventlog:",
        "--as",
        ADMIN,
        "--password-stdin",
        stdin=ADMIN_PW,
    )
    assert chosen.returncode == 0, chosen.stderr
    assert "Audit events now go to: eventlog:" in chosen.stdout
    sent = wine(
        home,
        "audit",
        "forward",
        "send",
        "--as",
        ADMIN,
        "--password-stdin",
        stdin=ADMIN_PW,
        WINEDEBUG="fixme+advapi,+eventlog",
    )
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "Windows Event Log: up to date (event #6)" in sent.stdout, sent.stdout
    assert 'RegisterEventSourceW ((null),L"LiteLLM Bridge")' in sent.stderr
    calls = [(int(m["type"], 16), int(m["id"], 16)) for m in _CALL.finditer(sent.stderr)]
    texts = re.findall(r'ReportEventW L"(.*)"$', sent.stderr, re.MULTILINE)
    # user.create ok (1100, information 4), then the failed login: error (1), ID 1002.
    assert calls[0] == (4, 1100), calls
    assert (1, 1002) in calls, calls
    assert f"{ADMIN} auth.login {ADMIN}: failed - wrong password (1 of 5)" in texts
    assert f"{ADMIN} audit.forward_set audit forwarding: ok - eventlog:" in texts
    # The second string of each event: its place in the hash chain.
    assert any(t.startswith('{\\"seq\\": 1, \\"prev_hash\\": \\"0000') for t in texts), texts
