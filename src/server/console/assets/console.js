// The voicebridge console's one script. Every page works without it; it adds times in the browser's own
// time zone, the time zone for the calls filter's dates, and the live view's updates. It builds the DOM with
// textContent only: no value from a call is ever parsed as HTML.
"use strict";

function localTimes(root) {
  for (const el of root.querySelectorAll("time[data-ms]")) {
    const at = new Date(Number(el.dataset.ms));
    el.title = at.toISOString();
    el.textContent = at.toLocaleString();
  }
}

function timezoneFields() {
  // Date.getTimezoneOffset: minutes to add to local time for UTC (the server's `tz`).
  for (const input of document.querySelectorAll('form input[name="tz"]')) {
    if (!input.closest("form.pager")) input.value = String(new Date().getTimezoneOffset());
  }
}

function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n) => String(n).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`
                   : `${Math.floor(s / 60)}:${two(s % 60)}`;
}

function element(tag, text, attributes) {
  const el = document.createElement(tag);
  if (text !== undefined) el.textContent = text;
  for (const [name, value] of Object.entries(attributes || {})) el.setAttribute(name, value);
  return el;
}

function actionForm(action, csrf, className) {
  const form = element("form", undefined, { method: "post", action, class: className });
  form.append(element("input", undefined, { type: "hidden", name: "csrf", value: csrf }));
  return form;
}

function liveRow(call, csrf) {
  const row = element("tr", undefined, { "data-call": call.call_sid });
  const first = element("td");
  first.append(element("code", call.call_sid), element("br"), document.createTextNode(call.direction));
  const started = element("td", "", { "data-started": String(call.started_ms) });
  const base = `/console/live/${encodeURIComponent(call.call_sid)}`;
  const end = actionForm(`${base}/end`, csrf, "end");
  end.append(element("button", "End call", { type: "submit" }));
  const transfer = actionForm(`${base}/transfer`, csrf, "transfer");
  const label = element("label", "Transfer to ");
  label.append(element("input", undefined, { type: "tel", name: "number", required: "", placeholder: "+15551230000" }));
  transfer.append(label, element("button", "Transfer", { type: "submit" }));
  const actions = element("td", undefined, { class: "actions" });
  actions.append(end, transfer);
  row.append(first, element("td", call.from), element("td", call.to), element("td", call.route), started,
             element("td", call.speaking, { class: `speaking-${call.speaking}` }), actions);
  return row;
}

function liveView(table) {
  const body = table.tBodies[0];
  const empty = document.querySelector("[data-live-empty]");
  const status = document.querySelector("[data-live-status]");
  let skew = 0;  // server clock minus this browser's
  const tick = () => {
    for (const cell of body.querySelectorAll("td[data-started]"))
      cell.textContent = duration(Date.now() + skew - Number(cell.dataset.started));
  };
  const events = new EventSource("/console/live/events");
  events.addEventListener("calls", (event) => {
    const update = JSON.parse(event.data);
    skew = update.now_ms - Date.now();
    const typing = body.contains(document.activeElement) && document.activeElement.tagName === "INPUT";
    if (!typing) {  // a number half typed into a transfer box is not wiped away
      body.replaceChildren(...update.calls.map((call) => liveRow(call, table.dataset.csrf)));
      empty.hidden = update.calls.length > 0;
    }
    status.textContent = `Live: ${update.calls.length} call(s) in progress, updated ${new Date().toLocaleTimeString()}.`;
    tick();
  });
  events.addEventListener("error", () => { status.textContent = "Live updates paused: reconnecting…"; });
  setInterval(tick, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  localTimes(document);
  timezoneFields();
  const live = document.querySelector("table[data-live-table]");
  if (live) liveView(live);
});
