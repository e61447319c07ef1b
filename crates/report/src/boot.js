// Draws every chart from the JSON embedded in the page, then records in
// #render-status how many were drawn and any error (a test reads it).
(function () {
  var status = document.getElementById("render-status");
  var errors = window.yardstickErrors || [];
  var drawn = 0;
  var specs = [];
  try {
    specs = JSON.parse(document.getElementById("yardstick-charts").textContent);
  } catch (e) {
    errors.push("chart data: " + e.message);
  }
  var instances = [];
  specs.forEach(function (spec) {
    try {
      var element = document.getElementById(spec.id);
      if (!element) { throw new Error("no element " + spec.id); }
      var chart = echarts.init(element, null, { renderer: "svg" });
      chart.setOption(spec.option);
      instances.push(chart);
      drawn += 1;
    } catch (e) {
      errors.push(spec.id + ": " + e.message);
      console.error("yardstick report: chart " + spec.id + " failed: " + e.message);
    }
  });
  window.addEventListener("resize", function () {
    instances.forEach(function (c) { c.resize(); });
  });
  if (status) {
    status.setAttribute("data-charts-drawn", String(drawn));
    status.setAttribute("data-errors", String(errors.length));
    status.textContent = errors.length === 0
      ? drawn + " charts drawn"
      : drawn + " charts drawn, errors: " + errors.join("; ");
  }
})();
