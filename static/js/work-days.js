// The work days of a contract's worker, picked on a calendar when JavaScript runs. The days stay
// in their text field (one date a line, "half" after a half day), which the server reads and
// which can still be typed in; the calendar shows that text and rewrites it. Clicking a day
// cycles it: not worked, full day, half day. Days before the first allowed one are disabled.
// Days the worker already works on another contract (data-taken) are marked taken, and a
// clash when picked, so that it shows before the contract is saved.
(function () {
  "use strict";

  var HALF_WORDS = ["half", "½", "demi", "halve", "0.5"];

  function iso(date) {
    var month = String(date.getMonth() + 1).padStart(2, "0");
    var day = String(date.getDate()).padStart(2, "0");
    return date.getFullYear() + "-" + month + "-" + day;
  }

  function fromIso(text) {
    var parts = text.split("-").map(Number);
    return new Date(parts[0], parts[1] - 1, parts[2]);
  }

  // Read the field: a map of ISO date to "full" or "half"; what is not a date is kept aside.
  function read(textarea) {
    var days = {};
    var other = [];
    textarea.value.split(/[\n,;]+/).forEach(function (chunk) {
      var words = chunk.trim().split(/\s+/);
      if (!words[0]) {
        return;
      }
      if (/^\d{4}-\d{2}-\d{2}$/.test(words[0]) && words.length <= 2) {
        var half = words.length === 2 && HALF_WORDS.indexOf(words[1].toLowerCase()) >= 0;
        if (words.length === 1 || half) {
          days[words[0]] = half ? "half" : "full";
          return;
        }
      }
      other.push(chunk.trim());
    });
    return { days: days, other: other };
  }

  function write(textarea, days, other) {
    var lines = Object.keys(days).sort().map(function (day) {
      return days[day] === "half" ? day + " half" : day;
    });
    textarea.value = lines.concat(other).join("\n");
    textarea.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function enhance(textarea) {
    var language = document.documentElement.lang || undefined;
    var labels = textarea.dataset;
    var first = labels.firstDay ? fromIso(labels.firstDay) : new Date();
    var shown = new Date(first.getFullYear(), first.getMonth(), 1);
    var state = read(textarea);
    var known = Object.keys(state.days).sort();
    if (known.length) {
      var start = fromIso(known[0]);
      shown = new Date(start.getFullYear(), start.getMonth(), 1);
    }

    var picker = document.createElement("div");
    picker.className = "day-picker";
    var header = document.createElement("div");
    header.className = "day-picker-header";
    var previous = document.createElement("button");
    previous.type = "button";
    previous.className = "button secondary small";
    previous.textContent = "‹";
    previous.setAttribute("aria-label", labels.previousMonth || "Previous month");
    var next = document.createElement("button");
    next.type = "button";
    next.className = "button secondary small";
    next.textContent = "›";
    next.setAttribute("aria-label", labels.nextMonth || "Next month");
    var title = document.createElement("strong");
    title.setAttribute("aria-live", "polite");
    header.append(previous, title, next);
    var grid = document.createElement("div");
    grid.className = "day-picker-grid";
    grid.setAttribute("role", "group");
    var legend = document.createElement("p");
    legend.className = "help";
    legend.textContent = labels.legend || "";
    var taken = labels.taken ? JSON.parse(labels.taken) : {};
    var clash = document.createElement("p");
    clash.className = "error";
    clash.setAttribute("role", "alert");
    clash.hidden = true;
    picker.append(header, grid, legend, clash);
    textarea.insertAdjacentElement("afterend", picker);

    var monthTitle = new Intl.DateTimeFormat(language, { month: "long", year: "numeric" });
    var weekday = new Intl.DateTimeFormat(language, { weekday: "short" });
    var longDate = new Intl.DateTimeFormat(language, { dateStyle: "full" });

    function render() {
      state = read(textarea);
      title.textContent = monthTitle.format(shown);
      grid.setAttribute("aria-label", title.textContent);
      grid.replaceChildren();
      // Weekday names, Monday first (2024-01-01 was a Monday).
      for (var index = 0; index < 7; index += 1) {
        var name = document.createElement("span");
        name.className = "day-picker-weekday";
        name.textContent = weekday.format(new Date(2024, 0, 1 + index));
        grid.append(name);
      }
      var offset = (shown.getDay() + 6) % 7;
      for (var blank = 0; blank < offset; blank += 1) {
        grid.append(document.createElement("span"));
      }
      var day = new Date(shown);
      while (day.getMonth() === shown.getMonth()) {
        var key = iso(day);
        var portion = state.days[key];
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = String(day.getDate());
        button.dataset.date = key;
        var other = taken[key];
        button.className =
          "day" + (portion ? " " + portion : "") + (other ? (portion ? " clash" : " taken") : "");
        button.disabled = day < first;
        button.setAttribute("aria-pressed", portion ? "true" : "false");
        var status = portion === "half" ? labels.half : portion ? labels.full : "";
        if (other) {
          status = (status ? status + ", " : "") + labels.takenLabel.replace("%(reference)s", other);
        }
        button.setAttribute(
          "aria-label",
          longDate.format(day) + (status ? " — " + status : "")
        );
        if (other) {
          button.title = labels.takenLabel.replace("%(reference)s", other);
        }
        grid.append(button);
        day.setDate(day.getDate() + 1);
      }
      var clashes = Object.keys(state.days).some(function (key) {
        return taken[key];
      });
      clash.hidden = !clashes;
      clash.textContent = clashes ? labels.clash || "" : "";
    }

    grid.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-date]");
      if (!button || button.disabled) {
        return;
      }
      var key = button.dataset.date;
      var current = state.days[key];
      if (!current) {
        state.days[key] = "full";
      } else if (current === "full") {
        state.days[key] = "half";
      } else {
        delete state.days[key];
      }
      write(textarea, state.days, state.other);
      render();
      var again = grid.querySelector('button[data-date="' + key + '"]');
      if (again) {
        again.focus();
      }
    });
    previous.addEventListener("click", function () {
      shown = new Date(shown.getFullYear(), shown.getMonth() - 1, 1);
      render();
    });
    next.addEventListener("click", function () {
      shown = new Date(shown.getFullYear(), shown.getMonth() + 1, 1);
      render();
    });
    textarea.addEventListener("input", render);
    render();
  }

  document.querySelectorAll("textarea[data-work-days]").forEach(enhance);
})();
