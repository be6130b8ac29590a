// The lookup pages' script: the search box's autocomplete (an ARIA 1.2 combobox with a listbox
// popup, usable with the keyboard) and the expandable scheme tree. Everything works without it:
// the search form submits to /search and every tree node links to its concept page.
(function () {
  "use strict";

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function conceptUrl(uri) {
    return "/page?uri=" + encodeURIComponent(uri);
  }

  // --- autocomplete ---------------------------------------------------------------------------

  function setupAutocomplete(input) {
    const combo = input.parentElement;
    const listId = input.id + "-listbox";
    const list = el("ul", { id: listId, role: "listbox", class: "suggestions", hidden: "" });
    list.setAttribute("aria-label", input.form.querySelector("label[for='" + input.id + "']").textContent);
    const status = el("div", { role: "status", "aria-live": "polite", class: "sr-only" });
    combo.appendChild(list);
    combo.appendChild(status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    let items = [];
    let active = -1;
    let timer = null;
    let latest = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      const options = list.querySelectorAll("[role=option]");
      options.forEach((o, i) => o.setAttribute("aria-selected", i === index ? "true" : "false"));
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      const item = items[index];
      if (item) window.location.href = conceptUrl(item.uri);
    }

    function render(results) {
      items = results;
      list.textContent = "";
      results.forEach((r, i) => {
        const option = el("li", { role: "option", id: listId + "-" + i, "aria-selected": "false" });
        option.dataset.uri = r.uri;
        const label = el("span", { class: "s-label" }, r.label + (r.notation ? " (" + r.notation + ")" : ""));
        const vocabulary = r.scheme ? (r.scheme.vocabulary_label || r.scheme.vocabulary) : "";
        const kind = [vocabulary, r.type ? r.type.label : ""].filter(Boolean).join(" · ");
        const kindNode = el("span", { class: "s-kind" }, kind);
        option.appendChild(label);
        option.appendChild(kindNode);
        option.addEventListener("mousedown", (e) => { e.preventDefault(); choose(i); });
        list.appendChild(option);
      });
      const count = input.dataset.count.replace("{n}", String(results.length));
      status.textContent = results.length ? count : input.dataset.empty;
      if (results.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        highlight(-1);
      } else {
        close();
      }
    }

    async function fetchSuggestions() {
      const q = input.value.trim();
      if (q.length < 2) { close(); status.textContent = ""; return; }
      const ticket = ++latest;
      const params = new URLSearchParams({ q: q, lang: input.dataset.lang || "", limit: "8" });
      try {
        const response = await fetch(input.dataset.autocomplete + "?" + params.toString(), {
          headers: { Accept: "application/json" },
        });
        if (!response.ok || ticket !== latest) return;
        const data = await response.json();
        if (ticket === latest) render(data.results || []);
      } catch (err) {
        close();
      }
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, 120);
    });
    input.addEventListener("keydown", (e) => {
      const open = !list.hidden;
      if (e.key === "ArrowDown") {
        e.preventDefault();
        if (!open) { if (items.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); highlight(0); } else { fetchSuggestions(); } return; }
        highlight(active + 1 >= items.length ? 0 : active + 1);
      } else if (e.key === "ArrowUp") {
        e.preventDefault();
        if (open) highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (e.key === "Enter") {
        if (open && active >= 0) { e.preventDefault(); choose(active); }
      } else if (e.key === "Escape") {
        if (open) { e.preventDefault(); close(); } else { input.value = ""; }
      } else if (e.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", () => setTimeout(close, 150));
  }

  // --- the scheme tree -------------------------------------------------------------------------

  function treeNode(item, tree) {
    const li = el("li", { class: "node" });
    if (item.narrower_count) {
      const button = el("button", { type: "button", class: "toggle", "aria-expanded": "false" });
      button.dataset.uri = item.uri;
      button.setAttribute("aria-label", tree.dataset.expand.replace("{label}", item.label || item.uri));
      button.appendChild(el("span", { "aria-hidden": "true" }, "▸"));
      li.appendChild(button);
      li.appendChild(document.createTextNode(" "));
    } else {
      li.appendChild(el("span", { class: "leaf", "aria-hidden": "true" }, "·"));
      li.appendChild(document.createTextNode(" "));
    }
    const link = el("a", { href: conceptUrl(item.uri) }, item.label || item.uri);
    li.appendChild(link);
    if (item.narrower_count) {
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", { class: "muted small" }, "(" + item.narrower_count + ")"));
    }
    return li;
  }

  async function toggle(button, tree) {
    const li = button.closest("li");
    let child = li.querySelector(":scope > ul");
    const expanded = button.getAttribute("aria-expanded") === "true";
    if (expanded) {
      button.setAttribute("aria-expanded", "false");
      if (child) child.hidden = true;
      return;
    }
    if (!child) {
      child = el("ul", { "aria-busy": "true" });
      child.appendChild(el("li", { class: "muted small" }, tree.dataset.loading));
      li.appendChild(child);
      const params = new URLSearchParams({ uri: button.dataset.uri, lang: tree.dataset.lang, limit: "1000" });
      try {
        const response = await fetch("/api/v1/narrower?" + params.toString(), { headers: { Accept: "application/json" } });
        const data = await response.json();
        child.textContent = "";
        (data.items || []).forEach((item) => child.appendChild(treeNode(item, tree)));
        if (data.total > (data.items || []).length) {
          const more = el("li", { class: "muted small" });
          more.appendChild(el("a", { href: conceptUrl(button.dataset.uri) }, "… " + (data.total - data.items.length)));
          child.appendChild(more);
        }
      } catch (err) {
        child.textContent = "";
        child.appendChild(el("li", { class: "muted small" }, "!"));
      }
      child.removeAttribute("aria-busy");
    }
    child.hidden = false;
    button.setAttribute("aria-expanded", "true");
  }

  function setupTree(tree) {
    tree.querySelectorAll("button.toggle").forEach((b) => { b.hidden = false; });
    tree.addEventListener("click", (e) => {
      const button = e.target.closest("button.toggle");
      if (button) toggle(button, tree);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("input[data-autocomplete]").forEach(setupAutocomplete);
    const tree = document.getElementById("tree");
    if (tree) setupTree(tree);
  });
})();
