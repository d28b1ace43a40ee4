/* The county dashboard: draws the charts described in #dashboard-data with Chart.js.
   Each bar or point leads to the list behind it (the same links as the tables below). */
(function () {
  "use strict";

  function linkAt(spec, elements) {
    if (!elements.length) return "";
    var hit = elements[0];
    var series = spec.series[hit.datasetIndex];
    return (series && series.links[hit.index]) || "";
  }

  function config(spec) {
    var bar = spec.kind === "bar";
    var stacked = spec.series.some(function (s) { return s.stack; });
    var valueAxis = {
      beginAtZero: !spec.reverse,
      stacked: stacked,
      ticks: { precision: 0 },
    };
    if (spec.percent) {
      valueAxis.max = 100;
      valueAxis.ticks.callback = function (v) { return v + "%"; };
    }
    if (spec.reverse) {
      valueAxis.reverse = true;
      valueAxis.min = 1;
      if (spec.suggestedMax) valueAxis.suggestedMax = spec.suggestedMax;
    }
    var categoryAxis = { stacked: stacked, ticks: { autoSkip: !bar } };
    return {
      type: spec.kind,
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (s) {
          return {
            label: s.label,
            data: s.data,
            backgroundColor: s.colour,
            borderColor: s.colour,
            stack: s.stack || undefined,
            tension: 0.2,
            pointRadius: 4,
            pointHoverRadius: 6,
            maxBarThickness: 22,
            minBarLength: bar ? 3 : undefined, // a zero is still a bar to point at
          };
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: bar ? "y" : "x",
        animation: false,
        scales: bar ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
        interaction: bar ? { mode: "nearest", intersect: true } : { mode: "nearest", intersect: false },
        plugins: {
          legend: { display: spec.series.length > 1, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var value = bar ? ctx.parsed.x : ctx.parsed.y;
                if (value === null || value === undefined) return ctx.dataset.label + ": -";
                return ctx.dataset.label + ": " + value + (spec.percent ? "%" : "");
              },
              afterLabel: function (ctx) {
                var tips = spec.series[ctx.datasetIndex].tips;
                return (tips && tips[ctx.dataIndex]) || "";
              },
            },
          },
        },
        onClick: function (event, elements) {
          var link = linkAt(spec, elements);
          if (link) window.location.href = link;
        },
        onHover: function (event, elements) {
          event.native.target.style.cursor = linkAt(spec, elements) ? "pointer" : "default";
        },
      },
    };
  }

  function draw() {
    var node = document.getElementById("dashboard-data");
    if (!node || !window.Chart) return;
    var style = window.getComputedStyle(document.body);
    window.Chart.defaults.color = style.getPropertyValue("--body-quiet-color").trim() || "#666";
    window.Chart.defaults.font.family = style.fontFamily;
    JSON.parse(node.textContent).charts.forEach(function (spec) {
      var canvas = document.querySelector('canvas[data-chart="' + spec.key + '"]');
      if (canvas) new window.Chart(canvas, config(spec));
    });
  }

  // A printed dashboard carries its tables too.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll(".dashboard-card details:not([hidden])").forEach(function (d) {
      d.open = true;
    });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
