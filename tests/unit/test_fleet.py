"""Audit forwarding: destinations as written, the RFC 5424 line, the policy's say, and the
forwarder's bookkeeping (the mark, the lease, once-per-episode failures) over a real
SQLCipher store; real collectors are in tests/integration/test_audit_forward.py."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from bridge_app.audit import AuditEvent
from bridge_app.fleet import (
    Alert,
    AuditForwarder,
    DestinationError,
    SendError,
    alerts_from,
    event_id,
    parse_destination,
    rfc5424,
)
from bridge_app.policy import PolicyError
from bridge_app.policy._model import parse_policy
from bridge_app.runtime import AppPaths
from bridge_app.services import build_services

pytestmark = pytest.mark.windows  # pure Python: the Windows leg runs it too


def _event(**fields: object) -> AuditEvent:
    base: dict[str, object] = {
        "seq": 7,
        "ts": "2026-12-07T10:00:00.123456+00:00",
        "actor": "alice",
        "action": "auth.login",
        "target": 'x"y]z',
        "outcome": "denied",
        "detail": "wrong password ü",
        "prev_hash": "a" * 64,
        "hash": "b" * 64,
    }
    base.update(fields)
    return AuditEvent(**base)  # type: ignore[arg-type]


def test_destinations_are_checked_with_words_a_person_can_act_on() -> None:
    tls = parse_destination("syslog+tls://collector.corp.example?ca=/etc/ca.pem")
    assert (tls.kind, tls.transport, tls.host, tls.port, tls.ca_file) == (
        "syslog",
        "tls",
        "collector.corp.example",
        6514,
        "/etc/ca.pem",
    )
    assert parse_destination("syslog+udp://127.0.0.1").port == 514
    assert parse_destination("https://siem.corp.example/in").port == 443
    assert parse_destination("http://127.0.0.1:8088/in").transport == "http"
    assert parse_destination(" eventlog ").kind == "eventlog"
    refused = {
        "http://siem.corp.example/in": "leave this machine only over HTTPS",
        "https://user:pw@siem.corp.example/in": "must not carry a user name or password",
        "syslog+sctp://c.corp.example": "tcp, tls or udp",
        "syslog+tcp://c.corp.example/path": "has no path",
        "syslog+tcp://c.corp.example?ca=/x": "?ca= is for syslog+tls only",
        "https://c.corp.example?token=1": "unknown option 'token'",
        "ftp://c.corp.example": "unknown kind of audit destination",
        "syslog+tcp://c.corp.example:99999": "not a valid URL",
        "": "cannot be empty",
    }
    for url, words in refused.items():
        with pytest.raises(DestinationError, match=re.escape(words)):
            parse_destination(url)
    with pytest.raises(DestinationError) as secret:
        parse_destination("https://user:hunter2-secret@siem.corp.example/in")
    assert "hunter2" not in secret.value.message  # the password is not repeated back


def test_an_event_is_one_rfc5424_message_with_the_chain_in_structured_data() -> None:
    line = rfc5424(_event(), host="pc-17", pid=4242)
    header, _, text = line.partition(b" \xef\xbb\xbf")  # the BOM: the MSG is UTF-8
    # facility 13 (log audit) * 8 + severity 4 (warning, a denial)
    assert header.startswith(b"<108>1 2026-12-07T10:00:00.123456+00:00 pc-17 litellm-bridge 4242 ")
    assert b' auth.login [audit@32473 seq="7" actor="alice"' in header
    assert b'target="x\\"y\\]z"' in header  # RFC 5424 escapes " \\ ] in values
    assert f'prev="{"a" * 64}" hash="{"b" * 64}"]'.encode() in header
    assert text.decode() == 'alice auth.login x"y]z: denied - wrong password ü'
    assert rfc5424(_event(outcome="ok"), host="h", pid=1).startswith(b"<110>1 ")
    assert rfc5424(_event(outcome="failed"), host="h", pid=1).startswith(b"<107>1 ")


def test_event_ids_group_actions_by_family_and_outcome() -> None:
    assert event_id(_event(action="auth.login", outcome="ok")) == 1000
    assert event_id(_event(action="auth.login", outcome="denied")) == 1001
    assert event_id(_event(action="policy.apply", outcome="failed")) == 3002
    assert event_id(_event(action="kiosk.quit", outcome="ok")) == 100


def test_the_policy_names_destinations_with_line_and_column() -> None:
    policy, result = parse_policy(
        "audit:\n  forward:\n    - syslog+tls://c.corp.example:6514\n    - https://s.corp.example/in\n"
    )
    assert result.ok and policy is not None
    assert policy.audit_forward == ("syslog+tls://c.corp.example:6514", "https://s.corp.example/in")
    policy, result = parse_policy(
        "audit:\n  forward:\n    - ok://x\n    - http://s.corp.example/\n"
    )
    assert policy is None
    assert [(p.line, p.column) for p in result.problems] == [(3, 7), (4, 7)]
    assert "unknown kind of audit destination" in result.problems[0].message
    assert "only over HTTPS" in result.problems[1].message
    empty, result = parse_policy("audit:\n  forward: []\n")
    assert result.ok and empty is not None and empty.audit_forward == ()
    unset, _ = parse_policy("models:\n  allow: ['*']\n")
    assert unset is not None and unset.audit_forward is None


class _Collector:
    """A sender that records what it was given, and fails while ``down`` is set."""

    def __init__(self) -> None:
        self.received: list[AuditEvent] = []
        self.down = False
        self.tries = 0

    def send(self, events: Sequence[AuditEvent]) -> None:
        self.tries += 1
        if self.down:
            raise SendError("The syslog collector 127.0.0.1:9 cannot be reached: refused.")
        self.received.extend(events)


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("BRIDGE_KEYRING", "off")
    built = build_services(AppPaths.from_environment({"BRIDGE_HOME": str(tmp_path / "home")}))
    built.auth.create_first_admin("root", "admin-horse-battery")
    yield built
    built.close()


def _forwarder(services, collector: _Collector, clock: list[float]) -> AuditForwarder:  # type: ignore[no-untyped-def]
    return AuditForwarder(
        db=services.db,
        audit=services.audit,
        redactor=services.redactor,
        destinations=lambda: ((parse_destination("syslog+tcp://127.0.0.1:9"),), "setting"),
        senders=lambda _d: collector,
        clock=lambda: clock[0],
    )


def test_nothing_is_lost_while_a_collector_is_down_and_a_failure_is_told_once(services) -> None:  # type: ignore[no-untyped-def]
    collector, clock = _Collector(), [1000.0]
    forwarder = _forwarder(services, collector, clock)
    assert forwarder.run_once()
    first = [e.seq for e in collector.received]
    assert first == list(range(1, services.audit.last_seq() + 1))
    collector.down = True
    for n in range(5):
        services.audit.record(None, "test.event", f"t{n}", "ok")
    forwarder.run_once()
    status = forwarder.status()
    row = status.destinations[0]
    assert row.backlog == 5 + 1  # and the failure's own event
    assert "cannot be reached" in (row.state.error or "")
    assert "failing for 0 s, 6 event(s) waiting (next try in 1 s)" in row.describe(now=clock[0])
    tries = collector.tries
    forwarder.run_once()
    assert collector.tries == tries  # backing off: no retry before retry_at
    clock[0] += 30
    forwarder.run_once()
    forwarder.run_once()
    collector.down = False
    clock[0] += 120
    forwarder.run_once()
    forwarder.run_once()  # the recovery's own event
    seqs = [e.seq for e in collector.received]
    assert seqs == list(range(1, services.audit.last_seq() + 1))  # in order, none lost, none twice
    for before, after in itertools.pairwise(collector.received):
        assert after.prev_hash == before.hash
    admin = services.core.login("root", "admin-horse-battery")
    episodes = services.audit.list_events(admin, action="audit.forward", limit=None)
    assert [(e.outcome, e.detail) for e in episodes] == [
        ("failed", "The syslog collector 127.0.0.1:9 cannot be reached: refused."),
        ("ok", "sending again after a failure"),
    ]


def test_one_process_forwards_the_other_waits_for_the_lease(services) -> None:  # type: ignore[no-untyped-def]
    collector, clock = _Collector(), [1000.0]
    one = _forwarder(services, collector, clock)
    two = _forwarder(services, _Collector(), clock)
    assert one.run_once()
    assert not two.run_once()  # the lease is one's
    assert two.status().forwarder is not None
    clock[0] += 31  # one died without releasing: its lease runs out
    assert two.run_once()
    one.stop()  # releasing someone else's lease is a no-op
    assert not one.run_once()


def test_a_secret_learned_after_recording_never_leaves(services) -> None:  # type: ignore[no-untyped-def]
    collector, clock = _Collector(), [1000.0]
    services.audit.record(None, "test.event", "svc", "ok", "key=internal-secret-42xyz")
    services.redactor.register("internal-secret-42xyz")
    _forwarder(services, collector, clock).run_once()
    sent = " ".join(f"{e.actor} {e.target} {e.detail}" for e in collector.received)
    assert "internal-secret-42xyz" not in sent
    assert "key=" in sent


def test_the_policy_decides_and_an_admin_is_refused_in_words(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    core = services.core
    admin = core.login("root", "admin-horse-battery")
    core.set_audit_forward(admin, ["syslog+tcp://127.0.0.1:9"])
    assert core.audit_forward_status(admin).source == "setting"
    with pytest.raises(DestinationError, match="twice"):
        core.set_audit_forward(admin, ["syslog+tcp://127.0.0.1:9", "syslog+tcp://127.0.0.1:9"])
    with pytest.raises(DestinationError, match="twice"):  # 514 is syslog's port anyway
        core.set_audit_forward(admin, ["syslog+tcp://127.0.0.1", "syslog+tcp://127.0.0.1:514"])
    policy = tmp_path / "policy.yaml"
    policy.write_text("audit:\n  forward:\n    - https://127.0.0.1:8443/in\n", encoding="utf-8")
    services.policy.apply(admin, policy)
    status = core.audit_forward_status(admin)
    assert status.source == "policy"
    assert [d.destination.url for d in status.destinations] == [
        "https://127.0.0.1:8443/in",
        "desktop:",  # the alert channel every forwarding window or serve has
    ]
    with pytest.raises(PolicyError, match="set by your company's policy"):
        core.set_audit_forward(admin, [])
    refused = services.audit.list_events(admin, action="audit.forward_set")
    assert [e.outcome for e in refused][-1] == "denied"


def _ev(
    seq: int, action: str, outcome: str, detail: str, target: str = "user root", ts: str = ""
) -> AuditEvent:
    return _event(
        seq=seq,
        action=action,
        outcome=outcome,
        detail=detail,
        target=target,
        ts=ts or f"2026-12-07T10:00:{seq:02d}.000000+00:00",
    )


def test_alerts_come_once_per_episode_with_what_to_do() -> None:
    events = [
        _ev(
            1, "policy.quota", "ok", "80 % of requests_per_minute = 5 (requests per minute) reached"
        ),
        _ev(
            2,
            "policy.quota",
            "ok",
            "100 % of requests_per_minute = 5 (requests per minute) reached",
        ),
        # a restart forgot the crossing: the same level within the minute is the same episode
        _ev(
            3,
            "policy.quota",
            "ok",
            "100 % of requests_per_minute = 5 (requests per minute) reached",
        ),
        _ev(4, "policy.request_refused", "denied", "refused: limit", target="limit"),
        _ev(
            5,
            "policy.request_refused",
            "denied",
            "3 more refusals of this kind within 60 s after: x",
            target="limit",
        ),
        _ev(
            6,
            "policy.request_refused",
            "denied",
            "4 more refusals of this kind within 60 s after: x",
            target="limit",
        ),
        _ev(7, "proxy.start_failed", "failed", "port 4000 is in use", target="proxy"),
        _ev(8, "proxy.start_failed", "failed", "port 4000 is in use", target="proxy"),
        _ev(9, "proxy.started", "ok", "http://127.0.0.1:4000", target="proxy"),
        _ev(10, "proxy.crashed", "failed", "the server thread died", target="proxy"),
        _ev(
            11,
            "token.refresh",
            "denied",
            "The identity provider refused: invalid_grant",
            target="E1",
        ),
        _ev(12, "token.refresh", "failed", "timeout", target="E1"),  # an outage, not a block
        _ev(13, "integrity.check", "failed", "1 file changed: litellm-bridge", target="bundle"),
        _ev(14, "integrity.check", "failed", "1 file changed: litellm-bridge", target="bundle"),
    ]
    alerts, episodes = alerts_from(events, set())
    assert [(a.kind, a.seq) for a in alerts] == [
        ("quota_80", 1),
        ("quota_100", 2),
        ("refusal_burst", 6),  # 5 in one burst; 4 refusals (seq 5) are not one yet
        ("proxy_failed", 7),
        ("proxy_failed", 10),  # a new episode: it ran again in between
        ("refresh_blocked", 11),
        ("integrity_failed", 13),
    ]
    burst = alerts[2]
    assert burst.title == "5 requests refused by the policy (limit)"
    assert "check `litellm-bridge usage` and the policy" in burst.action
    payload = Alert(**{**alerts[1].__dict__, "host": "pc-17"}).webhook_payload()
    assert payload["text"].splitlines() == [
        "LiteLLM Bridge on pc-17: Quota used up: user root",
        "user root has used all of requests_per_minute = 5 (requests per minute); further "
        "requests are refused until the window resets.",
        "What to do: Raise the limit in the company policy if the work needs it, or wait "
        "for the window to reset.",
    ]
    assert payload["alert"]["kind"] == "quota_100" and payload["alert"]["seq"] == 2
    # The episodes carried over: the same events again (sent twice) alert nothing new but
    # the proxy (its episode was closed and reopened) — and a minute later the quota again.
    again, _ = alerts_from(events[:3], episodes)
    assert again == []
    later = [_ev(1, "policy.quota", "ok", events[0].detail, ts="2026-12-07T10:02:00.000000+00:00")]
    assert [a.kind for a in alerts_from(later, episodes)[0]] == ["quota_80"]


def test_the_event_log_sender_writes_on_windows_and_says_why_not_elsewhere() -> None:
    import sys

    from bridge_app.fleet._senders import EventLogSender

    events = [_event(outcome="ok"), _event(seq=8, outcome="failed")]
    if sys.platform == "win32":  # the Windows leg: pywin32's ReportEvent, for real
        EventLogSender().send(events)
        return
    with pytest.raises(SendError, match=r"The Windows Event Log exists only on Windows\."):
        EventLogSender().send(events)
    status_line = parse_destination("eventlog:")
    from bridge_app.fleet import check_available

    assert check_available(status_line) == "The Windows Event Log exists only on Windows."
