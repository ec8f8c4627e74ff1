// How the counter screen talks to its JSON endpoints (/staff/circulation/...): one request at a time in scan
// order, each scan with its own idempotency key (request_id), and a plain verdict for every answer:
//   done        the server carried it out (2xx)
//   refused     the server said no for a reason staff can read (4xx with {"code","message"})
//   logged_out  the staff session has ended (401); the scan must wait for a new login
//   undelivered no answer, a timeout or a server failure: the scan may be sent again with the same key

const TIMEOUT_MS = 15000;
const RETRYABLE_STATUSES = new Set([408, 425, 429]);

export function newRequestId() {
  // crypto.getRandomValues works on plain http too (randomUUID needs a secure context)
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export async function postJson(path, body) {
  const controller = new AbortController();
  const timer = window.setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    let response;
    try {
      response = await fetch(path, {
        method: "POST",
        credentials: "same-origin",
        signal: controller.signal,
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify(body),
      });
    } catch (error) {
      return { verdict: "undelivered", status: 0, data: null };
    }
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    if (response.ok) return { verdict: "done", status: response.status, data };
    if (response.status === 401) return { verdict: "logged_out", status: 401, data };
    if (response.status >= 500 || RETRYABLE_STATUSES.has(response.status) || data === null) {
      return { verdict: "undelivered", status: response.status, data };
    }
    return { verdict: "refused", status: response.status, data };
  } finally {
    window.clearTimeout(timer);
  }
}

// Scans are sent strictly one after another: a copy lent and then returned must reach the server in that order.
export class SerialQueue {
  constructor() {
    this.tail = Promise.resolve();
  }

  run(task) {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
