/* The book's own page script (Jupyter Book loads every _static/*.js on every page).
 *
 * 1. Inline formulas fit the line: a formula wider than the text column (MathJax 3 never
 *    breaks one) is split at its top-level relations and operators, like TeX breaks in-line
 *    math; one that still does not fit is scaled down a little, else it scrolls in its own
 *    box with the same edge shadows as a wide display formula (book.css).
 * 2. Wrapped code keeps its indentation: each line of a code block becomes a box whose
 *    continuation lines hang under the line's own indentation. The text is unchanged (the
 *    copy button copies the same characters).
 * 3. Saved ipywidgets are drawn from the widget state saved in the page, visibly disabled,
 *    under a line saying that they run live in Jupyter or Colab: no Python runs here, so a
 *    control that moved would change nothing. (No widget manager is loaded: see
 *    _ext/offline_assets.py.)
 * 4. Search results show readable snippets: formulas as text (not raw LaTeX), glossary
 *    entries with their definition, and the place where the whole query occurs.
 */
(function () {
  "use strict";

  var ready = function (fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  };

  /* ------------------------------------------------------------ 1. inline formulas */

  // Characters after which TeX may break in-line math (relations, binary operators, comma).
  var BREAK_AFTER = "=<>\u2264\u2265\u2248\u223c\u2260\u2192\u21d2\u21a6\u2208\u2261\u221d" +
                    "\u2282\u2286+\u2212\u00b1\u22c5\u00d7,";
  var MIN_SCALE = 0.75;

  function moChars(mo) {
    var out = "";
    mo.querySelectorAll("mjx-c").forEach(function (c) {
      (c.className.match(/mjx-c([0-9A-F]+)/g) || []).forEach(function (cls) {
        out += String.fromCodePoint(parseInt(cls.slice(5), 16));
      });
    });
    return out;
  }

  // An inline formula is clipped when its typeset width exceeds the theme's box around it.
  // (Not scrollWidth: MathJax's hidden copy for screen readers may be a little wider.)
  function clipped(span) {
    var math = span.querySelector("mjx-container > mjx-math");
    if (!math || span.classList.contains("bk-math-breaks")) return false;
    return math.getBoundingClientRect().width > span.getBoundingClientRect().width + 1;
  }

  function breakFormula(span) {
    var math = span.querySelector("mjx-container > mjx-math");
    if (!math || math.dataset.bkGroups) return;
    var kids = Array.prototype.slice.call(math.children);
    var groups = [[]];
    kids.forEach(function (kid, i) {
      groups[groups.length - 1].push(kid);
      var chars = kid.tagName === "MJX-MO" ? moChars(kid) : "";
      if (chars && i < kids.length - 1 && BREAK_AFTER.indexOf(chars.slice(-1)) >= 0) {
        groups.push([]);
      }
    });
    if (groups.length < 2) return;
    groups.forEach(function (group) {
      var box = document.createElement("mjx-bk-group");
      math.insertBefore(box, group[0]);
      group.forEach(function (kid) { box.appendChild(kid); });
    });
    math.dataset.bkGroups = String(groups.length);
    span.classList.add("bk-math-breaks");
  }

  function fitInlineMath() {
    document.querySelectorAll("span.math").forEach(function (span) {
      if (!clipped(span)) return;
      breakFormula(span);
      var container = span.querySelector("mjx-container");
      var widest = 0;
      var parts = span.querySelectorAll("mjx-bk-group");
      if (!parts.length) parts = [container.querySelector("mjx-math")];
      Array.prototype.forEach.call(parts, function (part) {
        widest = Math.max(widest, part.getBoundingClientRect().width);
      });
      var room = (span.closest("p, li, dd, dt, td, th, div") || span.parentElement).clientWidth;
      if (widest <= room + 1) return;  // every group fits on a line of its own
      var scale = room / widest;
      if (scale >= MIN_SCALE) container.style.fontSize = Math.floor(scale * 100) + "%";
      else span.classList.add("bk-math-scrolls");  // its own scroll box, with edge shadows
    });
  }

  // After MathJax has typeset the page. This script runs before MathJax's (deferred) loader,
  // so ask at DOMContentLoaded, when MathJax.startup exists.
  function whenMathReady(fn) {
    ready(function () {
      var M = window.MathJax;
      if (M && M.startup && M.startup.promise) M.startup.promise.then(fn);
      else fn();
    });
  }

  /* ------------------------------------------------------------ 2. code indentation */

  function hangCode(pre) {
    if (pre.dataset.bkHang) return;
    pre.dataset.bkHang = "1";
    var lines = [[]];
    (function walk(node, chain) {
      Array.prototype.slice.call(node.childNodes).forEach(function (child) {
        if (child.nodeType === Node.TEXT_NODE) {
          child.textContent.split("\n").forEach(function (piece, i) {
            if (i > 0) lines.push([]);
            if (!piece) return;
            var leaf = document.createTextNode(piece);
            for (var k = chain.length - 1; k >= 0; k--) {
              var wrap = chain[k].cloneNode(false);
              wrap.appendChild(leaf);
              leaf = wrap;
            }
            lines[lines.length - 1].push(leaf);
          });
        } else if (child.nodeType === Node.ELEMENT_NODE) {
          walk(child, chain.concat([child]));
        }
      });
    })(pre, []);
    var fragment = document.createDocumentFragment();
    lines.forEach(function (nodes, i) {
      var line = document.createElement("span");
      line.className = "bk-line";
      nodes.forEach(function (n) { line.appendChild(n); });
      var lead = (line.textContent.match(/^[ \t]*/) || [""])[0].replace(/\t/g, "    ").length;
      line.style.setProperty("--bk-indent", lead + "ch");
      fragment.appendChild(line);
      if (i < lines.length - 1) fragment.appendChild(document.createTextNode("\n"));
    });
    pre.textContent = "";
    pre.appendChild(fragment);
  }

  /* ------------------------------------------------------------ 3. saved widgets */

  var WIDGET_NOTE = "Interactive control: it runs live when you open this notebook in " +
                    "Jupyter or Colab. In this page it is disabled, since no Python runs here.";

  function widgetState() {
    var script = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
    if (!script) return {};
    try { return JSON.parse(script.textContent).state || {}; } catch (e) { return {}; }
  }

  function drawWidget(id, state, depth) {
    var model = state[String(id).replace(/^IPY_MODEL_/, "")];
    var el = document.createElement("div");
    el.className = "bk-widget";
    if (!model || depth > 20) { el.textContent = "(widget)"; return el; }
    var s = model.state || {}, name = model.model_name || "";
    var label = function (text) {
      var l = document.createElement("span");
      l.className = "bk-widget-label";
      l.textContent = text;
      return l;
    };
    if (s.children) {
      el.classList.add(/VBox|Accordion|Tab/.test(name) ? "bk-widget-vbox" : "bk-widget-hbox");
      s.children.forEach(function (c) { el.appendChild(drawWidget(c, state, depth + 1)); });
    } else if (/Slider/.test(name)) {
      if (s.description) el.appendChild(label(s.description));
      var input = document.createElement("input");
      input.type = "range";
      var value = Array.isArray(s.value) ? s.value[0] : s.value;
      ["min", "max", "step"].forEach(function (k) { if (s[k] != null) input[k] = s[k]; });
      input.value = value;
      input.disabled = true;
      el.appendChild(input);
      var digits = /\.(\d+)f/.exec(s.readout_format || "");
      var show = function (v) { return digits ? Number(v).toFixed(+digits[1]) : String(v); };
      el.appendChild(label(Array.isArray(s.value) ? s.value.map(show).join(" – ") : show(value)));
    } else if (name === "ImageModel") {
      var buffer = (model.buffers || []).find(function (b) { return b.path && b.path[0] === "value"; });
      if (buffer && buffer.encoding === "base64") {
        var img = document.createElement("img");
        img.src = "data:image/" + (s.format || "png") + ";base64," + buffer.data;
        img.alt = "the image this control shows for the values above";
        if (s.width) img.width = parseInt(s.width, 10);
        el.appendChild(img);
      }
    } else if (/Dropdown|Select|RadioButtons|ToggleButtons/.test(name)) {
      if (s.description) el.appendChild(label(s.description));
      var select = document.createElement("select");
      (s._options_labels || []).forEach(function (text, i) {
        var option = document.createElement("option");
        option.textContent = text;
        option.selected = i === s.index;
        select.appendChild(option);
      });
      select.disabled = true;
      el.appendChild(select);
    } else if (/Button|Checkbox|Toggle/.test(name)) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = s.description || (name.replace(/Model$/, ""));
      button.disabled = true;
      el.appendChild(button);
    } else if (/Label|HTML|Text/.test(name)) {
      if (s.description) el.appendChild(label(s.description));
      el.appendChild(label(String(s.value || "").replace(/<[^>]*>/g, "")));
    } else if (/Progress/.test(name)) {
      var bar = document.createElement("progress");
      bar.max = s.max; bar.value = s.value;
      el.appendChild(bar);
    } else if (!/LayoutModel|StyleModel/.test(name)) {
      el.appendChild(label("(" + name.replace(/Model$/, "") + ")"));
    }
    return el;
  }

  function drawWidgets() {
    var views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
    if (!views.length) return;
    var state = widgetState();
    views.forEach(function (script) {
      if (script.dataset.bkDrawn) return;
      script.dataset.bkDrawn = "1";
      var id;
      try { id = JSON.parse(script.textContent).model_id; } catch (e) { return; }
      var box = document.createElement("div");
      box.className = "bk-widget-static";
      box.setAttribute("aria-disabled", "true");
      var note = document.createElement("p");
      note.className = "bk-widget-note";
      note.textContent = WIDGET_NOTE;
      box.appendChild(note);
      box.appendChild(drawWidget(id, state, 0));
      script.parentNode.insertBefore(box, script.nextSibling);
    });
  }

  /* ------------------------------------------------------------ 4. search snippets */

  var TEX = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε", zeta: "ζ",
    eta: "η", theta: "θ", kappa: "κ", lambda: "λ", mu: "μ", nu: "ν", xi: "ξ", pi: "π",
    rho: "ρ", sigma: "σ", tau: "τ", phi: "φ", varphi: "φ", chi: "χ", psi: "ψ", omega: "ω",
    Gamma: "Γ", Delta: "Δ", Theta: "Θ", Lambda: "Λ", Sigma: "Σ", Phi: "Φ", Psi: "Ψ",
    Omega: "Ω", le: "≤", leq: "≤", ge: "≥", geq: "≥", ne: "≠", neq: "≠", approx: "≈",
    sim: "∼", cdot: "·", times: "×", sum: "Σ", prod: "Π", int: "∫", infty: "∞", mid: "|",
    to: "→", rightarrow: "→", Rightarrow: "⇒", mapsto: "↦", in: "∈", partial: "∂",
    nabla: "∇", dots: "…", ldots: "…", cdots: "…", log: "log", exp: "exp", max: "max",
    min: "min", propto: "∝", top: "⊤", pm: "±", equiv: "≡", "|": "‖"
  };

  function texToText(tex) {
    var s = tex.replace(/^\\[(\[]|\\[)\]]$/g, "");
    for (var i = 0; i < 4; i++) {
      s = s.replace(/\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}/g, "($1)/($2)")
           .replace(/\\sqrt\{([^{}]*)\}/g, "√($1)")
           .replace(/\\(?:mathrm|mathbf|mathbb|mathcal|mathit|operatorname|text|textbf|boldsymbol|bm|underbrace|overline|hat|tilde|bar)\{([^{}]*)\}/g, "$1");
    }
    s = s.replace(/\\(left|right|big|Big|bigg|Bigg)\b/g, "")
         .replace(/\\([A-Za-z]+|\|)/g, function (m, name) { return TEX[name] != null ? TEX[name] : ""; })
         .replace(/\\[,;:! ]/g, " ")
         .replace(/[{}]/g, "")
         .replace(/\s+/g, " ");
    return s.trim();
  }

  function searchText(htmlString, anchor) {
    var doc = new DOMParser().parseFromString(htmlString, "text/html");
    doc.querySelectorAll(".headerlink, script, style, .bd-toc, .header-article, " +
                         "nav, .copybtn, .bk-widget-static").forEach(function (el) { el.remove(); });
    doc.querySelectorAll(".math").forEach(function (el) {
      el.textContent = " " + texToText(el.textContent) + " ";
    });
    var main = doc.querySelector("article.bd-article") || doc.querySelector('[role="main"]');
    if (!main) return "";
    var text = main.textContent;
    if (anchor) {
      var target = main.querySelector(anchor);
      if (target) {
        text = target.textContent;
        var next = target.nextElementSibling;  // a glossary term: its definition too
        if (target.tagName === "DT" && next && next.tagName === "DD") text += ": " + next.textContent;
        else if (target.tagName === "DT" && target.parentElement.querySelector("dd")) {
          var dd = target;
          while (dd && dd.tagName !== "DD") dd = dd.nextElementSibling;
          if (dd) text += ": " + dd.textContent;
        }
      }
    }
    return text.replace(/\s+/g, " ").trim();
  }

  function summary(htmlText, keywords, anchor) {
    var text = searchText(htmlText, anchor);
    if (!text) return null;
    var lower = text.toLowerCase();
    var query = (new URLSearchParams(window.location.search).get("q") || "").toLowerCase().trim();
    var at = query ? lower.indexOf(query) : -1;
    if (at < 0) {
      Array.from(keywords).forEach(function (k) {
        var i = lower.indexOf(String(k).toLowerCase());
        if (i >= 0 && (at < 0 || i < at)) at = i;
      });
    }
    var start = Math.max((at < 0 ? 0 : at) - 100, 0);
    var p = document.createElement("p");
    p.classList.add("context");
    p.textContent = (start ? "…" : "") + text.substr(start, 260).trim() +
                    (start + 260 < text.length ? "…" : "");
    return p;
  }

  function improveSearch() {
    if (typeof Search === "undefined") return;
    Search.htmlToText = searchText;
    Search.makeSearchSummary = summary;
  }

  // Figures on a phone. Figures are rendered at 150 dpi, so an image shown at half its pixel
  // width has labels at their printed size; a wide figure squeezed into a phone's column would
  // be far smaller than that. On a narrow screen such an image is shown at half its pixel
  // width inside a box that scrolls sideways (the same edge shadows as tables and formulas);
  // its caption stays below, in the column. On a wider screen nothing changes.
  var NARROW = window.matchMedia ? window.matchMedia("(max-width: 720px)") : null;
  function readableFigure(img) {
    if (!img.naturalWidth || img.closest(".bk-widget-static, .latent-explorer")) return;
    var box = img.parentElement.classList.contains("bk-figure-scroll") ? img.parentElement : null;
    var column = (box || img).parentElement.clientWidth;
    var want = Math.round(img.naturalWidth / 2);
    if (NARROW && NARROW.matches && want > column + 1) {
      if (!box) {
        box = document.createElement("div");
        box.className = "bk-figure-scroll";
        img.parentNode.insertBefore(box, img);
        box.appendChild(img);
      }
      img.style.width = want + "px";
      img.style.maxWidth = "none";
    } else if (box) {
      img.style.width = "";
      img.style.maxWidth = "";
    }
  }
  function readableFigures() {
    document.querySelectorAll("div.cell_output img").forEach(function (img) {
      if (img.complete) readableFigure(img);
      else img.addEventListener("load", function () { readableFigure(img); });
    });
  }

  window.bookPage = {texToText: texToText, searchText: searchText, fitInlineMath: fitInlineMath,
                     readableFigures: readableFigures};

  improveSearch();  // before Search.init (registered by searchtools.js) runs the query
  ready(function () {
    improveSearch();
    document.querySelectorAll("div.highlight pre").forEach(hangCode);
    drawWidgets();
    readableFigures();
  });
  whenMathReady(fitInlineMath);
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { whenMathReady(fitInlineMath); readableFigures(); }, 200);
  });
})();
