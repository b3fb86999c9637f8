"""Linked accounts: tokens encrypted at rest, readable only through the vault, rotatable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from backends import StoreDatabase
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.infra.vault import TokenVault, VaultError
from marketplace_slack.store.repository import Repository
from marketplace_slack.store.tables import linked_accounts

TOKEN = "mp-pat-0123456789-very-secret"


async def _raw_ciphertexts(database: StoreDatabase) -> list[bytes]:
    engine = database.engine()
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(select(linked_accounts.c.token_ciphertext))).scalars())
    finally:
        await engine.dispose()


async def _link(store: Repository, clock: FakeClock, user: str = "U1", token: str = TOKEN) -> None:
    await store.links.save(
        "T1",
        user,
        marketplace_user_id=f"mp-{user}",
        marketplace_username=f"user-{user}",
        email=f"{user}@example.com",
        token=SecretStr(token),
        now=clock.now(),
    )


async def test_save_get_delete(store: Repository, store_database: StoreDatabase, clock: FakeClock) -> None:
    assert await store.links.get("T1", "U1") is None
    await _link(store, clock)
    link = await store.links.get("T1", "U1")
    assert link is not None
    assert (link.marketplace_user_id, link.marketplace_username, link.email) == (
        "mp-U1",
        "user-U1",
        "U1@example.com",
    )
    assert isinstance(link.token, SecretStr)
    assert link.token.get_secret_value() == TOKEN
    assert TOKEN not in repr(link) and TOKEN not in str(link)

    (raw,) = await _raw_ciphertexts(store_database)
    assert TOKEN.encode() not in raw
    assert b"0123456789" not in raw

    assert await store.links.get("T2", "U1") is None  # links are per workspace
    assert await store.links.delete("T1", "U1")
    assert not await store.links.delete("T1", "U1")
    assert await store.links.get("T1", "U1") is None
    assert await _raw_ciphertexts(store_database) == []


async def test_relinking_replaces_the_token_and_renews_the_link(store: Repository, clock: FakeClock) -> None:
    await _link(store, clock)
    clock.advance(timedelta(hours=1))
    await _link(store, clock, token="mp-pat-new")
    link = await store.links.get("T1", "U1")
    assert link is not None
    assert link.token.get_secret_value() == "mp-pat-new"
    # A link's age counts from its latest linking: that is when the token and the email were checked.
    assert (link.linked_at, link.updated_at) == (clock.now(), clock.now())


async def test_find_by_marketplace_user(store: Repository, clock: FakeClock) -> None:
    await _link(store, clock, "U1")
    await _link(store, clock, "U2")
    found = await store.links.find_by_marketplace_user("mp-U2")
    assert found is not None and found.slack_user_id == "U2"
    assert await store.links.find_by_marketplace_user("mp-U2", team_id="T9") is None
    assert await store.links.find_by_marketplace_user("mp-nobody") is None


async def test_key_rotation(
    store: Repository,
    store_database: StoreDatabase,
    open_repository: Callable[..., Awaitable[Repository]],
    vault_keys: list[SecretStr],
    clock: FakeClock,
) -> None:
    await _link(store, clock, "U1", "token-one")
    await _link(store, clock, "U2", "token-two")
    before = await _raw_ciphertexts(store_database)

    new_key = SecretStr(TokenVault.generate_key())
    both = TokenVault([new_key, *vault_keys])
    rotated_store = await open_repository(both)
    # The new key first, the old one still configured: old tokens still read.
    link = await rotated_store.links.get("T1", "U1")
    assert link is not None and link.token.get_secret_value() == "token-one"

    assert await rotated_store.links.rotate_tokens() == 2
    after = await _raw_ciphertexts(store_database)
    assert set(after).isdisjoint(before)

    only_new = await open_repository(TokenVault([new_key]))
    link = await only_new.links.get("T1", "U2")
    assert link is not None and link.token.get_secret_value() == "token-two"
    # The old key alone no longer opens anything.
    with pytest.raises(VaultError) as caught:
        await store.links.get("T1", "U1")
    message = str(caught.value)
    assert "token-one" not in message
    assert vault_keys[0].get_secret_value() not in message


async def test_rotate_with_an_unknown_key_changes_nothing(
    store: Repository, store_database: StoreDatabase, clock: FakeClock
) -> None:
    await _link(store, clock)
    before = await _raw_ciphertexts(store_database)
    stranger = TokenVault([SecretStr(TokenVault.generate_key())])
    with pytest.raises(VaultError):
        await store.links.rotate_tokens(stranger)
    assert await _raw_ciphertexts(store_database) == before
