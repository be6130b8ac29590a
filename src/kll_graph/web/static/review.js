// The review workbench: keyboard decisions sent to the JSON API (/api/v1/review/...).
// Every write carries the CSRF token and the target set's ETag (If-Match); the answer's ETag
// is kept for the next write, and a 409 says what changed instead of overwriting it.
(function () {
  "use strict";
  const bench = document.getElementById("workbench");
  if (!bench) return;
  const sv = bench.dataset.lang === "sv";
  const announcer = document.getElementById("announce");
  const message = document.getElementById("message");
  const item = document.querySelector("[data-item]");
  const comment = document.getElementById("comment");
  const RELATION_NAMES = {
    "skos:exactMatch": sv ? "exakt" : "exact", "skos:closeMatch": sv ? "nära" : "close",
    "skos:broadMatch": sv ? "bredare" : "broad", "skos:narrowMatch": sv ? "smalare" : "narrow",
    "skos:relatedMatch": sv ? "relaterat" : "related",
  };
  const ANNOUNCED = "kll-review-announce";

  function say(text) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 30);
  }
  function showError(text) {
    message.textContent = text;
    message.hidden = false;
    say(text);
  }
  const carried = window.sessionStorage.getItem(ANNOUNCED);
  if (carried) {
    window.sessionStorage.removeItem(ANNOUNCED);
    say(carried);
  }

  async function call(method, path, body) {
    const headers = { "Accept": "application/json", "X-CSRF-Token": bench.dataset.csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (bench.dataset.targetEtag) headers["If-Match"] = bench.dataset.targetEtag;
    const response = await fetch(path, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    const etag = response.headers.get("ETag");
    if (etag) bench.dataset.targetEtag = etag;
    if (!response.ok) {
      const error = (data && data.error) || {};
      if (response.status === 409 && error.etag) bench.dataset.targetEtag = error.etag;
      if (response.status === 401) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
      }
      throw new Error(error.message || (response.status + " " + response.statusText));
    }
    return data;
  }

  function reloadWith(text) {
    window.sessionStorage.setItem(ANNOUNCED, text);
    window.location.reload();
  }

  function targetSet() {
    const set = bench.dataset.targetSet;
    if (!set) showError(sv ? "Välj eller skapa först mängden som besluten skrivs till." : "First choose or create the set decisions go to.");
    return set;
  }

  async function decide(decision, predicate) {
    if (!item || bench.dataset.canDecide !== "true") return;
    const set = targetSet();
    if (!set) return;
    const object = item.dataset.object;
    if (!object && decision !== "no-term-found") {
      showError(sv ? "Välj först ett ESCO-begrepp (/)." : "First pick an ESCO concept (/).");
      return;
    }
    const body = {
      set: set, subject_id: item.dataset.subject, object_id: object || null,
      predicate_id: predicate || item.dataset.predicate || "skos:exactMatch",
      decision: decision, comment: comment.value || null, item: item.dataset.key,
    };
    try {
      await call("POST", "/api/v1/review/decisions", body);
      const what = decision === "accept" ? (sv ? "Godtagen som " : "Accepted as ") + (RELATION_NAMES[body.predicate_id] || body.predicate_id)
        : decision === "reject" ? (sv ? "Avvisad" : "Rejected")
        : decision === "unsure" ? (sv ? "Markerad som osäker" : "Marked unsure")
        : (sv ? "Inget ESCO-begrepp passar" : "No ESCO concept fits");
      reloadWith(what + (sv ? ". Nästa post." : ". Next item."));
    } catch (error) {
      showError(error.message);
    }
  }

  async function undo() {
    const set = targetSet();
    if (!set) return;
    try {
      await call("POST", "/api/v1/review/undo", { set: set });
      reloadWith(sv ? "Senaste beslutet ångrat." : "Last decision undone.");
    } catch (error) {
      showError(error.message);
    }
  }

  function go(url) { if (url) window.location.assign(url); }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (!item) return;
    const key = event.key;
    if (key === "j") go(item.dataset.next);
    else if (key === "k") go(item.dataset.prev);
    else if (key >= "1" && key <= "5") {
      const radio = item.querySelector('input[name="relation"][data-key="' + key + '"]');
      if (radio) { radio.checked = true; decide("accept", radio.value); }
    }
    else if (key === "x") decide("reject");
    else if (key === "u") decide("unsure");
    else if (key === "n") decide("no-term-found");
    else if (key === "z") undo();
    else if (key === "c") comment.focus();
    else if (key === "/") { const pick = document.getElementById("pick-object"); if (pick) pick.focus(); }
    else return;
    event.preventDefault();
  });

  document.querySelectorAll("[data-decide]").forEach(function (button) {
    button.addEventListener("click", function () {
      const checked = item && item.querySelector('input[name="relation"]:checked');
      decide(button.dataset.decide, checked ? checked.value : undefined);
    });
  });
  const undoButton = document.querySelector("[data-undo]");
  if (undoButton) undoButton.addEventListener("click", undo);

  // Where decisions go: an existing set, or a new one made here.
  const target = document.querySelector("[data-target]");
  const newSet = document.querySelector("[data-new-set]");
  if (target) {
    target.addEventListener("change", function () {
      if (!target.value) { if (newSet) { newSet.hidden = false; document.getElementById("new-set").focus(); } return; }
      const url = new URL(window.location.href);
      url.searchParams.set("target", target.value);
      window.location.assign(url.toString());
    });
  }
  const create = document.querySelector("[data-create-set]");
  if (create) {
    create.addEventListener("click", async function () {
      const name = document.getElementById("new-set").value.trim();
      try {
        await call("POST", "/api/v1/review/sets", { name: name });
        const url = new URL(window.location.href);
        url.searchParams.set("target", name);
        window.sessionStorage.setItem(ANNOUNCED, (sv ? "Mängden skapad: " : "Set created: ") + name);
        window.location.assign(url.toString());
      } catch (error) { showError(error.message); }
    });
  }

  // An item without a candidate: find its ESCO concept with the lookup API's autocomplete.
  const pick = document.getElementById("pick-object");
  if (pick && item) {
    const list = document.getElementById("pick-list");
    let results = [], active = -1, timer = 0;
    function render() {
      list.innerHTML = "";
      results.forEach(function (r, i) {
        const li = document.createElement("li");
        li.id = "pick-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", i === active ? "true" : "false");
        li.textContent = r.label + " · " + (r.type ? r.type.label : "");
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      list.hidden = results.length === 0;
      pick.setAttribute("aria-activedescendant", active >= 0 ? "pick-" + active : "");
    }
    function choose(i) {
      const r = results[i];
      item.dataset.object = r.uri;
      document.querySelectorAll("code.triple").forEach(function (code) {
        code.textContent = code.textContent.replace(/\S+$/, r.uri);
      });
      results = []; render();
      pick.value = r.label;
      pick.blur();
      say((sv ? "Valt: " : "Chosen: ") + r.label + (sv ? ". Tryck 1–5." : ". Press 1–5."));
    }
    pick.addEventListener("input", function () {
      window.clearTimeout(timer);
      const q = pick.value.trim();
      if (!q) { results = []; render(); return; }
      timer = window.setTimeout(async function () {
        const url = "/api/v1/autocomplete?limit=8&scheme=esco/occupations&scheme=esco/skills&q=" + encodeURIComponent(q);
        try {
          const data = await (await fetch(url, { headers: { "Accept": "application/json" } })).json();
          results = data.results || []; active = results.length ? 0 : -1; render();
          say(results.length + (sv ? " förslag" : " suggestions"));
        } catch (e) { results = []; render(); }
      }, 120);
    });
    pick.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && results.length) { active = (active + 1) % results.length; render(); event.preventDefault(); }
      else if (event.key === "ArrowUp" && results.length) { active = (active - 1 + results.length) % results.length; render(); event.preventDefault(); }
      else if (event.key === "Enter") { event.preventDefault(); if (active >= 0) choose(active); }
    });
    pick.closest("form").addEventListener("submit", function (e) { e.preventDefault(); });
  }

  // Batch: the rows of the current filter, previewed, then decided in one write (one undo).
  const batch = document.querySelector("[data-batch]");
  if (batch) {
    const out = document.querySelector("[data-batch-result]");
    function request(preview, keys) {
      const form = new FormData(batch);
      const params = new URLSearchParams(window.location.search);
      const filters = {};
      ["set", "type", "ssyk", "band", "status", "q"].forEach(function (k) { if (params.get(k)) filters[k] = params.get(k); });
      return {
        set: bench.dataset.targetSet, filters: filters, decision: form.get("decision"),
        predicate_id: form.get("predicate") || null, comment: form.get("comment") || null,
        preview: preview, keys: keys || null,
      };
    }
    document.querySelector("[data-batch-preview]").addEventListener("click", async function () {
      if (!targetSet()) return;
      try {
        const data = await call("POST", "/api/v1/review/batch", request(true));
        out.innerHTML = "";
        const p = document.createElement("p");
        p.textContent = data.rows.length + (sv ? " rader skulle skrivas till " : " rows would be written to ") + bench.dataset.targetSet + ".";
        out.appendChild(p);
        const ul = document.createElement("ul");
        data.rows.slice(0, 50).forEach(function (row) {
          const li = document.createElement("li");
          li.textContent = (row.subject_label || row.subject_id) + " " + row.predicate_id + " " + (row.object_label || row.object_id) + (row.predicate_modifier ? " (" + row.predicate_modifier + ")" : "");
          ul.appendChild(li);
        });
        out.appendChild(ul);
        const apply = document.createElement("button");
        apply.type = "button";
        apply.textContent = sv ? "Verkställ" : "Apply";
        apply.addEventListener("click", async function () {
          try {
            const done = await call("POST", "/api/v1/review/batch", request(false, data.keys));
            reloadWith(done.rows.length + (sv ? " beslut skrivna." : " decisions written."));
          } catch (error) { showError(error.message); }
        });
        out.appendChild(apply);
        say(p.textContent);
        apply.focus();
      } catch (error) { showError(error.message); }
    });
  }
})();
