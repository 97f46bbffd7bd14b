from __future__ import annotations

import json
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import bridge_app
from bridge_app.integrity._keys import (
    KEY_ENV,
    KEY_FILE_ENV,
    generate_private_key,
    key_id,
    load_private_key,
    private_key_from_environment,
    public_key_text,
    write_private_key,
)
from bridge_app.integrity._manifest import MANIFEST_NAME, SIGNATURE_NAME, sign_folder
from bridge_app.integrity._verify import verify_folder
from bridge_app.runtime import BridgeError

_folder = click.Path(exists=True, file_okay=False, path_type=Path)
_key_option = click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Ed25519 private key (PEM). Default: ${KEY_ENV} or the file named by ${KEY_FILE_ENV}.",
)


def _signing_key(key_file: Path | None) -> Ed25519PrivateKey:
    key = load_private_key(key_file) if key_file else private_key_from_environment()
    if key is None:
        raise BridgeError(
            "No signing key given.",
            hint=f"Pass --key FILE, or set ${KEY_ENV} (the PEM) or ${KEY_FILE_ENV}.",
        )
    return key


def _report_error(exc: BridgeError) -> None:
    click.secho(f"error: {exc.message}", fg="red", err=True)
    if exc.hint:
        click.echo(f"hint: {exc.hint}", err=True)
    raise SystemExit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def tools() -> None:
    """Build-time tools for the signed bundle manifest (not part of the user's app)."""


@tools.command("generate-key")
@click.argument("key_file", type=click.Path(dir_okay=False, path_type=Path))
def generate_key(key_file: Path) -> None:
    """Create a new Ed25519 key pair: the private key goes to KEY_FILE (0600)."""
    try:
        key = generate_private_key()
        write_private_key(key, key_file)
    except BridgeError as exc:
        _report_error(exc)
    click.echo(f"private key: {key_file} (keep it secret; never commit it)")
    click.echo(f"public key:  {public_key_text(key)}")
    click.echo(f"key id:      {key_id(key)}")


@tools.command("public-key")
@_key_option
def public_key(key_file: Path | None) -> None:
    """Print the public key (base64) that belongs to a private key."""
    try:
        click.echo(public_key_text(_signing_key(key_file)))
    except BridgeError as exc:
        _report_error(exc)


@tools.command("sign-manifest")
@click.argument("folder", type=_folder)
@_key_option
@click.option("--version", "version", default=bridge_app.__version__, show_default=True)
def sign_manifest(folder: Path, key_file: Path | None, version: str) -> None:
    """Hash every file in FOLDER and write a signed MANIFEST.json into it."""
    try:
        key = _signing_key(key_file)
        manifest = sign_folder(folder, key, version=version)
    except BridgeError as exc:
        _report_error(exc)
    click.echo(
        f"Signed {len(manifest.files)} files with key {key_id(key)}: "
        f"{folder / MANIFEST_NAME}, {folder / SIGNATURE_NAME}"
    )


@tools.command("verify")
@click.argument("folder", type=_folder)
@click.option("--public-key", "public_key_b64", help="Trusted public key (base64).")
@_key_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def verify(folder: Path, public_key_b64: str | None, key_file: Path | None, as_json: bool) -> None:
    """Check FOLDER against its signed manifest with the given key; exit 1 on any difference."""
    try:
        trusted = public_key_b64 or public_key_text(_signing_key(key_file))
        report = verify_folder(folder, trusted)
    except BridgeError as exc:
        _report_error(exc)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(report.summary())
        for line in report.lines():
            click.echo(f"  {line}")
    if not report.ok:
        raise SystemExit(1)
