(function () {
  "use strict";
  var C = window.ConsoleCharts, data = C.readData("overview-data");
  if (!data || !window.Chart) return;
  var T = data.text, L = data.labels;
  var sentiments = ["negative", "neutral", "positive"];
  var charts = {};
  function pointer(evt, els) { evt.native.target.style.cursor = els.length ? "pointer" : "default"; }

  charts.daily = new Chart(document.getElementById("chart-daily"), {
    data: {
      labels: data.days,
      datasets: [
        { type: "bar", label: T.volume, data: data.daily_volume, backgroundColor: C.pattern("dots", C.PALETTE[0]),
          borderColor: C.PALETTE[0], borderWidth: 1, yAxisID: "y" },
        { type: "line", label: T.mean_quality, data: data.daily_quality, borderColor: C.PALETTE[5],
          backgroundColor: C.PALETTE[5], pointStyle: "rectRot", pointRadius: 4, borderDash: [6, 3], yAxisID: "q", spanGaps: true }
      ]
    },
    options: {
      onHover: pointer,
      onClick: C.drill(function (i) { return data.conversations_url + "?" + data.bucket_queries[i]; }),
      scales: { y: { beginAtZero: true, title: { display: true, text: T.volume } },
                q: { position: "right", min: 1, max: 5, grid: { drawOnChartArea: false }, title: { display: true, text: T.mean_quality } } },
      plugins: { valueLabels: { enabled: data.days.length <= 31, datasets: [0], position: "base" } }
    }
  });

  charts.sentimentTime = new Chart(document.getElementById("chart-sentiment-time"), {
    type: "bar",
    data: {
      labels: data.days,
      datasets: sentiments.map(function (s) {
        return { label: L.sentiment[s], data: data.sentiment_daily[s], borderColor: C.SENTIMENT_COLOURS[s], borderWidth: 1,
                 backgroundColor: C.pattern(C.SENTIMENT_PATTERNS[s], C.SENTIMENT_COLOURS[s]) };
      })
    },
    options: {
      onHover: pointer,
      onClick: C.drill(function (i, d) {
        return data.conversations_url + "?" + data.bucket_queries[i] + "&sentiment=" + sentiments[d];
      }),
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } }
    }
  });

  charts.intents = new Chart(document.getElementById("chart-intents"), {
    type: "bar",
    data: {
      labels: data.intents.map(function (r) { return r[0]; }),
      datasets: [{ label: T.conversations, data: data.intents.map(function (r) { return r[1]; }),
                   backgroundColor: C.pattern("solid", C.PALETTE[0]) }]
    },
    options: {
      indexAxis: "y", onHover: pointer,
      onClick: C.drill(function (i) { return C.conversationsLink(data, "intent", data.intents[i][0]); }),
      plugins: { legend: { display: false }, valueLabels: { enabled: true } },
      scales: { x: { beginAtZero: true, grace: "10%" }, y: { ticks: { autoSkip: false } } }
    }
  });

  charts.sentiment = new Chart(document.getElementById("chart-sentiment"), {
    type: "bar",
    data: {
      labels: sentiments.map(function (s) { return L.sentiment[s]; }),
      datasets: [{ label: T.conversations, data: sentiments.map(function (s) { return data.sentiment[s]; }),
                   backgroundColor: sentiments.map(function (s) { return C.pattern(C.SENTIMENT_PATTERNS[s], C.SENTIMENT_COLOURS[s]); }),
                   borderColor: sentiments.map(function (s) { return C.SENTIMENT_COLOURS[s]; }), borderWidth: 1 }]
    },
    options: {
      onHover: pointer,
      onClick: C.drill(function (i) { return C.conversationsLink(data, "sentiment", sentiments[i]); }),
      plugins: { legend: { display: false }, valueLabels: { enabled: true } },
      scales: { y: { beginAtZero: true, grace: "10%" } }
    }
  });

  charts.quality = new Chart(document.getElementById("chart-quality"), {
    type: "bar",
    data: {
      labels: ["1", "2", "3", "4", "5"],
      datasets: [{ label: T.conversations, data: data.quality_hist, backgroundColor: C.pattern("cross", C.PALETTE[2]),
                   borderColor: C.PALETTE[2], borderWidth: 1 }]
    },
    options: {
      onHover: pointer,
      onClick: C.drill(function (i) { return C.conversationsLink(data, "quality", i + 1); }),
      plugins: { legend: { display: false }, valueLabels: { enabled: true } },
      scales: { y: { beginAtZero: true, grace: "10%" }, x: { title: { display: true, text: T.quality } } }
    }
  });

  charts.channels = new Chart(document.getElementById("chart-channels"), {
    type: "bar",
    data: {
      labels: data.channels.map(function (r) { return L.channel[r[0]] || r[0]; }),
      datasets: [{ label: T.conversations, data: data.channels.map(function (r) { return r[1]; }),
                   backgroundColor: data.channels.map(function (r, i) { return C.pattern(["solid", "hatch", "dots", "cross"][i % 4], C.PALETTE[(i + 3) % 8]); }),
                   borderColor: data.channels.map(function (r, i) { return C.PALETTE[(i + 3) % 8]; }), borderWidth: 1 }]
    },
    options: {
      onHover: pointer,
      onClick: C.drill(function (i) { return C.conversationsLink(data, "channel", data.channels[i][0]); }),
      plugins: { legend: { display: false }, valueLabels: { enabled: true } },
      scales: { y: { beginAtZero: true, grace: "10%" } }
    }
  });

  charts.agents = new Chart(document.getElementById("chart-agents"), {
    data: {
      labels: data.agents.map(function (a) { return a.name; }),
      datasets: [
        { type: "bar", label: T.volume, data: data.agents.map(function (a) { return a.volume; }),
          backgroundColor: C.pattern("dots", C.PALETTE[4]), borderColor: C.PALETTE[4], borderWidth: 1, yAxisID: "y" },
        { type: "line", label: T.mean_quality, data: data.agents.map(function (a) { return a.mean_quality; }),
          borderColor: C.PALETTE[5], backgroundColor: C.PALETTE[5], pointStyle: "rectRot", pointRadius: 5, showLine: false, yAxisID: "q" }
      ]
    },
    options: {
      onHover: pointer,
      onClick: C.drill(function (i) { return data.agent_url.replace("{id}", data.agents[i].id) + (data.filter_query ? "?" + data.filter_query : ""); }),
      scales: { y: { beginAtZero: true, grace: "10%", title: { display: true, text: T.volume } },
                q: { position: "right", min: 1, max: 5, grid: { drawOnChartArea: false }, title: { display: true, text: T.mean_quality } } },
      plugins: { valueLabels: { enabled: true, datasets: [0], position: "base" } }
    }
  });
  window.consoleCharts = charts;
})();
