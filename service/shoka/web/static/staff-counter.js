// The counter screen (/staff/circulation): a scanner types a card into input[name=patron] and copies into
// input[name=item], each ending with Enter. Every scan goes to the JSON endpoints in scan order; the screen shows
// the answer, plays a cue, and puts the cursor back where the next scan belongs. A scan the server never answered
// (network down, server failure, login expired) stays under "未送信" with its request_id until it is sent again.
//
// Scan-to-screen times (Enter key to DOM update, performance.now()) are kept in window.shokaCounterTimings.

import * as sound from "./staff-counter-sound.js";
import { newRequestId, postJson, SerialQueue } from "./staff-counter-send.js";
import { CounterState, MODES } from "./staff-counter-state.js";
import { CounterView, fill, formatDate } from "./staff-counter-view.js";

const MODE_KEYS = { F2: "checkout", F3: "checkin", F4: "renew" };
const ALT_MODE_KEYS = { 1: "checkout", 2: "checkin", 3: "renew" };
const CHECKIN_CUES = { shelve: "success", transit_home: "transit", hold_ready: "hold", hold_transit: "hold_transit" };
const PATHS = { checkout: "/staff/circulation/checkout", checkin: "/staff/circulation/checkin",
  renew: "/staff/circulation/renew" };
const INTERACTIVE = "input, button, a, select, textarea, summary, dialog, label";

const root = document.getElementById("counter");
const lang = root.dataset.lang;
const mayOverride = root.dataset.mayOverride === "true";
const text = JSON.parse(document.getElementById("counter-text").textContent);
const view = new CounterView(text, lang);
const queue = new SerialQueue();
const state = new CounterState();
const patronInput = document.getElementById("patron-input");
const itemInput = document.getElementById("item-input");
const overrideDialog = document.getElementById("override-dialog");
const timings = (window.shokaCounterTimings = []);

let patronSummary = null;
let refusedScan = null; // the last refused checkout a librarian may override
let entryNumber = 0;

function scanInput() {
  return state.mode === "checkout" && !state.patronCard ? patronInput : itemInput;
}

// The cursor always goes back to where the next scan belongs, its text selected so that a scan replaces it.
function focusScan() {
  if (overrideDialog.open) return;
  const input = scanInput();
  input.focus();
  input.select();
}

function showMode() {
  root.dataset.mode = state.mode;
  for (const button of document.querySelectorAll(".mode-switch [data-mode]")) {
    button.setAttribute("aria-pressed", String(button.dataset.mode === state.mode));
  }
  for (const node of document.querySelectorAll("[data-modes]")) {
    node.hidden = !node.dataset.modes.split(" ").includes(state.mode) ||
      (node.id === "patron-panel" && !patronSummary) || (node.id === "checkin-prompt" && !state.lastCheckin);
  }
  document.getElementById("item-label").textContent = text[`item_label_${state.mode}`];
  view.transactionHeading(state.mode, state.rows[state.mode].length);
  const lent = state.rows.checkout.length > 0;
  document.getElementById("print-receipt").disabled = !lent;
  document.getElementById("print-reading-record").disabled = !lent;
}

function setMode(mode) {
  state.mode = mode;
  state.save();
  view.alert("");
  view.message("none", "");
  showMode();
  focusScan();
}

function showUnsent(reason = "") {
  view.unsent(state.unsent, reason);
}

function loginLost(words) {
  view.alert(words, { relogin: true });
}

function refusalWords(data) {
  if (!data) return "";
  return lang === "en" && data.message_en ? data.message_en : data.message;
}

function recordTiming(entry, startedAt, outcome) {
  if (startedAt !== null) timings.push({ mode: entry.mode, outcome, ms: performance.now() - startedAt });
}

// ---- patron ----

async function lookUpPatron(card) {
  view.patronLoading(card);
  const answer = await postJson("/staff/circulation/patron", { card });
  if (state.patronCard !== card) return; // another card was scanned meanwhile
  view.message("none", "");
  if (answer.verdict === "done") {
    patronSummary = answer.data;
    view.patron(patronSummary, state.rows.checkout);
    showMode();
    if (patronSummary.blocks.length) {
      view.alert(`${text.patron_blocked} ${patronSummary.blocks.map(refusalWords).join(" ")}`);
      sound.play("warning");
    } else {
      view.alert("");
      view.message("ok", text.patron_ready);
      sound.play("patron");
    }
    return;
  }
  sound.play("error");
  if (answer.verdict === "logged_out") {
    loginLost(text.patron_logged_out);
    return;
  }
  if (answer.verdict === "refused") {
    state.patronCard = "";
    state.save();
    view.alert(refusalWords(answer.data));
  } else {
    view.alert(text.patron_lookup_failed);
  }
  patronInput.value = card;
  patronInput.focus();
  patronInput.select();
}

function scanPatron(card) {
  if (!card) return;
  if (card !== state.patronCard) endTransaction();
  state.patronCard = card;
  state.save();
  patronInput.value = card;
  itemInput.focus(); // a scanner types the first copy right away: it must land in the item field
  queue.run(() => lookUpPatron(card));
}

// ---- items ----

function requestBody(entry) {
  const body = { item: entry.item, request_id: entry.requestId };
  if (entry.mode === "checkout") Object.assign(body, { patron: entry.card, override: entry.override });
  return body;
}

function scanItem(barcode, startedAt) {
  if (!barcode) return;
  if (state.mode === "checkout" && !state.patronCard) {
    view.alert(text.patron_first);
    sound.play("error");
    patronInput.focus();
    return;
  }
  itemInput.value = "";
  entryNumber += 1;
  send({ key: `${Date.now()}-${entryNumber}`, mode: state.mode, card: state.patronCard, item: barcode,
    requestId: newRequestId(), override: false }, startedAt);
}

function send(entry, startedAt) {
  return queue.run(async () => {
    const answer = await postJson(PATHS[entry.mode], requestBody(entry));
    if (answer.verdict === "done" || answer.verdict === "refused") {
      state.settle(entry.key);
      showUnsent();
      if (answer.verdict === "done") done(entry, answer.data);
      else refused(entry, answer.data || {});
    } else {
      state.keepUnsent(entry);
      const detail = answer.status ? fill(text.server_status, { status: answer.status }) : text.network;
      const reason = answer.verdict === "logged_out" ? text.logged_out : fill(text.undelivered, { detail });
      showUnsent(reason);
      if (answer.verdict === "logged_out") loginLost(reason);
      else view.alert(reason);
      sound.play("error");
    }
    recordTiming(entry, startedAt, answer.verdict);
  });
}

function done(entry, data) {
  view.alert("");
  const warnings = data.warnings || [];
  const severity = warnings.length ? "warning" : "ok";
  if (entry.mode === "checkout") {
    state.rows.checkout.push({ loan_id: data.loan_id, title: data.title, item: data.item, due_date: data.due_date,
      warnings });
    view.rows("checkout", state.rows.checkout);
    if (patronSummary) view.patronLoans(patronSummary.loans, state.rows.checkout);
    view.message(severity,
      [fill(text.checked_out, { title: data.title, due: formatDate(data.due_date, lang) }), ...warnings].join(" "));
    sound.play(warnings.length ? "warning" : "success");
  } else if (entry.mode === "checkin") {
    const row = { title: data.title, item: data.item, status: data.status, hold_id: data.hold_id,
      pickup_by: data.pickup_by, branch_name: data.transit_to_name || data.pickup_branch_name || "", warnings };
    state.rows.checkin.push(row);
    state.lastCheckin = row;
    view.rows("checkin", state.rows.checkin);
    view.prompt(row);
    const said = fill(data.returned_loan ? text.returned : text.not_on_loan, { title: data.title });
    view.message(severity, [said, ...warnings].join(" "));
    sound.play(CHECKIN_CUES[data.status] || "success");
  } else {
    state.rows.renew.push({ loan_id: data.loan_id, title: data.title, item: data.item, due_date: data.due_date });
    view.rows("renew", state.rows.renew);
    view.message("ok", fill(text.renewed, { title: data.title, due: formatDate(data.due_date, lang) }));
    sound.play("success");
  }
  state.save();
  showMode();
}

function refused(entry, data) {
  refusedScan = entry.mode === "checkout" && data.overridable && mayOverride ? entry : null;
  view.message("none", "");
  view.alert(`${entry.item}: ${refusalWords(data)}`, { overridable: Boolean(refusedScan) });
  sound.play("error");
  // The refused barcode goes back into the field, selected, so the next scan replaces it; but never while the
  // scanner is already typing the next one (selecting then would let its remaining keys overwrite the start).
  if (state.mode === entry.mode && !itemInput.value) {
    itemInput.value = entry.item;
    if (document.activeElement === itemInput || document.activeElement === document.body) focusScan();
  }
}

async function retryUnsent() {
  view.alert("");
  await Promise.all([...state.unsent].map((entry) => send(entry, null)));
  focusScan();
}

function askOverride() {
  if (!refusedScan) return;
  document.getElementById("override-question").textContent = document.getElementById("counter-alert-text").textContent;
  overrideDialog.returnValue = "";
  overrideDialog.showModal();
  document.getElementById("override-cancel").focus(); // a stray scanner Enter must not confirm
}

function overrideAnswered() {
  const entry = refusedScan;
  if (overrideDialog.returnValue === "confirm" && entry) {
    refusedScan = null;
    view.alert("");
    itemInput.value = "";
    send({ ...entry, key: `${Date.now()}-override`, requestId: newRequestId(), override: true }, null);
  }
  focusScan();
}

// ---- printing and ending the transaction ----

// The printout opens in its own window with the print dialog up (print=1); the counter keeps its state.
function openPrint(path) {
  window.open(`${path}&format=html&print=1`, "_blank", "noopener");
}

function printLoans(kind) {
  const loans = state.loanIds().join(",");
  if (loans) openPrint(`/staff/print/${kind}?loans=${encodeURIComponent(loans)}`);
}

function printSlip(kind) {
  const row = state.lastCheckin;
  if (!row) return;
  if (kind === "hold" && row.hold_id) openPrint(`/staff/print/hold-slip?hold=${row.hold_id}`);
  if (kind === "transit") openPrint(`/staff/print/transit-slip?item=${encodeURIComponent(row.item)}`);
}

function printWithKey() {
  const row = state.lastCheckin;
  if (state.mode !== "checkin") printLoans("receipt");
  else if (row && row.hold_id) printSlip("hold");
  else if (row && row.status === "transit_home") printSlip("transit");
}

function endTransaction() {
  state.clearTransaction();
  patronSummary = null;
  refusedScan = null;
  patronInput.value = "";
  itemInput.value = "";
  for (const mode of MODES) view.rows(mode, []);
  view.clearPatron();
  view.prompt(null);
  view.alert("");
  view.message("none", "");
  showMode();
}

// ---- wiring ----

let enterPressedAt = null;
itemInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter") enterPressedAt = event.timeStamp;
});
document.getElementById("patron-form").addEventListener("submit", (event) => {
  event.preventDefault();
  scanPatron(patronInput.value.trim());
});
document.getElementById("item-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const startedAt = enterPressedAt ?? performance.now();
  enterPressedAt = null;
  scanItem(itemInput.value.trim(), startedAt);
});

document.addEventListener("keydown", (event) => {
  sound.prime();
  if (overrideDialog.open) return;
  const mode = MODE_KEYS[event.key] || (event.altKey && ALT_MODE_KEYS[event.key]);
  if (mode) {
    event.preventDefault();
    setMode(mode);
  } else if (event.key === "Escape") {
    event.preventDefault();
    endTransaction();
    focusScan();
  } else if (event.key === "F8") {
    event.preventDefault();
    printWithKey();
  } else if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey &&
             (document.activeElement === document.body || document.activeElement === null)) {
    scanInput().focus(); // a scan that starts while nothing has the focus still lands in the scan field
  }
});
// A click on the page's plain parts gives the focus back to the scan field.
document.addEventListener("click", (event) => {
  if (!event.target.closest(INTERACTIVE) && !String(window.getSelection() || "")) focusScan();
});

for (const button of document.querySelectorAll(".mode-switch [data-mode]")) {
  button.addEventListener("click", () => setMode(button.dataset.mode));
}
const muteButton = document.getElementById("counter-mute");
function showMute() {
  muteButton.setAttribute("aria-pressed", String(sound.isMuted()));
  muteButton.textContent = sound.isMuted() ? text.sound_off : text.sound_on;
}
const afterClick = (action) => () => { action(); focusScan(); };
muteButton.addEventListener("click", afterClick(() => { sound.setMuted(!sound.isMuted()); showMute(); }));
document.getElementById("print-receipt").addEventListener("click", afterClick(() => printLoans("receipt")));
document.getElementById("print-reading-record")
  .addEventListener("click", afterClick(() => printLoans("reading-record")));
document.getElementById("print-hold-slip").addEventListener("click", afterClick(() => printSlip("hold")));
document.getElementById("print-transit-slip").addEventListener("click", afterClick(() => printSlip("transit")));
document.getElementById("next-patron").addEventListener("click", afterClick(endTransaction));
document.getElementById("retry-unsent").addEventListener("click", retryUnsent);
document.getElementById("override-offer").addEventListener("click", askOverride);
overrideDialog.addEventListener("close", overrideAnswered);
document.getElementById("unsent-list").addEventListener("click", (event) => {
  const key = event.target.dataset && event.target.dataset.discard;
  if (!key) return;
  state.settle(key);
  showUnsent();
  focusScan();
});
// Back from a printout window or another application: the scanner's next keys belong in the scan field.
window.addEventListener("focus", () => {
  if (!document.activeElement || document.activeElement === document.body) focusScan();
});

state.restore();
for (const mode of MODES) view.rows(mode, state.rows[mode]);
view.prompt(state.lastCheckin);
showMute();
showMode();
showUnsent();
// Opened from a patron's page (/staff/circulation?patron=CARD): start that patron's transaction.
const requestedCard = new URLSearchParams(window.location.search).get("patron");
if (requestedCard && requestedCard.trim() && requestedCard.trim() !== state.patronCard) {
  scanPatron(requestedCard.trim());
} else if (state.patronCard) {
  patronInput.value = state.patronCard;
  queue.run(() => lookUpPatron(state.patronCard));
}
focusScan();
