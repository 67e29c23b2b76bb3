// Progress that moves by itself: while a job runs, fetch this same page every few seconds and put its fresh
// [data-progress] region in place of ours, with no reload. Without JavaScript the page offers a
// "Refresh progress" link instead. The server marks the region [data-progress-live] while the work goes on and
// drops the mark once it is finished (or failed), which is when this stops.
// WCAG 2.2.2: a "Pause updates" button stops it; focus never moves, and a region holding the focus waits to be
// replaced until the focus leaves it. The short sentence marked [data-progress-summary] is announced politely.
// A finished region may hold one [data-progress-go]: the step the person was waiting for (a leaflet's "Download
// PDF"). It is taken at once, a form sent or a link followed, as if they had pressed it; it stays on the page too.
(function () {
  "use strict";
  var region = document.querySelector("[data-progress][data-progress-live]");
  if (!region || !window.fetch || !window.DOMParser) { return; }
  var seconds = Math.max(1, parseInt(region.getAttribute("data-progress-seconds"), 10) || 5);
  // The page's own address (a page shown after a form was sent names it), else the one in the address bar.
  var url = region.getAttribute("data-progress-url") || window.location.pathname + window.location.search;
  var timer = null;
  var isPaused = false;
  var isFinished = false;
  var failures = 0;
  var pending = null;
  var latest = 0;  // only the answer to the newest request counts

  var controls = document.createElement("p");
  controls.className = "progress-controls";
  var note = document.createElement("span");
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button button-secondary";
  // Announces what changed, not the whole table; empty until something changes (the page itself says the rest).
  var announcer = document.createElement("p");
  announcer.className = "visually-hidden";
  announcer.setAttribute("role", "status");
  announcer.setAttribute("aria-live", "polite");
  controls.appendChild(note);
  controls.appendChild(document.createTextNode(" "));
  controls.appendChild(button);
  region.parentNode.insertBefore(controls, region);
  region.parentNode.insertBefore(announcer, region);

  function summaryOf(root) {
    var summary = root.querySelector("[data-progress-summary]");
    return summary ? summary.textContent.replace(/\s+/g, " ").trim() : "";
  }

  var lastSummary = summaryOf(region);

  function show() {
    var every = seconds === 1 ? "second" : seconds + " seconds";
    note.textContent = isPaused ? "Updates are paused." : "The figures below update every " + every + ".";
    button.textContent = isPaused ? "Resume updates" : "Pause updates";
  }

  function holdsFocus() {
    var active = document.activeElement;
    return active !== null && active !== region && region.contains(active);
  }

  // The region's markup, leaving out the CSRF tokens: every render has new ones, and a new token alone is no news.
  function signature(root) {
    var copy = root.cloneNode(true);
    copy.querySelectorAll("input[name=csrf_token]").forEach(function (input) { input.removeAttribute("value"); });
    return copy.innerHTML;
  }

  function swap(fresh) {
    if (signature(fresh) === signature(region)) { pending = null; return; }
    if (holdsFocus()) { pending = fresh; return; }
    pending = null;
    region.replaceChildren.apply(region, Array.prototype.slice.call(fresh.childNodes));
    var summary = summaryOf(region);
    if (summary && summary !== lastSummary) { announcer.textContent = summary; }
    lastSummary = summary;
  }

  function stop(message) {
    isFinished = true;
    clearTimeout(timer);
    note.textContent = message;
    // A button that has the focus stays until the focus leaves it, so the focus is never lost to the page.
    if (document.activeElement === button) {
      button.setAttribute("aria-disabled", "true");
      button.addEventListener("blur", function () { button.remove(); }, { once: true });
    } else {
      button.remove();
    }
  }

  function go() {
    if (pending) { return; }  // the fresh region is not shown yet (the focus is inside): the person presses it
    var next = region.querySelector("[data-progress-go]");
    if (!next) { return; }
    if (next.tagName === "FORM") {
      next.submit();
    } else if (next.href) {
      window.location.assign(next.href);
    }
  }

  function schedule() {
    clearTimeout(timer);
    if (!isPaused && !isFinished) { timer = setTimeout(poll, seconds * 1000); }
  }

  function poll() {
    if (isPaused || isFinished) { return; }
    if (document.hidden) { schedule(); return; }  // no requests from a tab no one is looking at
    var ticket = ++latest;
    // The header says this is the page checking on itself, not the person: the server then neither counts it
    // as activity (the idle timeout runs on) nor hands it the flash messages meant for the next page.
    fetch(url, { credentials: "same-origin", cache: "no-store",
                 headers: { Accept: "text/html", "X-Progress-Poll": "1" } })
      .then(function (response) {
        // A redirect means the session ended (the login page) or the page moved: nothing to show here.
        if (!response.ok || response.redirected) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        if (ticket !== latest) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-progress]");
        if (!fresh) { throw new Error("no progress on the page"); }
        failures = 0;
        if (isPaused) { return; }  // paused while the request was on its way: keep what is shown
        swap(fresh);
        if (fresh.hasAttribute("data-progress-live")) {
          schedule();
        } else {
          region.removeAttribute("data-progress-live");
          stop("Nothing more to wait for: these are the final figures.");
          go();
        }
      })
      .catch(function () {
        if (ticket !== latest) { return; }
        failures += 1;
        if (failures >= 3) {
          stop("Updates stopped: the latest progress could not be fetched. Reload the page to see it.");
        } else {
          schedule();
        }
      });
  }

  button.addEventListener("click", function () {
    if (isFinished) { return; }
    isPaused = !isPaused;
    show();
    if (isPaused) { clearTimeout(timer); } else { poll(); }
  });
  region.addEventListener("focusout", function () {
    // The focus has not moved on yet while focusout runs; look once it has.
    setTimeout(function () { if (pending && !holdsFocus()) { swap(pending); } }, 0);
  });

  show();
  schedule();
}());
