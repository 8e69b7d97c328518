// wsmon report: draws the charts from the JSON block with uPlot. Everything it checks about
// itself goes into the DOM, so a headless browser's --dump-dom can read it: data-drawn on each
// chart (its canvas has pixels), data-errors on <body> with the messages in #errors, and
// data-draw-ms (performance.now() when the last chart finished drawing).
"use strict";
(function () {
  var errors = document.getElementById("errors");
  function fail(msg) {
    var li = document.createElement("li");
    li.textContent = String(msg);
    errors.appendChild(li);
    document.body.setAttribute("data-errors", String(errors.children.length));
  }
  window.onerror = function (msg, src, line, col) {
    fail(msg + " (line " + line + ":" + col + ")");
  };
  window.addEventListener("unhandledrejection", function (e) { fail(e.reason); });
  var consoleError = console.error;
  console.error = function () {
    fail(Array.prototype.join.call(arguments, " "));
    consoleError.apply(console, arguments);
  };

  var d = JSON.parse(document.getElementById("report-data").textContent);
  if (!d.len) { document.body.setAttribute("data-draw-ms", performance.now().toFixed(1)); return; }
  var words = {
    en: {
      rates: "Attempts and opens per second", attempts: "attempts/s", opens: "opens/s",
      closes: "Closes per second, stacked by code", failures: "HTTP statuses and errors per second",
      sessions: "Sessions", open: "open", waiting: "waiting", due: "retries due/s",
      handshake: "Handshake time (ms)", lockstep: "Lockstep index against chance",
      index: "lockstep index", chance: "chance", band: "chance ± 2 sd", none: "none",
      error: "error"
    },
    fr: {
      rates: "Tentatives et ouvertures par seconde", attempts: "tentatives/s", opens: "ouvertures/s",
      closes: "Fermetures par seconde, empilées par code",
      failures: "Statuts HTTP et erreurs par seconde", sessions: "Sessions", open: "ouvertes",
      waiting: "en attente", due: "reprises prévues/s", handshake: "Durée du handshake (ms)",
      lockstep: "Indice de synchronisme face au hasard", index: "indice", chance: "hasard",
      band: "hasard ± 2 é.-t.", none: "aucun", error: "erreur"
    }
  };
  var w = words[d.lang] || words.en;
  var palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
    "#17becf", "#bcbd22", "#7f7f7f"];
  var xs = new Array(d.len);
  for (var i = 0; i < d.len; i++) xs[i] = d.t0 + i * d.step;

  var charts = [];
  var pending = 0;
  function width() {
    var el = document.getElementById("charts");
    return Math.max(480, (el ? el.clientWidth : 960) - 8);
  }
  // A chart has drawn when its canvas holds at least one painted pixel.
  function painted(u) {
    var c = u.ctx.canvas;
    var px = u.ctx.getImageData(0, 0, c.width, c.height).data;
    for (var k = 3; k < px.length; k += 4) if (px[k] !== 0) return true;
    return false;
  }
  function drawn(u) {
    var el = u.root.parentNode;
    if (el.getAttribute("data-drawn") === "yes") return;
    if (painted(u)) {
      el.setAttribute("data-drawn", "yes");
      pending--;
      if (pending === 0) {
        document.body.setAttribute("data-draw-ms", performance.now().toFixed(1));
        if (location.hash === "#selftest") setTimeout(selftest, 0);
      }
    }
  }
  // Axis ticks as UTC wall-clock time (the header gives the date).
  function utcTime(ts) {
    return ts == null ? "" : new Date(ts * 1e3).toISOString().slice(11, 19);
  }
  function fmt(v) {
    if (v == null) return "--";
    return Math.abs(v - Math.round(v)) < 1e-9 ? String(Math.round(v)) : v.toFixed(3);
  }
  function chart(id, title, series, data, extra) {
    var el = document.getElementById("chart-" + id);
    if (!el) return;
    pending++;
    var opts = {
      title: title,
      width: width(),
      height: 220,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      cursor: { sync: { key: "wsmon" } },
      scales: { x: { time: true } },
      legend: { live: true },
      axes: [{ values: function (u, splits) { return splits.map(utcTime); } }, { size: 56 }],
      series: [{ label: "UTC", value: "{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}" }].concat(series),
      hooks: { draw: [drawn] }
    };
    if (extra) for (var k in extra) opts[k] = extra[k];
    charts.push(new uPlot(opts, [xs].concat(data), el));
  }
  function line(label, color, more) {
    var s = { label: label, stroke: color, width: 1.5, spanGaps: false, value: function (u, v) { return fmt(v); } };
    if (more) for (var k in more) s[k] = more[k];
    return s;
  }

  chart("rates", w.rates, [line(w.attempts, palette[0]), line(w.opens, palette[2])],
    [d.attempts, d.opens]);

  // Stacked closes: each code drawn as the running sum of the codes below it (largest total
  // first, so the top band is drawn first); hover shows each code's own count.
  var closes = d.closes.slice().sort(function (a, b) {
    return a.key - b.key;
  });
  var sums = [], running = new Array(d.len).fill(0);
  closes.forEach(function (c) {
    running = running.map(function (v, j) { return v + c.values[j]; });
    sums.push(running);
  });
  var closeSeries = [], closeData = [];
  for (var c = closes.length - 1; c >= 0; c--) {
    (function (raw, idx) {
      var name = d.names[raw.key] ? raw.key + " " + d.names[raw.key] : raw.key;
      var color = palette[idx % palette.length];
      closeSeries.push(line(name, color, {
        fill: color + "99",
        value: function (u, v, si, j) { return j == null ? "--" : fmt(raw.values[j]); }
      }));
      closeData.push(sums[idx]);
    })(closes[c], c);
  }
  if (!closes.length) { closeSeries.push(line(w.none, palette[9])); closeData.push(new Array(d.len).fill(0)); }
  chart("closes", w.closes, closeSeries, closeData);

  var failSeries = [], failData = [], n = 0;
  d.statuses.forEach(function (s) {
    failSeries.push(line("HTTP " + s.key, palette[(n++) % palette.length]));
    failData.push(s.values);
  });
  d.errors.forEach(function (e) {
    failSeries.push(line(w.error + " " + e.key, palette[(n++) % palette.length], { dash: [6, 3] }));
    failData.push(e.values);
  });
  if (!failSeries.length) { failSeries.push(line(w.none, palette[9])); failData.push(new Array(d.len).fill(0)); }
  chart("failures", w.failures, failSeries, failData);

  chart("sessions", w.sessions,
    [line(w.open, palette[2]), line(w.waiting, palette[3]), line(w.due, palette[4])],
    [d.open, d.waiting, d.due]);
  chart("handshake", w.handshake, [line("p50", palette[0]), line("p99", palette[1])],
    [d.p50, d.p99]);
  chart("lockstep", w.lockstep, [
    line(w.band + " (lo)", "#9999", { width: 0.5 }),
    line(w.band + " (hi)", "#9999", { width: 0.5 }),
    line(w.chance, "#777", { dash: [4, 4] }),
    line(w.index, palette[1], { points: { show: true, size: 4 } })
  ], [d.chance_lo, d.chance_hi, d.chance, d.lockstep], {
    bands: [{ series: [2, 1], fill: "rgba(120,120,120,0.18)" }],
    scales: { x: { time: true }, y: { range: [0, 1] } }
  });

  // With #selftest (once every chart drew): hover the middle of the first chart and record
  // whether every chart's legend then shows values (hover values, and one cursor shared by
  // all charts).
  function selftest() {
    var over = document.querySelector("#chart-rates .u-over");
    if (!over) return;
    charts.forEach(function (u) { if (u.syncRect) u.syncRect(true); });
    var r = over.getBoundingClientRect();
    over.dispatchEvent(new MouseEvent("mouseenter", { bubbles: true }));
    over.dispatchEvent(new MouseEvent("mousemove", {
      bubbles: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2
    }));
    var shown = charts.filter(function (u) {
      var time = u.root.querySelector(".u-series .u-value");
      return time && time.textContent !== "--" && time.textContent !== "";
    });
    document.body.setAttribute("data-cursor-charts", String(shown.length));
    var first = document.querySelector("#chart-rates .u-series .u-value");
    document.body.setAttribute("data-cursor-time", first ? first.textContent : "");
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (u) { u.setSize({ width: width(), height: 220 }); });
  });
})();
