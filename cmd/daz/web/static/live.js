// The live view: server-sent events from the daemon's own event flow. All
// text goes in through textContent, never as HTML.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const lines = document.getElementById("lines");
  const people = document.getElementById("people");
  const status = document.getElementById("status");
  const np = document.getElementById("np");
  const channel = lines.dataset.channel;
  const fmt = new Intl.DateTimeFormat(undefined, {timeStyle: "short"});
  const add = (cls, build) => {
    const li = document.createElement("li");
    li.className = "line " + cls;
    build(li);
    lines.appendChild(li);
    while (lines.children.length > 500) lines.removeChild(lines.firstChild);
    li.scrollIntoView({block: "end"});
  };
  const span = (cls, text) => { const s = document.createElement("span"); s.className = cls; s.textContent = text; return s; };
  const stamp = (at) => {
    const t = document.createElement("time"); const d = new Date(at);
    t.dateTime = at; t.textContent = isNaN(d) ? "" : fmt.format(d); return t;
  };
  const person = (name, on) => {
    const old = [...people.children].find(li => li.dataset.name === name);
    if (on && !old) { const li = document.createElement("li"); li.dataset.name = name; li.textContent = name; people.appendChild(li); }
    if (!on && old) old.remove();
  };
  const src = new EventSource(lines.dataset.stream);
  src.onopen = () => { status.textContent = "Live"; };
  src.onerror = () => { status.textContent = "Reconnecting…"; };
  src.addEventListener("chat", (e) => {
    const ev = JSON.parse(e.data);
    add("chat", li => {
      const u = document.createElement("a");
      u.className = "user"; u.href = "/c/" + encodeURIComponent(channel) + "/u/" + encodeURIComponent(ev.user);
      u.textContent = ev.user;
      li.append(stamp(ev.at), " ", u, " ", span("text", ev.text));
    });
  });
  src.addEventListener("join", (e) => { const ev = JSON.parse(e.data); person(ev.user, true);
    add("presence", li => li.append(stamp(ev.at), " ", span("text", ev.user + " joined"))); });
  src.addEventListener("leave", (e) => { const ev = JSON.parse(e.data); person(ev.user, false);
    add("presence", li => li.append(stamp(ev.at), " ", span("text", ev.user + " left"))); });
  src.addEventListener("media", (e) => { const ev = JSON.parse(e.data); if (ev.media) np.textContent = ev.media.title; });
  src.addEventListener("state", (e) => { const ev = JSON.parse(e.data); status.textContent = "Live · channel " + ev.state; });
});
