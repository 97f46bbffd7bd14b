"""A stand-in with the exact shape of bridge_app.auth.Session, for services that only need
a user id, a role and the user's data key."""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge_app.crypto import new_data_key, open_sealed, seal


@dataclass
class FakeSession:
    user_id: int
    username: str
    role: str = "user"
    data_key: bytes = field(default_factory=new_data_key, repr=False)
    password: str = "correct horse battery"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def seal(self, plaintext: bytes, context: str) -> bytes:
        return seal(self.data_key, plaintext, context=context)

    def open(self, sealed: bytes, context: str) -> bytes:
        return open_sealed(self.data_key, sealed, context=context)
