// fetchq's dashboard: reads the API every few seconds and draws jobs, one job, hosts and totals.
//
// Safety rule: nothing that comes from the API (a task's URL, headers, body, error) is ever
// parsed as HTML. Every node is made with createElement and filled with textContent (or
// append(string), which makes a text node); no innerHTML, no inline handlers. The page's
// Content-Security-Policy allows only this file as script.
"use strict";

(() => {
  const TOKEN_KEY = "fetchq.token";
  const REFRESH_MS = 3000;
  const STATES = ["queued", "running", "succeeded", "failed", "canceled"];
  const $ = (id) => document.getElementById(id);

  /** The API answered 401: the page needs (another) token. */
  class Unauthorized extends Error {}

  const view = {
    timer: null,
    running: false,
    again: false,
    // The last finished-task count seen per job, for its rate: {finished, at}.
    samples: new Map(),
    rates: new Map(),
  };

  // ---- the API ------------------------------------------------------------------------------

  function headers() {
    const result = { Accept: "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) result.Authorization = "Bearer " + token;
    return result;
  }

  async function call(method, path) {
    const response = await fetch(path, { method, headers: headers(), cache: "no-store" });
    if (response.status === 401) throw new Unauthorized(path);
    const text = await response.text();
    if (!response.ok) {
      let detail = text;
      try {
        const problem = JSON.parse(text);
        detail = problem.detail || problem.title || text;
      } catch (_) { /* not problem+json: keep the text */ }
      throw new Error(`${method} ${path}: ${response.status} ${detail}`);
    }
    return { response, text };
  }

  async function getJSON(path) {
    return JSON.parse((await call("GET", path)).text);
  }

  async function post(path) {
    return JSON.parse((await call("POST", path)).text || "null");
  }

  const id = (value) => encodeURIComponent(value);

  // ---- building nodes -----------------------------------------------------------------------

  /** An element with attributes (class, text, on* listeners, data-*, others verbatim) and children. */
  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = String(value);
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function time(iso) {
    if (!iso) return "—";
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
  }

  function shortTime(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    return date.toLocaleString(undefined, {
      month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
  }

  function figures(list, entries) {
    list.replaceChildren(
      ...entries.map(([label, value, key]) =>
        el("div", { "data-figure": key || label }, el("dt", { text: label }), el("dd", { text: value }))
      )
    );
  }

  function progress(job) {
    const total = Math.max(job.task_count, 1);
    const bar = el("div", { class: "bar", title: STATES.map((s) => `${job.counts[s]} ${s}`).join(", ") });
    for (const state of STATES) {
      const count = job.counts[state] || 0;
      if (count === 0) continue;
      const segment = el("span", { class: state });
      // Through the CSSOM: the policy refuses inline style attributes, not this.
      segment.style.width = `${(100 * count) / total}%`;
      bar.append(segment);
    }
    const counts = el("div", { class: "counts" });
    for (const state of STATES) {
      counts.append(el("span", { class: "count" }, el("span", { class: `key ${state}` }), `${job.counts[state] || 0} ${state}`));
      counts.append(" ");
    }
    return el("div", {}, bar, counts);
  }

  function stateBadge(state) {
    return el("span", { class: `state ${state}`, text: state });
  }

  /** A link to an API resource: a plain link for a new tab, shown in the viewer on a plain click. */
  function resourceLink(label, path) {
    return el("a", {
      href: path, target: "_blank", rel: "noopener noreferrer", text: label,
      onclick: (event) => {
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
        event.preventDefault();
        show(label, path);
      },
    });
  }

  function actionButton(label, path, done, className) {
    const button = el("button", { type: "button", text: label, class: className });
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        done(await post(path));
      } catch (error) {
        if (error instanceof Unauthorized) return askForToken();
        $("job-message").textContent = String(error.message || error);
      }
      refreshSoon();
    });
    return button;
  }

  // ---- drawing ------------------------------------------------------------------------------

  function rate(job, now) {
    const finished = job.counts.succeeded + job.counts.failed + job.counts.canceled;
    if (job.state === "completed" && job.finished_at) {
      const seconds = (Date.parse(job.finished_at) - Date.parse(job.created_at)) / 1000;
      return seconds > 0 ? `${(finished / seconds).toFixed(1)}/s` : "—";
    }
    const before = view.samples.get(job.id);
    view.samples.set(job.id, { finished, at: now });
    if (before && now > before.at) {
      const current = ((finished - before.finished) * 1000) / (now - before.at);
      const previous = view.rates.get(job.id);
      // Smoothed over a few refreshes, so one quiet interval does not read as a stall.
      view.rates.set(job.id, previous === undefined ? current : 0.5 * previous + 0.5 * current);
    }
    const smoothed = view.rates.get(job.id);
    return smoothed === undefined ? "…" : `${smoothed.toFixed(1)}/s`;
  }

  function selectedJob() {
    const match = /^#job=([0-9A-Za-z]+)$/.exec(location.hash);
    return match ? match[1] : null;
  }

  function drawJobs(page) {
    const now = Date.now();
    const selected = selectedJob();
    const rows = page.jobs.map((job) =>
      el(
        "tr",
        { "data-job-id": job.id, class: job.id === selected ? "selected" : null },
        el("td", {}, el("button", {
          type: "button", class: "link mono open-job", text: job.id,
          onclick: () => { location.hash = `job=${job.id}`; },
        })),
        el("td", { class: "created", text: shortTime(job.created_at) }),
        el("td", { class: "job-state" }, stateBadge(job.state), job.paused ? " paused" : ""),
        el("td", { class: "job-progress" }, progress(job)),
        el("td", { class: "job-rate", text: rate(job, now) })
      )
    );
    $("jobs-table").tBodies[0].replaceChildren(...rows);
    $("jobs-empty").hidden = rows.length > 0;
  }

  function drawTotals(stats) {
    figures($("totals-list"), [
      ...STATES.map((state) => [`tasks ${state}`, stats.tasks[state], state]),
      ["workers live", stats.workers_live, "workers_live"],
      ["deliveries pending", stats.deliveries_pending, "deliveries_pending"],
    ]);
  }

  function hostRow(host) {
    const paused = host.paused_until !== null;
    return el(
      "tr",
      { "data-host": host.host, class: paused ? "paused" : null },
      el("td", { class: "mono", text: host.host }),
      el("td", { class: "limit", text: host.limit < host.max_limit ? `${host.in_flight} / ${host.limit} (max ${host.max_limit})` : `${host.in_flight} / ${host.limit}` }),
      el("td", { text: host.queued_due }),
      el("td", { class: "paused-until", text: paused ? time(host.paused_until) : "—" }),
      el("td", { text: host.last_status ?? "—" }),
      el("td", { class: "url", text: host.last_error ?? "—" }),
      el("td", { text: `${host.recent.succeeded} / ${host.recent.failed} / ${host.recent.retried}` }),
      el("td", { text: `${host.latency_ms_p50 ?? "—"} / ${host.latency_ms_p95 ?? "—"} ms` })
    );
  }

  function drawHosts(page) {
    const rows = page.hosts.map(hostRow);
    $("hosts-table").tBodies[0].replaceChildren(...rows);
    $("hosts-empty").hidden = rows.length > 0;
  }

  function failure(task) {
    const outcome = task.outcome || {};
    if (outcome.error) return outcome.error_message ? `${outcome.error}: ${outcome.error_message}` : outcome.error;
    if (outcome.status_code !== null && outcome.status_code !== undefined) return `HTTP ${outcome.status_code}`;
    return task.failure_reason || "—";
  }

  function failedRow(task) {
    const links = el("span", { class: "links" }, resourceLink("task", `/v1/tasks/${id(task.id)}`));
    if (task.outcome && task.outcome.body_url) links.append(resourceLink("body", `/v1/tasks/${id(task.id)}/body`));
    return el(
      "tr",
      { "data-task-id": task.id },
      el("td", { class: "mono" }, links),
      el("td", { class: "url task-url", text: task.request.url }),
      el("td", { class: "task-error error", text: failure(task) }),
      el("td", { text: `${task.attempts} / ${task.max_attempts}` }),
      el("td", {}, actionButton("Retry", `/v1/tasks/${id(task.id)}/retry`, () => {
        $("job-message").textContent = `Task ${task.id} is queued again.`;
      }, "retry-task"))
    );
  }

  function queuedRow(task) {
    return el(
      "tr",
      { "data-task-id": task.id },
      el("td", { class: "mono" }, resourceLink("task", `/v1/tasks/${id(task.id)}`)),
      el("td", { class: "url task-url", text: task.request.url }),
      el("td", { text: task.waiting_for ?? "its turn" }),
      el("td", { text: task.waiting_until ? time(task.waiting_until) : "—" })
    );
  }

  function deliveryRow(delivery) {
    const answer = delivery.last_error ?? (delivery.last_status !== null ? `HTTP ${delivery.last_status}` : "—");
    return el(
      "tr",
      { "data-delivery-id": delivery.id },
      el("td", { class: "mono", text: delivery.id }),
      el("td", { text: delivery.event_type }),
      el("td", { class: "delivery-state", text: delivery.state }),
      el("td", { class: "delivery-attempts", text: delivery.attempts }),
      el("td", { class: "url", text: answer }),
      el("td", { text: time(delivery.next_attempt_at) }),
      el("td", {}, actionButton("Redeliver", `/v1/deliveries/${id(delivery.id)}/redeliver`, () => {
        $("job-message").textContent = `Delivery ${delivery.id} will be sent again.`;
      }, "redeliver"))
    );
  }

  function fill(table, empty, rows) {
    $(table).tBodies[0].replaceChildren(...rows);
    $(empty).hidden = rows.length > 0;
  }

  async function drawJob(jobID) {
    const section = $("job");
    if (!jobID) {
      section.hidden = true;
      return;
    }
    const base = `/v1/jobs/${id(jobID)}`;
    const [job, failed, queued, deliveries] = await Promise.all([
      getJSON(base),
      getJSON(`${base}/tasks?state=failed&limit=50`),
      getJSON(`${base}/tasks?state=queued&limit=10`),
      getJSON(`${base}/deliveries?limit=50`),
    ]);
    if (selectedJob() !== jobID) return;
    section.hidden = false;
    section.dataset.jobId = job.id;
    $("job-id").textContent = job.id;
    $("job-state").replaceChildren(stateBadge(job.state));
    $("job-meta").textContent =
      `created ${time(job.created_at)} · finished ${time(job.finished_at)} · ${job.task_count} tasks` +
      (job.open ? " · open (not sealed)" : "") + (job.paused ? " · paused (queued tasks held)" : "") +
      (job.callback_url ? ` · callbacks to ${job.callback_url}` : "");
    figures($("job-counts"), STATES.map((state) => [state, job.counts[state], state]));
    const cancel = $("job-cancel");
    cancel.disabled = job.state !== "pending";
    cancel.dataset.jobId = job.id;
    const pause = $("job-pause");
    pause.disabled = job.state !== "pending";
    pause.textContent = job.paused ? "Resume job" : "Pause job";
    pause.dataset.jobId = job.id;
    pause.dataset.paused = String(job.paused);
    fill("failed-table", "failed-empty", failed.tasks.map(failedRow));
    fill("queued-table", "queued-empty", queued.tasks.map(queuedRow));
    fill("deliveries-table", "deliveries-empty", deliveries.deliveries.map(deliveryRow));
  }

  async function show(title, path) {
    $("viewer").hidden = false;
    $("viewer-title").textContent = title + " " + path;
    try {
      const { response, text } = await call("GET", path);
      const type = response.headers.get("content-type") || "";
      let shown = text;
      if (type.startsWith("application/json")) shown = JSON.stringify(JSON.parse(text), null, 2);
      $("viewer-text").textContent = shown.length > 65536 ? shown.slice(0, 65536) + "\n…" : shown;
    } catch (error) {
      if (error instanceof Unauthorized) return askForToken();
      $("viewer-text").textContent = String(error.message || error);
    }
    $("viewer").scrollIntoView({ block: "nearest" });
  }

  // ---- the refresh loop and the token -------------------------------------------------------

  function setStatus(text, isError) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  async function refresh() {
    if (view.running) {
      view.again = true;
      return;
    }
    view.running = true;
    clearTimeout(view.timer);
    try {
      const [stats, jobs, hosts] = await Promise.all([
        getJSON("/v1/stats"), getJSON("/v1/jobs?limit=25"), getJSON("/v1/hosts?limit=50"),
      ]);
      $("main").hidden = false;
      $("token-form").hidden = true;
      drawTotals(stats);
      drawJobs(jobs);
      drawHosts(hosts);
      try {
        await drawJob(selectedJob());
      } catch (error) {
        // An unknown or deleted job: say so rather than keep showing the last one.
        if (!(error instanceof Unauthorized)) $("job").hidden = true;
        throw error;
      }
      setStatus(`updated ${new Date().toLocaleTimeString()} · every ${REFRESH_MS / 1000} s`, false);
    } catch (error) {
      if (error instanceof Unauthorized) {
        view.running = false;
        askForToken();
        return;
      }
      setStatus(`update failed: ${error.message || error}`, true);
    }
    view.running = false;
    if (view.again) {
      view.again = false;
      refresh();
      return;
    }
    view.timer = setTimeout(refresh, REFRESH_MS);
  }

  function refreshSoon() {
    clearTimeout(view.timer);
    refresh();
  }

  function askForToken() {
    clearTimeout(view.timer);
    const hadToken = sessionStorage.getItem(TOKEN_KEY) !== null;
    sessionStorage.removeItem(TOKEN_KEY);
    $("main").hidden = true;
    $("forget-token").hidden = true;
    $("token-form").hidden = false;
    $("token-error").textContent = hadToken ? "The service refused that token." : "";
    setStatus("waiting for a token", false);
    $("token-input").focus();
  }

  function start() {
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token-input").value.trim();
      if (!token) return;
      sessionStorage.setItem(TOKEN_KEY, token);
      $("token-input").value = "";
      $("forget-token").hidden = false;
      refreshSoon();
    });
    $("forget-token").addEventListener("click", askForToken);
    $("forget-token").hidden = sessionStorage.getItem(TOKEN_KEY) === null;
    $("viewer-close").addEventListener("click", () => { $("viewer").hidden = true; });
    $("job-cancel").addEventListener("click", async () => {
      const button = $("job-cancel");
      const jobID = button.dataset.jobId;
      if (!jobID) return;
      button.disabled = true;
      try {
        const result = await post(`/v1/jobs/${id(jobID)}/cancel`);
        $("job-message").textContent = `Canceled ${result.canceled} tasks.`;
      } catch (error) {
        if (error instanceof Unauthorized) return askForToken();
        $("job-message").textContent = String(error.message || error);
      }
      refreshSoon();
    });
    $("job-pause").addEventListener("click", async () => {
      const button = $("job-pause");
      const jobID = button.dataset.jobId;
      if (!jobID) return;
      const verb = button.dataset.paused === "true" ? "resume" : "pause";
      button.disabled = true;
      try {
        const job = await post(`/v1/jobs/${id(jobID)}/${verb}`);
        $("job-message").textContent = job.paused ? "Paused: its queued tasks are held." : "Resumed.";
      } catch (error) {
        if (error instanceof Unauthorized) return askForToken();
        $("job-message").textContent = String(error.message || error);
      }
      refreshSoon();
    });
    window.addEventListener("hashchange", () => {
      $("job-message").textContent = "";
      refreshSoon();
    });
    refresh();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
