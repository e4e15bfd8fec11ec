// ordervault support page: plain JS, no framework, no storage.
// The token lives only in the `token` variable of this closure: never in localStorage,
// sessionStorage, cookies or the URL; so do the recently used accounts (`recent`).
// Results are rendered with textContent only.
(function () {
  "use strict";

  var token = null;
  var recent = [];      // [{id, name}], most recent first; page memory only
  var RECENT_MAX = 5;
  var searchTimer = null;
  var searchSeq = 0;
  var ORDER_RE = /^[A-Za-z0-9-]{1,64}$/;
  var ACCOUNT_RE = /^[0-9a-f]{16}$/;

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

  function money(minor, currency) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency })
        .format(minor / 100);
    } catch (e) {
      return (minor / 100).toFixed(2) + " " + currency;
    }
  }

  function when(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString();
  }

  function dl(pairs) {
    var list = el("dl");
    pairs.forEach(function (p) {
      if (p[1] === undefined || p[1] === null || p[1] === "") return;
      list.appendChild(el("dt", p[0]));
      list.appendChild(el("dd", p[1]));
    });
    return list;
  }

  function renderOrder(o) {
    var box = el("article", null, "order");
    box.setAttribute("aria-label", "Order " + o.order_number);
    box.appendChild(el("h3", "Order " + o.order_number + " (" + o.marketplace + ")"));
    box.appendChild(dl([
      ["Status", o.status],
      ["Placed", when(o.placed_at)],
      ["Updated", when(o.updated_at)],
      ["Fulfilled", o.fulfilled_at ? when(o.fulfilled_at) : null],
      ["Cancelled", o.cancelled_at ? when(o.cancelled_at) : null],
      ["Total", money(o.total_minor, o.currency)],
      ["Version", o.version]
    ]));

    box.appendChild(el("h3", "Customer (masked)"));
    var c = o.customer || {};
    if (c.pseudonymized) {
      box.appendChild(el("p", "Pseudonymized: no customer data is kept.", "customer-pseudonymized"));
    } else {
      var cust = dl([
        ["Initials", c.initials],
        ["Country", c.country],
        ["Postcode", c.postcode_prefix ? c.postcode_prefix + "…" : null],
        ["Email", c.email],
        ["Phone", c.phone]
      ]);
      cust.id = "customer-" + o.marketplace + "-" + o.order_number;
      cust.className = "customer";
      box.appendChild(cust);
    }

    box.appendChild(el("h3", "Lines"));
    var table = el("table");
    var head = el("tr");
    ["Item", "SKU", "Qty", "Shipped", "Price"].forEach(function (h, i) {
      var th = el("th", h, i >= 2 ? "num" : "");
      th.scope = "col";
      head.appendChild(th);
    });
    var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    var tbody = el("tbody");
    (o.lines || []).forEach(function (l) {
      var tr = el("tr");
      tr.appendChild(el("td", l.title));
      tr.appendChild(el("td", l.sku || "—"));
      tr.appendChild(el("td", l.quantity, "num"));
      tr.appendChild(el("td", l.quantity_shipped || 0, "num"));
      tr.appendChild(el("td", money(l.total_minor, o.currency), "num"));
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    box.appendChild(table);

    box.appendChild(el("h3", "Forwarding"));
    var f = o.forwarding || { webhooks: [], pull: {} };
    var pairs = (f.webhooks || []).map(function (w) {
      var text = w.state + (w.version ? " (version " + w.version + ")" : "");
      if (w.endpoint_status !== "active") text += " — endpoint " + w.endpoint_status;
      return ["Webhook " + w.endpoint_id, text];
    });
    var pull = f.pull || {};
    pairs.push(["Pull / ack", pull.acked
      ? "acknowledged version " + pull.acked_version + (pull.current ? " (current)" : " (older)")
      : "not acknowledged"]);
    box.appendChild(dl(pairs));

    var shipments = o.shipments || [];
    if (shipments.length) {
      box.appendChild(el("h3", "Shipments"));
      box.appendChild(dl(shipments.map(function (s, i) {
        return ["Shipment " + (i + 1), s.state + " — " + (s.carrier || "—") + " " + (s.tracking_number || "")];
      })));
    }
    return box;
  }

  function showSignedIn(on) {
    $("signin-section").hidden = on;
    $("lookup-section").hidden = !on;
    $("result").textContent = "";
    (on ? $("account-search") : $("token")).focus();
  }

  function choiceList(ul, box, accounts) {
    ul.textContent = "";
    accounts.forEach(function (a) {
      var li = el("li");
      var b = el("button", null, "choice");
      b.type = "button";
      b.appendChild(document.createTextNode(a.name + " "));
      b.appendChild(el("span", a.id, "id"));
      b.setAttribute("data-account", a.id);
      b.addEventListener("click", function () { chooseAccount(a); });
      li.appendChild(b);
      ul.appendChild(li);
    });
    box.hidden = accounts.length === 0;
  }

  function chooseAccount(a) {
    $("account").value = a.id;
    $("chosen").textContent = "Account: " + a.name + " (" + a.id + ")";
    recent = [a].concat(recent.filter(function (r) { return r.id !== a.id; })).slice(0, RECENT_MAX);
    choiceList($("recent"), $("recent-box"), recent);
    $("result").textContent = "";
    $("order").focus();
    say("Account " + a.name + " chosen. Enter the exact order number.", false);
  }

  async function findAccounts(q) {
    var seq = ++searchSeq;
    var resp;
    try {
      resp = await fetch("/api/v1/support/accounts?q=" + encodeURIComponent(q), {
        method: "GET",
        headers: { "Authorization": "Bearer " + token, "Accept": "application/json" },
        cache: "no-store",
        credentials: "omit",
        referrerPolicy: "no-referrer"
      });
    } catch (e) {
      say("The service could not be reached.", true);
      return;
    }
    var body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    if (seq !== searchSeq || token === null) return;  // a newer search, or signed out
    if (resp.status === 401) {
      signOut("The token was rejected; sign in again.");
      $("status").className = "error";
      return;
    }
    if (resp.status !== 200 || !body || !Array.isArray(body.accounts)) {
      say(body && body.detail ? "Rejected: " + body.detail + "." : "The search failed (HTTP " + resp.status + ").", true);
      return;
    }
    choiceList($("account-results"), $("account-results-box"), body.accounts);
    var n = body.accounts.length;
    say(n === 0 ? "No account matches “" + q + "”."
      : n === 1 ? "1 account found; Tab to choose it."
      : n + " accounts found; Tab to choose one.", n === 0);
  }

  function searchNow() {
    var q = $("account-search").value.trim();
    if (q.length < 2) {
      choiceList($("account-results"), $("account-results-box"), []);
      return false;
    }
    findAccounts(q);
    return true;
  }

  function signOut(message) {
    token = null;
    recent = [];
    searchSeq++;
    choiceList($("recent"), $("recent-box"), []);
    choiceList($("account-results"), $("account-results-box"), []);
    $("account-search").value = "";
    $("account").value = "";
    $("order").value = "";
    $("chosen").textContent = "No account chosen yet.";
    showSignedIn(false);
    say(message || "Signed out.", false);
  }

  function problemText(status, body) {
    if (status === 404) return "No order with this number in this account.";
    if (status === 429) return "Too many lookups; wait a moment and try again.";
    if (status === 400 && body && body.detail) return "Rejected: " + body.detail + ".";
    if (body && body.detail) return body.title + ": " + body.detail + ".";
    return "The lookup failed (HTTP " + status + ").";
  }

  async function lookup(account, number, marketplace) {
    var url = "/api/v1/support/accounts/" + encodeURIComponent(account) +
      "/orders/" + encodeURIComponent(number) +
      (marketplace ? "?marketplace=" + encodeURIComponent(marketplace) : "");
    var resp = await fetch(url, {
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
      say("Signed in. Find the account by its name, then enter the exact order number.", false);
    });

    $("picker").addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearTimeout(searchTimer);
      if (!searchNow()) {
        say("Type at least 2 characters of the account's name or ID.", true);
        $("account-search").focus();
      }
    });
    $("account-search").addEventListener("input", function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(searchNow, 300);
    });
    $("account").addEventListener("input", function () {
      var typed = $("account").value.trim();
      var known = recent.filter(function (r) { return r.id === typed; })[0];
      $("chosen").textContent = known ? "Account: " + known.name + " (" + known.id + ")"
        : typed ? "Account ID typed by hand." : "No account chosen yet.";
    });

    $("signout").addEventListener("click", function () { signOut(); });

    $("lookup").addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var result = $("result");
      result.textContent = "";
      var account = $("account").value.trim();
      var number = $("order").value.trim();
      var marketplace = $("marketplace").value;
      if (!ACCOUNT_RE.test(account)) {
        say("Rejected: the account ID must be 16 characters of 0–9 and a–f.", true);
        $("account").focus();
        return;
      }
      if (!ORDER_RE.test(number)) {
        say("Rejected: an order number is 1–64 letters, digits or “-”, exactly as on the order.", true);
        $("order").focus();
        return;
      }
      say("Looking up…", false);
      var r;
      try {
        r = await lookup(account, number, marketplace);
      } catch (e) {
        say("The service could not be reached.", true);
        return;
      }
      if (r.status === 401) {
        signOut("The token was rejected; sign in again.");
        $("status").className = "error";
        return;
      }
      if (r.status !== 200 || !r.body || !Array.isArray(r.body.orders)) {
        say(problemText(r.status, r.body), true);
        return;
      }
      r.body.orders.forEach(function (o) { result.appendChild(renderOrder(o)); });
      var n = r.body.orders.length;
      say(n === 1 ? "Found 1 order." : "Found " + n + " orders (several marketplaces share this number).", false);
    });

    $("token").focus();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
