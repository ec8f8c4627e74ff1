"""The counter screen, GET /staff/circulation (CONTRACT.md): a barcode scanner types a patron card into
`input name=patron` and copies into `input name=item`, each ending with Enter; checkout, checkin and renewal
modes switch by key (F2, F3, F4); the screen shows titles and due dates and offers the loan receipt.

The page is rendered once; its script (static/staff-counter.js) then talks to the JSON endpoints of
counter_patron and counter_scans for every scan, so that a scan never waits for a page load. The sentences the
script writes are rendered here in the desk's language and handed to it as a JSON data block.
"""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from shoka.auth.roles import CIRCULATION_ROLES
from shoka.staff.access import STAFF_SESSION, require_branch, staff_area
from shoka.staff.counter_patron import counter_patron
from shoka.staff.counter_scans import OVERRIDE_ROLES, SCAN_ROUTES
from shoka.staff.pages import bilingual, staff_page
from shoka.staff.sessions import StaffSession
from shoka.web.i18n import request_language

# What the script writes on the screen, by key: (Japanese, English). `{name}` marks a value the script fills in.
SCRIPT_TEXT = {
    "mode_checkout": ("貸出", "Checkout"),
    "mode_checkin": ("返却", "Checkin"),
    "mode_renew": ("延長", "Renew"),
    "item_label_checkout": ("貸出する資料番号", "Item barcode to lend"),
    "item_label_checkin": ("返却する資料番号", "Item barcode to return"),
    "item_label_renew": ("延長する資料番号", "Item barcode to renew"),
    "list_checkout": ("今回の貸出", "Lent in this transaction"),
    "list_checkin": ("今回の返却", "Returned in this session"),
    "list_renew": ("今回の延長", "Renewed in this session"),
    "patron_first": ("先に利用者カードを読み取ってください。", "Scan the patron's card first."),
    "patron_loading": ("利用者を確認しています…", "Looking up the patron…"),
    "patron_ready": ("利用者を確認しました。資料を読み取ってください。", "Patron found: scan the items."),
    "patron_blocked": ("この利用者には貸出できない理由があります:", "This patron may not borrow now:"),
    "checked_out": ("貸出しました: {title}（返却期限 {due}）", "Lent: {title} (due {due})"),
    "returned": ("返却しました: {title}", "Returned: {title}"),
    "not_on_loan": ("貸出中ではない資料です（返却処理のみ）: {title}", "Was not on loan (checked in only): {title}"),
    "renewed": ("延長しました: {title}（新しい返却期限 {due}）", "Renewed: {title} (now due {due})"),
    "outcome_shelve": ("配架", "Shelve"),
    "outcome_transit_home": ("回送", "Transit"),
    "outcome_hold_ready": ("予約取置", "Hold: keep here"),
    "outcome_hold_transit": ("予約回送", "Hold: send on"),
    "prompt_shelve": ("書架に戻してください。", "Put the copy back on the shelf."),
    "prompt_transit_home": ("{branch}へ回送してください。回送票を挟んでください。",
                            "Send the copy to {branch}; put a transit slip in it."),
    "prompt_hold_ready": ("予約資料です。予約票を挟んで当館の取置棚へ（受取期限 {date}）。",
                          "A hold is waiting: put a hold slip in the copy and place it on this branch's hold shelf "
                          "(pick up by {date})."),
    "prompt_hold_transit": ("予約資料です。予約票と回送票を挟んで{branch}へ回送してください。",
                            "A hold is waiting at {branch}: put a hold slip and a transit slip in the copy and "
                            "send it there."),
    "print_hold_slip": ("予約票を印刷", "Print hold slip"),
    "print_transit_slip": ("回送票を印刷", "Print transit slip"),
    "due": ("返却期限", "Due"),
    "overdue_days": ("延滞{days}日", "{days} days overdue"),
    "this_transaction": ("今回", "New"),
    "renewable_no": ("延長不可", "Not renewable"),
    "hold_ready": ("取置中（{branch}・{date}まで）", "On the hold shelf at {branch} until {date}"),
    "hold_waiting": ("予約待ち {position}番目（受取 {branch}）", "Waiting, number {position} (pick up at {branch})"),
    "hold_in_transit": ("回送中（受取 {branch}）", "In transit to {branch}"),
    "no_loans": ("貸出中の資料はありません。", "No items on loan."),
    "no_holds": ("予約はありません。", "No holds."),
    "expired_mark": ("期限切れ", "expired"),
    "undelivered": ("通信できませんでした（{detail}）。処理は「未送信」に残っています。接続を確かめて「再送信」を押してください。",
                    "The request did not get through ({detail}). It is kept under “Not sent”; check the connection "
                    "and press “Send again”."),
    "network": ("ネットワーク", "network"),
    "server_status": ("サーバー応答 {status}", "server answered {status}"),
    "logged_out": ("ログインの有効時間が切れました。処理は「未送信」に残っています。「ログイン画面へ」から再ログインするとこの画面に戻ります。"
                   "そのあと「再送信」を押してください。",
                   "Your login has expired. The scans are kept under “Not sent”. Log in again with “Go to login”: "
                   "you come back to this screen; then press “Send again”."),
    "patron_logged_out": ("ログインの有効時間が切れました。「ログイン画面へ」から再ログインすると、この画面に戻ります。",
                          "Your login has expired. Log in again with “Go to login”: you come back to this screen."),
    "unsent_item": ("{mode} {item}", "{mode} {item}"),
    "discard": ("取消", "Discard"),
    "override_offer": ("職員判断で貸出…", "Lend anyway…"),
    "patron_lookup_failed": ("利用者を確認できませんでした。Enter でもう一度読み込みます。",
                             "The patron could not be looked up; press Enter to try again."),
    "sound_on": ("音: 入", "Sound: on"),
    "sound_off": ("音: 切", "Sound: off"),
}


def script_text(language: str) -> dict[str, str]:
    tr = bilingual(language)
    return {key: tr(japanese, english) for key, (japanese, english) in SCRIPT_TEXT.items()}


@get("/staff/circulation", guards=[staff_area(CIRCULATION_ROLES)], dependencies=STAFF_SESSION,
     include_in_schema=False)
async def counter_screen(request: Request, staff: StaffSession) -> Template:
    require_branch(staff, staff.working_branch)
    return await staff_page(request, "staff/counter.html", staff, may_override=staff.role in OVERRIDE_ROLES,
                            script_text=script_text(request_language(request)))


COUNTER_ROUTES = [counter_screen, counter_patron, *SCAN_ROUTES]
