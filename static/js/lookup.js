// Look-up fields of the space managers' forms (a member, an Activity, an outside organisation),
// improved when JavaScript runs: the matches are offered as one types, from the field's
// data-lookup-url, and choosing one writes its text into the field. That text (an e-mail
// address, or a number after "#") names one row, which the server resolves as it resolves
// whatever is typed without this script. A field with data-lookup-fills names a <select> that
// the chosen member's Activities fill (the lease form).
(function () {
  "use strict";

  var DELAY = 250;
  var MIN_LETTERS = 3;

  function worthAsking(text) {
    return text.length >= MIN_LETTERS || /^#?\d+$/.test(text);
  }

  function fillActivities(select, activities) {
    while (select.options.length > 1) {
      select.remove(1);
    }
    activities.forEach(function (activity) {
      select.add(new Option(activity.label, String(activity.pk)));
    });
    if (activities.length === 1) {
      select.selectedIndex = 1;
    }
  }

  function setUp(input) {
    var url = input.getAttribute("data-lookup-url");
    var fills = input.getAttribute("data-lookup-fills");
    var list = document.createElement("ul");
    var timer = null;
    var sequence = 0;
    var results = [];
    var active = -1;

    list.id = input.id + "-matches";
    list.className = "lookup-matches";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      if (!options.length) {
        return;
      }
      active = (index + options.length) % options.length;
      options.forEach(function (option, position) {
        option.setAttribute("aria-selected", position === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    }

    function choose(index) {
      var result = results[index];
      if (!result) {
        return;
      }
      input.value = result.text;
      close();
      var select = fills && document.getElementById(fills);
      if (select && result.activities) {
        fillActivities(select, result.activities);
      }
    }

    function show(rows) {
      results = rows;
      list.textContent = "";
      rows.forEach(function (row, index) {
        var option = document.createElement("li");
        option.id = list.id + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = row.text;
        option.addEventListener("mousedown", function (event) {
          // Keep the focus in the field: the choice is made before it would blur.
          event.preventDefault();
          choose(index);
        });
        list.appendChild(option);
      });
      if (rows.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        active = -1;
      } else {
        close();
      }
    }

    function ask() {
      var text = input.value.trim();
      var asked = ++sequence;
      if (!worthAsking(text)) {
        show([]);
        return;
      }
      fetch(url + "?q=" + encodeURIComponent(text), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (body) {
          if (asked === sequence) {
            show(body.results || []);
          }
        })
        .catch(function () {
          // Offline or refused: the field still works as plain text.
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) {
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        highlight(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", close);
  }

  document.querySelectorAll("input[data-lookup-url]").forEach(setUp);
})();
