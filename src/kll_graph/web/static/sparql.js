// The SPARQL query page: examples, running a query with fetch, a results table, download links.
// Plain JavaScript with no dependencies, so the page works offline and without any CDN.
(function () {
  "use strict";

  const form = document.getElementById("sparql-form");
  const editor = document.getElementById("query");
  const formatSelect = document.getElementById("format");
  const exampleSelect = document.getElementById("example");
  const status = document.getElementById("status");
  const results = document.getElementById("results");
  const downloads = document.getElementById("downloads");
  const examples = JSON.parse(document.getElementById("sparql-examples").textContent);
  const messages = JSON.parse(document.getElementById("sparql-messages").textContent);
  const endpoint = form.getAttribute("action");

  exampleSelect.addEventListener("change", function () {
    const example = examples.find(function (e) { return e.id === exampleSelect.value; });
    if (example) {
      editor.value = example.query;
      editor.focus();
    }
  });

  editor.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  if (form.dataset.autorun) {
    run(editor.value); // opened from a link such as /sparql?query=...: show its results
  }

  form.addEventListener("submit", function (event) {
    if (formatSelect.value) {
      return; // a chosen format: let the browser fetch (or download) the file itself
    }
    event.preventDefault();
    run(editor.value);
  });

  function updateDownloads(query) {
    downloads.querySelectorAll("a[data-format]").forEach(function (link) {
      const format = link.getAttribute("data-format");
      const params = new URLSearchParams({ query: query, format: format });
      link.href = endpoint + "?" + params.toString();
      link.setAttribute("download", "result." + format);
    });
    downloads.hidden = false;
  }

  function clear(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
  }

  function text(tag, value, className) {
    const element = document.createElement(tag);
    element.textContent = value;
    if (className) { element.className = className; }
    return element;
  }

  function termCell(term) {
    const cell = document.createElement("td");
    if (!term) { return cell; }
    if (term.type === "uri") {
      const link = text("a", term.value);
      link.href = term.value;
      cell.appendChild(link);
    } else if (term.type === "bnode") {
      cell.appendChild(text("span", "_:" + term.value, "muted"));
    } else if (term.type === "triple") {
      cell.appendChild(text("code", "<< " + JSON.stringify(term.value) + " >>"));
    } else {
      cell.appendChild(text("span", term.value));
      if (term["xml:lang"]) {
        cell.appendChild(text("span", " @" + term["xml:lang"], "muted term-note"));
      } else if (term.datatype) {
        const local = term.datatype.replace(/^.*[#/]/, "");
        cell.appendChild(text("span", " ^^" + local, "muted term-note"));
      }
    }
    return cell;
  }

  function showTable(data) {
    if (typeof data.boolean === "boolean") {
      results.appendChild(text("p", data.boolean ? messages.yes : messages.no, "sparql-boolean"));
      return 1;
    }
    const table = document.createElement("table");
    const head = document.createElement("thead");
    const headRow = document.createElement("tr");
    data.head.vars.forEach(function (name) {
      const th = text("th", "?" + name);
      th.scope = "col";
      headRow.appendChild(th);
    });
    head.appendChild(headRow);
    table.appendChild(head);
    const body = document.createElement("tbody");
    data.results.bindings.forEach(function (row) {
      const tr = document.createElement("tr");
      data.head.vars.forEach(function (name) { tr.appendChild(termCell(row[name])); });
      body.appendChild(tr);
    });
    table.appendChild(body);
    results.appendChild(table);
    return data.results.bindings.length;
  }

  async function run(query) {
    clear(results);
    status.textContent = messages.running;
    updateDownloads(query);
    const started = performance.now();
    let response;
    try {
      response = await fetch(endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "Accept": "application/sparql-results+json, text/turtle;q=0.9"
        },
        body: new URLSearchParams({ query: query }).toString()
      });
    } catch (error) {
      status.textContent = messages.error + ": " + error;
      return;
    }
    const elapsed = Math.round(performance.now() - started);
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok) {
      let message = response.status + " " + response.statusText;
      try {
        const body = await response.json();
        message = response.status + ": " + body.error.message;
      } catch (ignored) { /* not the JSON error shape */ }
      status.textContent = messages.error + " " + message;
      status.classList.add("sparql-error");
      return;
    }
    status.classList.remove("sparql-error");
    let count;
    if (type.indexOf("json") >= 0) {
      count = showTable(await response.json());
    } else {
      const body = await response.text();
      results.appendChild(text("pre", body, "sparql-text"));
      count = body.split("\n").filter(function (line) { return line.trim(); }).length;
    }
    let note = count + " " + messages.rows + ", " + elapsed + " " + messages.ms;
    const cut = response.headers.get("X-SPARQL-MaxRows");
    if (cut) { note += ". " + messages.truncated + " " + cut + "."; }
    status.textContent = note;
  }
})();
