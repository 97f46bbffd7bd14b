"""A TUF update repository (python-tuf's metadata API) served over HTTP on loopback, as IT
publishes releases: the tests of updates, with small test bundles or two real releases."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

from bridge_app.updates import CHANNEL_TARGET
from bridge_app.updates._archives import platform_tag


class TufRepo:
    """A TUF repository folder (metadata/ + targets/) signed with one ed25519 key."""

    def __init__(self, root: Path) -> None:
        self.dir = root
        self.signer = CryptoSigner.generate_ed25519()
        (root / "metadata").mkdir(parents=True)
        (root / "targets" / "channels").mkdir(parents=True)
        self.root = Root(expires=datetime.now(UTC) + timedelta(days=30))
        self.root.consistent_snapshot = False
        for role in ("root", "targets", "snapshot", "timestamp"):
            self.root.add_key(self.signer.public_key, role)
        self.targets = Targets(expires=datetime.now(UTC) + timedelta(days=30))
        self.snapshot = Snapshot(expires=datetime.now(UTC) + timedelta(days=30))
        self.timestamp = Timestamp(expires=datetime.now(UTC) + timedelta(days=30))
        self._write(self.root, "1.root.json")
        self._write(self.root, "root.json")

    def _write(self, signed: Root | Targets | Snapshot | Timestamp, name: str) -> None:
        md = Metadata(signed)
        md.sign(self.signer)
        md.to_file(str(self.dir / "metadata" / name), serializer=JSONSerializer(compact=False))

    def add(self, name: str, data: bytes) -> None:
        path = self.dir / "targets" / name
        path.write_bytes(data)
        self.targets.targets[name] = TargetFile.from_data(name, data, ["sha256"])

    def publish(
        self,
        version: str,
        bundle: bytes,
        *,
        name: str | None = None,
        expires_in: timedelta | None = None,
        tag: str | None = None,
    ) -> str:
        # As packaging/build.py names release archives; one per platform in the channel
        # (``tag``: the platform the bundle is for, by default this machine).
        tag = tag or platform_tag()
        name = name or f"litellm-bridge-{version}-{tag}.tar.gz"
        self.add(name, bundle)
        channel = {"version": version, "bundles": {tag: name}}
        self.add(CHANNEL_TARGET, json.dumps(channel).encode())
        self.targets.version += 1
        self._write(self.targets, "targets.json")
        self.snapshot.meta["targets.json"] = MetaFile(version=self.targets.version)
        self.snapshot.version += 1
        self._write(self.snapshot, "snapshot.json")
        self.timestamp.snapshot_meta = MetaFile(version=self.snapshot.version)
        self.timestamp.version += 1
        if expires_in is not None:
            self.timestamp.expires = datetime.now(UTC) + expires_in
        self._write(self.timestamp, "timestamp.json")
        return name


@contextmanager
def serve_repo(root: Path) -> Iterator[tuple[TufRepo, str]]:
    """A new repository in ``root``, and its URL on 127.0.0.1."""
    tuf_repo = TufRepo(root)
    handler = partial(SimpleHTTPRequestHandler, directory=str(tuf_repo.dir))
    handler.log_message = lambda *_a, **_k: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tuf_repo, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(5)
