// ordervault operator console: plain JS, no framework, no storage.
// The admin token lives only in the `token` variable of this closure: never in
// localStorage, sessionStorage, cookies or the URL. Everything is rendered with
// textContent and createElement(NS) only; plots are inline SVG built from
// /api/v1/health/series, account cards from /api/v1/health.
(function () {
  "use strict";

  var token = null;
  var SVG = "http://www.w3.org/2000/svg";
  var COLORS = { bol: "#1a5fb4", amazon: "#c64600", ebay: "#26a269",
    p50: "#1a5fb4", p90: "#c64600", p99: "#a51d2d" };
  var DASHES = { bol: "", amazon: "6 3", ebay: "2 2", p50: "", p90: "6 3", p99: "2 2" };
  var ATTENTION = {
    connection_needs_reauth: "A connection needs re-authorization",
    connection_failing: "A connection is failing",
    webhook_disabled: "A webhook endpoint is disabled",
    dead_letters: "Webhook events were dead-lettered",
    ship_back_rejected: "A shipment or cancellation was rejected",
    delivery_lagging: "Webhook delivery is lagging",
    privacy_overdue: "Personal data is overdue for pseudonymization"
  };

  function $(id) { return document.getElementById(id); }

  function say(text, isError) {
    var s = $("status");
    s.textContent = text;
    s.className = isError ? "error" : "";
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function when(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString();
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 120) return seconds + " s";
    if (seconds < 7200) return Math.round(seconds / 60) + " min";
    if (seconds < 172800) return Math.round(seconds / 3600) + " h";
    return Math.round(seconds / 86400) + " days";
  }

  function ms(v) {
    if (v === null || v === undefined) return "—";
    return v < 1000 ? v + " ms" : (v / 1000).toFixed(v < 10000 ? 1 : 0) + " s";
  }

  function dl(pairs) {
    var list = el("dl");
    pairs.forEach(function (p) {
      if (p[1] === undefined || p[1] === null) return;
      list.appendChild(el("dt", p[0]));
      var dd = el("dd", p[1]);
      if (p[2]) dd.className = p[2];
      list.appendChild(dd);
    });
    return list;
  }

  async function api(path) {
    var resp = await fetch("/api/v1" + path, {
      method: "GET",
      headers: { "Authorization": "Bearer " + token, "Accept": "application/json" },
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer"
    });
    var body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    return { status: resp.status, body: body };
  }

  // ---- plots -------------------------------------------------------------------

  var W = 400, H = 220, L = 44, R = 22, T = 12, B = 28;

  function frame(fig, summary) {
    var old = fig.querySelector("svg");
    if (old) old.remove();
    var oldSummary = fig.querySelector(".plot-summary");
    if (oldSummary) oldSummary.remove();
    var captionId = fig.id + "-caption";
    var descId = fig.id + "-desc";
    var s = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-labelledby": captionId, "aria-describedby": descId, focusable: "false" });
    var p = el("p", summary, "plot-summary");
    p.id = descId;
    fig.insertBefore(s, fig.querySelector("figcaption"));
    fig.appendChild(p);
    return s;
  }

  function niceMax(v) {
    if (v <= 0) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (v <= steps[i] * p) return steps[i] * p;
    return 10 * p;
  }

  function axes(s, n, max, labelY, start, bucketSeconds, everyN) {
    s.appendChild(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }));
    s.appendChild(svg("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
    s.appendChild(svg("text", { x: L - 6, y: T + 4, "text-anchor": "end", class: "tick" }, labelY(max)));
    s.appendChild(svg("text", { x: L - 6, y: H - B, "text-anchor": "end", class: "tick" }, labelY(0)));
    s.appendChild(svg("line", { x1: L, y1: T, x2: W - R, y2: T, class: "grid" }));
    var t0 = new Date(start).getTime();
    for (var i = 0; i < n; i += everyN) {
      var d = new Date(t0 + i * bucketSeconds * 1000);
      var label = d.toLocaleDateString(undefined, { day: "numeric", month: "numeric" });
      s.appendChild(svg("text", { x: xAt(i, n), y: H - B + 17, "text-anchor": "middle", class: "tick day" }, label));
    }
  }

  function xAt(i, n) { return L + (n <= 1 ? 0 : i * (W - L - R) / (n - 1)); }
  function yAt(v, max) { return H - B - (v / max) * (H - B - T); }

  function legend(fig, items) {
    var old = fig.querySelector(".legend");
    if (old) old.remove();
    var ul = el("ul", null, "legend");
    items.forEach(function (it) {
      var li = el("li");
      var sw = svg("svg", { width: 28, height: 10, "aria-hidden": "true", focusable: "false" });
      sw.appendChild(svg("line", { x1: 0, y1: 5, x2: 28, y2: 5, stroke: COLORS[it.key],
        "stroke-width": 3, "stroke-dasharray": DASHES[it.key] }));
      li.appendChild(sw);
      li.appendChild(document.createTextNode(" " + it.label));
      ul.appendChild(li);
    });
    fig.appendChild(ul);
  }

  function drawIngested(data) {
    var fig = $("plot-ingested");
    var n = data.buckets;
    var max = 0, totals = [];
    data.series.forEach(function (s) {
      var sum = 0;
      s.counts.forEach(function (c) { if (c > max) max = c; sum += c; });
      totals.push(s.marketplace + " " + sum);
    });
    max = niceMax(max);
    var s = frame(fig, "Orders ingested in the last " + n + " hours: " + totals.join(", ") + ".");
    axes(s, n, max, function (v) { return String(v); }, data.start, data.bucket_seconds, 24);
    data.series.forEach(function (m) {
      var pts = m.counts.map(function (c, i) {
        return xAt(i, n).toFixed(1) + "," + yAt(c, max).toFixed(1);
      });
      s.appendChild(svg("polyline", { points: pts.join(" "), fill: "none",
        stroke: COLORS[m.marketplace] || "#555", "stroke-width": 1.5,
        "stroke-dasharray": DASHES[m.marketplace] || "",
        "data-series": m.marketplace, "data-points": pts.length }));
    });
    legend(fig, data.series.map(function (m) { return { key: m.marketplace, label: m.marketplace }; }));
  }

  function drawLatency(data) {
    var fig = $("plot-latency");
    var n = data.buckets;
    var max = 0, delivered = 0;
    data.days.forEach(function (d) {
      delivered += d.deliveries;
      if (d.p99_ms !== null && d.p99_ms > max) max = d.p99_ms;
    });
    max = niceMax(max);
    var last = null;
    data.days.forEach(function (d) { if (d.deliveries > 0) last = d; });
    var summary = delivered === 0
      ? "No webhook deliveries in the last " + n + " days."
      : delivered + " deliveries in " + n + " days; latest day p50 " + ms(last.p50_ms) +
        ", p90 " + ms(last.p90_ms) + ", p99 " + ms(last.p99_ms) + ".";
    var s = frame(fig, summary);
    axes(s, n, max, ms, data.start, data.bucket_seconds, 1);
    ["p50", "p90", "p99"].forEach(function (p) {
      var pts = [];
      data.days.forEach(function (d, i) {
        var v = d[p + "_ms"];
        if (v === null || v === undefined) return;
        pts.push([xAt(i, n), yAt(v, max)]);
      });
      var g = svg("g", { "data-series": p, "data-points": pts.length });
      if (pts.length > 1) {
        g.appendChild(svg("polyline", { points: pts.map(function (q) {
          return q[0].toFixed(1) + "," + q[1].toFixed(1); }).join(" "),
          fill: "none", stroke: COLORS[p], "stroke-width": 1.5, "stroke-dasharray": DASHES[p] }));
      }
      pts.forEach(function (q) {
        g.appendChild(svg("circle", { cx: q[0].toFixed(1), cy: q[1].toFixed(1), r: 3.5, fill: COLORS[p] }));
      });
      s.appendChild(g);
    });
    legend(fig, [{ key: "p50", label: "p50" }, { key: "p90", label: "p90" }, { key: "p99", label: "p99" }]);
  }

  function drawPseudonymized(data) {
    var fig = $("plot-pseudonymized");
    var n = data.buckets;
    var max = 0, sum = 0;
    data.counts.forEach(function (c) { if (c > max) max = c; sum += c; });
    max = niceMax(max);
    var s = frame(fig, sum + " orders pseudonymized in the last " + n + " days; today " +
      data.counts[n - 1] + ".");
    axes(s, n, max, function (v) { return String(v); }, data.start, data.bucket_seconds, 1);
    var slot = (W - L - R) / n;
    data.counts.forEach(function (c, i) {
      var y = yAt(c, max);
      var r = svg("rect", { x: (L + i * slot + slot * 0.15).toFixed(1), y: y.toFixed(1),
        width: (slot * 0.7).toFixed(1), height: (H - B - y).toFixed(1), class: "bar", "data-value": c });
      r.appendChild(svg("title", {}, c + " orders"));
      s.appendChild(r);
    });
    // Day labels under the bars rather than at the line chart's points.
    s.querySelectorAll("text.day").forEach(function (t, idx) {
      t.setAttribute("x", (L + idx * slot + slot / 2).toFixed(1));
    });
  }

  // ---- accounts ----------------------------------------------------------------

  function section(title) {
    var s = el("section", null, "part");
    s.appendChild(el("h4", title));
    return s;
  }

  function connectionsTable(list) {
    var s = section("Connections");
    if (!list.length) { s.appendChild(el("p", "No marketplace connections.", "hint")); return s; }
    var wrap = el("div", null, "scroll");
    wrap.tabIndex = 0;
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", "Connections");
    var table = el("table");
    var head = el("tr");
    ["Marketplace", "State", "Detail", "Next attempt", "Cursor lag", "Orders"].forEach(function (h) {
      var th = el("th", h); th.scope = "col"; head.appendChild(th);
    });
    var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    var tbody = el("tbody");
    list.forEach(function (c) {
      var tr = el("tr");
      tr.appendChild(el("td", c.marketplace));
      tr.appendChild(el("td", c.state.replace("_", " "), "state state-" + c.state));
      var detail = c.state === "needs_reauth" ? (c.reason || "re-authorize")
        : c.state === "failing" ? c.consecutive_failures + " failed runs: " + (c.last_error || "")
        : c.state === "paused" ? (c.reason || "paused") : "ok";
      tr.appendChild(el("td", detail));
      tr.appendChild(el("td", c.state === "needs_reauth" || c.state === "paused" ? "—" : when(c.next_attempt_at)));
      tr.appendChild(el("td", duration(c.cursor_lag_seconds)));
      tr.appendChild(el("td", c.orders_synced, "num"));
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    wrap.appendChild(table);
    s.appendChild(wrap);
    return s;
  }

  function webhooksPart(w) {
    var s = section("Webhook delivery");
    if (!w.endpoints) { s.appendChild(el("p", "No webhook endpoints (pull + ack only).", "hint")); return s; }
    var disabled = w.disabled_endpoints.map(function (d) {
      return (d.reason || "disabled") + " (endpoint " + d.id + ")";
    }).join("; ");
    s.appendChild(dl([
      ["Endpoints", w.endpoints],
      ["Backlog", w.backlog],
      ["Oldest undelivered", duration(w.oldest_undelivered_seconds)],
      ["Dead letters", w.dead_letters, w.dead_letters > 0 ? "bad" : ""],
      ["Disabled", disabled || "none", disabled ? "bad" : ""]
    ]));
    return s;
  }

  // Ship-back (shipments and cancellations pushed to marketplaces): shown only when
  // the service reports it (`ship_back` is null until it keeps that state).
  function shipBackPart(sb) {
    if (!sb) return null;
    var s = section("Ship-back");
    s.classList.add("ship-back");
    s.appendChild(dl([
      ["Pending", sb.pending],
      ["Rejected", sb.rejected, sb.rejected > 0 ? "bad" : ""]
    ]));
    return s;
  }

  function privacyPart(p, nextSweep) {
    var s = section("Privacy");
    s.appendChild(dl([
      ["Retention", p.retention_days + (p.retention_days === 1 ? " day" : " days")],
      ["With personal data", p.with_personal_data],
      ["Overdue now", p.overdue + (p.overdue > 0 && p.missed_by_last_sweep === 0 ? " (due since the last sweep; the next one erases them)" : "")],
      ["Missed by last sweep (must be 0)", p.missed_by_last_sweep, p.missed_by_last_sweep > 0 ? "bad" : "good"],
      ["Pseudonymized", p.pseudonymized],
      ["Last sweep", p.last_sweep_at ? when(p.last_sweep_at) + ": " + p.last_sweep_pseudonymized + " pseudonymized" : "never"],
      ["Next sweep", nextSweep ? when(nextSweep) : "not scheduled"]
    ]));
    return s;
  }

  function keysPart(k) {
    var s = section("Keys");
    var versions = (k.versions || []).map(function (v) {
      return "v" + v.version + (v.wrapped_under_current_master_key ? "" : " (old master key)");
    }).join(", ");
    s.appendChild(dl([
      ["Current version", k.current_version === null ? "—" : "v" + k.current_version],
      ["Stored versions", versions || "none", versions.indexOf("old") >= 0 ? "bad" : ""]
    ]));
    return s;
  }

  function accountCard(a, nextSweep) {
    var card = el("article", null, "account" + (a.needs_attention ? " attention" : ""));
    card.id = "account-" + a.account_id;
    card.setAttribute("aria-labelledby", card.id + "-name");
    var h = el("h3");
    h.id = card.id + "-name";
    h.appendChild(document.createTextNode(a.name + " "));
    h.appendChild(el("span", a.account_id, "id"));
    card.appendChild(h);
    if (a.needs_attention) {
      var ul = el("ul", null, "reasons");
      ul.setAttribute("aria-label", "Needs attention");
      a.attention.forEach(function (r) { ul.appendChild(el("li", ATTENTION[r] || r, "reason")); });
      card.appendChild(ul);
    } else {
      card.appendChild(el("p", "Healthy", "ok-badge"));
    }
    var grid = el("div", null, "parts");
    grid.appendChild(connectionsTable(a.connections));
    grid.appendChild(webhooksPart(a.webhooks));
    var sb = shipBackPart(a.ship_back);
    if (sb) grid.appendChild(sb);
    grid.appendChild(privacyPart(a.privacy, nextSweep));
    grid.appendChild(keysPart(a.keys));
    card.appendChild(grid);
    return card;
  }

  // ---- flow --------------------------------------------------------------------

  function rejected(r) {
    if (r.status === 401) { signOut("The token was rejected; sign in again."); $("status").className = "error"; return true; }
    if (r.status === 403) { signOut("This page needs an admin token."); $("status").className = "error"; return true; }
    if (r.status !== 200 || !r.body) {
      say("Loading failed (HTTP " + r.status + (r.body && r.body.detail ? ": " + r.body.detail : "") + ").", true);
      return true;
    }
    return false;
  }

  async function load(focusSummary) {
    say("Loading…", false);
    var only = $("attention-only").checked;
    var h, s;
    try {
      h = await api("/health" + (only ? "?needs_attention=true" : ""));
      if (rejected(h)) return;
      s = await api("/health/series");
      if (rejected(s)) return;
    } catch (e) {
      say("The service could not be reached.", true);
      return;
    }
    drawIngested(s.body.ingested_per_hour);
    drawLatency(s.body.delivery_latency);
    drawPseudonymized(s.body.pseudonymized_per_day);
    var box = $("accounts");
    box.textContent = "";
    // Accounts that need attention first, each group in the API's order.
    var sorted = h.body.accounts.filter(function (a) { return a.needs_attention; })
      .concat(h.body.accounts.filter(function (a) { return !a.needs_attention; }));
    sorted.forEach(function (a) { box.appendChild(accountCard(a, h.body.next_sweep_at)); });
    var attention = h.body.accounts.filter(function (a) { return a.needs_attention; }).length;
    var text = only
      ? attention + (attention === 1 ? " account needs" : " accounts need") + " attention."
      : h.body.accounts.length + (h.body.accounts.length === 1 ? " account, " : " accounts, ") +
        attention + " " + (attention === 1 ? "needs" : "need") + " attention.";
    if (!h.body.accounts.length) box.appendChild(el("p", only ? "Nothing needs attention." : "No active accounts.", "hint"));
    $("summary").textContent = text + " As of " + when(h.body.as_of) + ".";
    say("Loaded. " + text, false);
    if (focusSummary) $("summary").focus();
  }

  function showSignedIn(on) {
    $("signin-section").hidden = on;
    $("console").hidden = !on;
    if (!on) {
      $("accounts").textContent = "";
      $("summary").textContent = "";
      ["plot-ingested", "plot-latency", "plot-pseudonymized"].forEach(function (id) {
        $(id).querySelectorAll("svg, .plot-summary, .legend").forEach(function (n) { n.remove(); });
      });
      $("token").focus();
    }
  }

  function signOut(message) {
    token = null;
    showSignedIn(false);
    say(message || "Signed out.", false);
  }

  function init() {
    $("signin").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var input = $("token");
      var t = input.value.trim();
      input.value = "";
      if (!/^ov_[A-Za-z0-9_-]+$/.test(t)) {
        say("That does not look like an ordervault token (ov_…).", true);
        input.focus();
        return;
      }
      token = t;
      showSignedIn(true);
      load(true);
    });
    $("signout").addEventListener("click", function () { signOut(); });
    $("refresh").addEventListener("click", function () { load(false); });
    $("attention-only").addEventListener("change", function () { load(false); });
    $("token").focus();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
