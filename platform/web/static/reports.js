// Draw each report chart with Apache ECharts; a click on a bar, slice or point opens
// the drill-down list of the rows behind it. The table on the page has the same numbers.
// ECharts is loaded here, once, from the canvas's data-chart URL: a page htmx swaps in
// may run this file before a second script tag would have loaded. Content htmx loads
// later (a dashboard's tiles) is drawn when it arrives.
(function () {
  function drawAll() {
    document.querySelectorAll("[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) { return; }
      var option = JSON.parse(canvas.parentNode.querySelector(".chart-option").textContent);
      var chart = echarts.init(canvas);
      chart.setOption(option);
      chart.on("click", function (params) {
        if (params.data && params.data.drill) { window.location.href = params.data.drill; }
      });
      window.addEventListener("resize", function () { chart.resize(); });
      canvas.dataset.drawn = "1";
    });
  }
  function start() {
    var canvas = document.querySelector("[data-chart]:not([data-drawn])");
    if (!canvas) { return; }
    if (window.echarts) { drawAll(); return; }
    if (window.andonChartsLoading) { return; }  // drawAll runs when the library arrives
    window.andonChartsLoading = true;
    var script = document.createElement("script");
    script.src = canvas.dataset.chart;
    script.onload = drawAll;
    document.head.appendChild(script);
  }
  if (!window.andonChartsListening) {
    window.andonChartsListening = true;
    document.addEventListener("htmx:load", start);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
