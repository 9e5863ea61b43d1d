// A signature drawn with the mouse, a finger or a pen on the quote's public page; sent as a
// PNG data URL in the accept form's hidden "signature" field. Without JavaScript the
// signature is simply not offered.
(function () {
  "use strict";
  function start() {
    var form = document.querySelector("form[data-accept-form]");
    if (!form) return;
    var box = form.querySelector("[data-signature]");
    var canvas = form.querySelector("canvas[data-signature-canvas]");
    var field = form.querySelector("input[name$='signature']");
    var clear = form.querySelector("[data-signature-clear]");
    if (!box || !canvas || !field || !canvas.getContext) return;
    box.hidden = false;
    var context = canvas.getContext("2d");
    context.lineWidth = 2;
    context.lineCap = "round";
    context.strokeStyle = "#111";
    var drawing = false;
    var drawn = false;
    // The page came back with another answer to correct: show the signature already drawn.
    if (/^data:image\/png;base64,/.test(field.value)) {
      var image = new Image();
      image.onload = function () {
        context.drawImage(image, 0, 0);
        drawn = true;
      };
      image.src = field.value;
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - rect.left) * (canvas.width / rect.width),
        y: (event.clientY - rect.top) * (canvas.height / rect.height),
      };
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      var p = point(event);
      context.beginPath();
      context.moveTo(p.x, p.y);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var p = point(event);
      context.lineTo(p.x, p.y);
      context.stroke();
      drawn = true;
      event.preventDefault();
    });
    function stop() {
      drawing = false;
    }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    clear.addEventListener("click", function () {
      context.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      field.value = "";
    });
    form.addEventListener("submit", function () {
      field.value = drawn ? canvas.toDataURL("image/png") : "";
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
