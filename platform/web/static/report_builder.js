// The report builder: offer only the conditions that suit the chosen field's type
// (text, number, yes/no, date…). The server checks every choice again and refuses a
// condition that does not apply, so this is only a convenience.
(function () {
  function fit(operators) {
    var form = operators.form;
    var field = form && form.elements[operators.name.replace(/_op$/, "_field")];
    if (!field) { return; }
    var chosen = field.options[field.selectedIndex];
    var type = chosen ? chosen.dataset.type : "";
    var firstFitting = null;
    Array.prototype.forEach.call(operators.options, function (option) {
      var fits = !type || option.dataset.types.split(" ").indexOf(type) >= 0;
      option.hidden = !fits;
      option.disabled = !fits;
      if (fits && !firstFitting) { firstFitting = option; }
    });
    var current = operators.options[operators.selectedIndex];
    if ((!current || current.disabled) && firstFitting) { operators.value = firstFitting.value; }
  }
  function start() {
    document.querySelectorAll("select[data-operators]").forEach(function (operators) {
      if (operators.dataset.fitted) { return; }
      operators.dataset.fitted = "1";
      var field = operators.form.elements[operators.name.replace(/_op$/, "_field")];
      if (field) { field.addEventListener("change", function () { fit(operators); }); }
      fit(operators);
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
