"""Audit events reach real collectors: Debian's rsyslog over TCP (RFC 5424, parsed by
rsyslog itself) while `serve` runs, and an HTTPS collector that goes down for a minute
and comes back, with no event lost and the order checked from the hash chain."""

from __future__ import annotations

import itertools
import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_app.audit import event_hash
from bridge_app.runtime import AppPaths
from bridge_app.services import build_services
from tests.integration._litellm_cli import make_private_ca
from tests.integration._serve import ADMIN, ADMIN_PW, Serve, as_admin, create_admin, wait_until
from tests.integration._upstream import free_port
from tests.integration._webhook import Webhook

pytestmark = pytest.mark.integration

# What rsyslog parsed out of each message, one line per event: a field it could not
# parse as RFC 5424 comes out as "-" or empty.
_TEMPLATE = (
    "%protocol-version%|%app-name%|%procid%|%msgid%|%pri%|%structured-data%|%msg:::drop-last-lf%\\n"
)


@pytest.fixture
def rsyslog(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    binary = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
    if not Path(binary).exists():
        pytest.fail("rsyslogd is missing: scripts/setup.sh installs Debian's rsyslog")
    work = tmp_path / "rsyslog"
    work.mkdir()
    port, out = free_port(), work / "received.log"
    conf = work / "rsyslog.conf"
    conf.write_text(
        f'global(workDirectory="{work}")\n'
        'module(load="imtcp")\n'
        f'input(type="imtcp" port="{port}" address="127.0.0.1")\n'
        f'template(name="fields" type="string" string="{_TEMPLATE}")\n'
        f'*.* action(type="omfile" file="{out}" template="fields")\n',
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [binary, "-n", "-f", str(conf), "-i", str(work / "rsyslogd.pid")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_until(lambda: _listening(port), timeout=20), "rsyslogd did not listen"
        yield port, out
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _sd(field: str) -> dict[str, str]:
    body = field.strip("[]").split(" ", 1)[1]
    out: dict[str, str] = {}
    for part in body.split('" '):
        key, _, value = part.partition('="')
        out[key] = value.rstrip('"')
    return out


def test_rsyslog_receives_every_event_as_rfc5424_while_serve_runs(
    tmp_path: Path, rsyslog: tuple[int, Path]
) -> None:
    port, received = rsyslog
    home = tmp_path / "home"
    create_admin(home)
    chosen = as_admin(home, "audit", "forward", "set", f"syslog+tcp://127.0.0.1:{port}")
    assert chosen.returncode == 0, chosen.stderr
    assert f"Audit events now go to: syslog+tcp://127.0.0.1:{port}" in chosen.stdout
    serve = Serve(home, free_port(), "--as", ADMIN, "--password-stdin", stdin=f"{ADMIN_PW}\n")
    try:
        # An event recorded by another process (a refused login) reaches rsyslog through
        # the running serve, within seconds, without anyone asking.
        bad = _cli_login(home, ADMIN, "wrong-password-1")
        assert bad.returncode != 0
        lines = wait_until(lambda: _lines_with(received, 'outcome="failed"'), timeout=30)
        assert lines, received.read_text(encoding="utf-8") if received.exists() else "nothing"
        shown = as_admin(home, "audit", "forward", "show")
        assert "up to date" in shown.stdout or "waiting" in shown.stdout, shown.stdout
        assert "Sending: the running instance" in shown.stdout
    finally:
        serve.stop()
    rows = [ln.split("|", 6) for ln in received.read_text(encoding="utf-8").splitlines()]
    assert rows
    for version, app, procid, msgid, _pri, sd, _msg in rows:
        assert (version, app) == ("1", "litellm-bridge")
        assert procid.isdigit() and msgid == _sd(sd)["action"]
    chain = [_sd(row[5]) for row in rows]
    seqs = [int(c["seq"]) for c in chain]
    assert seqs == list(range(1, len(seqs) + 1)), seqs  # in order, no gap, none twice
    for before, after in itertools.pairwise(chain):
        assert after["prev"] == before["hash"]
    failed = next(row for row in rows if _sd(row[5])["outcome"] == "failed")
    assert failed[3] == "auth.login"
    assert failed[4] == "107"  # log audit (13) * 8 + error (3)
    assert failed[6] == f"\ufeff{ADMIN} auth.login {ADMIN}: failed - wrong password (1 of 5)"


def _cli_login(home: Path, user: str, password: str) -> subprocess.CompletedProcess[str]:
    from tests.integration._serve import cli

    return cli(home, "login", user, "--password-stdin", stdin=f"{password}\n")


def _lines_with(path: Path, text: str) -> list[str]:
    if not path.exists():
        return []
    return [ln for ln in path.read_text(encoding="utf-8").splitlines() if text in ln]


@pytest.mark.slow
def test_a_collector_down_for_a_minute_loses_nothing(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BRIDGE_KEYRING", "off")
    ca, cert, key = make_private_ca(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    port, batches = free_port(), []
    services = build_services(AppPaths.from_environment({"BRIDGE_HOME": str(tmp_path / "home")}))
    services.auth.create_first_admin("root", "admin-horse-battery")
    admin = services.core.login("root", "admin-horse-battery")
    services.core.set_env(admin, "AUDIT_FORWARD_TOKEN", "Splunk hec-token-123456", scope="shared")
    url = f"https://127.0.0.1:{port}/in?ca={ca}"
    services.core.set_audit_forward(admin, [url])
    collector = Webhook(port=port, context=context, received=batches)
    stop_ticking = threading.Event()

    def tick() -> None:  # an app that keeps working while its collector is away
        n = 0
        while not stop_ticking.wait(0.5):
            n += 1
            services.audit.record(None, "test.tick", f"tick {n}", "ok", "secret hec-token-123456")

    ticker = threading.Thread(target=tick, daemon=True)
    services.forwarder.start()
    ticker.start()
    figures: dict[str, float] = {}
    try:
        assert wait_until(lambda: batches, timeout=20)
        collector.stop()
        down_at = time.monotonic()
        time.sleep(60)
        failing = services.core.audit_forward_status(admin).destinations[0]
        assert failing.state.error and "cannot be reached" in failing.state.error
        assert failing.backlog >= 100  # two a second for a minute
        figures["waiting_when_back"] = failing.backlog
        collector = Webhook(port=port, context=context, received=batches)
        back_at = time.monotonic()
        # Caught up: no more waiting than the app records in a second or two.
        assert wait_until(
            lambda: services.core.audit_forward_status(admin).backlog <= 4, timeout=100, step=0.2
        ), services.core.audit_forward_status(admin).destinations[0].describe()
        figures["down_s"] = back_at - down_at
        figures["caught_up_s"] = time.monotonic() - back_at
        stop_ticking.set()
        ticker.join()
        assert wait_until(
            lambda: services.core.audit_forward_status(admin).backlog == 0, timeout=20, step=0.2
        ), services.core.audit_forward_status(admin).destinations[0].describe()
    finally:
        stop_ticking.set()
        ticker.join()
        services.close()
        collector.stop()
    events = [event for batch in batches for event in batch["events"]]
    by_seq = {e["seq"]: e for e in events}
    head = max(by_seq)
    assert sorted(by_seq) == list(range(1, head + 1)), "an event was lost"
    for seq in range(2, head + 1):
        assert by_seq[seq]["prev_hash"] == by_seq[seq - 1]["hash"]
    for e in by_seq.values():  # the collector can recompute every hash
        fields = {k: e[k] for k in ("seq", "ts", "actor", "action", "target", "outcome", "detail")}
        assert event_hash(prev_hash=e["prev_hash"], **fields) == e["hash"]
    assert "hec-token-123456" not in json.dumps([b["events"] for b in batches])
    assert {b["auth"] for b in batches} == {"Splunk hec-token-123456"}
    print(f"audit forward outage: {figures}, {len(events)} received, {head} events")
