/* Shared Chart.js helpers for the console: colour-blind-safe palette, fill patterns
   (so series differ without colour), value labels drawn on the bars, drill-down clicks. */
(function () {
  "use strict";
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#882255"];
  var SENTIMENT_COLOURS = { negative: "#D55E00", neutral: "#999999", positive: "#0072B2" };

  function pattern(kind, colour) {
    var size = 10, c = document.createElement("canvas");
    c.width = size; c.height = size;
    var ctx = c.getContext("2d");
    ctx.fillStyle = colour; ctx.globalAlpha = kind === "solid" ? 1 : 0.35;
    ctx.fillRect(0, 0, size, size);
    ctx.globalAlpha = 1; ctx.strokeStyle = colour; ctx.fillStyle = colour; ctx.lineWidth = 2;
    if (kind === "hatch") {
      ctx.beginPath(); ctx.moveTo(0, size); ctx.lineTo(size, 0);
      ctx.moveTo(-2, 2); ctx.lineTo(2, -2); ctx.moveTo(size - 2, size + 2); ctx.lineTo(size + 2, size - 2); ctx.stroke();
    } else if (kind === "dots") {
      ctx.beginPath(); ctx.arc(size / 2, size / 2, 2, 0, 2 * Math.PI); ctx.fill();
    } else if (kind === "cross") {
      ctx.beginPath(); ctx.moveTo(0, size / 2); ctx.lineTo(size, size / 2); ctx.moveTo(size / 2, 0); ctx.lineTo(size / 2, size); ctx.stroke();
    }
    return ctx.createPattern(c, "repeat") || colour;
  }

  var SENTIMENT_PATTERNS = { negative: "hatch", neutral: "dots", positive: "solid" };

  /* Draws each bar's value at its end: readable without colour or hover. */
  var valueLabels = {
    id: "valueLabels",
    afterDatasetsDraw: function (chart, args, opts) {
      if (!opts || !opts.enabled) return;
      var ctx = chart.ctx;
      ctx.save();
      ctx.font = "11px system-ui, sans-serif";
      ctx.fillStyle = "#222";
      chart.data.datasets.forEach(function (ds, di) {
        var meta = chart.getDatasetMeta(di);
        if (meta.hidden || meta.type !== "bar" || (opts.datasets && opts.datasets.indexOf(di) < 0)) return;
        meta.data.forEach(function (bar, i) {
          var v = ds.data[i];
          if (v === null || v === undefined || v === 0) return;
          var horizontal = chart.options.indexAxis === "y";
          var text = opts.format ? opts.format(v) : String(v);
          var x, y;
          if (horizontal) { ctx.textAlign = "left"; ctx.textBaseline = "middle"; x = bar.x + 4; y = bar.y; }
          else if (opts.position === "base") {
            /* Inside the bar, just above the axis: clear of line markers drawn over the bars. */
            ctx.textAlign = "center"; ctx.textBaseline = "bottom"; x = bar.x; y = bar.base - 2;
          } else { ctx.textAlign = "center"; ctx.textBaseline = "bottom"; x = bar.x; y = bar.y - 2; }
          /* A white halo keeps the text readable over patterns, grid lines and markers. */
          ctx.lineWidth = 3; ctx.strokeStyle = "#fff"; ctx.lineJoin = "round";
          ctx.strokeText(text, x, y); ctx.fillText(text, x, y);
        });
      });
      ctx.restore();
    }
  };

  function drill(url) {
    return function (evt, elements) {
      if (!elements.length) return;
      var target = url(elements[0].index, elements[0].datasetIndex);
      if (target) window.location.href = target;
    };
  }

  function conversationsLink(data, key, value) {
    var q = data.filter_query ? data.filter_query + "&" : "";
    return data.conversations_url + "?" + q + key + "=" + encodeURIComponent(value);
  }

  if (window.Chart) {
    Chart.register(valueLabels);
    Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', 'PingFang SC', 'Microsoft YaHei', sans-serif";
    Chart.defaults.animation = false;  /* charts are drawn at once: screenshots and printouts see them */
    Chart.defaults.maintainAspectRatio = false;
  }
  window.ConsoleCharts = {
    PALETTE: PALETTE, SENTIMENT_COLOURS: SENTIMENT_COLOURS, SENTIMENT_PATTERNS: SENTIMENT_PATTERNS,
    pattern: pattern, drill: drill, conversationsLink: conversationsLink,
    readData: function (id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }
  };
})();
