"""Reading what a printed document shows from the database, with the rules of who may print it.

Counter accounts print only for their own branches: a loan made at one of them, a hold picked up (or trapped) at
one of them, a transit leaving from or going to one of them. Receipts and stickers are printed for loans that are
still open or were returned today (a receipt reprinted at the end of the day); older loans are refused, as the
link to the patron may already be cut (REQUIREMENTS §2, privacy).

A document is printed with the layout of the branch whose printer it comes out of: receipts and stickers where
the loans were made, a hold slip at the pickup branch (or, while the copy is on its way there, at the branch
that trapped it), a transit slip where the copy leaves from.
"""

from __future__ import annotations

import datetime as dt

from psycopg import AsyncCursor

from shoka.auth.staff_accounts import StaffPrincipal
from shoka.clock import LIBRARY_TIME_ZONE
from shoka.errors import Conflict, Forbidden, NotFound, Unprocessable
from shoka.staff.print_documents import Branch, HoldRow, LoanRow, TransitRow, first_author

_BRANCH_COLUMNS = "{sp}.id, {sp}.code, {sp}.name_ja, {sp}.name_en, {sp}.phone"


def _branch(row: tuple) -> Branch:
    return Branch(id=row[0], code=row[1], name_ja=row[2], name_en=row[3], phone=row[4])


def _title(title: str, volume: str) -> str:
    return f"{title} {volume}" if volume else title


def _refuse_unless_allowed(staff: StaffPrincipal, branch_codes: list[str], what: str) -> None:
    if any(staff.may_work_at(code) for code in branch_codes):
        return
    codes = ", ".join(dict.fromkeys(branch_codes))
    raise Forbidden(f"このアカウントは {codes} の{what}を印刷できません。/ This account may not print for {codes}.",
                    code="branch_not_allowed")


_LOANS = f"""
SELECT l.id, l.patron_id, coalesce(p.card, ''), l.checked_out_at, l.due_on, l.returned_at,
       {_BRANCH_COLUMNS.format(sp="sp")}, i.barcode, i.call_number, i.volume, b.title, b.authors, b.responsibility
FROM loan l
JOIN item i ON i.id = l.item_id
JOIN bib b ON b.id = i.bib_id
JOIN service_point sp ON sp.id = l.service_point_id
LEFT JOIN patron p ON p.id = l.patron_id
WHERE l.id = ANY(%s)
"""


async def printable_loans(cursor: AsyncCursor, loan_ids: list[int], staff: StaffPrincipal, now: dt.datetime,
                          what: str) -> list[LoanRow]:
    """The loans in the order asked for; refused when one is unknown, returned before today, at a branch the
    account may not work at, or when they belong to different patrons."""
    await cursor.execute(_LOANS, [loan_ids])
    rows = {row[0]: row for row in await cursor.fetchall()}
    missing = [str(loan_id) for loan_id in loan_ids if loan_id not in rows]
    if missing:
        raise NotFound(f"貸出 {', '.join(missing)} は見つかりません。/ No loan {', '.join(missing)}.",
                       code="unknown_loan")
    start_of_today = dt.datetime.combine(now.astimezone(LIBRARY_TIME_ZONE).date(), dt.time(), tzinfo=LIBRARY_TIME_ZONE)
    long_returned = [str(loan_id) for loan_id in loan_ids
                     if rows[loan_id][5] is not None and rows[loan_id][5] < start_of_today]
    if long_returned:
        raise NotFound(f"貸出 {', '.join(long_returned)} は返却済みのため印刷できません（貸出中か本日返却の貸出のみ）。/ "
                       f"Loan {', '.join(long_returned)} was returned before today and cannot be printed.",
                       code="loan_returned")
    for loan_id in loan_ids:
        _refuse_unless_allowed(staff, [rows[loan_id][7]], what)
    patrons = {rows[loan_id][1] for loan_id in loan_ids} - {None}
    if len(patrons) > 1:
        raise Unprocessable("異なる利用者の貸出は1枚にまとめて印刷できません。/ "
                            "Loans of different patrons cannot be printed together.", code="mixed_patrons")
    return [LoanRow(loan_id=row[0], patron_id=row[1], card=row[2], checked_out_at=row[3], due_on=row[4],
                    branch=_branch(row[6:11]), barcode=row[11], call_number=row[12], title=_title(row[14], row[13]),
                    author=first_author(row[15], row[16]))
            for row in (rows[loan_id] for loan_id in loan_ids)]


def patron_of(loans: list[LoanRow]) -> int | None:
    """The one patron the loans belong to (None when every link was already cut on return)."""
    return next((loan.patron_id for loan in loans if loan.patron_id is not None), None)


_HOLD = f"""
SELECT h.id, h.patron_id, h.status, p.card, coalesce(pp.family_name_reading, ''), h.pickup_by,
       {_BRANCH_COLUMNS.format(sp="pickup")}, b.title, i.barcode, i.call_number, i.volume,
       {_BRANCH_COLUMNS.format(sp="sender")}
FROM hold h
JOIN patron p ON p.id = h.patron_id
LEFT JOIN patron_personal pp ON pp.patron_id = p.id
JOIN bib b ON b.id = h.bib_id
JOIN service_point pickup ON pickup.id = h.pickup_service_point_id
LEFT JOIN item i ON i.id = h.trapped_item_id
LEFT JOIN transit t ON t.hold_id = h.id AND t.received_at IS NULL
LEFT JOIN service_point sender ON sender.id = t.from_service_point_id
WHERE h.id = %s
"""


async def printable_hold(cursor: AsyncCursor, hold_id: int, staff: StaffPrincipal) -> tuple[HoldRow, Branch]:
    """A trapped hold and the branch whose printer the slip comes out of."""
    await cursor.execute(_HOLD, [hold_id])
    row = await cursor.fetchone()
    if row is None:
        raise NotFound(f"予約 {hold_id} は見つかりません。/ No hold {hold_id}.", code="unknown_hold")
    if row[2] not in ("ready", "in_transit"):
        raise Conflict(f"予約 {hold_id} は取置中・回送中ではありません（{row[2]}）。取置票は確保された予約にだけ印刷できます。/ "
                       f"Hold {hold_id} is {row[2]}: only a trapped hold (ready or in transit) has a slip.",
                       code="hold_not_trapped")
    pickup = _branch(row[6:11])
    sender = _branch(row[15:20]) if row[15] is not None else None
    _refuse_unless_allowed(staff, [pickup.code] + ([sender.code] if sender else []), "予約取置票")
    hold = HoldRow(hold_id=row[0], patron_id=row[1], status=row[2], card=row[3], family_name_reading=row[4],
                   pickup_branch=pickup, pickup_by=row[5], title=_title(row[11], row[14] or ""),
                   barcode=row[12] or "", call_number=row[13] or "")
    return hold, sender if row[2] == "in_transit" and sender else pickup


_TRANSIT = f"""
SELECT t.id, t.reason, t.sent_at, h.pickup_by, b.title, i.barcode, i.call_number, i.volume,
       {_BRANCH_COLUMNS.format(sp="origin")}, {_BRANCH_COLUMNS.format(sp="destination")}
FROM item i
JOIN bib b ON b.id = i.bib_id
LEFT JOIN transit t ON t.item_id = i.id AND t.received_at IS NULL
LEFT JOIN hold h ON h.id = t.hold_id
LEFT JOIN service_point origin ON origin.id = t.from_service_point_id
LEFT JOIN service_point destination ON destination.id = t.to_service_point_id
WHERE i.barcode = %s
"""


async def printable_transit(cursor: AsyncCursor, barcode: str, staff: StaffPrincipal) -> TransitRow:
    await cursor.execute(_TRANSIT, [barcode])
    row = await cursor.fetchone()
    if row is None:
        raise NotFound(f"資料番号 {barcode} の資料は登録されていません。/ No item {barcode}.", code="unknown_item")
    if row[0] is None:
        raise NotFound(f"資料 {barcode} は回送中ではありません。/ Item {barcode} is not in transit.",
                       code="no_open_transit")
    origin, destination = _branch(row[8:13]), _branch(row[13:18])
    _refuse_unless_allowed(staff, [origin.code, destination.code], "回送票")
    return TransitRow(transit_id=row[0], reason=row[1], from_branch=origin, to_branch=destination, sent_at=row[2],
                      pickup_by=row[3], title=_title(row[4], row[7]), barcode=row[5], call_number=row[6])
