// The dashboard's only script (served from this server; the CSP allows no other). Forms that act on other
// people's messages ask before they go.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
