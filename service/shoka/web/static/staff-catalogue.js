// The cataloguing screens: the record form and the MARC view as two tabs kept in step by the server (each tab
// change sends the edited one to /staff/catalogue/record-preview and shows the other as the record now reads),
// author rows added without a page load, and the copy form's shelf locations narrowed to the chosen branch.
// Without this script both editors are shown one above the other, each with its own buttons.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function setUpAuthorRows() {
    var add = document.getElementById("add-author-row");
    var template = document.getElementById("author-row-template");
    var rows = document.getElementById("author-rows");
    if (!add || !template || !rows) return;
    add.hidden = false;
    add.addEventListener("click", function () {
      var index = rows.querySelectorAll("tr").length;
      rows.insertAdjacentHTML("beforeend", template.innerHTML.split("INDEX").join(String(index)));
      rows.lastElementChild.querySelector('input[name="author_name"]').focus();
    });
  }

  function showMarcProblem(text) {
    var area = document.getElementById("field-marc");
    var shown = document.getElementById("error-marc");
    if (!text) {
      if (shown) shown.remove();
      area.removeAttribute("aria-invalid");
      area.removeAttribute("aria-describedby");
      return;
    }
    if (!shown) {
      shown = document.createElement("pre");
      shown.id = "error-marc";
      shown.className = "field-error marc-problems";
      area.insertAdjacentElement("afterend", shown);
    }
    shown.textContent = text;
    area.setAttribute("aria-invalid", "true");
    area.setAttribute("aria-describedby", "error-marc");
  }

  function setUpRecordForm(form) {
    var names = ["form", "marc"];
    var panels = { form: document.getElementById("form-panel"), marc: document.getElementById("marc-panel") };
    var tabs = { form: document.getElementById("tab-form"), marc: document.getElementById("tab-marc") };
    var status = document.getElementById("sync-status");
    var active = form.dataset.activeEditor === "marc" ? "marc" : "form";
    var busy = false;
    form.querySelector(".editor-tabs").hidden = false;
    names.forEach(function (name) {
      panels[name].setAttribute("role", "tabpanel");
      panels[name].setAttribute("aria-labelledby", tabs[name].id);
    });

    function show(name) {
      active = name;
      names.forEach(function (other) {
        panels[other].hidden = other !== name;
        tabs[other].setAttribute("aria-selected", String(other === name));
        tabs[other].tabIndex = other === name ? 0 : -1;
      });
    }

    function switchTo(name) {
      if (name === active || busy) return;
      busy = true;
      var body = new FormData(form);
      body.set("intent", active === "form" ? "sync-form" : "sync-marc");
      status.textContent = form.dataset.textSyncing;
      fetch(form.dataset.previewUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRF-Token": csrfToken(), "Accept": "application/json" }
      }).then(function (response) {
        if (response.status === 401) {
          window.location.reload();
          return null;
        }
        return response.json().then(function (answer) {
          if (!response.ok) throw new Error(answer.message || String(response.status));
          return answer;
        });
      }).then(function (answer) {
        if (!answer) return;
        document.getElementById("record-fields").innerHTML = answer.fields_html;
        setUpAuthorRows();
        showMarcProblem(answer.problems.marc);
        if (Object.keys(answer.problems).length) {
          status.textContent = form.dataset.textProblems;
          var invalid = panels[active].querySelector('[aria-invalid="true"]');
          if (invalid) invalid.focus();
          return;
        }
        document.getElementById("field-marc").value = answer.marc;
        status.textContent = "";
        show(name);
      }).catch(function (error) {
        status.textContent = form.dataset.textFailed + " " + error.message;
      }).then(function () {
        busy = false;
      });
    }

    names.forEach(function (name) {
      tabs[name].addEventListener("click", function () { switchTo(name); });
      tabs[name].addEventListener("keydown", function (event) {
        if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
        event.preventDefault();
        var other = name === "form" ? "marc" : "form";
        tabs[other].focus();
        switchTo(other);
      });
    });
    show(active);
    setUpAuthorRows();
  }

  function setUpItemForm(form) {
    var branch = form.querySelector('[name="branch"]');
    var shelf = form.querySelector('[name="shelf_location"]');
    if (!branch || !shelf) return;
    function narrow() {
      shelf.querySelectorAll("optgroup").forEach(function (group) {
        var here = group.dataset.branch === branch.value;
        group.hidden = !here;
        group.disabled = !here;
      });
      var chosen = shelf.selectedOptions[0];
      if (chosen && chosen.parentElement.disabled) shelf.value = "";
    }
    branch.addEventListener("change", narrow);
    narrow();
  }

  var recordForm = document.getElementById("record-form");
  if (recordForm) setUpRecordForm(recordForm);
  var itemForm = document.getElementById("item-form");
  if (itemForm) setUpItemForm(itemForm);
  var summary = document.getElementById("problem-summary");
  if (summary) summary.focus();
})();
