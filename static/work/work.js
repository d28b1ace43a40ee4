// Workbench: no framework. A form is sent once per tap (the server also keeps each form's
// key, so a resend never makes a second record); the position is added only when asked.
document.addEventListener("submit", function (e) {
  var form = e.target;
  if (!form.hasAttribute("data-once")) return;
  if (form.dataset.sent) { e.preventDefault(); return; }
  form.dataset.sent = "1";
  var button = form.querySelector("button[type=submit]");
  if (button) { setTimeout(function () { button.disabled = true; }, 0); }
});
document.addEventListener("click", function (e) {
  var button = e.target.closest("[data-locate]");
  if (!button || !navigator.geolocation) return;
  var form = button.form, out = form.querySelector("[data-position]");
  navigator.geolocation.getCurrentPosition(function (p) {
    form.elements.latitude.value = p.coords.latitude.toFixed(6);
    form.elements.longitude.value = p.coords.longitude.toFixed(6);
    if (out) out.textContent = form.elements.latitude.value + ", " + form.elements.longitude.value;
  }, function () { if (out) out.textContent = button.dataset.fail; }, {timeout: 10000});
});
