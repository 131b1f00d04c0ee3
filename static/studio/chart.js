// A small SVG line chart for one metric, drawn by hand (no library, no CDN).
//
//   var chart = new StudioChart(container, "train:loss");
//   chart.add([{at: "2026-01-01T00:00:00Z", value: 0.7}, ...]);   // appends and redraws
//   chart.reset([...]);                                             // replaces and redraws
//
// x is the point's step (1, 2, ...): metrics are usually printed once per epoch or round, and a
// fast job prints them all within a second, where a time axis would pile them up.
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

  StudioChart.prototype.draw = function () {
    var points = this.points, svg = this.svg;
    this.figure.dataset.points = String(points.length);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    if (!points.length) return;

    var values = points.map(function (p) { return p.value; });
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    if (lo === hi) { lo -= Math.abs(lo) * 0.1 || 1; hi += Math.abs(hi) * 0.1 || 1; }
    var span = hi - lo;
    lo -= span * 0.05; hi += span * 0.05;
    var steps = Math.max(points.length - 1, 1);
    var plotW = W - PAD.left - PAD.right, plotH = H - PAD.top - PAD.bottom;
    var x = function (i) { return PAD.left + (points.length === 1 ? plotW / 2 : (i / steps) * plotW); };
    var y = function (v) { return PAD.top + (1 - (v - lo) / (hi - lo)) * plotH; };

    // Grid and y labels at four levels.
    for (var k = 0; k <= 3; k++) {
      var v = lo + ((hi - lo) * k) / 3, gy = y(v);
      svg.appendChild(el("line", { x1: PAD.left, x2: W - PAD.right, y1: gy, y2: gy, class: "chart-grid" }));
      svg.appendChild(el("text", { x: PAD.left - 6, y: gy + 4, "text-anchor": "end", class: "chart-axis" }, label(v)));
    }
    svg.appendChild(el("text", { x: PAD.left, y: H - 6, class: "chart-axis" }, "1"));
    svg.appendChild(el("text", { x: W - PAD.right, y: H - 6, "text-anchor": "end", class: "chart-axis" },
      "step " + points.length));

    var d = points.map(function (p, i) {
      return (i ? "L" : "M") + x(i).toFixed(1) + " " + y(p.value).toFixed(1);
    }).join(" ");
    var area = d + " L" + x(points.length - 1).toFixed(1) + " " + (PAD.top + plotH) +
      " L" + x(0).toFixed(1) + " " + (PAD.top + plotH) + " Z";
    svg.appendChild(el("path", { d: area, class: "chart-area" }));
    svg.appendChild(el("path", { d: d, class: "chart-line" }));
    var lastPoint = points[points.length - 1];
    var dot = el("circle", { cx: x(points.length - 1), cy: y(lastPoint.value), r: 3.5, class: "chart-dot" });
    dot.appendChild(el("title", {}, this.name + " = " + lastPoint.value + " at " + lastPoint.at));
    svg.appendChild(dot);
    this.last.textContent = label(lastPoint.value);
  };

  window.StudioChart = StudioChart;
})();
