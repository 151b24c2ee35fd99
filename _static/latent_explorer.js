/* The book's latent explorers: a trained decoder, run in the page.
 *
 * A chapter exports its decoder with course_utils.explorer.export() into
 * _explorer/<name>.safetensors next to the page (format: course_utils/explorer.py) and shows
 * a placeholder <div class="latent-explorer" data-kind="map|traversal" data-assets="[...]">.
 * This script fetches the file, runs the decoder with plain Float32Array arithmetic (no
 * framework, no network beyond the page's own folder) and draws on <canvas> elements:
 *
 *   map        a 2-D latent map (the exported codes, coloured by class, and the prior's
 *              1-sigma and 2-sigma rings) with a point to drag (mouse, touch, arrow keys) and
 *              the image decoded at that point;
 *   traversal  one slider per latent dimension, driving one or more decoders side by side.
 *
 * The same file runs under Node (module.exports): tests decode with it and compare with
 * PyTorch (tests/test_explorer_js.py).
 */
(function () {
  'use strict';

  // ------------------------------------------------------------------ the asset and decoder

  var HALF = null;  // float16 bit pattern -> float32 value, built on first use

  function halfTable() {
    if (HALF) return HALF;
    HALF = new Float32Array(65536);
    for (var h = 0; h < 65536; h++) {
      var sign = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
      HALF[h] = e === 0 ? sign * f * Math.pow(2, -24)
        : e === 31 ? (f ? NaN : sign * Infinity)
        : sign * (1 + f / 1024) * Math.pow(2, e - 15);
    }
    return HALF;
  }

  var BYTES = {F16: 2, F32: 4, I16: 2, U8: 1};
  var ACTIVATIONS = {relu: 1, leaky_relu: 1, tanh: 1, sigmoid: 1};

  function fail(message) { throw new Error('latent explorer asset: ' + message); }

  /* An ArrayBuffer holding an exported decoder -> {description, tensors, layers, ...}. */
  function parseAsset(buffer) {
    var bytes = new Uint8Array(buffer), view = new DataView(buffer);
    if (bytes.length < 8) fail(bytes.length + ' bytes is too short');
    var n = view.getUint32(0, true) + view.getUint32(4, true) * 4294967296;
    if (8 + n > bytes.length) fail('header length ' + n + ' runs past the end of the file');
    var header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    var meta = header.__metadata__ || {};
    if (meta.format !== 'course-explorer') fail('not a course-explorer file');
    var description = JSON.parse(meta.explorer), base = 8 + n, tensors = {};
    Object.keys(header).forEach(function (name) {
      if (name === '__metadata__') return;
      var t = header[name], size = BYTES[t.dtype];
      if (!size) fail(name + ': unknown dtype ' + t.dtype);
      var count = t.shape.reduce(function (a, b) { return a * b; }, 1);
      var begin = base + t.data_offsets[0], end = base + t.data_offsets[1];
      if (end - begin !== count * size || end > bytes.length) {
        fail(name + ': ' + (end - begin) + ' bytes for shape [' + t.shape + '] ' + t.dtype);
      }
      var data, i;
      if (t.dtype === 'U8') {
        data = bytes.slice(begin, end);
      } else if (t.dtype === 'F32') {
        data = new Float32Array(count);
        for (i = 0; i < count; i++) data[i] = view.getFloat32(begin + 4 * i, true);
      } else if (t.dtype === 'I16') {
        data = new Int16Array(count);
        for (i = 0; i < count; i++) data[i] = view.getInt16(begin + 2 * i, true);
      } else {
        var table = halfTable();
        data = new Float32Array(count);
        for (i = 0; i < count; i++) data[i] = table[view.getUint16(begin + 2 * i, true)];
      }
      tensors[name] = {dtype: t.dtype, shape: t.shape, data: data};
    });
    var layers = description.layers.map(function (spec) {
      var W = tensors[spec.weight], b = tensors[spec.bias];
      if (!W || !b || W.shape.length !== 2 || b.shape[0] !== W.shape[0]) {
        fail('layer ' + spec.weight + ' / ' + spec.bias + ' is missing or misshapen');
      }
      if (spec.activation !== null && !ACTIVATIONS[spec.activation]) {
        fail('unknown activation ' + spec.activation);
      }
      var weights = W.data;
      if (spec.weight_scale) {  // int16 values times their row's float32 scale
        var scale = tensors[spec.weight_scale], nIn = W.shape[1];
        if (!scale || scale.shape[0] !== W.shape[0]) fail(spec.weight_scale + ' is misshapen');
        weights = new Float32Array(W.data.length);
        for (var r = 0; r < W.shape[0]; r++) {
          for (var c = 0; c < nIn; c++) weights[r * nIn + c] = W.data[r * nIn + c] * scale.data[r];
        }
      } else if (W.dtype === 'I16') {
        fail(spec.weight + ' is int16 without a weight_scale');
      }
      return {W: weights, b: b.data, nOut: W.shape[0], nIn: W.shape[1],
              activation: spec.activation, slope: spec.slope === undefined ? 0.01 : spec.slope,
              out: new Float32Array(W.shape[0])};
    });
    for (var k = 1; k < layers.length; k++) {
      if (layers[k].nIn !== layers[k - 1].nOut) fail('layer sizes do not chain');
    }
    var shape = description.image_shape;
    if (layers[layers.length - 1].nOut !== shape[0] * shape[1] * shape[2]) {
      fail('the last layer does not match image_shape [' + shape + ']');
    }
    return {description: description, tensors: tensors, layers: layers,
            latentDim: layers[0].nIn, imageShape: shape, output: description.output};
  }

  /* Decode one code z (latentDim numbers) into pixel values in [0, 1], C*H*W, CHW order.
   * Sums run in double precision and every layer's output is stored as float32. */
  function decode(model, z, out) {
    var x = z, layers = model.layers;
    if (z.length !== model.latentDim) {
      throw new Error('decode: z has ' + z.length + ' values, the decoder takes ' +
                      model.latentDim);
    }
    for (var l = 0; l < layers.length; l++) {
      var L = layers[l], W = L.W, b = L.b, y = L.out, nIn = L.nIn, act = L.activation;
      for (var o = 0, row = 0; o < L.nOut; o++, row += nIn) {
        var s = b[o];
        for (var i = 0; i < nIn; i++) s += W[row + i] * x[i];
        if (act === 'relu') s = s > 0 ? s : 0;
        else if (act === 'leaky_relu') s = s > 0 ? s : L.slope * s;
        else if (act === 'tanh') s = Math.tanh(s);
        else if (act === 'sigmoid') s = 1 / (1 + Math.exp(-s));
        y[o] = s;
      }
      x = y;
    }
    out = out || new Float32Array(x.length);
    var sigmoid = model.output === 'sigmoid';
    for (var p = 0; p < x.length; p++) {
      var v = x[p];
      out[p] = sigmoid ? 1 / (1 + Math.exp(-v)) : (v < 0 ? 0 : v > 1 ? 1 : v);
    }
    return out;
  }

  /* Pixel values in [0, 1] (CHW) -> RGBA bytes: grey images ink-dark (the book's figures). */
  function toRGBA(pixels, shape, rgba) {
    var c = shape[0], hw = shape[1] * shape[2];
    rgba = rgba || new Uint8ClampedArray(4 * hw);
    for (var k = 0; k < hw; k++) {
      if (c === 1) {
        var g = Math.round(255 * (1 - pixels[k]));
        rgba[4 * k] = rgba[4 * k + 1] = rgba[4 * k + 2] = g;
      } else {
        for (var ch = 0; ch < 3; ch++) rgba[4 * k + ch] = Math.round(255 * pixels[ch * hw + k]);
      }
      rgba[4 * k + 3] = 255;
    }
    return rgba;
  }

  var api = {parseAsset: parseAsset, decode: decode, toRGBA: toRGBA, halfTable: halfTable};
  if (typeof module === 'object' && module.exports) module.exports = api;
  if (typeof document === 'undefined') return;  // Node: the decoder only
  window.LatentExplorer = api;

  // ------------------------------------------------------------------ page helpers

  // matplotlib's tab10, the course's class colours (course_utils.viz.CLASS_CMAP)
  var TAB10 = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
               '#7f7f7f', '#bcbd22', '#17becf'];
  var MINUS = '\u2212';

  function el(tag, attrs, parent) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    if (parent) parent.appendChild(node);
    return node;
  }

  function fmt(v, digits) {
    var s = v.toFixed(digits === undefined ? 2 : digits);
    if (/^-0\.?0*$/.test(s)) s = s.slice(1);  // no "-0.00"
    return s.replace('-', MINUS);
  }

  function imageCanvas(model, parent, label) {
    var canvas = el('canvas', {'class': 'lx-image', width: model.imageShape[2],
                               height: model.imageShape[1], role: 'img',
                               'aria-label': label}, parent);
    var ctx = canvas.getContext('2d');
    var image = ctx.createImageData(model.imageShape[2], model.imageShape[1]);
    var pixels = new Float32Array(model.imageShape[0] * model.imageShape[1] *
                                  model.imageShape[2]);
    return {
      canvas: canvas, pixels: pixels,
      draw: function (z) {
        decode(model, z, pixels);
        toRGBA(pixels, model.imageShape, image.data);
        ctx.putImageData(image, 0, 0);
        return pixels;
      }
    };
  }

  function loadAsset(src) {
    return fetch(src).then(function (response) {
      if (!response.ok) throw new Error('HTTP ' + response.status + ' for ' + src);
      return response.arrayBuffer();
    }).then(parseAsset);
  }

  function textColour(node) { return getComputedStyle(node).color || '#222'; }

  function sizeCanvas(canvas, ctx) {
    var dpr = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return {w: w, h: h};
  }

  // ------------------------------------------------------------------ the 2-D map

  function buildMap(root, model, entry) {
    var d = model.description;
    if (model.latentDim !== 2 || !model.tensors[d.points]) {
      throw new Error('the map explorer needs a 2-d decoder with points');
    }
    var points = model.tensors[d.points].data;
    var labels = d.labels ? model.tensors[d.labels].data : null;
    var E = d.extent || d.box || 3;
    var z = [0, 0], step = 0.1, updates = 0;

    var box = el('div', {'class': 'lx lx-map'}, root);
    var row = el('div', {'class': 'lx-row'}, box);
    var mapFig = el('figure', {'class': 'lx-panel lx-mapbox'}, row);
    var map = el('canvas', {'class': 'lx-map-canvas', tabindex: '0', role: 'slider',
                            'aria-label': 'latent point: drag it, tap the map, or use the ' +
                            'arrow keys', 'aria-valuemin': String(-E),
                            'aria-valuemax': String(E)}, mapFig);
    el('figcaption', {text: d.map_caption || 'codes of the test digits; rings: 1\u03c3 and ' +
                      '2\u03c3 of the prior'}, mapFig);
    var imgFig = el('figure', {'class': 'lx-panel lx-imagebox'}, row);
    var image = imageCanvas(model, imgFig, 'decoded image');
    el('figcaption', {text: d.image_caption || 'decoded at z'}, imgFig);
    if (labels) {
      var legend = el('div', {'class': 'lx-legend', 'aria-hidden': 'true'}, box);
      var seen = {};
      for (var k = 0; k < labels.length; k++) seen[labels[k]] = 1;
      Object.keys(seen).map(Number).sort(function (a, b) { return a - b; }).forEach(function (c) {
        var item = el('span', {'class': 'lx-key'}, legend);
        el('span', {'class': 'lx-swatch', style: 'background:' + TAB10[c % 10]}, item);
        item.appendChild(document.createTextNode(d.class_names ? d.class_names[c] : String(c)));
      });
    }
    var readout = el('output', {'class': 'lx-readout'}, box);
    el('p', {'class': 'lx-help', text: 'Drag the point or tap the map; on a keyboard, focus the ' +
             'map and use the arrow keys (Shift: larger steps, 0: back to the origin).'}, box);

    var ctx = map.getContext('2d'), background = document.createElement('canvas');
    var geo = null;

    function layout() {
      var size = sizeCanvas(map, ctx), m = {l: 30, r: 8, t: 8, b: 28};
      var side = Math.max(10, Math.min(size.w - m.l - m.r, size.h - m.t - m.b));
      geo = {size: size, l: m.l, t: m.t, side: side};
      geo.x = function (v) { return geo.l + (v + E) / (2 * E) * side; };
      geo.y = function (v) { return geo.t + (E - v) / (2 * E) * side; };
      var dpr = window.devicePixelRatio || 1;
      background.width = map.width;
      background.height = map.height;
      var b = background.getContext('2d');
      b.setTransform(dpr, 0, 0, dpr, 0, 0);
      var ink = textColour(map);
      b.strokeStyle = ink;
      b.fillStyle = ink;
      b.lineWidth = 1;
      b.globalAlpha = 0.5;
      b.strokeRect(geo.l, geo.t, side, side);
      b.globalAlpha = 1;
      b.font = '11px system-ui, sans-serif';
      b.textAlign = 'center';
      b.textBaseline = 'top';
      var tick = side < 280 ? 2 : 1;  // a label per unit where there is room (not on a phone)
      for (var v = Math.ceil(-E / tick) * tick; v <= E; v += tick) {
        b.fillText(fmt(v, 0), geo.x(v), geo.t + side + 4);
        b.fillRect(geo.x(v) - 0.5, geo.t + side, 1, 3);
      }
      b.textAlign = 'right';
      b.textBaseline = 'middle';
      for (v = Math.ceil(-E / tick) * tick; v <= E; v += tick) {
        b.fillText(fmt(v, 0), geo.l - 5, geo.y(v));
        b.fillRect(geo.l - 3, geo.y(v) - 0.5, 3, 1);
      }
      b.textAlign = 'center';
      b.fillText('z\u2081', geo.l + side / 2, geo.t + side + 20);
      b.save();
      b.translate(9, geo.t + side / 2);
      b.rotate(-Math.PI / 2);
      b.fillText('z\u2082', 0, 0);
      b.restore();
      b.save();
      b.beginPath();
      b.rect(geo.l, geo.t, side, side);
      b.clip();
      var r = Math.max(1.2, side / 220);
      b.globalAlpha = 0.6;
      for (var p = 0; p < points.length / 2; p++) {
        b.fillStyle = labels ? TAB10[labels[p] % 10] : ink;
        b.beginPath();
        b.arc(geo.x(points[2 * p]), geo.y(points[2 * p + 1]), r, 0, 2 * Math.PI);
        b.fill();
      }
      b.globalAlpha = 1;
      b.strokeStyle = ink;
      b.fillStyle = ink;
      b.setLineDash([5, 4]);
      b.lineWidth = 1.3;
      [1, 2].forEach(function (radius) {
        b.beginPath();
        b.arc(geo.x(0), geo.y(0), radius / (2 * E) * side, 0, 2 * Math.PI);
        b.stroke();
        var a = Math.PI / 4, lx = geo.x(radius * Math.cos(a)), ly = geo.y(radius * Math.sin(a));
        b.font = 'bold 12px system-ui, sans-serif';
        b.textAlign = 'left';
        b.textBaseline = 'bottom';
        b.fillText(radius + '\u03c3', lx + 3, ly - 1);
      });
      b.restore();
      paint();
    }

    function paint() {
      var s = geo.size;
      ctx.clearRect(0, 0, s.w, s.h);
      ctx.drawImage(background, 0, 0, s.w, s.h);
      var x = geo.x(z[0]), y = geo.y(z[1]), ink = textColour(map);
      ctx.save();
      ctx.globalAlpha = 0.35;
      ctx.strokeStyle = ink;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(geo.l, y); ctx.lineTo(geo.l + geo.side, y);
      ctx.moveTo(x, geo.t); ctx.lineTo(x, geo.t + geo.side);
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.beginPath();
      ctx.arc(x, y, 7, 0, 2 * Math.PI);
      ctx.lineWidth = 4;
      ctx.strokeStyle = '#fff';
      ctx.stroke();
      ctx.lineWidth = 2;
      ctx.strokeStyle = '#000';
      ctx.stroke();
      ctx.restore();
    }

    function where(radius) {
      if (radius < 1) return 'inside the 1\u03c3 ring';
      if (radius < 2) return 'between the 1\u03c3 and 2\u03c3 rings';
      return 'outside the 2\u03c3 ring, where the prior has 14 % of its mass';
    }

    function update(z1, z2) {
      z[0] = Math.max(-E, Math.min(E, z1));
      z[1] = Math.max(-E, Math.min(E, z2));
      image.draw(z);
      if (geo) paint();
      var radius = Math.sqrt(z[0] * z[0] + z[1] * z[1]);
      readout.textContent = 'z = (' + fmt(z[0]) + ', ' + fmt(z[1]) + ')   |z| = ' +
        fmt(radius) + ': ' + where(radius);
      map.setAttribute('aria-valuenow', String(z[0]));   // a 2-D slider: valuetext has both
      map.setAttribute('aria-valuetext', 'z1 ' + fmt(z[0]) + ', z2 ' + fmt(z[1]));
      root.dataset.z = JSON.stringify(z);
      root.dataset.updates = String(++updates);
    }

    function fromPointer(event) {
      var rect = map.getBoundingClientRect();
      var px = event.clientX - rect.left, py = event.clientY - rect.top;
      update((px - geo.l) / geo.side * 2 * E - E, E - (py - geo.t) / geo.side * 2 * E);
    }

    var dragging = null;
    map.addEventListener('pointerdown', function (event) {
      dragging = event.pointerId;
      if (map.setPointerCapture) {
        try { map.setPointerCapture(event.pointerId); } catch (e) { /* synthetic event */ }
      }
      map.focus({preventScroll: true});
      fromPointer(event);
      event.preventDefault();
    });
    map.addEventListener('pointermove', function (event) {
      if (dragging === event.pointerId) fromPointer(event);
    });
    ['pointerup', 'pointercancel', 'lostpointercapture'].forEach(function (type) {
      map.addEventListener(type, function (event) {
        if (dragging === event.pointerId) dragging = null;
      });
    });
    map.addEventListener('keydown', function (event) {
      var s = event.shiftKey ? 5 * step : step, k = event.key;
      if (k === 'ArrowLeft') update(z[0] - s, z[1]);
      else if (k === 'ArrowRight') update(z[0] + s, z[1]);
      else if (k === 'ArrowUp') update(z[0], z[1] + s);
      else if (k === 'ArrowDown') update(z[0], z[1] - s);
      else if (k === '0' || k === 'Home') update(0, 0);
      else return;
      event.preventDefault();
    });

    update(0, 0);
    layout();
    watchLayout(map, layout);
    return {update: update, z: z};
  }

  // ------------------------------------------------------------------ one slider per dimension

  function buildTraversal(root, models, entries) {
    var dim = models[0].latentDim, box = models[0].description.box || 3, updates = 0;
    models.forEach(function (m) {
      if (m.latentDim !== dim) throw new Error('the decoders have different latent sizes');
    });
    var z = new Float32Array(dim);
    // The images stick to the top of the window while the reader works the sliders; a
    // scrolling output box (myst-nb's overflow: auto) would trap them inside itself.
    var box0 = root.closest('.output');
    if (box0) box0.style.overflow = 'visible';
    var wrap = el('div', {'class': 'lx lx-traversal'}, root);
    var row = el('div', {'class': 'lx-row lx-images',
                         style: 'grid-template-columns: repeat(' + models.length +
                         ', minmax(0, 11rem))'}, wrap);
    var panels = models.map(function (model, k) {
      var fig = el('figure', {'class': 'lx-panel lx-imagebox'}, row);
      el('figcaption', {'class': 'lx-title', text: entries[k].title}, fig);
      var image = imageCanvas(model, fig, 'decoded image, ' + entries[k].title);
      var change = el('span', {'class': 'lx-change',
                               title: 'mean absolute pixel change from the image at z = 0'}, fig);
      return {image: image, change: change, origin: decode(model, new Float32Array(dim))};
    });
    // The sticky images need an opaque background: the one the explorer sits on (the theme
    // may give outputs a light box in dark mode), looked up again when the theme changes.
    function backdrop() {
      for (var a = root; a; a = a.parentElement) {
        var c = getComputedStyle(a).backgroundColor;
        if (c && c !== 'transparent' && !/rgba\(.*,\s*0\)$/.test(c)) {
          row.style.background = c;
          return;
        }
      }
    }
    backdrop();
    new MutationObserver(function () { setTimeout(backdrop, 50); })
      .observe(document.documentElement, {attributes: true, attributeFilter: ['data-theme']});
    var readout = el('output', {'class': 'lx-readout'}, wrap);
    var sliders = el('div', {'class': 'lx-sliders'}, wrap);
    var inputs = [];
    for (var j = 0; j < dim; j++) {
      var label = el('label', {'class': 'lx-slider'}, sliders);
      el('span', {'class': 'lx-dim', text: 'z' + (j + 1)}, label);
      var input = el('input', {type: 'range', min: String(-box), max: String(box),
                               step: '0.05', value: '0', 'data-dim': String(j),
                               'aria-label': 'latent dimension ' + (j + 1)}, label);
      var kl = models.map(function (m) {
        var v = m.description.kl_per_dim;
        return v ? fmt(v[j]) : null;
      });
      el('span', {'class': 'lx-value', text: fmt(0)}, label);
      if (kl.every(function (v) { return v !== null; })) {
        el('span', {'class': 'lx-kl', title: 'KL of this dimension, nats/image, per model',
                    text: 'KL ' + kl.join(' | ')}, label);
      }
      inputs.push(input);
    }
    var reset = el('button', {type: 'button', 'class': 'lx-reset',
                              text: 'all sliders to 0'}, wrap);
    el('p', {'class': 'lx-help', text: 'Each slider sets one coordinate of z for every ' +
             'decoder at once; the others stay where they are. KL: what that dimension ' +
             'costs each model, in nats per image (same order as the images).'}, wrap);

    function draw() {
      panels.forEach(function (p) {
        var pixels = p.image.draw(z), total = 0;
        for (var i = 0; i < pixels.length; i++) total += Math.abs(pixels[i] - p.origin[i]);
        p.change.textContent = 'change from z = 0: ' + fmt(total / pixels.length, 3);
      });
      var moved = [];
      for (var j = 0; j < dim; j++) if (z[j] !== 0) moved.push('z' + (j + 1) + ' = ' + fmt(z[j]));
      readout.textContent = moved.length ? moved.join(', ') + ' (others 0)' : 'z = 0';
      root.dataset.z = JSON.stringify(Array.prototype.slice.call(z));
      root.dataset.updates = String(++updates);
    }
    inputs.forEach(function (input) {
      input.addEventListener('input', function () {
        var j = Number(input.dataset.dim);
        z[j] = Number(input.value);
        input.parentNode.querySelector('.lx-value').textContent = fmt(z[j]);
        draw();
      });
    });
    reset.addEventListener('click', function () {
      inputs.forEach(function (input) {
        input.value = '0';
        input.parentNode.querySelector('.lx-value').textContent = fmt(0);
      });
      z.fill(0);
      draw();
    });
    draw();
    return {z: z, draw: draw};
  }

  // ------------------------------------------------------------------ wiring

  function watchLayout(node, callback) {
    var last = 0;
    function maybe() {
      var w = node.clientWidth;
      if (w && w !== last) { last = w; callback(); }
    }
    if (window.ResizeObserver) new ResizeObserver(maybe).observe(node);
    else window.addEventListener('resize', maybe);
    // the theme's light/dark switch changes the ink colour
    new MutationObserver(function () { last = 0; maybe(); })
      .observe(document.documentElement, {attributes: true, attributeFilter: ['data-theme']});
  }

  function hydrate(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = 'loading';
    var entries = JSON.parse(root.dataset.assets || '[]'), kind = root.dataset.kind;
    Promise.all(entries.map(function (e) { return loadAsset(e.src); })).then(function (models) {
      root.textContent = '';
      if (kind === 'map') buildMap(root, models[0], entries[0]);
      else if (kind === 'traversal') buildTraversal(root, models, entries);
      else throw new Error('unknown explorer kind ' + kind);
      root.dataset.ready = 'yes';
    }).catch(function (error) {
      root.textContent = '';
      var local = location.protocol === 'file:';
      el('p', {'class': 'latent-explorer-error', text: 'This explorer could not load its ' +
               'decoder (' + entries.map(function (e) { return e.src; }).join(', ') + '): ' +
               error.message + '.' + (local ? ' Browsers do not let a page opened from the ' +
               'disk read files; serve the book instead, e.g. python -m http.server -d ' +
               '_build/html, and open http://localhost:8000.' : '')}, root);
      root.dataset.ready = 'failed';
      console.warn('latent explorer:', error);
    });
  }

  function hydrateAll() {
    Array.prototype.forEach.call(document.querySelectorAll('.latent-explorer[data-assets]'),
                                 hydrate);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', hydrateAll);
  } else {
    hydrateAll();
  }
})();
