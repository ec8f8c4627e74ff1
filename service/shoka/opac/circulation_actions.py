"""The OPAC's circulation actions, one function per action: the only place the OPAC changes loans and holds.

Each is the circulation domain service (service/shoka/circulation/) acting for the logged-in patron — the same
engine rules, transactions and operation log as the counter, with actor kind 'patron' and the card as name,
and always scoped to that patron's own loans and holds. Refusals raise ShokaError subclasses
(CirculationRefused, Conflict, NotFound) whose Japanese message the page shows next to the form.
"""

from __future__ import annotations

import contextlib

from shoka.audit import Actor
from shoka.circulation import desk, holds
from shoka.circulation.decisions import CirculationRefused
from shoka.clock import library_today, utc_now
from shoka.errors import NotFound

# What a patron may not see: someone else's loan or hold is simply not there.
NOT_THEIRS = frozenset({"not_your_loan", "not_your_hold", "unknown_hold"})


@contextlib.contextmanager
def _only_their_own():
    try:
        yield
    except CirculationRefused as refusal:
        if refusal.code in NOT_THEIRS:
            raise NotFound("お探しの貸出・予約が見つかりません。", code="not_found") from None
        raise


async def _patron(connection, patron_id: int, source_address: str) -> tuple[Actor, str]:
    row = await (await connection.execute(
        "SELECT p.card, sp.code FROM patron p JOIN service_point sp ON sp.id = p.home_service_point_id "
        "WHERE p.id = %s", [patron_id])).fetchone()
    if row is None:
        raise NotFound("利用者が見つかりません。もう一度ログインしてください。", code="patron_not_found")
    card, home_branch = row
    await connection.commit()  # end the read so the use case below runs in its own transaction
    return Actor(kind="patron", name=card, source_address=source_address), home_branch


async def _branch_name(connection, code: str) -> str:
    row = await (await connection.execute("SELECT name_ja FROM service_point WHERE code = %s", [code])).fetchone()
    await connection.commit()
    return row[0] if row else code


async def place_hold(app_state, patron_id: int, bib_id: int, pickup_branch: str, source_address: str) -> str:
    """Places a title-level hold (予約) for the patron, to be picked up at `pickup_branch`; returns the
    confirmation with the queue position."""
    async with app_state.pools.staff.connection() as connection:
        actor, _home = await _patron(connection, patron_id, source_address)
        placed = await holds.place_hold(connection, app_state.engine, bib_id=bib_id, patron_id=patron_id,
                                        pickup_branch=pickup_branch, today=library_today(), now=utc_now(),
                                        actor=actor, via="opac")
        branch = await _branch_name(connection, pickup_branch)
        title = (await (await connection.execute("SELECT title FROM bib WHERE id = %s", [bib_id])).fetchone())[0]
        await connection.commit()
    return f"『{title}』を予約しました（受取館：{branch}、予約順位：{placed.queue_position}番目）。"


async def renew_loan(app_state, patron_id: int, item_barcode: str, source_address: str) -> str:
    """Renews one of the patron's own loans; returns the confirmation with the new due date."""
    async with app_state.pools.staff.connection() as connection:
        actor, home_branch = await _patron(connection, patron_id, source_address)
        with _only_their_own():
            renewed = await desk.renew(connection, app_state.engine, barcode=item_barcode, branch=home_branch,
                                       today=library_today(), now=utc_now(), actor=actor, patron_id=patron_id)
    return f"貸出を延長しました。新しい返却期限は {renewed.due_date:%Y年%m月%d日} です。"


async def cancel_hold(app_state, patron_id: int, hold_id: int, source_address: str) -> str:
    """Cancels one of the patron's own holds; a copy set aside for it passes to the next in line."""
    async with app_state.pools.staff.connection() as connection:
        actor, _home = await _patron(connection, patron_id, source_address)
        with _only_their_own():
            await holds.cancel_hold(connection, app_state.engine, hold_id=hold_id, today=library_today(), now=utc_now(),
                                    actor=actor, patron_id=patron_id, reason="patron")
    return "予約を取り消しました。"


async def change_pickup(app_state, patron_id: int, hold_id: int, pickup_branch: str, source_address: str) -> str:
    """Moves one of the patron's own waiting holds to another pickup branch."""
    async with app_state.pools.staff.connection() as connection:
        actor, _home = await _patron(connection, patron_id, source_address)
        with _only_their_own():
            await holds.change_pickup(connection, app_state.engine, hold_id=hold_id, pickup_branch=pickup_branch,
                                      actor=actor, patron_id=patron_id)
        branch = await _branch_name(connection, pickup_branch)
    return f"受取館を{branch}に変更しました。"
