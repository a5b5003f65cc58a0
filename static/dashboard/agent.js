(function () {
  "use strict";
  var C = window.ConsoleCharts, data = C.readData("agent-data");
  if (!data || !window.Chart) return;
  var T = data.text;
  function link(i) { return data.conversations_url + "?" + data.filter_query + "&date=" + data.days[i]; }
  window.agentCharts = {
    quality: new Chart(document.getElementById("chart-agent-quality"), {
      data: {
        labels: data.days,
        datasets: [
          { type: "line", label: T.mean_quality, data: data.mean_quality, borderColor: C.PALETTE[0], backgroundColor: C.PALETTE[0],
            pointStyle: "rect", pointRadius: 4, spanGaps: true, yAxisID: "q" },
          { type: "line", label: T.team_mean_quality, data: data.team_mean_quality, borderColor: C.PALETTE[5], backgroundColor: C.PALETTE[5],
            borderDash: [6, 4], pointStyle: "triangle", pointRadius: 4, spanGaps: true, yAxisID: "q" },
          { type: "bar", label: T.volume, data: data.volume, backgroundColor: C.pattern("dots", C.PALETTE[4]), borderColor: C.PALETTE[4], borderWidth: 1, yAxisID: "y" }
        ]
      },
      options: {
        onClick: C.drill(link),
        scales: { q: { position: "left", min: 1, max: 5, title: { display: true, text: T.mean_quality } },
                  y: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: T.volume } } },
        plugins: { valueLabels: { enabled: data.days.length <= 31, datasets: [2], position: "base" } }
      }
    }),
    negative: new Chart(document.getElementById("chart-agent-negative"), {
      type: "bar",
      data: { labels: data.days, datasets: [{ label: T.negative_share, data: data.negative_share.map(function (v) { return v === null ? null : Math.round(v * 1000) / 10; }),
        backgroundColor: C.pattern("hatch", C.SENTIMENT_COLOURS.negative), borderColor: C.SENTIMENT_COLOURS.negative, borderWidth: 1 }] },
      options: {
        onClick: C.drill(function (i) { return link(i) + "&sentiment=negative"; }),
        layout: { padding: { top: 18 } },  /* room for the "100%" label above a full bar */
        scales: { y: { beginAtZero: true, max: 100, title: { display: true, text: "%" } } },
        plugins: { legend: { display: false }, valueLabels: { enabled: data.days.length <= 31, format: function (v) { return v + "%"; } } }
      }
    })
  };
})();
