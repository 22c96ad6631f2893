/* The credential definition form, enhanced. Without this script the page still works: every
   field shows, languages are a plain multiple select, the preview is "Save and preview".
   - fields shown only when they apply (data-show-if="name:value1,value2");
   - the rules a pass source cannot decide are disabled (data-rules on the source's options);
   - character counters on fields with a limit (data-charlimit), never a silent cut;
   - the error summary takes focus;
   - a searchable language picker over the multiple select;
   - the live preview (data-live-preview): the unsaved form, previewed while typing. */
(function () {
  'use strict';
  var form = document.getElementById('definition-form');
  if (!form) { return; }
  var html = document.documentElement;
  var fr = (html.getAttribute('lang') || 'en').slice(0, 2) === 'fr';

  // ------------------------------------------------------------- fields that apply
  function valueOf(name) {
    var el = form.elements[name];
    if (!el) { return null; }
    if (el.type === 'checkbox') { return el.checked ? el.value : ''; }
    return el.value;
  }
  var conditional = Array.prototype.slice.call(document.querySelectorAll('[data-show-if]'));
  function applyConditions() {
    conditional.forEach(function (box) {
      var spec = box.getAttribute('data-show-if').split(':');
      var show = spec[1].split(',').indexOf(valueOf(spec[0])) >= 0;
      // a field with an error always shows: the summary links to it
      box.hidden = !show && !box.querySelector('.has-error');
    });
  }

  // ------------------------------------------------------------- rules a source can decide
  var source = form.elements.policy_source, rule = form.elements.policy_rule;
  function applyRules() {
    if (!source || !rule) { return; }
    var opt = source.options[source.selectedIndex];
    var allowed = ((opt && opt.getAttribute('data-rules')) || '').split(' ').filter(Boolean);
    if (!allowed.length) { return; }
    Array.prototype.forEach.call(rule.options, function (o) { o.disabled = allowed.indexOf(o.value) < 0; });
    if (allowed.indexOf(rule.value) < 0) { rule.value = allowed[0]; }
  }

  // ------------------------------------------------------------- character counters
  var counterTimer = null;
  function count(el) {
    var limit = parseInt(el.getAttribute('data-charlimit'), 10);
    var out = document.getElementById(el.id + '-count');
    if (!out || !limit) { return; }
    var n = el.value.length, left = limit - n, text;
    if (!el.getAttribute('data-initial-count')) { el.setAttribute('data-initial-count', out.textContent); }
    if (n === 0) {
      text = el.getAttribute('data-initial-count');
    } else if (left >= 0) {
      text = fr ? (left + (left > 1 ? ' caractères restants sur ' : ' caractère restant sur ') + limit + '.')
                : ('You have ' + left + (left === 1 ? ' character' : ' characters') + ' remaining of ' + limit + '.');
    } else {
      text = fr ? ('Trop long de ' + (-left) + (left < -1 ? ' caractères' : ' caractère') + ' (au plus ' + limit + ').')
                : ('You have ' + (-left) + (left === -1 ? ' character' : ' characters') + ' too many (at most ' + limit + ').');
    }
    out.textContent = text;
    out.classList.toggle('over', left < 0);
  }
  var counted = Array.prototype.slice.call(form.querySelectorAll('[data-charlimit]'));
  counted.forEach(function (el) {
    var out = document.getElementById(el.id + '-count');
    if (out) { out.setAttribute('aria-live', 'polite'); }
    count(el);
  });

  // ------------------------------------------------------------- searchable language picker
  function fold(s) { return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase(); }
  Array.prototype.forEach.call(document.querySelectorAll('[data-picker]'), function (box) {
    var select = box.querySelector('select');
    if (!select) { return; }
    var multiple = select.multiple;  // one choice: radio buttons, the chosen one shown (not removable)
    var label = box.querySelector('label[for="' + select.id + '"]');
    var help = document.getElementById(select.id + '-help');
    var search = document.createElement('input');
    search.type = 'search'; search.id = select.id + '-search';
    search.setAttribute('aria-describedby', select.getAttribute('aria-describedby') || '');
    search.setAttribute('aria-controls', select.id + '-options');
    var searchLabel = document.createElement('label');
    searchLabel.htmlFor = search.id; searchLabel.className = 'inline muted'; searchLabel.textContent = box.getAttribute('data-filter-label');
    var chosen = document.createElement('ul'); chosen.className = 'chips'; chosen.id = select.id + '-chosen';
    chosen.setAttribute('aria-label', box.getAttribute('data-chosen-label'));
    chosen.setAttribute('aria-live', 'polite');
    // the choices are a fieldset named by the field's label (a visually hidden legend)
    var list = document.createElement('fieldset'); list.className = 'picker-options'; list.id = select.id + '-options';
    var legend = document.createElement('legend'); legend.className = 'visually-hidden';
    legend.textContent = label ? label.textContent : ''; list.appendChild(legend);
    var boxes = [];
    Array.prototype.forEach.call(select.options, function (o, i) {
      var row = document.createElement('div'); row.className = 'choice';
      if (!multiple && !o.value) { return; }  // the "Choose…" placeholder
      var cb = document.createElement('input'); cb.type = multiple ? 'checkbox' : 'radio'; cb.id = select.id + '-opt-' + i;
      cb.checked = o.selected && !!o.value;
      if (!multiple) { cb.name = select.id + '-pick'; }
      cb.setAttribute('data-value', o.value);
      var l = document.createElement('label'); l.htmlFor = cb.id; l.textContent = o.text.trim(); l.lang = '';
      if (!multiple) { row.style.paddingLeft = (o.text.length - o.text.replace(/^\u2003+/, '').length) + 'em'; }
      row.appendChild(cb); row.appendChild(l); list.appendChild(row);
      cb.addEventListener('change', function () {
        o.selected = cb.checked; renderChosen();
        select.dispatchEvent(new Event('change', {bubbles: true}));
      });
      boxes.push({row: row, cb: cb, option: o, key: fold(o.text + ' ' + o.value)});
    });
    function renderChosen() {
      chosen.textContent = '';
      var any = false;
      boxes.forEach(function (b) {
        if (!b.option.selected) { return; }
        any = true;
        var li = document.createElement('li');
        if (!multiple) { li.className = 'chosen-one'; li.textContent = b.option.text.trim(); chosen.appendChild(li); return; }
        var btn = document.createElement('button'); btn.type = 'button'; btn.className = 'chip secondary small';
        btn.textContent = b.option.text + ' \u00d7';
        btn.setAttribute('aria-label', box.getAttribute('data-remove').replace('%(name)s', b.option.text));
        btn.addEventListener('click', function () {
          b.option.selected = false; b.cb.checked = false; renderChosen(); search.focus();
          select.dispatchEvent(new Event('change', {bubbles: true}));
        });
        li.appendChild(btn); chosen.appendChild(li);
      });
      if (!any) { var none = document.createElement('li'); none.className = 'muted'; none.textContent = box.getAttribute('data-none'); chosen.appendChild(none); }
    }
    search.addEventListener('input', function () {
      var q = fold(search.value.trim());
      boxes.forEach(function (b) { b.row.hidden = q !== '' && b.key.indexOf(q) < 0; });
    });
    search.addEventListener('keydown', function (e) { if (e.key === 'Enter') { e.preventDefault(); } });
    select.hidden = true;
    if (label) { label.removeAttribute('for'); }  // it names the group of choices; the search has its own label
    if (help) { help.hidden = true; }
    var anchor = help || select;
    anchor.parentNode.insertBefore(chosen, anchor.nextSibling);
    chosen.parentNode.insertBefore(searchLabel, chosen.nextSibling);
    searchLabel.parentNode.insertBefore(search, searchLabel.nextSibling);
    search.parentNode.insertBefore(list, search.nextSibling);
    renderChosen();
  });

  form.addEventListener('change', function () { applyRules(); applyConditions(); });
  form.addEventListener('input', function (e) {
    if (e.target && e.target.hasAttribute && e.target.hasAttribute('data-charlimit')) {
      var el = e.target; clearTimeout(counterTimer); counterTimer = setTimeout(function () { count(el); }, 150);
    }
  });
  applyRules();
  applyConditions();

  // ------------------------------------------------------------- live preview
  var live = document.getElementById('live-preview');
  var liveTimer = null, pending = null, sent = 0;
  function refresh() {
    if (!live || !window.fetch) { return; }
    var body = new FormData(form);
    body.set('action', 'preview');
    if (pending && pending.abort) { pending.abort(); }
    pending = window.AbortController ? new AbortController() : null;
    var n = ++sent;
    live.setAttribute('aria-busy', 'true');
    fetch(live.getAttribute('data-live-url'), {method: 'POST', body: body, credentials: 'same-origin',
                                               signal: pending ? pending.signal : undefined})
      .then(function (r) { return r.text().then(function (t) { return {ok: r.ok || r.status === 400, text: t}; }); })
      .then(function (r) {
        if (n !== sent || !r.ok) { return; }
        live.innerHTML = r.text;
        live.setAttribute('data-updated', String(n));
        live.removeAttribute('aria-busy');
      })
      .catch(function () { live.removeAttribute('aria-busy'); });
  }
  function schedule() { clearTimeout(liveTimer); liveTimer = setTimeout(refresh, 400); }
  function named(e) { if (e.target && e.target.name && e.target.form === form) { schedule(); } }
  if (live) { form.addEventListener('input', named); form.addEventListener('change', named); refresh(); }

  // ------------------------------------------------------------- the error summary takes focus
  var summary = document.getElementById('error-summary');
  if (summary) { summary.focus(); }
})();
