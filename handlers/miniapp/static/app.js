/* spi-bot dashboard: a Telegram Mini App. No framework, no third-party code, no inline script.
 *
 * The launch data Telegram signed (window.Telegram.WebApp.initData when Telegram's script is
 * present, else #tgWebAppData in the address) goes to our own server as
 * "Authorization: tma <launch data>" with every request; the server checks it and answers
 * only what this person's role may see. Every word and number comes from the server, already
 * written in the person's language (decimal comma in Indonesian); charts are server-made SVG.
 */
(function () {
  "use strict";

  var WEB_ORIGIN = "https://web.telegram.org";
  var LAUNCH_KEY = "spibot.launch";
  var THEME_KEY = "spibot.theme";
  var TG = window.Telegram && window.Telegram.WebApp ? window.Telegram.WebApp : null;
  var hash = readHash();
  var launch = remember(LAUNCH_KEY, (TG && TG.initData) || hash.get("tgWebAppData") || "");
  var S = { me: null, text: {}, view: null, cache: {}, unit: null };
  // Kept for this tab (above); out of the address bar, where a screenshot or a shared
  // address would carry it along.
  if (hash.get("tgWebAppData") && window.history && history.replaceState) {
    history.replaceState(null, "", location.pathname + location.search);
  }

  function readHash() {
    try {
      return new URLSearchParams(location.hash.slice(1));
    } catch (e) {
      return new URLSearchParams("");
    }
  }

  // The launch data survives a reload in this tab only (as Telegram's own script keeps it).
  function remember(key, value) {
    try {
      if (value) sessionStorage.setItem(key, value);
      else value = sessionStorage.getItem(key) || "";
    } catch (e) { /* private mode: no storage, the address still has it */ }
    return value;
  }

  // ---- Telegram: theme and the client bridge, without Telegram's script -------------------

  var THEME_VARS = {
    bg_color: "--bg", text_color: "--text", hint_color: "--hint", link_color: "--link",
    button_color: "--button", button_text_color: "--button-text",
    secondary_bg_color: "--bg2", section_bg_color: "--section",
    accent_text_color: "--accent", destructive_text_color: "--danger",
    section_separator_color: "--sep", subtitle_text_color: "--subtitle"
  };

  function luminance(hex) {
    var h = hex.replace("#", "");
    if (h.length === 3) h = h.replace(/(.)/g, "$1$1");
    var n = parseInt(h.slice(0, 6), 16);
    return (0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
  }

  function applyTheme(theme) {
    var root = document.documentElement;
    var colour = /^#[0-9a-fA-F]{3,8}$/;
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    if (theme && typeof theme === "object") {
      Object.keys(THEME_VARS).forEach(function (k) {
        if (colour.test(theme[k] || "")) root.style.setProperty(THEME_VARS[k], theme[k]);
      });
      if (colour.test(theme.bg_color || "")) dark = luminance(theme.bg_color) < 0.45;
    }
    root.classList.toggle("dark", !!dark);
  }

  function themeParams() {
    if (TG && TG.themeParams && Object.keys(TG.themeParams).length) return TG.themeParams;
    var raw = remember(THEME_KEY, hash.get("tgWebAppThemeParams") || "");
    try { return raw ? JSON.parse(raw) : null; } catch (e) { return null; }
  }

  function postEvent(type, data) {
    var body = JSON.stringify(data || {});
    try {
      if (window.TelegramWebviewProxy) window.TelegramWebviewProxy.postEvent(type, body);
      else if (window.external && "notify" in window.external) {
        window.external.notify(JSON.stringify({ eventType: type, eventData: data || {} }));
      } else if (window.parent !== window) {
        window.parent.postMessage(JSON.stringify({ eventType: type, eventData: data || {} }), WEB_ORIGIN);
      }
    } catch (e) { /* outside Telegram: nothing to tell */ }
  }

  function onThemeChanged(data) {
    if (data && data.theme_params) applyTheme(data.theme_params);
  }

  function connect() {
    applyTheme(themeParams());
    if (TG) {
      TG.ready();
      TG.expand();
      TG.onEvent("themeChanged", function () { applyTheme(TG.themeParams); });
      return;
    }
    window.Telegram = window.Telegram || {};
    window.Telegram.WebView = {
      receiveEvent: function (type, data) { if (type === "theme_changed") onThemeChanged(data); }
    };
    window.addEventListener("message", function (event) {
      if (event.origin !== WEB_ORIGIN) return;
      try {
        var msg = JSON.parse(event.data);
        if (msg.eventType === "theme_changed") onThemeChanged(msg.eventData);
      } catch (e) { /* not for us */ }
    });
    postEvent("web_app_ready");
    postEvent("web_app_expand");
  }

  // ---- talking to our server ---------------------------------------------------------------

  function api(path, body) {
    var headers = { Authorization: "tma " + launch };
    if (body) headers["Content-Type"] = "application/json";
    return fetch(path, {
      method: body ? "POST" : "GET",
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, body: data };
      });
    });
  }

  // ---- DOM helpers -------------------------------------------------------------------------

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }

  function svg(markup) {
    if (!markup) return null;
    var doc = new DOMParser().parseFromString(markup, "image/svg+xml");
    var root = doc.documentElement;
    return root && root.nodeName === "svg" ? document.importNode(root, true) : null;
  }

  // Before the first answer only the shell's words exist (in the default language).
  function t(key) { return S.text[key] || main().getAttribute("data-" + key) || ""; }

  function card(title) {
    var box = el("section", "card");
    if (title) add(box, el("h2", null, title));
    return box;
  }

  function chip(category) {
    return category ? el("span", "chip cat-" + category.key, category.label) : null;
  }

  function note(text, cls) { return text ? el("p", cls || "note", text) : null; }

  function main() { return document.getElementById("app"); }

  function show(nodes) {
    var root = main();
    root.textContent = "";
    nodes.forEach(function (n) { if (n) root.appendChild(n); });
    window.scrollTo(0, 0);
  }

  function problem(body, retry) {
    var box = card(body.title || t("error"));
    box.classList.add("problem");
    add(box, note(body.message || t("error"), "message"));
    if (retry) {
      var again = el("button", "button", t("retry") || "↻");
      again.addEventListener("click", retry);
      add(box, again);
    }
    return box;
  }

  function clickable(node, action) {
    node.classList.add("tap");
    node.setAttribute("role", "button");
    node.tabIndex = 0;
    node.addEventListener("click", action);
    node.addEventListener("keydown", function (e) { if (e.key === "Enter") action(); });
    return node;
  }

  // ---- pieces ------------------------------------------------------------------------------

  function headline(head) {
    var box = el("div", "headline");
    if (head.state === "index" || head.state === "partial") {
      add(box, el("span", "big", head.text), head.moe ? el("span", "moe", head.moe) : null,
        chip(head.category));
      if (head.note) add(box, note(head.note));
    } else {
      add(box, el("span", "none", head.note));
      if (head.why) add(box, note(head.why));
    }
    return box;
  }

  function rows(list, render) {
    var ul = el("ul", "rows");
    list.forEach(function (item) { add(ul, render(item)); });
    return ul;
  }

  function hiddenRow(item) {
    var li = el("li", "row hidden-cell");
    add(li, el("span", "name", item.label), el("span", "reason", item.reason));
    if (item.why) add(li, el("p", "why", item.why));
    return li;
  }

  function scopeCards(scope, wave) {
    var out = [];
    if (scope.code) out.push(add(el("section", "scope-name"), el("h1", null, scope.name)));
    var index = card(t("index"));
    add(index, headline(scope.headline), svg(scope.scale), note(wave.basis));
    if (scope.comparisons.length) {
      add(index, rows(scope.comparisons, function (c) {
        var li = el("li", "row");
        return add(li, el("span", "name", c.label), el("span", "value", c.text),
          c.delta ? el("span", "delta", c.delta) : null);
      }));
    }
    out.push(index);
    var groups = card(t("groups"));
    add(groups, rows(scope.groups, function (g) {
      if (!g.shown) return hiddenRow(g);
      var li = el("li", "row");
      return add(li, el("span", "name", g.label),
        add(el("span", "side"), el("span", "value", g.text), g.moe ? el("span", "moe", " " + g.moe) : null),
        el("span", "n", g.n), svg(g.meter));
    }));
    out.push(groups);
    var dims = card(t("dimensions"));
    add(dims, svg(scope.dimensions_chart));
    var hidden = scope.dimensions.filter(function (d) { return !d.shown; });
    if (hidden.length) add(dims, rows(hidden, hiddenRow));
    out.push(dims);
    if (scope.notes.length) {
      var notes = card(null);
      scope.notes.forEach(function (n) { add(notes, note(n)); });
      out.push(notes);
    }
    return out;
  }

  function unitRow(u) {
    var li = el("li", "row unit");
    add(li, el("span", "rank", String(u.rank)),
      add(el("span", "name"), el("span", null, u.name), u.category ? el("br") : null, chip(u.category)),
      el("span", "value", u.text), svg(u.meter));
    return clickable(li, function () { openUnit(u.code); });
  }

  // ---- views -------------------------------------------------------------------------------

  var RENDER = {
    overview: function (d) {
      if (!d.wave) return [problem({ title: S.me.institution, message: d.message })];
      var out = scopeCards(d.scope, d.wave);
      if (d.weakest_units && d.weakest_units.length) {
        var weak = card(t("weakest_units"));
        add(weak, rows(d.weakest_units, unitRow));
        var all = el("button", "link", t("all_units"));
        all.addEventListener("click", function () { go("units"); });
        add(weak, all);
        out.splice(1, 0, weak);
      }
      return out;
    },
    units: function (d) {
      if (!d.wave) return [problem({ message: d.message })];
      var box = card(t("ranking"));
      if (d.empty) add(box, note(d.empty));
      add(box, rows(d.ranked, unitRow));
      var out = [box];
      if (d.partial.length) {
        var partial = card(t("partial"));
        add(partial, rows(d.partial, function (u) {
          var li = el("li", "row");
          add(li, el("span", "name", u.name), el("span", "value", u.text), el("p", "why", u.note));
          return clickable(li, function () { openUnit(u.code); });
        }));
        out.push(partial);
      }
      if (d.insufficient.length || d.quiet) {
        var rest = card(t("insufficient"));
        add(rest, note(d.insufficient_why));
        add(rest, rows(d.insufficient, function (u) {
          var li = el("li", "row");
          add(li, el("span", "name", u.name), el("span", "reason", u.reason));
          return clickable(li, function () { openUnit(u.code); });
        }));
        add(rest, note(d.quiet));
        out.push(rest);
      }
      return out;
    },
    trend: function (d) {
      if (!d.wave) return [problem({ message: d.message })];
      var box = card(t("tab_trend"));
      add(box, svg(d.chart));
      var legend = el("p", "legend");
      [["ours", "legend_ours"], ["kpk", "legend_kpk"], ["national", "legend_national"]].forEach(
        function (pair) { add(legend, el("span", "key key-" + pair[0], t(pair[1]))); });
      add(box, legend);
      var ours = card(t("our_waves"));
      add(ours, rows(d.waves, function (w) {
        var li = el("li", "row");
        add(li, el("span", "name", w.wave), el("span", "value", w.text),
          w.provisional ? el("span", "chip", d.wave.status) : null);
        if (w.note) add(li, el("p", "why", w.note));
        return li;
      }));
      if (d.first) add(ours, note(t("trend_first")));
      var kpk = card(t("kpk_results") + (d.kpk_name ? " — " + d.kpk_name : ""));
      if (!d.kpk.length) add(kpk, note(t("kpk_missing")));
      add(kpk, rows(d.kpk, function (k) {
        var li = el("li", "row");
        add(li, el("span", "name", "SPI " + k.year), el("span", "value", k.text), chip(k.category),
          el("p", "why", k.standing + (k.national ? " · " + t("national") + " " + k.national : "")));
        return li;
      }));
      add(kpk, note(d.percentile_note));
      return [box, ours, kpk];
    },
    whatif: function (d) {
      if (!d.wave) return [problem({ message: d.message })];
      var box = card(t("whatif_title") + " — " + d.scope.name);
      add(box, headline(d.headline));
      var form = el("form", "whatif");
      var dim = el("select", null);
      dim.name = "dimension";
      d.dimensions.forEach(function (o) {
        var opt = el("option", null, o.label);
        opt.value = o.key;
        dim.appendChild(opt);
      });
      var delta = el("input", null);
      delta.type = "number";
      delta.name = "delta";
      delta.min = "-100";
      delta.max = "100";
      delta.step = "0.5";
      delta.value = "5";
      delta.inputMode = "decimal";
      var groups = el("div", "checks");
      d.groups.forEach(function (g) {
        var label = el("label", "check");
        var box2 = el("input", null);
        box2.type = "checkbox";
        box2.value = g.key;
        box2.checked = true;
        add(label, box2, el("span", null, g.label));
        groups.appendChild(label);
      });
      var run = el("button", "button", t("whatif_run"));
      run.type = "submit";
      add(form, add(el("label", "field"), el("span", null, t("whatif_dimension")), dim),
        add(el("label", "field"), el("span", null, t("whatif_delta")), delta),
        add(el("div", "field"), el("span", null, t("whatif_groups")), groups), run);
      var result = el("div", "result");
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var chosen = [];
        groups.querySelectorAll("input:checked").forEach(function (c) { chosen.push(c.value); });
        var value = parseFloat(String(delta.value).replace(",", "."));
        result.textContent = t("loading");
        api("api/whatif", {
          dimension: dim.value, delta: isFinite(value) ? value : null, groups: chosen,
          unit: d.scope.code
        }).then(function (r) {
          result.textContent = "";
          if (r.status !== 200) { add(result, problem(r.body)); return; }
          var w = r.body;
          add(result, note(w.lift, "lift"));
          var pair = el("div", "pair");
          add(pair, add(el("div", null), el("h3", null, t("whatif_now")), headline(w.before)),
            add(el("div", null), el("h3", null, t("whatif_after")), headline(w.after),
              w.change ? el("span", "delta", w.change) : null));
          add(result, pair, svg(w.chart));
          add(result, rows(w.groups, function (g) {
            var li = el("li", "row");
            add(li, el("span", "name", g.label));
            if (g.reason) add(li, el("span", "reason", g.reason));
            else add(li, el("span", "value", g.before + " → " + g.after));
            return li;
          }));
          add(result, note(w.skipped), note(w.basis));
        }, function () { result.textContent = t("offline"); });
      });
      add(box, form, result);
      var plan = card(t("whatif_plan"));
      add(plan, note(d.plan.note));
      add(plan, rows(d.plan.needs, function (n) {
        var li = el("li", "row");
        return add(li, el("span", "name", n.dimension + (n.score ? " (" + n.score + ")" : "")),
          el("span", n.reachable ? "value" : "reason", n.text));
      }));
      return [box, plan];
    },
    progress: function (d) {
      if (!d.wave) return [problem({ message: d.message })];
      var inst = card(d.title || t("progress_institution"));
      add(inst, rows(d.institution, function (c) {
        var li = el("li", "row cell" + (c.done ? " done" : ""));
        return add(li, el("span", "name", c.label), el("span", "count", c.text), svg(c.meter));
      }), note(d.quality));
      var out = [inst];
      if (!d.title) {
        var units = card(t("progress_units"));
        add(units, rows(d.units, function (u) {
          var li = el("li", "row unit-progress");
          return add(li, el("span", "name", u.name), el("span", "remaining", u.remaining),
            svg(u.meter), el("p", "why", u.groups), u.funnel ? el("p", "why funnel", u.funnel) : null);
        }));
        out.push(units);
      } else if (d.units.length && d.units[0].funnel) {
        add(inst, note(d.units[0].funnel, "funnel"));
      }
      add(out[out.length - 1], note(d.funnel_key, "key"));
      return out;
    },
    actions: function (d) {
      var box = card(t("actions_title"));
      var counts = el("p", "counts");
      d.counts.forEach(function (c) {
        add(counts, el("span", "chip status-" + c.key, c.label + " " + c.text));
      });
      add(box, counts, note(d.empty));
      add(box, rows(d.rows, function (a) {
        var li = el("li", "row action" + (a.overdue ? " late" : ""));
        add(li, el("span", "name", a.unit), el("span", "chip status-" + a.status.key, a.status.label),
          el("p", "what", a.what),
          el("p", "why", a.who + " · " + t("actions_due") + " " + a.due +
            (a.dimension ? " · " + a.dimension : "")),
          a.overdue ? el("p", "late-note", a.overdue) : null);
        return li;
      }));
      add(box, note(d.more), note(d.hint));
      return [box];
    },
    uptake: function (d) {
      if (!d.rows) return [problem({ message: d.message })];
      var box = card(t("uptake_title"));
      add(box, note(d.empty));
      add(box, rows(d.rows, function (r) {
        var li = el("li", "row cell");
        add(li, el("span", "name", r.unit + " · " + r.group), el("span", "value", r.text), svg(r.meter));
        return li;
      }));
      add(box, note(t("uptake_total") + ": " + d.total, "total"), note(d.hint));
      return [box];
    }
  };

  var PATHS = {
    overview: "api/overview", units: "api/units", trend: "api/trend", whatif: "api/whatif",
    progress: "api/progress", actions: "api/actions", uptake: "api/uptake"
  };

  function load(path, render, retry) {
    show([el("p", "loading", t("loading"))]);
    return api(path).then(function (r) {
      if (r.status === 200) show(render(r.body));
      else if (r.status === 401 || r.status === 403) fatal(r.body);
      else show([problem(r.body, retry)]);
    }, function () {
      show([problem({ title: t("offline"), message: t("offline") }, retry)]);
    });
  }

  function go(view) {
    S.view = view;
    S.unit = null;
    paintTabs();
    if (view === "overview" && S.cache.overview) { show(RENDER.overview(S.cache.overview)); return; }
    load(PATHS[view], RENDER[view], function () { go(view); });
  }

  function openUnit(code) {
    S.unit = code;
    paintTabs();
    load("api/unit?code=" + encodeURIComponent(code), function (d) {
      var back = el("button", "link back", "← " + t("back"));
      back.addEventListener("click", function () { go(S.view || "overview"); });
      return [back].concat(d.wave ? scopeCards(d.scope, d.wave) : [problem({ message: d.message })]);
    }, function () { openUnit(code); });
  }

  function paintTabs() {
    var nav = document.getElementById("tabs");
    nav.textContent = "";
    S.me.views.forEach(function (view) {
      var tab = el("button", "tab" + (view === S.view && !S.unit ? " on" : ""), t("tab_" + view));
      tab.addEventListener("click", function () { go(view); });
      nav.appendChild(tab);
    });
    nav.hidden = S.me.views.length < 2;
    var on = nav.querySelector(".on");
    if (on && on.scrollIntoView) on.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  function paintTop(d) {
    var top = document.getElementById("top");
    top.textContent = "";
    add(top, el("p", "institution", S.me.institution),
      el("p", "who", S.me.role_label + (d.wave ? " · " + t("wave") + " " + d.wave.name + " · " + d.wave.status : "")));
    top.hidden = false;
  }

  function fatal(body) {
    document.getElementById("tabs").hidden = true;
    document.getElementById("top").hidden = true;
    if (body.language) document.documentElement.lang = body.language;
    show([problem(body)]);
  }

  function start() {
    connect();
    api(PATHS.overview).then(function (r) {
      if (r.status !== 200) {
        if (r.status === 401 || r.status === 403) fatal(r.body);
        else show([problem(r.body, start)]);
        return;
      }
      var d = r.body;
      S.me = d.me;
      S.text = d.text || {};
      S.cache.overview = d;
      document.documentElement.lang = d.me.language;
      document.title = d.me.institution;
      paintTop(d);
      go(d.start || "overview");
    }, function () {
      show([problem({ title: t("offline"), message: t("offline") }, start)]);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
