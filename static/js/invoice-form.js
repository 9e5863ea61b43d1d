// The invoice draft form, improved when JavaScript runs: rows are added in place, and the
// totals and VAT breakdown follow the typing. The server computes them (POST to the preview
// URL, which answers an HTML fragment); this script does no arithmetic. Without it the form
// works the same through its "Add a line" and "Update the totals" buttons.
(function () {
  "use strict";

  var form = document.querySelector("form[data-invoice-form]");
  if (!form) {
    return;
  }
  var previewUrl = form.getAttribute("data-preview-url");
  var rows = form.querySelector("[data-lines]");
  var template = form.querySelector("template[data-line-template]");
  var totalForms = form.querySelector("input[name$='-TOTAL_FORMS']");
  var maxForms = form.querySelector("input[name$='-MAX_NUM_FORMS']");
  var totals = form.querySelector("[data-totals]");
  var announce = form.querySelector("[data-totals-announce]");
  var addButton = form.querySelector("[data-add-line]");
  var recalculateButton = form.querySelector("[data-recalculate]");
  var ZERO_RATE_CATEGORIES = ["Z", "E", "AE", "K"];
  var DELAY = 300;
  var timer = null;
  var pending = null;
  var sequence = 0;

  if (recalculateButton && previewUrl) {
    recalculateButton.hidden = true;
  }

  function addLine() {
    var index = parseInt(totalForms.value, 10);
    if (maxForms && index >= parseInt(maxForms.value, 10)) {
      return;
    }
    var html = template.innerHTML
      .replace(/__prefix__/g, String(index))
      .replace(/__number__/g, String(index + 1));
    rows.insertAdjacentHTML("beforeend", html);
    totalForms.value = String(index + 1);
    var added = rows.lastElementChild;
    var description = added && added.querySelector("input[name$='-description']");
    if (description) {
      description.focus();
    }
  }

  if (addButton && template && rows && totalForms) {
    addButton.addEventListener("click", function (event) {
      event.preventDefault();
      addLine();
    });
  }

  // A zero-rated category always goes with 0 %; back to standard, 21 % is the usual rate.
  function matchRateToCategory(select) {
    var row = select.closest("[data-line-row]");
    var rate = row && row.querySelector("select[name$='-vat_rate']");
    if (!rate) {
      return;
    }
    if (ZERO_RATE_CATEGORIES.indexOf(select.value) !== -1) {
      rate.value = "0.00";
    } else if (select.value === "S" && rate.value === "0.00") {
      rate.value = "21.00";
    }
  }

  function refreshTotals() {
    if (!previewUrl || !totals) {
      return;
    }
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    var current = ++sequence;
    fetch(previewUrl, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
      signal: pending.signal,
    })
      .then(function (response) {
        // A signed-out session is redirected to the sign-in page: keep the last totals.
        if (!response.ok || response.redirected) {
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null || current !== sequence) {
          return;
        }
        totals.innerHTML = html;
        var summary = totals.querySelector("[data-summary]");
        if (announce && summary) {
          announce.textContent = summary.getAttribute("data-summary");
        }
      })
      .catch(function (error) {
        if (error.name !== "AbortError") {
          // The server-side button still works: show it again.
          if (recalculateButton) {
            recalculateButton.hidden = false;
          }
        }
      });
  }

  function scheduleRefresh() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refreshTotals, DELAY);
  }

  form.addEventListener("input", scheduleRefresh);
  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target.name && /-vat_category$/.test(target.name)) {
      matchRateToCategory(target);
    }
    scheduleRefresh();
  });
})();
