// What the counter screen holds between scans: the mode, the patron of the transaction, this transaction's rows,
// the last checkin's outcome, and the scans the server has not answered yet ("未送信"). It lives in the tab's
// sessionStorage, so a reload or a new login in the same tab brings back the transaction and the unsent scans
// (each with its request_id, so that sending one again can never lend twice). It ends with "次の利用者".

const STATE_KEY = "shoka.counter.state";
export const MODES = ["checkout", "checkin", "renew"];

export class CounterState {
  constructor() {
    this.mode = "checkout";
    this.patronCard = "";
    this.rows = { checkout: [], checkin: [], renew: [] };
    this.lastCheckin = null;
    this.unsent = [];
  }

  save() {
    const { mode, patronCard, rows, lastCheckin, unsent } = this;
    try {
      window.sessionStorage.setItem(STATE_KEY, JSON.stringify({ mode, patronCard, rows, lastCheckin, unsent }));
    } catch (error) {
      // without storage the screen still works; only a reload would forget it
    }
  }

  restore() {
    try {
      const stored = JSON.parse(window.sessionStorage.getItem(STATE_KEY) || "null");
      if (!stored || !MODES.includes(stored.mode)) return;
      this.mode = stored.mode;
      this.patronCard = typeof stored.patronCard === "string" ? stored.patronCard : "";
      for (const mode of MODES) this.rows[mode] = Array.isArray(stored.rows?.[mode]) ? stored.rows[mode] : [];
      this.lastCheckin = stored.lastCheckin || null;
      this.unsent = Array.isArray(stored.unsent) ? stored.unsent : [];
    } catch (error) {
      // a damaged entry is ignored: the screen starts empty
    }
  }

  // Ends the transaction; unsent scans stay until they are sent or discarded.
  clearTransaction() {
    this.patronCard = "";
    this.rows = { checkout: [], checkin: [], renew: [] };
    this.lastCheckin = null;
    this.save();
  }

  keepUnsent(entry) {
    if (!this.unsent.some((kept) => kept.key === entry.key)) this.unsent.push(entry);
    this.save();
  }

  settle(key) {
    this.unsent = this.unsent.filter((kept) => kept.key !== key);
    this.save();
  }

  loanIds() {
    return this.rows.checkout.map((row) => row.loan_id);
  }
}
