"""Bundle integrity: a signed SHA-256 manifest of every file in a packaged build.

The release build hashes every file of the bundle into MANIFEST.json and signs it with
Ed25519 (MANIFEST.json.sig); the public key is built into the app (_pubkey.py). At start,
and on `litellm-bridge verify`, the app checks the signature and every file, and names the
files that were added, removed or changed. A pip install is checked for a LiteLLM release
known to be compromised and for ``.pth`` files no package needs (``_environment.py``).
"""

from bridge_app.integrity._environment import (
    COMPROMISED_LITELLM,
    PthFinding,
    litellm_refusal,
    packaged,
    unexpected_pth_files,
)
from bridge_app.integrity._keys import (
    KEY_ENV,
    KEY_FILE_ENV,
    generate_private_key,
    key_id,
    load_private_key,
    parse_public_key,
    private_key_from_environment,
    public_key_text,
    render_pubkey_module,
    write_private_key,
)
from bridge_app.integrity._manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    Manifest,
    build_manifest,
    hash_tree,
    sign_folder,
)
from bridge_app.integrity._selftest import SelfTestResult, prepare_gui_environment, run_self_test
from bridge_app.integrity._service import (
    NOT_PACKAGED,
    REQUIRED_SETTING,
    IntegrityService,
    IntegrityStatus,
    bundle_root,
    check_integrity,
)
from bridge_app.integrity._verify import VerifyReport, check_signature, verify_folder

__all__ = [
    "COMPROMISED_LITELLM",
    "KEY_ENV",
    "KEY_FILE_ENV",
    "MANIFEST_NAME",
    "NOT_PACKAGED",
    "REQUIRED_SETTING",
    "SIGNATURE_NAME",
    "IntegrityService",
    "IntegrityStatus",
    "Manifest",
    "PthFinding",
    "SelfTestResult",
    "VerifyReport",
    "build_manifest",
    "bundle_root",
    "check_integrity",
    "check_signature",
    "generate_private_key",
    "hash_tree",
    "key_id",
    "litellm_refusal",
    "load_private_key",
    "packaged",
    "parse_public_key",
    "prepare_gui_environment",
    "private_key_from_environment",
    "public_key_text",
    "render_pubkey_module",
    "run_self_test",
    "sign_folder",
    "unexpected_pth_files",
    "verify_folder",
    "write_private_key",
]
