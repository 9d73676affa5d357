// Progressive enhancement only: every control works without this file.
// Region checkboxes apply at once (the form's "apply" button stays for keyboard users and no-JS readers).
document.documentElement.classList.add("js");
document.addEventListener("change", function (event) {
  var box = event.target;
  if (box.matches && box.matches(".facet-form input[type=checkbox]")) {
    box.form.submit();
  }
});
