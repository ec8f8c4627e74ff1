// What the counter screen draws: the patron panel, the rows of this transaction, the checkin prompt, the
// message lines and the unsent queue. Every value from the server goes in as text (textContent), never as markup.

const $ = (id) => document.getElementById(id);

export function fill(template, values = {}) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

export function formatDate(iso, lang) {
  if (!iso) return "";
  const [year, month, day] = iso.split("-").map(Number);
  const weekday = new Intl.DateTimeFormat(lang === "en" ? "en" : "ja", { weekday: "short" })
    .format(new Date(year, month - 1, day));
  return lang === "en" ? `${iso} (${weekday})` : `${iso}（${weekday}）`;
}

function element(tag, properties = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(properties)) {
    if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === "") continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export class CounterView {
  constructor(text, lang) {
    this.text = text;
    this.lang = lang;
    this.unsentReason = "";
  }

  message(severity, words) {
    const line = $("counter-message");
    line.dataset.severity = words ? severity : "none";
    line.textContent = words || "";
  }

  alert(words, { overridable = false, relogin = false } = {}) {
    const box = $("counter-alert");
    box.dataset.severity = words ? "error" : "none";
    $("counter-alert-text").textContent = words || "";
    $("override-offer").hidden = !overridable;
    $("relogin").hidden = !relogin;
  }

  patronLoading(card) {
    this.clearPatron();
    this.message("info", `${this.text.patron_loading} ${card}`);
  }

  clearPatron() {
    const panel = $("patron-panel");
    panel.hidden = true;
    panel.dataset.loaded = "false";
    for (const field of panel.querySelectorAll("[data-field]")) field.textContent = "";
    $("patron-blocks").replaceChildren();
    $("patron-loans").replaceChildren();
    $("patron-holds").replaceChildren();
    $("patron-note").hidden = true;
  }

  patron(summary, lentNow) {
    const panel = $("patron-panel");
    const values = { ...summary, expires_on: formatDate(summary.expires_on, this.lang) };
    for (const field of panel.querySelectorAll("[data-field]")) field.textContent = values[field.dataset.field] ?? "";
    const expiry = panel.querySelector('[data-field="expires_on"]');
    if (summary.expired) expiry.append(" ", element("strong", { className: "mark-bad" }, this.text.expired_mark));
    panel.querySelector('[data-field="status_label"]').classList.toggle("mark-bad", summary.status !== "active");
    $("patron-note").hidden = !summary.staff_note;
    $("patron-blocks").replaceChildren(...summary.blocks.map((block) => element("li", { dataset: { code: block.code } },
      this.lang === "en" && block.message_en ? block.message_en : block.message)));
    this.patronLoans(summary.loans, lentNow);
    const holds = summary.holds.map((hold) => {
      const branch = hold.pickup_branch_name;
      const state = hold.status === "ready"
        ? fill(this.text.hold_ready, { branch, date: formatDate(hold.pickup_by, this.lang) })
        : hold.status === "in_transit" ? fill(this.text.hold_in_transit, { branch })
          : fill(this.text.hold_waiting, { branch, position: hold.queue_position ?? "?" });
      return element("li", { dataset: { status: hold.status }, className: hold.status === "ready" ? "hold-ready" : "" },
        element("span", { className: "hold-title" }, hold.title), " ",
        element("span", { className: "hold-state" }, state));
    });
    const noHolds = element("li", { className: "muted" }, this.text.no_holds);
    $("patron-holds").replaceChildren(...(holds.length ? holds : [noHolds]));
    $("patron-hold-count").textContent = String(summary.holds.length);
    panel.dataset.loaded = "true";
    panel.dataset.card = summary.card;
    panel.hidden = false;
  }

  // The patron's loans as the engine saw them, then this transaction's new loans marked as such.
  patronLoans(loans, lentNow) {
    const known = new Set(loans.map((loan) => loan.item));
    const rows = loans.map((loan) => {
      const due = element("td", {}, element("span", { className: "date" }, formatDate(loan.due_date, this.lang)));
      if (loan.overdue) {
        const days = fill(this.text.overdue_days, { days: loan.days_overdue });
        due.append(" ", element("strong", { className: "mark-bad" }, days));
      }
      else if (!loan.renewable) due.append(" ", element("span", { className: "muted" }, this.text.renewable_no));
      return element("tr", { className: loan.overdue ? "overdue" : "" },
        element("td", {}, loan.title), element("td", {}, loan.item), due);
    });
    for (const row of lentNow.filter((lent) => !known.has(lent.item))) {
      rows.push(element("tr", { className: "new-loan" }, element("td", {}, row.title), element("td", {}, row.item),
        element("td", {}, element("span", { className: "date" }, formatDate(row.due_date, this.lang)), " ",
          element("span", { className: "mark-new" }, this.text.this_transaction))));
    }
    const empty = element("tr", {}, element("td", { colspan: "3", className: "muted" }, this.text.no_loans));
    $("patron-loans").replaceChildren(...(rows.length ? rows : [empty]));
    $("patron-loan-count").textContent = String(rows.length);
  }

  rows(mode, rows) {
    const body = document.querySelector(`#list-${mode} tbody`);
    body.replaceChildren(...rows.map((row, index) => this.row(mode, row, index + 1)));
  }

  row(mode, row, number) {
    const cells = [element("td", {}, String(number)), element("td", { className: "title" }, row.title),
      element("td", {}, row.item)];
    if (mode === "checkin") {
      const where = row.status === "transit_home" || row.status === "hold_transit" ? ` → ${row.branch_name}` : "";
      cells.push(element("td", {}, element("span", { className: `outcome outcome-${row.status}` },
        this.text[`outcome_${row.status}`] + where)));
    } else {
      cells.push(element("td", { className: "due" }, formatDate(row.due_date, this.lang)));
    }
    const warned = row.warnings && row.warnings.length ? "warned" : "";
    return element("tr", { className: warned, dataset: { item: row.item, loan: row.loan_id ?? "" } }, ...cells);
  }

  transactionHeading(mode, count) {
    $("transaction-heading").firstChild.textContent = `${this.text[`list_${mode}`]} `;
    $("transaction-count").textContent = String(count);
  }

  prompt(row) {
    const box = $("checkin-prompt");
    if (!row) {
      box.hidden = true;
      box.dataset.outcome = "none";
      return;
    }
    const values = { branch: row.branch_name || "", date: formatDate(row.pickup_by, this.lang) };
    box.dataset.outcome = row.status;
    $("prompt-outcome").textContent = this.text[`outcome_${row.status}`] +
      (row.status === "transit_home" || row.status === "hold_transit" ? ` → ${row.branch_name}` : "");
    $("prompt-title").textContent = `${row.title}（${row.item}）`;
    $("prompt-text").textContent = fill(this.text[`prompt_${row.status}`], values);
    $("print-hold-slip").hidden = !row.hold_id;
    $("print-transit-slip").hidden = !(row.status === "transit_home" || row.status === "hold_transit");
    box.hidden = false;
  }

  // The unsent scans and why the last one failed (kept until a newer failure says otherwise).
  unsent(entries, reason) {
    if (reason) this.unsentReason = reason;
    $("unsent").hidden = entries.length === 0;
    $("unsent-count").textContent = String(entries.length);
    $("unsent-reason").textContent = entries.length ? this.unsentReason : "";
    $("unsent-list").replaceChildren(...entries.map((entry) => element("li", { dataset: { key: entry.key } },
      fill(this.text.unsent_item, { mode: this.text[`mode_${entry.mode}`], item: entry.item }), " ",
      element("button", { type: "button", className: "link-button", dataset: { discard: entry.key } },
        this.text.discard))));
  }
}
