"""The licences the bundle ships (packaging/licenses.py, written by build.py into
THIRD-PARTY-LICENSES.txt): read from the installed packages of this platform — the Linux
environment here, the Windows one in the Windows leg."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.windows
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def licenses() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bridge_licenses", REPO / "packaging" / "licenses.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_shipped_licence_is_one_the_project_allows(licenses: ModuleType) -> None:
    shipped = licenses.shipped()
    names = {s.name for s in shipped}
    assert {"litellm", "kivy", "sqlcipher3", "cryptography"} <= names
    assert [f"{s.name} ({s.licence})" for s in licenses.not_allowed(shipped)] == []


def test_what_the_spec_leaves_out_is_not_listed_as_shipped(licenses: ModuleType) -> None:
    excluded = licenses.spec_excludes()
    assert "litellm_enterprise" in excluded and "polars" in excluded
    names = {s.name for s in licenses.shipped()}
    # Installed here (litellm[proxy] pulls them in), never in the bundle.
    assert not names & {"litellm-enterprise", "polars", "granian", "psycopg"}


def test_a_proprietary_or_gpl_licence_is_refused(licenses: ModuleType) -> None:
    def one(licence: str) -> object:
        return licenses.Shipped("x", "1", licence, ())

    for refused in ("LicenseRef-Proprietary", "GPL-3.0-only", "AGPL-3.0", "UNKNOWN", ""):
        assert not one(refused).allowed, refused
    for allowed in ("MIT", "Apache-2.0 OR BSD-3-Clause", "MPL-2.0", "LGPLv3", "MIT License"):
        assert one(allowed).allowed, allowed


def test_the_notices_carry_each_licence_text(licenses: ModuleType) -> None:
    shipped = licenses.shipped()
    text = licenses.notices(shipped)
    litellm = next(s for s in shipped if s.name == "litellm")
    assert f"litellm {litellm.version}: MIT" in text.splitlines()
    assert any("LICENSE" in file for file, _ in litellm.texts)
    assert "Permission is hereby granted, free of charge" in text  # the MIT text itself
    certifi = next(s for s in shipped if s.name == "certifi")
    assert "Mozilla Public License" in "".join(t for _, t in certifi.texts)
