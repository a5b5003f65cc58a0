/* Live job progress: poll the small JSON endpoint every 2 s while any job is active. */
(function () {
  "use strict";
  var cfg = document.getElementById("jobs-config");
  var activeEl = document.getElementById("active-jobs");
  if (!cfg || !activeEl) return;
  var labels = JSON.parse((document.getElementById("job-status-labels") || {}).textContent || "{}");
  var active = JSON.parse(activeEl.textContent);
  var url = cfg.getAttribute("data-status-url");
  var TERMINAL = ["succeeded", "failed", "cancelled"];

  function update(job) {
    var row = document.querySelector('tr[data-job="' + job.id + '"]');
    if (!row) return;
    var st = row.querySelector('[data-field="status"]');
    st.textContent = labels[job.status] || job.status;
    st.className = "badge " + job.status;
    row.querySelector('[data-field="bar"]').value = job.progress;
    row.querySelector('[data-field="progress"]').textContent = job.progress + "%";
    row.querySelector('[data-field="counts"]').textContent = job.done + "/" + job.total + (job.failed ? " (" + job.failed + " ✗)" : "");
    row.querySelector('[data-field="error"]').textContent = job.error || "";
    if (job.finished_local) row.querySelector('[data-field="finished"]').textContent = job.finished_local;
  }

  function poll() {
    if (!active.length) return;
    fetch(url + "?ids=" + active.join(","), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { jobs: [] }; })
      .then(function (data) {
        data.jobs.forEach(update);
        active = data.jobs.filter(function (j) { return TERMINAL.indexOf(j.status) < 0; }).map(function (j) { return j.id; });
      })
      .catch(function () { /* keep polling: the server may be restarting */ })
      .then(function () { if (active.length) window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 2000);
})();

/* The start form shows only the fields of the chosen kind of job. */
(function () {
  "use strict";
  var form = document.getElementById("job-form");
  if (!form) return;
  var kind = form.querySelector('select[name="kind"]');
  function sync() {
    form.querySelectorAll("[data-kind]").forEach(function (el) { el.hidden = el.getAttribute("data-kind") !== kind.value; });
  }
  kind.addEventListener("change", sync);
  sync();
})();
