(function () {
  "use strict";
  var audio = document.getElementById("audio");
  var svg = document.getElementById("timeline");
  var playhead = document.getElementById("playhead");
  var duration = svg ? parseFloat(svg.dataset.duration) : 0;
  var width = svg ? parseFloat(svg.dataset.width) : 0;
  var utts = Array.prototype.slice.call(document.querySelectorAll(".transcript .utt"));

  function flash(el) {
    if (!el) return;
    el.classList.remove("flash");
    void el.offsetWidth;  // restart the animation
    el.classList.add("flash");
  }

  // Seek the player to `t` seconds and play; before the metadata is in, seek once it is.
  function seek(t) {
    if (!audio) return;
    var go = function () {
      audio.currentTime = t;
      var p = audio.play();
      if (p && p.catch) p.catch(function () {});
    };
    if (audio.readyState >= 1) go();
    else audio.addEventListener("loadedmetadata", go, { once: true });
  }
  window.callqaSeek = seek;

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-start]");
    if (!el || ev.target.closest("audio")) return;
    if (ev.target.closest("a.seek-link")) ev.preventDefault();
    ev.stopPropagation();
    var t = parseFloat(el.dataset.start);
    if (isNaN(t)) return;
    seek(t);
    var target = el.dataset.target || el.dataset.finding;
    if (target) {
      var to = document.getElementById(target);
      if (to && el.closest("svg")) to.scrollIntoView({ block: "center", behavior: "smooth" });
      flash(to);
    }
  });

  if (audio) {
    var current = null;
    audio.addEventListener("timeupdate", function () {
      var t = audio.currentTime;
      if (playhead && duration > 0) {
        var x = Math.min(Math.max(t, 0), duration) / duration * width;
        playhead.setAttribute("x1", x);
        playhead.setAttribute("x2", x);
      }
      var now = null;
      for (var i = 0; i < utts.length; i++) {
        var s = parseFloat(utts[i].dataset.start), e = parseFloat(utts[i].dataset.end);
        if (t >= s && t < e) { now = utts[i]; break; }
      }
      if (now !== current) {
        if (current) current.classList.remove("playing");
        if (now) now.classList.add("playing");
        current = now;
      }
    });
  }
  // A link to page#f3 or page#u12 plays from there once the recording is ready.
  if (location.hash) {
    var el = document.getElementById(location.hash.slice(1));
    if (el && el.dataset.start) { flash(el); seek(parseFloat(el.dataset.start)); }
  }
})();
