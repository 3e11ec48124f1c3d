// page_harness.js runs the sandbox page's own script against a live sandbox,
// with a minimal stand-in for the DOM, and drives it like a person would:
// wait for the join, type a name, click #login, type a line, click #send.
// Usage: node --experimental-websocket page_harness.js <base-url> <name> <line>
// It prints the resulting #chat and #users as JSON. Exit 3: no WebSocket.
"use strict";
const vm = require("node:vm");

const [base, name, line] = process.argv.slice(2);
if (typeof WebSocket !== "function") {
  console.error("this node has no WebSocket");
  process.exit(3);
}

class Element {
  constructor(id) {
    this.id = id || "";
    this.children = [];
    this.className = "";
    this.dataset = {};
    this.value = "";
    this.text = "";
    this.html = null;
    this.listeners = {};
    this.scrollTop = 0;
    this.clientHeight = 0;
    this.scrollHeight = 0;
  }
  set textContent(v) { this.text = String(v); this.html = null; this.children = []; }
  get textContent() { return this.text + this.children.map((c) => c.textContent).join(""); }
  set innerHTML(v) { this.html = String(v); this.text = ""; this.children = []; }
  get innerHTML() { return this.html === null ? this.text : this.html; }
  appendChild(child) { this.children.push(child); return child; }
  addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }
  dispatch(type, ev) { (this.listeners[type] || []).forEach((fn) => fn(ev || {})); }
  click() { this.dispatch("click"); }
}

function fail(msg, state) {
  console.log(JSON.stringify({ error: msg, state: state || null }));
  process.exit(1);
}

function waitFor(what, cond, timeoutMs) {
  return new Promise((resolve) => {
    const deadline = Date.now() + timeoutMs;
    const tick = () => {
      if (cond()) { resolve(); return; }
      if (Date.now() > deadline) { fail("timed out waiting for " + what, snapshot()); }
      setTimeout(tick, 5);
    };
    tick();
  });
}

const elements = {};
const document = {
  body: new Element("body"),
  getElementById(id) {
    if (!elements[id]) { fail("script asked for missing element #" + id); }
    return elements[id];
  },
  createElement() { return new Element(); },
};

function snapshot() {
  return {
    status: elements.status ? elements.status.textContent : "",
    chat: (elements.chat ? elements.chat.children : []).map((l) => ({
      className: l.className,
      user: l.children.filter((c) => c.className === "user").map((c) => c.textContent).join(""),
      html: l.children.filter((c) => c.className === "text").map((c) => c.innerHTML).join(""),
    })),
    users: (elements.users ? elements.users.children : []).map((u) => u.dataset.name),
  };
}

async function main() {
  const page = await (await fetch(base + "/")).text();
  const ids = [...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  ids.forEach((id) => { elements[id] = new Element(id); });
  const channel = /<body data-channel="([^"]*)"/.exec(page);
  const script = /<script>([\s\S]*)<\/script>/.exec(page);
  if (!channel || !script) { fail("page has no channel or no script"); }
  document.body.dataset.channel = channel[1];
  const url = new URL(base);
  vm.runInNewContext(script[1], {
    document, WebSocket, JSON, String, setTimeout,
    location: { protocol: url.protocol, host: url.host },
  });

  await waitFor("the join", () => elements.status.textContent.includes("not logged in"), 5000);
  elements.name.value = name;
  elements.login.click();
  await waitFor("the login", () => elements.status.textContent.includes(" as " + name), 5000);
  elements.msg.value = line;
  elements.send.click();
  await waitFor("the line to come back", () => snapshot().chat.some((l) => l.user === name), 5000);
  console.log(JSON.stringify(snapshot()));
  process.exit(0);
}

main().catch((err) => fail(String(err && err.stack || err)));
