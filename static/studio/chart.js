// A small SVG line chart for one metric, drawn by hand (no library, no CDN).
//
//   var chart = new StudioChart(container, "train:loss");
//   chart.add([{at: "2026-01-01T00:00:00Z", value: 0.7}, ...]);   // appends and redraws
//   chart.reset([...]);                                             // replaces and redraws
//
// x is the point's step (1, 2, ...): metrics are usually printed once per epoch or round, and a
// fast job prints them all within a second, where a time axis would pile them up. y runs over
// the data's own range (see yScale); a single value is written out, and no value says so.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var W = 360, H = 180;
  var PAD = { left: 52, right: 12, top: 12, bottom: 26 };

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function label(value) {
    if (value === 0) return "0";
    var magnitude = Math.abs(value);
    if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(2);
    return String(Number(value.toPrecision(4)));
  }

  function StudioChart(container, name) {
    this.name = name;
    this.points = [];
    this.figure = document.createElement("figure");
    this.figure.className = "chart";
    this.figure.dataset.metric = name;
    var caption = document.createElement("figcaption");
    var title = document.createElement("span");
    title.className = "chart-name";
    title.textContent = name;
    this.last = document.createElement("span");
    this.last.className = "chart-last";
    caption.appendChild(title);
    caption.appendChild(this.last);
    this.svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": name });
    this.figure.appendChild(caption);
    this.figure.appendChild(this.svg);
    // Charts stay in name order however their first points arrive.
    var next = Array.prototype.find.call(container.children, function (c) {
      return c.dataset.metric > name;
    });
    container.insertBefore(this.figure, next || null);
  }

  StudioChart.prototype.reset = function (points) {
    this.points = [];
    this.add(points);
  };

  StudioChart.prototype.add = function (points) {
    var self = this;
    points.forEach(function (p) {
      if (typeof p.value === "number" && isFinite(p.value)) self.points.push(p);
    });
    this.draw();
  };

  // A step of 1, 2 or 5 times a power of ten, about `span / count` long: ticks a reader can add.
  function niceStep(span, count) {
    var raw = span / count;
    var power = Math.pow(10, Math.floor(Math.log10(raw)));
    var scaled = raw / power;
    return (scaled <= 1.5 ? 1 : scaled <= 3 ? 2 : scaled <= 7 ? 5 : 10) * power;
  }

  // The y range for `values`: the data's own, padded a little, never past the bounds the values
  // keep to (a series that is never negative gets no negative ticks; one within [0, 1], an
  // accuracy or a ratio, no tick above 1), then widened to whole steps. A constant series is
  // given a range around its value rather than none.
  function yScale(values) {
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    var pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.1 || 1;
    var floor = lo >= 0 ? 0 : -Infinity;
    var ceiling = lo >= 0 && hi <= 1 ? 1 : Infinity;
    lo = Math.max(floor, lo - pad);
    hi = Math.min(ceiling, hi + pad);
    var step = niceStep(hi - lo, 3);
    // Rounded to the step's decimals, so that 0.1 * 3 reads 0.3 and not 0.30000000000000004.
    var decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
    var round = function (v) { return Number(v.toFixed(decimals)); };
    lo = Math.max(floor, round(Math.floor(lo / step) * step));
    hi = Math.min(ceiling, round(Math.ceil(hi / step) * step));
    var ticks = [];
    for (var t = lo; t <= hi + step / 2; t += step) ticks.push(round(t));
    return { lo: lo, hi: hi, ticks: ticks };
  }

  // Steps 1..count, in whole steps of 1, 2, 5, 10, ... so that the labels never crowd; the last
  // step is always labelled (it replaces a tick too close to it).
  function xTicks(count) {
    var step = Math.max(1, niceStep(Math.max(count - 1, 1), 5));
    var ticks = [1];
    for (var t = step; t < count; t += step) if (t > 1) ticks.push(t);
    if (count > 1) {
      if (count - ticks[ticks.length - 1] <= step / 2 && ticks.length > 1) ticks.pop();
      ticks.push(count);
    }
    return ticks;
  }

  StudioChart.prototype.draw = function () {
    var points = this.points, svg = this.svg;
    this.figure.dataset.points = String(points.length);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var plotW = W - PAD.left - PAD.right, plotH = H - PAD.top - PAD.bottom;
    if (!points.length) {
      this.last.textContent = "";
      svg.appendChild(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "chart-note" },
        "No values logged yet"));
      return;
    }

    var scale = yScale(points.map(function (p) { return p.value; }));
    var count = points.length;
    // One point sits in the middle: there is no run of steps to spread over.
    var x = function (step) {
      return PAD.left + (count === 1 ? plotW / 2 : ((step - 1) / (count - 1)) * plotW);
    };
    var y = function (v) { return PAD.top + (1 - (v - scale.lo) / (scale.hi - scale.lo)) * plotH; };

    scale.ticks.forEach(function (v) {
      var gy = y(v);
      svg.appendChild(el("line", { x1: PAD.left, x2: W - PAD.right, y1: gy, y2: gy, class: "chart-grid" }));
      svg.appendChild(el("text", { x: PAD.left - 6, y: gy + 4, "text-anchor": "end", class: "chart-axis chart-y" },
        label(v)));
    });
    var xs = count === 1 ? [1] : xTicks(count);
    xs.forEach(function (step, i) {
      var anchor = count === 1 ? "middle" : i === 0 ? "start" : step === count ? "end" : "middle";
      svg.appendChild(el("text", { x: x(step), y: H - 9, "text-anchor": anchor, class: "chart-axis chart-x" },
        String(step)));
    });
    // The x axis's unit, in the corner under the y labels.
    svg.appendChild(el("text", { x: PAD.left - 6, y: H - 9, "text-anchor": "end", class: "chart-axis" }, "step"));

    var lastPoint = points[count - 1];
    if (count > 1) {
      var d = points.map(function (p, i) {
        return (i ? "L" : "M") + x(i + 1).toFixed(1) + " " + y(p.value).toFixed(1);
      }).join(" ");
      var base = (PAD.top + plotH).toFixed(1);
      var area = d + " L" + x(count).toFixed(1) + " " + base + " L" + x(1).toFixed(1) + " " + base + " Z";
      svg.appendChild(el("path", { d: area, class: "chart-area" }));
      svg.appendChild(el("path", { d: d, class: "chart-line" }));
    }
    var dot = el("circle", { cx: x(count), cy: y(lastPoint.value), r: count === 1 ? 5 : 3.5, class: "chart-dot" });
    dot.appendChild(el("title", {}, this.name + " = " + lastPoint.value + " at " + lastPoint.at));
    svg.appendChild(dot);
    if (count === 1) {
      // A lone dot says little: write its value beside it, and that it is the only one.
      svg.appendChild(el("text", { x: x(1), y: y(lastPoint.value) - 10, "text-anchor": "middle",
        class: "chart-point-label" }, label(lastPoint.value)));
      svg.appendChild(el("text", { x: W - PAD.right, y: PAD.top + 10, "text-anchor": "end", class: "chart-note" },
        "one value logged"));
    }
    this.last.textContent = label(lastPoint.value);
  };

  window.StudioChart = StudioChart;
})();
