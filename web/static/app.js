// Progressive enhancement only: every control works without this file.
document.documentElement.classList.add("js");

// Region checkboxes apply at once (the form's "apply" button stays for keyboard users and no-JS readers).
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

// The search box: "/" reaches it from anywhere but a field; the home and browse pages focus it.
(function () {
  var box = document.getElementById("q");
  if (!box) return;
  function typingInAField(target) {
    if (target.tagName === "INPUT") return !/^(checkbox|radio|button|submit|reset)$/.test(target.type);
    return target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT";
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (typingInAField(event.target) || box.closest("[inert]")) return;  // inert: the filter drawer is open
    event.preventDefault();
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  });
  // Only where there is nothing to read yet: a page of results keeps its scroll position and the reader's place
  // (a screen reader starts at the top, Tab starts at the skip link), and a phone keeps its keyboard down.
  var browsing = document.body.classList.contains("search-page") && !box.value && !location.hash;
  if (browsing && !window.matchMedia("(pointer: coarse)").matches && document.activeElement === document.body) {
    box.focus({ preventScroll: true });
  }
})();

// The filter drawer on narrow screens: the "筛选" link down to the facets becomes a button that opens them over
// the page; Escape, "关闭" or a tap beside the drawer closes it, and focus returns to the button.
(function () {
  var link = document.querySelector("a.filter-toggle");
  var drawer = document.getElementById("filters");
  if (!link || !drawer) return;
  var narrow = window.matchMedia("(max-width: 860px)");
  var toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = link.className;
  toggle.innerHTML = link.innerHTML;
  toggle.setAttribute("aria-controls", "filters");
  toggle.setAttribute("aria-expanded", "false");
  link.replaceWith(toggle);

  var head = document.createElement("div");
  head.className = "drawer-head";
  head.innerHTML = '<h2 class="drawer-title" tabindex="-1">筛选</h2><button type="button" class="drawer-close">关闭</button>';
  drawer.prepend(head);
  var backdrop = document.createElement("div");
  backdrop.className = "drawer-backdrop";
  drawer.after(backdrop);
  // everything but the drawer, made inert while it is open, so Tab stays inside it
  var outside = document.querySelectorAll("body > :not(main), main > .search-layout > :not(#filters):not(.drawer-backdrop)");

  function setOpen(open) {
    document.documentElement.classList.toggle("drawer-open", open);
    drawer.classList.toggle("is-open", open);
    toggle.setAttribute("aria-expanded", String(open));
    outside.forEach(function (element) { element.inert = open; });
    if (open) {
      head.firstChild.focus();
    } else {
      toggle.focus();
    }
  }
  toggle.addEventListener("click", function () {
    if (narrow.matches) setOpen(!drawer.classList.contains("is-open"));
  });
  head.lastChild.addEventListener("click", function () { setOpen(false); });
  backdrop.addEventListener("click", function () { setOpen(false); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && drawer.classList.contains("is-open")) setOpen(false);
  });
  narrow.addEventListener("change", function () {
    if (!narrow.matches && drawer.classList.contains("is-open")) setOpen(false);
  });
})();
// 引用: a copy button beside each reference on the article page (the reference itself selects with one click).
document.querySelectorAll(".copy-citation").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    var text = document.getElementById(button.dataset.copy);
    var range = document.createRange();
    range.selectNodeContents(text);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var done = function () { button.textContent = "已复制"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text.textContent).then(done, function () {
        if (document.execCommand("copy")) { done(); }
      });
    } else if (document.execCommand("copy")) {
      done();
    }
  });
});
