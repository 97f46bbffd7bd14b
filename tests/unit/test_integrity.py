from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bridge_app.integrity import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    IntegrityService,
    check_integrity,
    generate_private_key,
    key_id,
    public_key_text,
    render_pubkey_module,
    sign_folder,
    verify_folder,
)
from bridge_app.runtime import AppPaths, BridgeError
from bridge_app.services import build_services

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows


@pytest.fixture
def key():  # a throwaway key: the release key never comes near the tests
    return generate_private_key()


@pytest.fixture
def bundle(tmp_path: Path, key) -> Path:
    root = tmp_path / "litellm-bridge"
    (root / "_internal" / "litellm").mkdir(parents=True)
    (root / "litellm-bridge").write_bytes(b"\x7fELF fake executable")
    (root / "_internal" / "base_library.zip").write_bytes(bytes(range(256)) * 64)
    (root / "_internal" / "litellm" / "model_prices.json").write_text('{"gpt-4o": {}}')
    (root / "_internal" / "kv").mkdir()
    (root / "_internal" / "kv" / "diagnostics.kv").write_text("<DiagnosticsScreen>:\n")
    sign_folder(root, key, version="1.2.3")
    return root


def test_a_freshly_signed_bundle_verifies(bundle: Path, key) -> None:
    report = verify_folder(bundle, public_key_text(key))
    assert report.ok
    assert report.checked == 4
    assert report.version == "1.2.3"
    assert "All 4 files match the signed manifest" in report.summary()
    assert report.lines() == []


def test_the_manifest_lists_every_file_with_its_sha256(bundle: Path) -> None:
    import hashlib

    files = json.loads((bundle / MANIFEST_NAME).read_text())["files"]
    assert set(files) == {
        "litellm-bridge",
        "_internal/base_library.zip",
        "_internal/litellm/model_prices.json",
        "_internal/kv/diagnostics.kv",
    }
    exe = (bundle / "litellm-bridge").read_bytes()
    assert files["litellm-bridge"] == hashlib.sha256(exe).hexdigest()


def test_a_changed_file_is_named(bundle: Path, key) -> None:
    target = bundle / "_internal" / "base_library.zip"
    data = bytearray(target.read_bytes())
    data[100] ^= 0x01  # one flipped bit
    target.write_bytes(bytes(data))
    report = verify_folder(bundle, public_key_text(key))
    assert not report.ok
    assert report.changed == ["_internal/base_library.zip"]
    assert report.added == report.removed == []
    assert report.signature_problem is None
    assert "changed: _internal/base_library.zip" in report.lines()
    assert "1 changed" in report.summary()


def test_an_added_file_is_named(bundle: Path, key) -> None:
    (bundle / "_internal" / "litellm" / "sitecustomize.py").write_text("import evil\n")
    report = verify_folder(bundle, public_key_text(key))
    assert not report.ok
    assert report.added == ["_internal/litellm/sitecustomize.py"]
    assert report.changed == report.removed == []


def test_a_removed_file_is_named(bundle: Path, key) -> None:
    (bundle / "_internal" / "kv" / "diagnostics.kv").unlink()
    report = verify_folder(bundle, public_key_text(key))
    assert not report.ok
    assert report.removed == ["_internal/kv/diagnostics.kv"]
    assert "removed: _internal/kv/diagnostics.kv" in report.lines()


def test_a_tampered_manifest_fails_even_when_the_files_match_it(bundle: Path, key) -> None:
    # Someone swaps a file and rewrites its hash in the manifest to hide it.
    import hashlib

    (bundle / "litellm-bridge").write_bytes(b"\x7fELF trojan")
    manifest = json.loads((bundle / MANIFEST_NAME).read_text())
    manifest["files"]["litellm-bridge"] = hashlib.sha256(b"\x7fELF trojan").hexdigest()
    (bundle / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")

    report = verify_folder(bundle, public_key_text(key))
    assert not report.ok
    assert report.changed == []
    assert report.signature_problem is not None
    assert "altered after it was signed" in report.signature_problem


def test_a_manifest_signed_with_another_key_fails_naming_both_keys(bundle: Path, key) -> None:
    trusted = generate_private_key()
    report = verify_folder(bundle, public_key_text(trusted))
    assert not report.ok
    assert report.signature_problem == (
        f"The manifest was signed with key {key_id(key)}, but this build trusts key "
        f"{key_id(trusted)}: it was not signed by whoever built this app."
    )


def test_a_forged_signature_claiming_the_trusted_key_id_fails(bundle: Path, key) -> None:
    trusted = generate_private_key()
    sig = json.loads((bundle / SIGNATURE_NAME).read_text())
    sig["key_id"] = key_id(trusted)
    (bundle / SIGNATURE_NAME).write_text(json.dumps(sig))
    report = verify_folder(bundle, public_key_text(trusted))
    assert report.signature_problem is not None
    assert "altered after it was signed" in report.signature_problem


def test_a_missing_signature_fails(bundle: Path, key) -> None:
    (bundle / SIGNATURE_NAME).unlink()
    report = verify_folder(bundle, public_key_text(key))
    assert not report.ok
    assert report.signature_problem == f"The manifest is not signed: {SIGNATURE_NAME} is missing."


def test_a_garbled_signature_file_fails(bundle: Path, key) -> None:
    (bundle / SIGNATURE_NAME).write_text("not json")
    report = verify_folder(bundle, public_key_text(key))
    assert report.signature_problem == f"The signature file {SIGNATURE_NAME} is unreadable."


def test_a_missing_manifest_fails(bundle: Path, key) -> None:
    (bundle / MANIFEST_NAME).unlink()
    report = verify_folder(bundle, public_key_text(key))
    assert not report.ok
    assert report.signature_problem is not None
    assert f"has no {MANIFEST_NAME}" in report.signature_problem


def test_a_build_without_a_public_key_is_not_trusted(bundle: Path) -> None:
    report = verify_folder(bundle, "")
    assert not report.ok
    assert "carries no public key" in (report.signature_problem or "")


def test_an_unreadable_manifest_is_a_failed_status_not_a_crash(bundle: Path, key) -> None:
    (bundle / MANIFEST_NAME).write_text("{ broken")
    status = check_integrity(bundle, public_key=public_key_text(key))
    assert status.state == "failed"
    assert "cannot be read" in status.message
    assert status.warning == status.message


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_a_retargeted_symlink_is_reported_as_changed(tmp_path: Path, key) -> None:
    root = tmp_path / "b"
    root.mkdir()
    (root / "libfoo.so.1").write_bytes(b"one")
    (root / "libbar.so.1").write_bytes(b"two")
    (root / "libfoo.so").symlink_to("libfoo.so.1")
    sign_folder(root, key, version="1")
    assert verify_folder(root, public_key_text(key)).ok
    (root / "libfoo.so").unlink()
    (root / "libfoo.so").symlink_to("libbar.so.1")
    assert verify_folder(root, public_key_text(key)).changed == ["libfoo.so"]


def test_status_names_the_changed_file_for_the_gui_warning(bundle: Path, key) -> None:
    (bundle / "_internal" / "litellm" / "model_prices.json").write_text("{}")
    status = check_integrity(bundle, public_key=public_key_text(key))
    assert status.state == "failed"
    assert not status.verified
    assert status.warning is not None
    assert "changed: _internal/litellm/model_prices.json" in status.warning
    assert not status.allows_proxy(required=True)
    assert status.allows_proxy(required=False)


def test_from_source_there_is_nothing_to_verify() -> None:
    status = IntegrityService().check_at_start()
    assert status.state == "not_packaged"
    assert status.warning is None
    assert status.message == "Not a packaged build; nothing to verify."


def test_serve_is_refused_when_policy_requires_a_verified_bundle(
    bundle: Path, key, app_paths: AppPaths
) -> None:
    (bundle / "litellm-bridge").write_bytes(b"patched")
    services = build_services(app_paths)
    try:
        service = IntegrityService(
            settings=services.settings, root=bundle, public_key=public_key_text(key)
        )
        assert service.ensure_proxy_may_start().state == "failed"  # policy off: warn only

        services.settings.set("integrity.required", True)
        with pytest.raises(BridgeError) as err:
            service.ensure_proxy_may_start()
        assert "policy requires a verified build" in err.value.message
        assert "changed: litellm-bridge" in err.value.message
        assert "litellm-bridge verify" in (err.value.hint or "")
    finally:
        services.close()


def test_the_composition_root_provides_the_integrity_service(app_paths: AppPaths) -> None:
    services = build_services(app_paths)
    try:
        assert services.integrity.required() is False
        assert services.integrity.check_at_start().state == "not_packaged"
        services.settings.set("integrity.required", True)
        with pytest.raises(BridgeError, match="requires a verified build"):
            services.integrity.ensure_proxy_may_start()  # a source run is not a verified build
    finally:
        services.close()


def test_the_release_key_module_carries_the_given_key(key) -> None:
    namespace: dict[str, str] = {}
    exec(render_pubkey_module(public_key_text(key)), namespace)  # noqa: S102 - our own text
    assert namespace["RELEASE_PUBLIC_KEY"] == public_key_text(key)
    with pytest.raises(BridgeError):
        render_pubkey_module("not a key")
