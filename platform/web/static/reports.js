// Draw each report chart with Apache ECharts; a click on a bar, slice or point opens
// the drill-down list of the rows behind it. The table on the page has the same numbers.
(function () {
  function draw() {
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
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); }
  else { draw(); }
  document.addEventListener("htmx:afterSettle", draw);
})();
