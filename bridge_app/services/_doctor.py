from __future__ import annotations

import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any, Literal

import bridge_app
from bridge_app.runtime import (
    HOME_ENV,
    RESOURCE_KINDS,
    AppPaths,
    BridgeError,
    InstanceLock,
    network_filesystem,
    resource_path,
)

Status = Literal["ok", "warn", "fail"]


@dataclass
class Check:
    name: str
    status: Status
    detail: str
    hint: str | None = None

    @property
    def network(self) -> bool:
        """Part of `doctor network`: where TLS trust comes from, and per endpoint the route
        (which proxy and why) and the TLS handshake made through it."""
        return self.name.startswith(("TLS ", "Route "))


@dataclass
class DoctorReport:
    version: str
    python: str
    platform: str
    packages: dict[str, str]
    paths: dict[str, str]
    paths_source: str
    key_source: str | None = None
    key_location: str | None = None
    schema_version: int | None = None
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


def _pkg_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def run_doctor(paths: AppPaths) -> DoctorReport:
    """Inspect the installation without changing anything that already exists."""
    from bridge_app.services._root import key_manager  # local: avoid an import cycle

    report = DoctorReport(
        version=bridge_app.__version__,
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.release()} ({platform.machine()})",
        packages={
            name: _pkg_version(name)
            for name in ("litellm", "kivy", "kivymd", "sqlalchemy", "sqlcipher3")
        },
        paths={
            **{k: str(v) for k, v in paths.all_dirs().items()},
            "database": str(paths.database_file),
            "key file": str(paths.key_file),
        },
        paths_source=paths.source,
    )
    checks = report.checks

    for kind in RESOURCE_KINDS:
        try:
            checks.append(Check(f"{kind} folder", "ok", str(resource_path(kind))))
        except BridgeError as exc:
            checks.append(Check(f"{kind} folder", "fail", exc.message, exc.hint))

    from bridge_app.runtime import os_trust_in_use, trust_store_description

    checks.append(
        Check(
            "TLS trust",
            "ok" if os_trust_in_use() else "warn",
            trust_store_description(),
            None
            if os_trust_in_use()
            else "An endpoint behind a company CA needs SSL_CERT_FILE (README, 'An internal "
            "endpoint behind a company CA').",
        )
    )

    from bridge_app.integrity import check_integrity

    integrity = check_integrity()
    checks.append(
        Check(
            "bundle integrity",
            "fail" if integrity.state == "failed" else "ok",
            integrity.message,
            "Run `litellm-bridge verify` for the list of files; reinstall from the release."
            if integrity.state == "failed"
            else None,
        )
    )

    checks.extend(environment_checks())

    try:
        paths.ensure()
        checks.append(Check("directories", "ok", "all writable"))
    except BridgeError as exc:
        checks.append(Check("directories", "fail", exc.message, exc.hint))
        return report
    share = network_filesystem(paths.data_dir)
    if share is not None:
        checks.append(Check("data folder", "warn", *network_share_warning(paths, share)))

    keys = key_manager(paths)
    try:
        key = keys.load_or_create()
    except BridgeError as exc:
        checks.append(Check("database key", "fail", exc.message, exc.hint))
        return report
    report.key_source, report.key_location = key.source, key.location
    checks.append(Check("database key", "ok", f"{key.source.replace('-', ' ')}: {key.location}"))
    problem = keys.key_file_problem()
    if problem:
        checks.append(Check("key file permissions", "fail", problem))

    from bridge_app.store import Database

    db = Database(paths.database_file, key)
    entries: dict[str, str] = {}
    try:
        db.open()
        report.schema_version = db.schema_version()
        detail = f"schema version {report.schema_version}, SQLCipher {db.cipher_version()}"
        if db.upgraded_from == 0:
            detail += " (created now)"
        elif db.upgraded_from is not None:
            detail += f" (upgraded from version {db.upgraded_from})"
        checks.append(Check("database", "ok", detail))
        checks.append(_policy_check(db))
        entries = _shared_entries(db, key)
    except BridgeError as exc:
        checks.append(Check("database", "fail", exc.message, exc.hint))
    finally:
        db.close()

    from bridge_app.services._network import network_checks

    for name, status, detail, hint in network_checks(paths.active_config_file, entries):
        checks.append(Check(name, status, detail, hint))

    lock = InstanceLock(paths.lock_file)
    try:
        lock.acquire()
        lock.release()
        checks.append(Check("running instance", "ok", "none on this data directory"))
    except BridgeError as exc:
        checks.append(Check("running instance", "warn", exc.message))

    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        checks.append(
            Check(
                "display",
                "warn",
                "no graphical display: the GUI cannot start here",
                "Run `litellm-bridge serve` for the headless proxy.",
            )
        )
    return report


def environment_checks() -> list[Check]:
    """The LiteLLM release and the ``.pth`` files of the Python environment (a pip install;
    a packaged build is covered by its signed manifest)."""
    from bridge_app.integrity import litellm_refusal, packaged, unexpected_pth_files

    refusal = litellm_refusal()
    checks = [
        Check(
            "LiteLLM release",
            "fail",
            refusal,
            "Stop the app, uninstall this LiteLLM, install the pinned one "
            "(pip install -c constraints.txt litellm-bridge) and replace every credential "
            "this machine held.",
        )
        if refusal
        else Check("LiteLLM release", "ok", f"{_pkg_version('litellm')}, not a known bad one")
    ]
    if packaged():
        return checks
    findings = unexpected_pth_files()
    for finding in findings:
        checks.append(
            Check(
                ".pth file",
                finding.severity,
                finding.sentence(),
                "Python runs the `import` lines of a .pth file at every start. Remove the "
                "file unless you know who put it there and why."
                if finding.runs_code
                else "Remove it unless you added it on purpose.",
            )
        )
    if not findings:
        checks.append(Check(".pth files", "ok", "only those the installed packages need"))
    return checks


def _shared_entries(db: Any, key: Any) -> dict[str, str]:
    """The shared entries the proxy would see before anyone logs in (proxy settings and
    what os.environ/ references name), decrypted in memory only."""
    from bridge_app.envvars import EnvService
    from bridge_app.runtime import Redactor
    from bridge_app.services._root import derive_install_key

    env = EnvService(db=db, shared_key=derive_install_key(key, "shared-env"), redactor=Redactor())
    return env.effective_environment(None)


def network_share_warning(paths: AppPaths, share: str) -> tuple[str, str]:
    """(what is wrong, what to do) for a data folder on a network file system."""
    return (
        f"The data folder {paths.data_dir} is on {share}. Its SQLite database needs a local "
        "disk: over a network share a crash or a second computer can corrupt it.",
        f"Set {HOME_ENV} to a folder on a local disk (IT: point the app's data at the "
        "local profile, not a redirected folder).",
    )


def _policy_check(db: Any) -> Check:
    """The policy in force, or the machine-wide policy that was refused (tampered,
    unsigned while a company key is enrolled, invalid) and why."""
    from bridge_app.audit import AuditLog
    from bridge_app.policy import PolicyService
    from bridge_app.runtime import Redactor
    from bridge_app.settings import SettingsService

    service = PolicyService(
        db=db, audit=AuditLog(db=db, redactor=Redactor()), settings=SettingsService(db=db)
    )
    service.refresh_machine_file(force=True)
    refusal = service.last_refusal()
    current = service.current()
    if refusal is not None:
        return Check(
            "policy",
            "fail",
            f"{refusal.source} was refused: {refusal.reason} In force: {current.source}.",
            "Ask IT for the policy and its signature as shipped; `litellm-bridge policy show`.",
        )
    return Check("policy", "ok", current.source)
