"""Bulk update of patrons from CSV: Shift_JIS and UTF-8 (with BOM) files as Excel writes them, a dry run that
reports each change and each rejected line by number, and an apply that writes exactly the previewed plan,
all or nothing."""

from __future__ import annotations

import base64
import re

import pytest

from tests.staff.patron_steps import api_checkout, free_copies, log_entries, register

pytestmark = pytest.mark.e2e

_DIGEST = re.compile(r'data-plan-digest="([0-9a-f]{64})"')


def upload(client, text: str, encoding: str):
    return client.post("/staff/patrons/bulk", files={"file": ("patrons.csv", text.encode(encoding), "text/csv")},
                       token_from="/staff/patrons/bulk")


def apply(client, text: str, encoding: str, digest: str):
    return client.post("/staff/patrons/bulk/apply", {"upload": base64.b64encode(text.encode(encoding)).decode(),
                                                     "plan_digest": digest}, token_from="/staff/patrons/bulk")


def personal(library, patron_id: int) -> tuple:
    return library.query("SELECT p.category, p.status, p.expires_on::text, pp.phone, pp.address, pp.email "
                         "FROM patron p JOIN patron_personal pp ON pp.patron_id = p.id WHERE p.id = %s", patron_id)[0]


def test_a_shift_jis_file_is_previewed_then_applied_only_without_rejected_lines(staff_library):
    client = staff_library.staff_client("librarian")
    first_id, first = register(client)
    second_id, second = register(client)
    third_id, third = register(client)
    before = {patron_id: personal(staff_library, patron_id) for patron_id in (first_id, second_id, third_id)}
    good_lines = (f"{first},,,,０４７-111-2222,市川市南八幡４丁目（一括）,\r\n"
                  f"{second},中高生,2030/3/31,停止,,,\r\n")
    bad_lines = ("0000000001,,,,,,\r\n"
                 f"{third},,,,,,not-an-address\r\n")
    text = "カード番号,利用者区分,有効期限,状態,電話番号,住所,メールアドレス\r\n" + good_lines + bad_lines
    preview = upload(client, text, "cp932")
    assert preview.status_code == 200, preview.text
    assert 'data-changed="2"' in preview.text and 'data-rejected="2"' in preview.text
    assert "Shift_JIS" in preview.text
    assert '<tr data-line="4"><td>4</td><td>0000000001</td><td>このカードの利用者は登録されていません。</td></tr>' in preview.text
    assert '<tr data-line="5">' in preview.text and "メールアドレスの形式" in preview.text
    assert 'id="bulk-apply"' not in preview.text  # no apply while a line is rejected
    assert "市川市南八幡4丁目(一括)" in preview.text and "047-111-2222" in preview.text  # NFKC

    refused = apply(client, text, "cp932", _DIGEST.search(preview.text).group(1))
    assert refused.status_code == 422 and "何も更新していません" in refused.text
    assert {patron_id: personal(staff_library, patron_id) for patron_id in before} == before

    fixed = "カード番号,利用者区分,有効期限,状態,電話番号,住所,メールアドレス\r\n" + good_lines
    preview = upload(client, fixed, "cp932")
    assert 'data-rejected="0"' in preview.text and 'id="bulk-apply"' in preview.text
    applied = apply(client, fixed, "cp932", _DIGEST.search(preview.text).group(1))
    assert applied.status_code == 200 and 'id="bulk-applied" data-changed="2"' in applied.text
    assert personal(staff_library, first_id)[3:5] == ("047-111-2222", "市川市南八幡4丁目(一括)")
    assert personal(staff_library, second_id)[:3] == ("student", "suspended", "2030-03-31")
    assert personal(staff_library, third_id) == before[third_id]
    barcode, = free_copies(staff_library, 1)
    refused = api_checkout(staff_library, second, barcode)  # the engine knows the suspension at once
    assert refused.status_code == 422 and refused.json()["code"] == "patron_suspended"
    _, _, detail = log_entries(staff_library, "patron.bulk_update")[0]
    assert (detail["changed"], detail["rejected"], sorted(detail["patron_ids"])) == (2, 0, sorted([first_id, second_id]))
    assert "047-111-2222" not in str(detail)


def test_a_utf8_file_with_bom_quoted_cells_and_repeated_cards(staff_library):
    client = staff_library.staff_client("admin")
    patron_id, card = register(client)
    text = ("\ufeffcard,address,staff_note,home_branch\n"
            f'{card},"市川市八幡1丁目, 2号","複数行の\nメモ",行徳図書館\n'
            f"{card},,,\n")
    preview = upload(client, text, "utf-8")
    assert preview.status_code == 200 and "UTF-8 (BOM)" in preview.text
    assert 'data-changed="1"' in preview.text and 'data-rejected="1"' in preview.text
    assert '<tr data-line="4">' in preview.text and "2行目にもあります" in preview.text  # numbered as in the file


def test_a_file_with_an_unknown_column_is_refused_as_a_whole(staff_library):
    client = staff_library.staff_client("librarian")
    refused = upload(client, "card,favourite_colour\n1000000014,blue\n", "utf-8")
    assert refused.status_code == 422 and "favourite_colour" in refused.text
    missing_card = upload(client, "phone\n047-111-2222\n", "utf-8")
    assert missing_card.status_code == 422 and "card" in missing_card.text


def test_a_patron_changed_after_the_dry_run_stops_the_apply(staff_library):
    client = staff_library.staff_client("librarian")
    patron_id, card = register(client)
    text = f"card,phone\n{card},047-999-0000\n"
    preview = upload(client, text, "utf-8")
    digest = _DIGEST.search(preview.text).group(1)
    staff_library.execute("UPDATE patron_personal SET phone = '047-555-0000' WHERE patron_id = %s", patron_id)
    stale = apply(client, text, "utf-8", digest)
    assert stale.status_code == 409 and "もう一度確認してください" in stale.text
    assert personal(staff_library, patron_id)[3] == "047-555-0000"


def test_only_librarians_and_administrators_update_in_bulk(staff_library):
    counter = staff_library.staff_client("counter", "counter")
    assert counter.get("/staff/patrons/bulk").status_code == 403
    assert 'href="/staff/patrons/bulk"' not in counter.get("/staff/patrons").text
