from __future__ import annotations

import pytest
from pydantic import SecretStr

from marketplace_slack.infra.vault import TokenVault, VaultError


def _key() -> SecretStr:
    return SecretStr(TokenVault.generate_key())


def test_round_trip_and_ciphertext_hides_the_token() -> None:
    vault = TokenVault([_key()])
    sealed = vault.encrypt(SecretStr("s3cret-token"))
    assert b"s3cret-token" not in sealed
    assert vault.encrypt(SecretStr("s3cret-token")) != sealed  # fresh IV each time
    assert vault.decrypt(sealed).get_secret_value() == "s3cret-token"


def test_rotation_moves_ciphertexts_to_the_newest_key() -> None:
    old, new = _key(), _key()
    sealed_old = TokenVault([old]).encrypt(SecretStr("t"))
    both = TokenVault([new, old])
    assert both.decrypt(sealed_old).get_secret_value() == "t"
    rotated = both.rotate(sealed_old)
    assert TokenVault([new]).decrypt(rotated).get_secret_value() == "t"
    with pytest.raises(VaultError):
        TokenVault([old]).decrypt(rotated)
    # Encryption always uses the first key.
    assert TokenVault([new]).decrypt(both.encrypt(SecretStr("u"))).get_secret_value() == "u"


def test_unknown_key_error_names_neither_token_nor_key() -> None:
    mine, theirs = _key(), _key()
    sealed = TokenVault([theirs]).encrypt(SecretStr("the-token"))
    with pytest.raises(VaultError, match="cannot be decrypted") as caught:
        TokenVault([mine]).decrypt(sealed)
    text = f"{caught.value!s} {caught.value!r}"
    assert "the-token" not in text and mine.get_secret_value() not in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    with pytest.raises(VaultError):
        TokenVault([mine]).decrypt(b"not a fernet token")


def test_bad_key_configuration() -> None:
    with pytest.raises(VaultError, match="no encryption key"):
        TokenVault([])
    bad = "definitely-not-a-fernet-key"
    with pytest.raises(VaultError, match="#2 of 2") as caught:
        TokenVault([_key(), SecretStr(bad)])
    assert bad not in str(caught.value)
    with pytest.raises(TypeError):
        TokenVault(_key())  # type: ignore[arg-type]


def test_repr_hides_keys() -> None:
    key = _key()
    assert key.get_secret_value() not in repr(TokenVault([key]))
    assert repr(TokenVault([key, _key()])) == "TokenVault(<2 key(s)>)"
