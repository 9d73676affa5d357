// The trends chart (Chart.js, vendored): drawn from the same data as the table beside it. Clicking a point, or
// Enter on the focused chart, opens the search that point counts. Without JavaScript the table is the page.
(function () {
  var data = document.getElementById("trend-data");
  var canvas = document.getElementById("trend-canvas");
  if (!data || !canvas || typeof Chart === "undefined") return;
  var result = JSON.parse(data.textContent);
  var colours = ["#b5472f", "#2f6db5", "#3f8f4a", "#8a5ab5", "#c08a1e", "#4a4a4a"];
  var share = result.norm === "share";
  var chart = new Chart(canvas, {
    type: "line",
    data: {
      labels: result.periods.map(function (p) { return p.label; }),
      datasets: result.series.map(function (s, n) {
        return {
          label: s.q,
          data: s.values,
          borderColor: colours[n % colours.length],
          backgroundColor: colours[n % colours.length],
          pointRadius: result.periods.length > 60 ? 2 : 3,
          pointHoverRadius: 6,
          borderWidth: 2,
          tension: 0,
          spanGaps: false
        };
      })
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "nearest", intersect: false },
      scales: {
        y: { beginAtZero: true, title: { display: true, text: share ? "每万篇文章中的篇数" : "篇数" } }
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: function (item) {
              var s = result.series[item.datasetIndex];
              var count = s.counts[item.dataIndex];
              return s.q + "：" + (share ? (item.raw === null ? "—" : item.raw) + "（" + count + " 篇）" : count + " 篇");
            }
          }
        }
      },
      onClick: function (event, elements) {
        if (elements.length) open(elements[0].datasetIndex, elements[0].index);
      }
    }
  });
  canvas.dataset.ready = "true";  // for the browser tests: the chart is drawn

  function open(series, index) {
    var url = result.series[series].search_urls[index];
    if (url) window.location.href = url;
  }

  // Keyboard: arrows pick a period (left/right) and a query (up/down), Enter opens its search.
  var at = { series: 0, index: 0 };
  function show() {
    var active = [{ datasetIndex: at.series, index: at.index }];
    chart.setActiveElements(active);
    chart.tooltip.setActiveElements(active, { x: 0, y: 0 });
    chart.update();
  }
  canvas.addEventListener("keydown", function (event) {
    var periods = result.periods.length, queries = result.series.length;
    if (!periods) return;
    if (event.key === "ArrowRight") at.index = Math.min(periods - 1, at.index + 1);
    else if (event.key === "ArrowLeft") at.index = Math.max(0, at.index - 1);
    else if (event.key === "ArrowDown") at.series = (at.series + 1) % queries;
    else if (event.key === "ArrowUp") at.series = (at.series + queries - 1) % queries;
    else if (event.key === "Home") at.index = 0;
    else if (event.key === "End") at.index = periods - 1;
    else if (event.key === "Enter") { open(at.series, at.index); return; }
    else return;
    event.preventDefault();
    show();
  });
  canvas.addEventListener("focus", show);
})();
