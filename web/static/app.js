// Progressive enhancement only: every control works without this file.
// Region checkboxes apply at once (the form's "apply" button stays for keyboard users and no-JS readers).
document.documentElement.classList.add("js");
document.addEventListener("change", function (event) {
  var box = event.target;
  if (box.matches && box.matches(".facet-form input[type=checkbox]")) {
    // the box does what its name's link does: a city checked under the chosen province replaces it, and the
    // province checked over a chosen city widens to it (a submitted form keeps the narrowest of the two)
    var link = box.parentNode.querySelector("a.facet-toggle");
    if (link) window.location.assign(link.href);
    else box.form.submit();
  }
});
