/* One team's trend: volume bars (dotted) with the mean quality line (squares) per day, week or month. */
(function () {
  "use strict";
  var C = window.ConsoleCharts, data = C.readData("team-data");
  if (!data || !window.Chart) return;
  var T = data.text;
  window.teamChart = new Chart(document.getElementById("chart-team-trend"), {
    data: {
      labels: data.labels,
      datasets: [
        { type: "bar", label: T.volume, data: data.volume, backgroundColor: C.pattern("dots", C.PALETTE[4]),
          borderColor: C.PALETTE[4], borderWidth: 1, yAxisID: "y" },
        { type: "line", label: T.mean_quality, data: data.mean_quality, borderColor: C.PALETTE[0], backgroundColor: C.PALETTE[0],
          pointStyle: "rect", pointRadius: 4, spanGaps: true, yAxisID: "q" }
      ]
    },
    options: {
      scales: { y: { beginAtZero: true, title: { display: true, text: T.volume } },
                q: { position: "right", min: 1, max: 5, grid: { drawOnChartArea: false }, title: { display: true, text: T.mean_quality } } },
      plugins: { valueLabels: { enabled: data.labels.length <= 31, datasets: [0], position: "base" } }
    }
  });
})();
