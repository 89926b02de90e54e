// formulate's page: plain JavaScript over the JSON API (no build step, no network beyond this server).
"use strict";

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.hash.slice(1)).get("token") || sessionStorage.getItem("formulate-token");
if (token) sessionStorage.setItem("formulate-token", token);

function headers() {
  const h = { "Content-Type": "application/json" };
  if (token) h.Authorization = "Bearer " + token;
  return h;
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

function setBusy(busy) {
  $("busy").hidden = !busy;
  for (const b of document.querySelectorAll("button")) b.disabled = busy;
}

async function api(path, body) {
  let response;
  try {
    response = await fetch(path, { method: body ? "POST" : "GET", headers: headers(),
                                   body: body ? JSON.stringify(body) : undefined });
  } catch (err) {
    throw new Error("cannot reach the formulate server (" + err.message + "); is `formulate serve` still running?");
  }
  let data = null;
  try { data = await response.json(); } catch (err) { /* not JSON */ }
  if (!response.ok) {
    const hint = response.status === 401 ? "; open this page as " + location.pathname + "#token=TOKEN" : "";
    throw new Error(((data && data.error) || ("the server answered " + response.status + " " + response.statusText)) + hint);
  }
  return data;
}

function fmt(value) {
  if (value === null || value === undefined) return "";
  if (typeof value !== "number") return String(value);
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(10)));
}

function li(text, cls) {
  const item = document.createElement("li");
  item.textContent = text;
  if (cls) item.className = cls;
  return item;
}

function renderFindings(findings) {
  const list = $("findings");
  list.replaceChildren();
  if (!findings || !findings.length) { list.append(li("none", "muted")); return; }
  for (const f of findings) {
    const item = li(f.for_person || f.for_model || f.kind, "sev-" + (f.severity || "info"));
    if (f.where) item.title = f.where;
    list.append(item);
  }
}

function renderMath(math) {
  if (!math) return;
  if (math.error) { $("math").replaceChildren(li(math.error, "sev-error")); return; }
  $("math").innerHTML = math.html;  // built server-side from escaped text and latex2mathml output
}

function nonzero(values) {
  const rows = [];
  for (const [name, value] of Object.entries(values || {})) {
    if (value !== null && typeof value === "object") {
      for (const [key, v] of Object.entries(value)) if (Math.abs(v) > 1e-9) rows.push([name + "[" + key + "]", v]);
    } else if (Math.abs(value) > 1e-9) {
      rows.push([name, value]);
    }
  }
  return rows;
}

function renderSolution(solution) {
  const body = $("values").querySelector("tbody");
  body.replaceChildren();
  const status = $("status");
  if (!solution) {
    status.textContent = "not solved"; status.className = "status"; $("objective").textContent = "";
    $("solver").textContent = "";
    return;
  }
  status.textContent = solution.status;
  status.className = "status " + solution.status;
  $("objective").textContent = solution.has_solution && solution.objective !== null
    ? "objective " + fmt(solution.objective) : "";
  $("objective").dataset.value = solution.has_solution ? String(solution.objective) : "";
  $("solver").textContent = solution.solver ? solution.solver + ", " + (solution.problem_class || "") : "";
  for (const [name, value] of nonzero(solution.values)) {
    const row = document.createElement("tr");
    const a = document.createElement("td"); a.textContent = name;
    const b = document.createElement("td"); b.textContent = fmt(value);
    row.append(a, b);
    body.append(row);
  }
  if (!body.children.length) {
    const row = document.createElement("tr");
    const cell = document.createElement("td"); cell.colSpan = 2; cell.className = "muted";
    cell.textContent = solution.has_solution ? "every variable is zero" : (solution.message || "no solution");
    row.append(cell); body.append(row);
  }
}

function card(title, value, note, cls) {
  const box = document.createElement("div");
  box.className = "card" + (cls ? " " + cls : "");
  const head = document.createElement("b");
  head.textContent = title;
  const number = document.createElement("span");
  number.className = "value";
  number.textContent = value;
  const text = document.createElement("div");
  text.className = "muted";
  text.textContent = note || "";
  box.append(head, number, text);
  return box;
}

function renderReadings(readings, solution) {
  const cards = $("reading-cards");
  cards.replaceChildren();
  $("readings").hidden = !(readings && readings.length);
  if (!readings || !readings.length) return;
  const main = solution && solution.has_solution ? fmt(solution.objective) : (solution ? solution.status : "");
  cards.append(card("as formulated", main, "the reading solved above", "main"));
  for (const r of readings) {
    const value = r.objective !== null && r.objective !== undefined ? fmt(r.objective) : (r.status || "not solved");
    const note = r.error ? r.error : (r.solved ? (r.differs ? "differs from the main answer" : "same answer")
                                               : "a sentence, not a patch: not solved");
    cards.append(card(r.reading, value, note, r.differs ? "differs" : ""));
  }
}

function renderResult(result) {
  if (result.yaml) $("yaml").value = result.yaml;
  renderMath(result.math);
  renderSolution(result.solution);
  renderFindings(result.findings);
  renderReadings(result.readings, result.solution);
}

function roundLine(event) {
  const findings = (event.findings || []).filter((f) => f.severity !== "info").map((f) => f.for_person || f.kind);
  const sample = Number($("samples").value) > 1 ? " (sample " + (event.sample + 1) + ")" : "";
  const state = event.stage === "ok" ? (event.status || "ok") : event.stage.replace("_", " ");
  const objective = event.objective !== null && event.objective !== undefined ? ", objective " + fmt(event.objective) : "";
  const text = "round " + event.round + sample + ": " + state + objective +
    (findings.length ? " \u2014 " + findings.join("; ") : "");
  const bad = event.stage !== "ok" || (event.findings || []).some((f) => f.severity === "error");
  return li(text, bad ? "bad" : "");
}

async function formulate() {
  const problem = $("problem").value.trim();
  if (!problem) { showError("write the problem in the text area first"); return; }
  showError("");
  $("progress").replaceChildren();
  setBusy(true);
  try {
    const response = await fetch("/api/formulate/stream", {
      method: "POST", headers: headers(),
      body: JSON.stringify({ problem, model: $("model").value, rounds: Number($("rounds").value) || 1,
                             samples: Number($("samples").value) || 1 }) });
    if (!response.ok) {
      let data = null;
      try { data = await response.json(); } catch (err) { /* not JSON */ }
      throw new Error((data && data.error) || ("the server answered " + response.status));
    }
    await readEvents(response, (kind, data) => {
      if (kind === "round") $("progress").append(roundLine(data));
      else if (kind === "error") showError(data.error);
      else if (kind === "result") {
        if (data.status === "failed") { showError(data.error); return; }
        if (data.status === "draft") { renderResult(data); showError(data.error); return; }
        if (data.status === "code") { showError("the model wrote a script (code mode); no YAML to show"); return; }
        renderResult(data);
      }
    });
  } catch (err) {
    showError(err.message);
  } finally {
    setBusy(false);
  }
}

async function readEvents(response, handle) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let kind = "message"; const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) kind = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (data.length) handle(kind, JSON.parse(data.join("\n")));
    }
  }
}

async function resolve() {
  const formulation = $("yaml").value;
  if (!formulation.trim()) { showError("there is no YAML to solve; formulate a problem or write the YAML"); return; }
  showError("");
  setBusy(true);
  try {
    const result = await api("/api/verify", { formulation, problem: $("problem").value || null });
    renderResult(result);
    if (!result.check.ok) showError("the formulation does not check: " + result.check.errors.join("; "));
  } catch (err) {
    showError(err.message);
  } finally {
    setBusy(false);
  }
}

async function download(target) {
  const formulation = $("yaml").value;
  if (!formulation.trim()) { showError("there is no formulation to export yet"); return; }
  showError("");
  try {
    const result = await api("/api/export", { formulation, target });
    const blob = new Blob([result.content], { type: "text/plain" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = result.filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  } catch (err) {
    showError(err.message);
  }
}

async function init() {
  try {
    const config = await api("/api/config");
    for (const name of config.models) {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name === "rules" ? "offline (rules)" : name;
      $("model").append(option);
    }
    for (const target of config.targets) {
      const button = document.createElement("button");
      button.textContent = target;
      button.dataset.target = target;
      button.addEventListener("click", () => download(target));
      $("downloads").append(button);
    }
  } catch (err) {
    showError(err.message);
  }
  $("formulate").addEventListener("click", formulate);
  $("resolve").addEventListener("click", resolve);
}

init();
