// A room's availability grid (spaces/templatetags/availability_grid.py): choose a range of free
// slots of one day with the mouse (press, drag, release) or the keyboard (arrow keys, then Enter
// or Space on the first slot and again on the last; Escape lets go), and the booking form below
// gets its date, start and end, with the price of the range. Changing the form's times by hand
// updates the price too. Without JavaScript each free slot is a link that does the same.
(function () {
  "use strict";

  var grid = document.querySelector("table.availability-grid");
  var form = document.querySelector("form[data-booking-form]");
  if (!grid || !form) {
    return;
  }
  var fields = {
    date: form.querySelector("[name=date]"),
    start: form.querySelector("[name=start_time]"),
    end: form.querySelector("[name=end_time]"),
  };
  var priceBox = document.getElementById("booking-price");
  var pricesScript = document.getElementById("room-prices");
  var prices = pricesScript ? JSON.parse(pricesScript.textContent) : [];
  var minMinutes = Number(grid.dataset.minMinutes);
  var rows = Array.prototype.slice.call(grid.tBodies[0].rows);
  var columns = rows.length ? rows[0].cells.length - 1 : 0;
  var anchor = null;
  var dragging = false;

  function cellAt(row, column) {
    return rows[row] ? rows[row].cells[column + 1] : null;
  }

  function position(cell) {
    return { row: cell.parentNode.sectionRowIndex, column: cell.cellIndex - 1 };
  }

  function isFree(cell) {
    return cell && cell.dataset.state === "free";
  }

  function minutesOf(text) {
    var parts = text.split(":").map(Number);
    return parts[0] * 60 + parts[1];
  }

  // Money in whole cents: no amount goes through a floating-point number.
  function cents(text) {
    if (text === null || text === undefined) {
      return null;
    }
    var parts = String(text).split(".");
    return Number(parts[0]) * 100 + Number((parts[1] || "0").padEnd(2, "0").slice(0, 2));
  }

  // a × b ÷ c rounded half up, for non-negative integers.
  function mulDivRound(a, b, c) {
    return Math.floor((2 * a * b + c) / (2 * c));
  }

  function euro(amount) {
    var text = Math.floor(amount / 100) + "." + String(amount % 100).padStart(2, "0");
    var format = new Intl.NumberFormat(document.documentElement.lang || undefined, {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
    return format.format(text) + "\u00a0€";
  }

  // As spaces.services.pricing.quote: the cheapest of the hourly, half-day and day rates.
  function quote(row, minutes) {
    var candidates = [mulDivRound(cents(row.hour), minutes, 60)];
    if (row.half_day !== null && minutes <= row.half_day_minutes) {
      candidates.push(cents(row.half_day));
    }
    if (row.day !== null) {
      candidates.push(cents(row.day));
    }
    var excl = Math.min.apply(null, candidates);
    var vat = mulDivRound(excl, cents(row.vat_rate), 10000);
    return { excl: excl, vat: vat };
  }

  function showPrice() {
    if (!priceBox) {
      return;
    }
    var start = fields.start.value;
    var end = fields.end.value;
    var minutes = start && end ? minutesOf(end) - minutesOf(start) : 0;
    if (!(minutes > 0) || !prices.length) {
      priceBox.textContent = priceBox.dataset.empty;
      return;
    }
    priceBox.textContent = "";
    prices.forEach(function (row, index) {
      var price = quote(row, minutes);
      var label = document.createElement("strong");
      label.textContent = row.label;
      var amount = price.vat
        ? priceBox.dataset.vat
            .replace("%(amount)s", euro(price.excl))
            .replace("%(total)s", euro(price.excl + price.vat))
        : euro(price.excl);
      priceBox.appendChild(label);
      priceBox.appendChild(
        document.createTextNode(" " + amount + (index < prices.length - 1 ? "; " : ""))
      );
    });
    priceBox.insertBefore(document.createTextNode(start + "–" + end + ": "), priceBox.firstChild);
  }

  // The free cells from the anchor to ``cell`` in the anchor's column, stopping at the first
  // slot that is not free.
  function rangeTo(cell) {
    var from = position(anchor);
    var to = position(cell);
    var step = to.row >= from.row ? 1 : -1;
    var chosen = [anchor];
    for (var row = from.row + step; step > 0 ? row <= to.row : row >= to.row; row += step) {
      var next = cellAt(row, from.column);
      if (!isFree(next)) {
        break;
      }
      chosen.push(next);
    }
    return step > 0 ? chosen : chosen.reverse();
  }

  function mark(cells) {
    grid.querySelectorAll("td[aria-selected=true]").forEach(function (cell) {
      cell.setAttribute("aria-selected", "false");
    });
    cells.forEach(function (cell) {
      cell.setAttribute("aria-selected", "true");
    });
  }

  // Put the range in the form; a single slot shorter than the room's minimum grows to it
  // when the slots after it are free.
  function choose(cells) {
    var first = cells[0];
    var last = cells[cells.length - 1];
    var end = minutesOf(last.dataset.end) || 24 * 60;
    var start = minutesOf(first.dataset.start);
    var column = position(first).column;
    var row = position(last).row;
    while (end - start < minMinutes && isFree(cellAt(row + 1, column))) {
      row += 1;
      cells.push(cellAt(row, column));
      end = minutesOf(cellAt(row, column).dataset.end) || 24 * 60;
    }
    mark(cells);
    fields.date.value = first.dataset.slot.split("T")[0];
    fields.start.value = first.dataset.start;
    fields.end.value = cells[cells.length - 1].dataset.end;
    showPrice();
    anchor = null;
  }

  function focus(cell) {
    var current = grid.querySelector("td[tabindex='0']");
    if (current) {
      current.setAttribute("tabindex", "-1");
    }
    cell.setAttribute("tabindex", "0");
    cell.focus();
  }

  // One tab stop for the whole grid: the cells take the focus, not the links inside them.
  grid.querySelectorAll("td[data-state]").forEach(function (cell) {
    cell.setAttribute("tabindex", "-1");
    if (isFree(cell)) {
      cell.setAttribute("aria-selected", "false");
    }
    var link = cell.querySelector("a");
    if (link) {
      link.setAttribute("tabindex", "-1");
    }
  });
  var start = grid.querySelector("td[data-state=free]") || grid.querySelector("td[data-state]");
  if (start) {
    start.setAttribute("tabindex", "0");
  }

  grid.addEventListener("keydown", function (event) {
    var cell = event.target.closest("td[data-state]");
    if (!cell) {
      return;
    }
    var at = position(cell);
    var moves = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
      Home: [-at.row, 0],
      End: [rows.length - 1 - at.row, 0],
    };
    if (moves[event.key]) {
      event.preventDefault();
      var row = at.row + moves[event.key][0];
      var column = at.column + moves[event.key][1];
      if (row < 0 || row >= rows.length || column < 0 || column >= columns) {
        return;
      }
      if (anchor && column !== position(anchor).column) {
        anchor = null;
        mark([]);
      }
      var target = cellAt(row, column);
      focus(target);
      if (anchor) {
        mark(rangeTo(target));
      }
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      if (anchor) {
        choose(rangeTo(cell));
      } else if (isFree(cell)) {
        anchor = cell;
        mark([cell]);
      }
    } else if (event.key === "Escape" && anchor) {
      anchor = null;
      mark([]);
    }
  });

  grid.addEventListener("pointerdown", function (event) {
    var cell = event.target.closest("td[data-state]");
    if (!isFree(cell) || event.button !== 0) {
      return;
    }
    event.preventDefault();
    anchor = cell;
    dragging = true;
    focus(cell);
    mark([cell]);
  });

  grid.addEventListener("pointerover", function (event) {
    var cell = event.target.closest("td[data-state]");
    if (dragging && cell) {
      mark(rangeTo(cell));
    }
  });

  document.addEventListener("pointerup", function (event) {
    if (!dragging) {
      return;
    }
    dragging = false;
    var cell = event.target.closest ? event.target.closest("td[data-state]") : null;
    var selected = grid.querySelectorAll("td[aria-selected=true]");
    choose(cell && grid.contains(cell) ? rangeTo(cell) : Array.prototype.slice.call(selected));
  });

  // The links are for pages without JavaScript: here a click chooses the slot in place.
  grid.addEventListener("click", function (event) {
    if (event.target.closest("a")) {
      event.preventDefault();
    }
  });

  [fields.start, fields.end].forEach(function (field) {
    field.addEventListener("input", showPrice);
  });
})();
