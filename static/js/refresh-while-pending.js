// Pages that wait for a document (an invoice's PDF and e-invoice) include this script with the
// attribute data-refresh-while-pending. It asks for the same address every few seconds, without
// touching the page, and reloads the page once, when the answer no longer waits: the person
// reading is not interrupted by a reload every few seconds (which <meta http-equiv="refresh">
// did, against WCAG 2.2.1), and after ten minutes it stops asking.
(function () {
  "use strict";

  var DELAY = 5000;
  var MAX_TRIES = 120;
  var MARKER = "script[data-refresh-while-pending]";

  function stillPending(response) {
    var type = response.headers.get("Content-Type") || "";
    if (type.indexOf("text/html") !== 0) {
      return Promise.resolve(false);
    }
    return response.text().then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      return page.querySelector(MARKER) !== null;
    });
  }

  function ask(tries) {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(stillPending)
      .then(function (pending) {
        if (!pending) {
          window.location.reload();
        } else if (tries < MAX_TRIES) {
          window.setTimeout(ask, DELAY, tries + 1);
        }
      })
      .catch(function () {
        if (tries < MAX_TRIES) {
          window.setTimeout(ask, DELAY, tries + 1);
        }
      });
  }

  window.setTimeout(ask, DELAY, 1);
})();
