"""The audit log: redacted appends, concurrent writers, tamper detection, export."""

from __future__ import annotations

import csv
import errno
import json
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bridge_app.audit import AuditExportError, check_chain, event_hash
from bridge_app.audit._chain import AuditEvent
from bridge_app.store import tables
from tests.unit._auth_stack import Stack, open_stack, with_admin_and_user


@pytest.fixture
def stack(tmp_path: Path) -> Stack:
    return open_stack(tmp_path / "bridge.db")


def _raw(stack: Stack, *statements: str) -> None:
    """Tamper the way someone with the database key would: plain SQL on the real file."""
    with stack.db.transaction() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def _filled(stack: Stack, n: int = 6) -> None:
    for i in range(1, n + 1):
        stack.audit.record("system", "proxy.start", f"port {4000 + i}", "ok", f"run {i}")


def _verify(stack: Stack, admin_pw: str = "admin-horse-battery") -> tuple[bool, int | None, str]:
    """Verify as the admin (whose login appends one more event first)."""
    admin = stack.auth.login("root", admin_pw)
    result = stack.audit.verify(admin)
    return result.ok, result.first_bad_seq, result.problem or result.message


def test_events_are_redacted_capped_and_single_line(stack: Stack) -> None:
    stack.redactor.register("corp-secret-value-42")
    event = stack.audit.record(
        "alice",
        "env.change",
        "OPENAI_API_KEY",
        "ok",
        "set to corp-secret-value-42 and Bearer abcdefghijklmnop\nsecond line " + "x" * 900,
    )
    assert "corp-secret-value-42" not in event.detail
    assert "abcdefghijklmnop" not in event.detail
    assert "\n" not in event.detail
    assert len(event.detail) <= 500
    with pytest.raises(ValueError, match="outcome"):
        stack.audit.record("alice", "env.change", "X", "maybe", "")
    with pytest.raises(ValueError, match="action"):
        stack.audit.record("alice", "Not An Action", "X", "ok", "")


def test_an_untouched_log_verifies(stack: Stack) -> None:
    stack.auth.create_first_admin("root", "admin-horse-battery")
    _filled(stack)
    ok, bad, message = _verify(stack)
    assert ok, message
    assert bad is None
    assert "intact" in message


def test_concurrent_writers_keep_one_unbroken_chain(stack: Stack) -> None:
    stack.auth.create_first_admin("root", "admin-horse-battery")

    def writer(n: int) -> None:
        for i in range(25):
            stack.audit.record(f"worker{n}", "proxy.restart", "proxy", "ok", f"{i}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    admin = stack.auth.login("root", "admin-horse-battery")
    result = stack.audit.verify(admin)
    assert result.ok, result.problem
    assert result.checked == 1 + 100 + 1  # first admin, 100 appends, this login
    assert len(stack.audit.list_events(admin, action="proxy", limit=None)) == 100


def test_altering_one_detail_names_that_event(stack: Stack) -> None:
    stack.auth.create_first_admin("root", "admin-horse-battery")
    _filled(stack)
    _raw(stack, "UPDATE audit_events SET detail = 'nothing to see' WHERE seq = 4")
    ok, bad, problem = _verify(stack)
    assert not ok
    assert bad == 4
    assert "event #4 was altered" in problem


def test_a_row_rewritten_with_a_recomputed_hash_is_caught_at_the_next_event(
    stack: Stack,
) -> None:
    stack.auth.create_first_admin("root", "admin-horse-battery")
    _filled(stack)
    with stack.db.reading() as conn:
        row = conn.execute(
            select(tables["audit_events"]).where(tables["audit_events"].c.seq == 3)
        ).one()
    forged = event_hash(
        seq=3,
        ts=row.ts,
        actor=row.actor,
        action=row.action,
        target=row.target,
        outcome="failed",
        detail=row.detail,
        prev_hash=row.prev_hash,
    )
    _raw(stack, f"UPDATE audit_events SET outcome = 'failed', hash = '{forged}' WHERE seq = 3")  # noqa: S608
    ok, bad, problem = _verify(stack)
    assert (ok, bad) == (False, 4)
    assert "rewritten" in problem


def test_deleting_a_row_names_the_missing_event(stack: Stack) -> None:
    stack.auth.create_first_admin("root", "admin-horse-battery")
    _filled(stack)
    _raw(stack, "DELETE FROM audit_events WHERE seq = 3")
    ok, bad, problem = _verify(stack)
    assert (ok, bad) == (False, 3)
    assert "event #3 is missing" in problem


def test_deleting_and_renumbering_is_still_caught(stack: Stack) -> None:
    stack.auth.create_first_admin("root", "admin-horse-battery")
    _filled(stack)
    _raw(
        stack,
        "DELETE FROM audit_events WHERE seq = 3",
        "UPDATE audit_events SET seq = seq - 1 WHERE seq > 3",
    )
    ok, bad, problem = _verify(stack)
    assert (ok, bad) == (False, 3)
    assert "does not follow" in problem


def test_reordering_rows_names_the_first_moved_event(stack: Stack) -> None:
    stack.auth.create_first_admin("root", "admin-horse-battery")
    _filled(stack)
    # swap the rows holding events 4 and 5 (9 - 4 = 5, 9 - 5 = 4)
    _raw(
        stack,
        "CREATE TEMP TABLE swap AS SELECT * FROM audit_events WHERE seq IN (4, 5)",
        "DELETE FROM audit_events WHERE seq IN (4, 5)",
        "UPDATE swap SET seq = 9 - seq",
        "INSERT INTO audit_events SELECT * FROM swap",
        "DROP TABLE swap",
    )
    ok, bad, problem = _verify(stack)
    assert (ok, bad) == (False, 4)
    assert "reordered" in problem


def test_cutting_the_newest_events_is_caught_even_after_later_appends(stack: Stack) -> None:
    stack.auth.create_first_admin("root", "admin-horse-battery")
    _filled(stack, 6)  # seqs 2..7
    _raw(stack, "DELETE FROM audit_events WHERE seq >= 6")
    ok, bad, problem = _verify(stack)  # this login appends after the cut
    assert (ok, bad) == (False, 6)
    assert "missing" in problem


def test_the_cli_style_filters_select_events(stack: Stack) -> None:
    admin, _ = with_admin_and_user(stack)
    everything = stack.audit.list_events(admin, limit=None)
    assert [e.action for e in stack.audit.list_events(admin, user="BOB")] == [
        "auth.login",
        "auth.password_change",
    ]
    assert {e.action for e in stack.audit.list_events(admin, action="auth")} == {
        "auth.login",
        "auth.password_change",
    }
    assert [e.target for e in stack.audit.list_events(admin, action="user.create")] == [
        "root",
        "bob",
    ]
    future = datetime.now(UTC) + timedelta(hours=1)
    assert stack.audit.list_events(admin, since=future) == []
    assert len(stack.audit.list_events(admin, until=future, limit=None)) == len(everything)
    assert [e.seq for e in stack.audit.list_events(admin, limit=2)] == [
        everything[-2].seq,
        everything[-1].seq,
    ]


def test_json_and_csv_exports_hold_the_whole_chain_and_are_audited(
    stack: Stack, tmp_path: Path
) -> None:
    admin, _ = with_admin_and_user(stack)
    stack.audit.record(admin, "config.change", "=cmd|' /C calc'!A0", "ok", "")
    json_path = tmp_path / "audit.json"
    result = stack.audit.export(admin, json_path, "json")
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert doc["count"] == result.count == len(doc["events"])
    assert doc["exported_by"] == "root"
    events = [AuditEvent(**e) for e in doc["events"]]
    assert check_chain(events, (events[-1].seq, events[-1].hash)).ok  # verifiable offline

    csv_path = tmp_path / "audit.csv"
    stack.audit.export(admin, csv_path, "csv")
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == result.count + 1  # the JSON export event came in between
    assert rows[-2]["target"].startswith("'=")  # no formula for a spreadsheet to run
    exports = stack.audit.list_events(admin, action="audit.export")
    assert [(e.target, e.outcome) for e in exports] == [
        (str(json_path), "ok"),
        (str(csv_path), "ok"),
    ]


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("missing-folder/audit.csv", "does not exist"),
        ("a-file/audit.csv", "does not exist"),
        (".", "it is a folder"),
    ],
)
def test_an_unwritable_export_path_fails_cleanly_and_leaves_nothing(
    stack: Stack, tmp_path: Path, relative: str, message: str
) -> None:
    admin, _ = with_admin_and_user(stack)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a-file").write_text("not a folder")
    before = sorted(p.name for p in out.rglob("*"))
    with pytest.raises(AuditExportError, match=message):
        stack.audit.export(admin, out / relative, "csv")
    assert sorted(p.name for p in out.rglob("*")) == before
    failed = stack.audit.list_events(admin, action="audit.export")
    assert [e.outcome for e in failed] == ["failed"]


def test_a_disk_full_during_export_keeps_the_previous_file_and_no_temp_file(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, _ = with_admin_and_user(stack)
    target = tmp_path / "audit.json"
    target.write_text("previous export")

    def disk_full(fd: int) -> None:  # a full disk cannot be produced for real here
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(AuditExportError, match="No space left on device"):
        stack.audit.export(admin, target, "json")
    assert target.read_text() == "previous export"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".audit.json")] == []
