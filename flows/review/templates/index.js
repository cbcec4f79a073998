(function () {
  "use strict";
  var table = document.getElementById("calls");
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var $ = function (id) { return document.getElementById(id); };
  var inputs = ["f-grade", "f-category", "f-flagged", "f-status", "f-from", "f-to", "f-text"].map($);

  function applyFilters() {
    var grade = $("f-grade").value, cat = $("f-category").value, flagged = $("f-flagged").value,
        status = $("f-status").value, from = $("f-from").value, to = $("f-to").value,
        text = $("f-text").value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (tr) {
      var d = tr.dataset;
      var ok = (!grade || d.grade === grade) &&
        (!cat || (" " + d.categories + " ").indexOf(" " + cat + " ") >= 0) &&
        (!flagged || (flagged === "yes") === (d.flagged === "1")) &&
        (!status || d.status === status) &&
        (!from || (d.date && d.date >= from)) &&
        (!to || (d.date && d.date <= to)) &&
        (!text || d.search.indexOf(text) >= 0);
      tr.hidden = !ok;
      if (ok) shown++;
    });
    $("f-count").textContent = shown + " / " + rows.length + " calls";
    saveState();
  }

  function sortBy(th, dir) {
    var key = th.dataset.key, num = th.dataset.type === "num";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
    rows.sort(function (a, b) {
      var x = a.dataset[key], y = b.dataset[key];
      if (num) {
        // empty values (error rows) always last
        if (x === "" || y === "") return (x === "") - (y === "");
        return dir * (parseFloat(x) - parseFloat(y));
      }
      return dir * x.localeCompare(y, "zh-CN", { numeric: true });
    });
    rows.forEach(function (tr) { tbody.appendChild(tr); });
    saveState();
  }

  Array.prototype.forEach.call(table.querySelectorAll("th.sortable"), function (th) {
    th.addEventListener("click", function () {
      sortBy(th, th.getAttribute("aria-sort") === "ascending" ? -1 : 1);
    });
  });
  inputs.forEach(function (el) {
    el.addEventListener("input", applyFilters);
    el.addEventListener("change", applyFilters);
  });
  $("f-reset").addEventListener("click", function () {
    inputs.forEach(function (el) { el.value = ""; });
    applyFilters();
  });

  // Filters and sort survive a visit to a call page and back (per report, in the URL hash).
  function saveState() {
    var s = {};
    inputs.forEach(function (el) { if (el.value) s[el.id] = el.value; });
    var th = table.querySelector("th[aria-sort]");
    if (th) s.sort = th.dataset.key + ":" + th.getAttribute("aria-sort");
    var h = new URLSearchParams(s).toString();
    history.replaceState(null, "", h ? "#" + h : location.pathname);
  }
  function loadState() {
    var s = new URLSearchParams(location.hash.slice(1));
    inputs.forEach(function (el) { if (s.has(el.id)) el.value = s.get(el.id); });
    if (s.has("sort")) {
      var parts = s.get("sort").split(":");
      var th = table.querySelector('th[data-key="' + parts[0] + '"]');
      if (th) sortBy(th, parts[1] === "descending" ? -1 : 1);
    }
  }
  loadState();
  applyFilters();
})();
