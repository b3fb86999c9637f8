"""Encryption at rest for the stewards' Marketplace personal access tokens.

Fernet (AES-128-CBC + HMAC-SHA256) behind `MultiFernet`, so keys can be rotated: the first key
encrypts, every key decrypts, and `rotate` moves a ciphertext onto the first key. Errors never carry
the token or a key, because they end up in logs.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from marketplace_slack.infra.redaction import keep_handed_secret


class VaultError(Exception):
    """A key is unusable or a stored token cannot be decrypted with any configured key."""


class TokenVault:
    def __init__(self, keys: Sequence[SecretStr]) -> None:
        if isinstance(keys, SecretStr | str):
            # A single key passed bare would be iterated character by character.
            raise TypeError("TokenVault takes a sequence of keys, newest first")
        if not keys:
            raise VaultError("no encryption key configured: set at least one Fernet key")
        fernets: list[Fernet] = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.get_secret_value().strip().encode("ascii")))
            except (ValueError, UnicodeEncodeError, binascii.Error):
                # `from None`: the original message may quote the key material.
                raise VaultError(
                    f"encryption key #{position} of {len(keys)} is not a valid Fernet key "
                    "(32 url-safe base64-encoded bytes; make one with TokenVault.generate_key())"
                ) from None
        self._fernet = MultiFernet(fernets)
        self._key_count = len(fernets)

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode("ascii")

    @property
    def key_count(self) -> int:
        return self._key_count

    def encrypt(self, token: SecretStr) -> bytes:
        return self._fernet.encrypt(token.get_secret_value().encode("utf-8"))

    def decrypt(self, ciphertext: bytes) -> SecretStr:
        try:
            plain = self._fernet.decrypt(ciphertext)
        except InvalidToken:
            raise VaultError(self._undecryptable()) from None
        token = plain.decode("utf-8")
        keep_handed_secret(token)  # out of the store and on its way into requests: never into a log
        return SecretStr(token)

    def rotate(self, ciphertext: bytes) -> bytes:
        """Re-encrypt under the newest key; fails like `decrypt` if no configured key opens it."""
        try:
            return self._fernet.rotate(ciphertext)
        except InvalidToken:
            raise VaultError(self._undecryptable()) from None

    def _undecryptable(self) -> str:
        return (
            f"a stored token cannot be decrypted with any of the {self._key_count} configured key(s): "
            "it was encrypted under a key that is no longer configured, or it is corrupt"
        )

    def __repr__(self) -> str:
        return f"TokenVault(<{self._key_count} key(s)>)"
