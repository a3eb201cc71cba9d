// The entry page inside Telegram: Telegram puts the Mini App's signed initData in the address's fragment
// (#tgWebAppData=...). It is sent to this server, which checks Telegram's signature, and the page moves on to
// where the server says. No telegram.org script: nothing is loaded from elsewhere (the CSP allows nothing else).
"use strict";
(function () {
  var data = new URLSearchParams(window.location.hash.slice(1)).get("tgWebAppData");
  if (!data) {
    return;
  }
  var waiting = document.getElementById("signing-in");
  if (waiting) {
    waiting.hidden = false;
  }
  // The fragment leaves the address bar and the history: it is a credential until it goes stale.
  window.history.replaceState(null, "", window.location.pathname);
  function go(next) {
    var ours = typeof next === "string" && next.indexOf("/dashboard/") === 0 && next.indexOf("//") === -1;
    window.location.replace(ours ? next : "/dashboard/refused?why=telegram");
  }
  fetch("/dashboard/auth/telegram", {
    method: "POST",
    credentials: "same-origin",
    headers: {"Content-Type": "text/plain;charset=UTF-8"},
    body: data
  }).then(function (response) {
    return response.json();
  }).then(function (answer) {
    go(answer.next);
  }).catch(function () {
    go("/dashboard/refused?why=telegram");
  });
})();
