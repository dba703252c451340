/* The back-office dashboard: draws each chart from the JSON the server put in the page.
 *
 * Every chart is a <canvas data-chart="NAME"> with its data in
 * <script type="application/json" id="chart-NAME-data">. Without JavaScript, or when a
 * period has no data (no canvas then), the page still shows the tables and messages.
 */
(function () {
  "use strict";

  // Colour-blind-safe hues (Okabe–Ito based), one meaning each across all charts.
  var COLOURS = {
    pending: "#E69F00",
    initialized: "#E69F00",
    open: "#E69F00",
    created: "#E69F00",
    processing: "#56B4E9",
    sending: "#56B4E9",
    in_progress: "#56B4E9",
    retrieved: "#56B4E9",
    accepted: "#009E73",
    confirmed: "#009E73",
    succeeded: "#009E73",
    identified: "#009E73",
    completed: "#0072B2",
    declined: "#D55E00",
    rejected: "#D55E00",
    inconclusive: "#8C6BB1",
    canceled: "#8A8F98",
    expired: "#CC79A7",
    failed: "#B2182B",
    dead: "#B2182B"
  };
  var FUNNEL = ["#0B4F8A", "#1F6FB2", "#3A8DD0", "#62A8E0", "#009E73"];

  function colour(key) {
    return COLOURS[String(key).toLowerCase()] || "#4C566A";
  }

  function readData(name) {
    var node = document.getElementById("chart-" + name + "-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function shortDay(iso) {
    // "2026-11-23" -> "23 Nov", without time-zone shifts.
    var parts = iso.split("-");
    var date = new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2]));
    return date.toLocaleDateString(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
  }

  function nonEmptySeries(series) {
    return series.filter(function (item) {
      return item.counts.some(function (count) { return count > 0; });
    });
  }

  var integerAxis = { beginAtZero: true, ticks: { precision: 0 } };

  var BUILDERS = {
    activities: function (data) {
      return {
        type: "bar",
        data: {
          labels: data.labels.map(shortDay),
          datasets: nonEmptySeries(data.series).map(function (item) {
            return { label: item.label, data: item.counts, backgroundColor: colour(item.key), borderRadius: 2 };
          })
        },
        options: {
          scales: {
            x: { stacked: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
            y: Object.assign({ stacked: true }, integerAxis)
          },
          plugins: { tooltip: { mode: "index", intersect: false } }
        }
      };
    },
    verifications: function (data) {
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: nonEmptySeries(data.series).map(function (item) {
            return { label: item.label, data: item.counts, backgroundColor: colour(item.key), borderRadius: 2 };
          })
        },
        options: {
          indexAxis: "y",
          scales: { x: Object.assign({ stacked: true }, integerAxis), y: { stacked: true, grid: { display: false } } },
          plugins: { tooltip: { mode: "index", intersect: false } }
        }
      };
    },
    identifications: function (data, title) {
      var items = data.stages.concat(data.outcomes);
      return {
        type: "bar",
        data: {
          labels: items.map(function (item) { return item.label; }),
          datasets: [{
            label: title,
            data: items.map(function (item) { return item.count; }),
            backgroundColor: data.stages.map(function (_, index) { return FUNNEL[index] || FUNNEL[0]; })
              .concat(data.outcomes.map(function (item) { return colour(item.key); })),
            borderRadius: 2
          }]
        },
        options: {
          indexAxis: "y",
          scales: { x: integerAxis, y: { grid: { display: false } } },
          plugins: { legend: { display: false } }
        }
      };
    },
    sessions: function (data) {
      return doughnut(data.outcomes, function (item) {
        return item.rate === null ? "" : " (" + item.rate + "%)";
      });
    },
    webhooks: function (data) {
      return doughnut(data.statuses, function () { return ""; });
    }
  };

  function doughnut(items, suffix) {
    return {
      type: "doughnut",
      data: {
        // The legend carries the numbers: no need to hover to read them.
        labels: items.map(function (item) { return item.label + " · " + item.count + suffix(item); }),
        datasets: [{
          data: items.map(function (item) { return item.count; }),
          backgroundColor: items.map(function (item) { return colour(item.key); }),
          borderColor: cssVar("--body-bg", "#fff"),
          borderWidth: 2
        }]
      },
      options: {
        cutout: "60%",
        // Legend beside the ring where there is room, under it on a phone.
        onResize: function (chart, size) {
          var position = size.width < 480 ? "bottom" : "right";
          if (chart.options.plugins.legend.position !== position) {
            chart.options.plugins.legend.position = position;
            chart.update("none");
          }
        },
        plugins: {
          legend: { position: window.innerWidth < 768 ? "bottom" : "right" },
          tooltip: {
            callbacks: {
              label: function (context) {
                return " " + context.label;
              }
            }
          }
        }
      }
    };
  }

  function draw() {
    if (typeof window.Chart === "undefined") {
      return; // the tables in <details> remain
    }
    var Chart = window.Chart;
    Chart.defaults.color = cssVar("--body-quiet-color", "#666");
    Chart.defaults.borderColor = cssVar("--hairline-color", "#e8e8e8");
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.plugins.legend.labels.boxWidth = 12;
    Chart.defaults.plugins.legend.labels.boxHeight = 12;

    var canvases = document.querySelectorAll("canvas[data-chart]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var name = canvas.getAttribute("data-chart");
      var data = readData(name);
      var build = BUILDERS[name];
      if (!data || !build || !data.total) {
        return;
      }
      var heading = canvas.closest("section") && canvas.closest("section").querySelector("h2");
      new Chart(canvas, build(data, heading ? heading.textContent.trim() : ""));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
