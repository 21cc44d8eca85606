/* The sluice web UI: one page, hash routes, no framework, no inline code
 * (the server's Content-Security-Policy allows scripts and styles from
 * this origin only). Every page fetches /api/v1 JSON (the protobuf
 * replies with the CLI's --json field names) and follows live changes
 * through Server-Sent Events, never by reloading.
 *
 * Big runs (10,000 tasks) stay usable because no page builds one DOM node
 * per datum per listener: tables are built as one HTML string, the grid
 * renders only the rows in view, colours are classes (state-NAME), and
 * clicks are handled by one delegated listener per page. */
'use strict';

(function () {
  const main = document.getElementById('main');
  const SESSION_KEY = 'sluice.csrf';
  const ROLE_KEY = 'sluice.role';

  /* ------------------------------------------------------------ helpers */

  const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  function esc(v) {
    return String(v === undefined || v === null ? '' : v).replace(/[&<>"']/g, (c) => ESC[c]);
  }
  function enc(v) { return encodeURIComponent(v); }
  function num(v) { return typeof v === 'number' ? v : Number(v || 0); }

  function fmtTime(ms) {
    ms = num(ms);
    if (!ms) return '';
    const d = new Date(ms);
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' +
      p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
  }
  function fmtDur(ms) {
    ms = num(ms);
    if (ms <= 0) return '';
    if (ms < 1000) return ms + ' ms';
    const s = ms / 1000;
    if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + Math.round(s - m * 60) + ' s';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }
  function stateClass(s) { return 'state-' + String(s || 'none').replace(/[^a-z_]/gi, ''); }
  function badge(s) { return '<span class="badge ' + stateClass(s) + '">' + esc(s || 'none') + '</span>'; }

  function toast(msg, bad) {
    const t = document.getElementById('toast');
    t.textContent = msg;
    t.className = 'toast' + (bad ? ' bad' : '');
    t.hidden = false;
    toast.gen = page.gen;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.hidden = true; }, bad ? 8000 : 3500);
  }

  function parseHash() {
    const h = location.hash.replace(/^#/, '') || '/dags';
    const q = h.indexOf('?');
    const path = q < 0 ? h : h.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
    return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query };
  }

  /* ---------------------------------------------------------------- API */

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  /* One API call; the session cookie goes with it, and every write carries
   * the CSRF token the login returned. A 401 sends the user to #/login. */
  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET') {
      headers['X-CSRF-Token'] = sessionStorage.getItem(SESSION_KEY) || '';
      if (body !== undefined) headers['Content-Type'] = 'application/json';
    }
    const r = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!r.ok) {
      const msg = data && data.error && data.error.message ? data.error.message
        : method + ' ' + path + ': HTTP ' + r.status;
      if (r.status === 401 && !path.startsWith('/api/v1/session')) {
        sessionStorage.removeItem(SESSION_KEY);
        if (!location.hash.startsWith('#/login')) {
          location.hash = '#/login?next=' + enc(location.hash.slice(1));
        }
      }
      throw new ApiError(r.status, msg);
    }
    return data;
  }
  const get = (path) => api('GET', path);
  const post = (path, body) => api('POST', path, body === undefined ? {} : body);

  async function getText(path) {
    const r = await fetch(path, { credentials: 'same-origin' });
    const text = await r.text();
    if (!r.ok) {
      let msg = 'GET ' + path + ': HTTP ' + r.status;
      try { msg = JSON.parse(text).error.message || msg; } catch (e) { /* not JSON */ }
      throw new ApiError(r.status, msg);
    }
    return text;
  }

  /* ------------------------------------------------------ page lifetime */

  /* What the current page opened (event sources, timers); closed when the
   * route changes, so a page never updates after the user left it. */
  let page = { gen: 0, closers: [] };
  function onLeave(fn) { page.closers.push(fn); }
  function leave() {
    for (const fn of page.closers) { try { fn(); } catch (e) { /* closing */ } }
    page = { gen: page.gen + 1, closers: [] };
    main.onclick = null;
    main.onchange = null;
    main.onsubmit = null;
  }
  function current(gen) { return gen === page.gen; }

  function stream(url, handlers) {
    const es = new EventSource(url, { withCredentials: true });
    for (const [name, fn] of Object.entries(handlers)) {
      es.addEventListener(name, (ev) => {
        let data = ev.data;
        try { data = JSON.parse(ev.data); } catch (e) { /* plain text */ }
        fn(data, es);
      });
    }
    onLeave(() => es.close());
    return es;
  }
  function every(ms, fn) {
    const id = setInterval(fn, ms);
    onLeave(() => clearInterval(id));
  }

  function fail(e) {
    if (e instanceof ApiError && e.status === 401) return;
    main.innerHTML = '<div class="card error">' + esc(e.message || e) + '</div>';
  }

  /* -------------------------------------------------------------- login */

  async function pageLogin(r) {
    main.innerHTML =
      '<div class="card login"><h1>Log in to sluice</h1>' +
      '<p class="muted">Paste an API token. An operator makes one with ' +
      '<code>sluice token create --api --role viewer</code> (or <code>--role operator</code> ' +
      'to trigger, cancel and pause).</p>' +
      '<form id="login-form"><textarea id="token" name="token" placeholder="sat_…" ' +
      'autocomplete="off" spellcheck="false" required></textarea>' +
      '<p><button class="primary" type="submit">Log in</button> ' +
      '<span id="login-error" class="error"></span></p></form></div>';
    main.onsubmit = async (ev) => {
      ev.preventDefault();
      const token = document.getElementById('token').value.trim();
      try {
        const rep = await api('POST', '/api/v1/session', { token });
        sessionStorage.setItem(SESSION_KEY, rep.csrf || '');
        sessionStorage.setItem(ROLE_KEY, rep.role || '');
        showWho(rep.role, rep.name);
        location.hash = '#' + (r.query.get('next') || '/dags');
      } catch (e) {
        document.getElementById('login-error').textContent = e.message;
      }
    };
  }

  function showWho(role, name) {
    document.getElementById('who').textContent = role ? (name ? name + ' · ' : '') + role : '';
    document.getElementById('logout').hidden = !role;
  }
  function isOperator() { return sessionStorage.getItem(ROLE_KEY) === 'operator'; }

  async function whoAmI() {
    try {
      const rep = await get('/api/v1/session');
      if (rep && rep.csrf) sessionStorage.setItem(SESSION_KEY, rep.csrf);
      if (rep && rep.role) sessionStorage.setItem(ROLE_KEY, rep.role);
      showWho(rep && rep.role, rep && rep.name);
    } catch (e) {
      showWho('');
    }
  }

  /* --------------------------------------------------------------- DAGs */

  async function pageDags() {
    const gen = page.gen;
    const rep = await get('/api/v1/dags');
    const dags = (rep && rep.dags) || [];
    if (!current(gen)) return;
    let html = '<h1>DAGs</h1><table class="t" id="dags"><thead><tr><th>DAG</th><th>Schedule</th>' +
      '<th>Paused</th><th>Last runs</th><th>Next run</th><th>Tasks</th><th></th></tr></thead><tbody>';
    if (!dags.length) {
      html += '<tr><td colspan="7" class="muted">No DAGs yet: <code>sluice dag apply FILE.yaml</code> adds one.</td></tr>';
    }
    for (const d of dags) {
      const n = esc(d.name);
      html += '<tr data-dag="' + n + '"><td><a href="#/dags/' + enc(d.name) + '"><b>' + n + '</b></a>' +
        '<div class="muted">' + esc(d.description) + '</div></td>' +
        '<td>' + (d.schedule ? '<code>' + esc(d.schedule) + '</code> <span class="muted">' +
          esc(d.timezone) + '</span>' : '<span class="muted">none</span>') + '</td>' +
        '<td><button type="button" class="toggle ' + (d.paused ? 'paused' : 'active') +
          '" data-act="pause" data-paused="' + (d.paused ? 1 : 0) + '">' +
          (d.paused ? 'paused' : 'active') + '</button></td>' +
        '<td class="runs" data-runs="' + n + '"></td>' +
        '<td>' + esc(d.next_run || (d.next_run_ms ? fmtTime(d.next_run_ms) : '')) + '</td>' +
        '<td class="num">' + esc(d.tasks) + '</td>' +
        '<td><button type="button" data-act="trigger">Trigger…</button></td></tr>' +
        '<tr class="trig" data-form="' + n + '" hidden><td colspan="7"></td></tr>';
    }
    main.innerHTML = html + '</tbody></table>';
    main.onclick = (ev) => dagsClick(ev);
    main.onsubmit = (ev) => triggerSubmit(ev);
    await Promise.all(dags.map((d) => fillLastRuns(d.name, gen)));
  }

  async function fillLastRuns(name, gen) {
    let runs = [];
    try {
      runs = ((await get('/api/v1/runs?dag=' + enc(name) + '&limit=12')) || {}).runs || [];
    } catch (e) { return; }
    if (!current(gen)) return;
    const cell = main.querySelector('td[data-runs="' + CSS.escape(name) + '"]');
    if (!cell) return;
    cell.innerHTML = runs.slice().reverse().map((r) =>
      '<a class="sq ' + stateClass(r.state) + '" href="#/runs/' + r.run_id + '" title="run ' +
      r.run_id + ' ' + esc(r.logical_date) + ': ' + esc(r.state) + '"></a>').join('') ||
      '<span class="muted">no runs</span>';
  }

  async function dagsClick(ev) {
    const b = ev.target.closest('button[data-act]');
    if (!b) return;
    const name = b.closest('tr').dataset.dag;
    if (b.dataset.act === 'pause') {
      const paused = b.dataset.paused !== '1';
      try {
        const rep = await post('/api/v1/dags/' + enc(name) + '/pause', { paused });
        const p = rep && rep.paused !== undefined ? rep.paused : paused;
        b.dataset.paused = p ? '1' : '0';
        b.className = 'toggle ' + (p ? 'paused' : 'active');
        b.textContent = p ? 'paused' : 'active';
        toast(name + (p ? ' paused' : ' unpaused'));
      } catch (e) { toast(e.message, true); }
    } else if (b.dataset.act === 'trigger') {
      const row = main.querySelector('tr[data-form="' + CSS.escape(name) + '"]');
      if (!row.hidden) { row.hidden = true; return; }
      try {
        row.firstChild.innerHTML = triggerForm(name, await get('/api/v1/dags/' + enc(name)));
        row.hidden = false;
        const first = row.querySelector('input, select');
        if (first) first.focus();
      } catch (e) { toast(e.message, true); }
    }
  }

  /* A trigger form from the DAG's declared params: inputs typed by the
   * param's type, bounds and enums as the browser's own checks; the
   * scheduler checks again (pattern, date) and says what is wrong. */
  function triggerForm(name, show) {
    const params = (show && show.params) || [];
    let html = '<form class="trigger" data-dag="' + esc(name) + '">';
    for (const p of params) {
      const id = 'p-' + esc(name) + '-' + esc(p.name);
      const label = '<label for="' + id + '"><code>' + esc(p.name) + '</code></label>';
      const attrs = ' id="' + id + '" name="' + esc(p.name) + '" data-default="' + esc(p.default) + '"' +
        (p.required ? ' required' : '');
      let input;
      if (p.enum && p.enum.length) {
        input = '<select' + attrs + '>' + p.enum.map((v) => '<option' +
          (v === p.default ? ' selected' : '') + '>' + esc(v) + '</option>').join('') + '</select>';
      } else if (p.type === 'bool') {
        input = '<select' + attrs + '>' + ['true', 'false'].map((v) => '<option' +
          (v === String(p.default) ? ' selected' : '') + '>' + v + '</option>').join('') + '</select>';
      } else {
        const type = p.type === 'int' || p.type === 'float' ? 'number' : p.type === 'date' ? 'date' : 'text';
        input = '<input type="' + type + '"' + attrs + ' value="' + esc(p.default) + '"' +
          (p.type === 'int' ? ' step="1"' : p.type === 'float' ? ' step="any"' : '') +
          (p.min ? ' min="' + esc(p.min) + '"' : '') + (p.max ? ' max="' + esc(p.max) + '"' : '') + '>';
      }
      const hint = [p.type || 'string', p.required ? 'required' : '',
        p.min || p.max ? '[' + esc(p.min) + ', ' + esc(p.max) + ']' : '',
        p.enum && p.enum.length ? 'one of ' + p.enum.map(esc).join(', ') : '',
        p.pattern ? 'matches ' + esc(p.pattern) : ''].filter(Boolean).join(', ');
      html += label + input + '<span class="hint">' + hint + '</span>';
    }
    html += '<label for="ld-' + esc(name) + '">logical date</label><input type="date" id="ld-' +
      esc(name) + '" name="__logical_date"><span class="hint">empty: today</span>' +
      '<span></span><span><button class="primary" type="submit">Trigger ' + esc(name) +
      '</button></span><span class="error" data-err></span></form>';
    return html;
  }

  async function triggerSubmit(ev) {
    const form = ev.target.closest('form.trigger');
    if (!form) return;
    ev.preventDefault();
    const name = form.dataset.dag;
    const params = {};
    let logical = '';
    for (const el of form.elements) {
      if (!el.name) continue;
      if (el.name === '__logical_date') { logical = el.value; continue; }
      if (el.value !== '' && el.value !== el.dataset.default) params[el.name] = el.value;
    }
    const body = { params };
    if (logical) body.logical_date = logical;
    try {
      const rep = await post('/api/v1/dags/' + enc(name) + '/trigger', body);
      toast('run ' + rep.run_id + ' of ' + name + ' triggered');
      location.hash = '#/dags/' + enc(name) + '?view=graph&run=' + rep.run_id;
    } catch (e) {
      form.querySelector('[data-err]').textContent = e.message;
    }
  }

  /* ------------------------------------------------------ a DAG: grid/graph */

  async function pageDag(r) {
    const name = r.parts[1];
    const view = r.query.get('view') === 'graph' ? 'graph' : 'grid';
    const run = r.query.get('run') || '';
    const q = (v) => '#/dags/' + enc(name) + '?view=' + v + (run ? '&run=' + enc(run) : '');
    main.innerHTML = '<h1>' + esc(name) + '</h1>' +
      '<div class="tabs"><a href="' + q('grid') + '"' + (view === 'grid' ? ' class="on"' : '') +
      '>Grid</a><a href="' + q('graph') + '"' + (view === 'graph' ? ' class="on"' : '') +
      '>Graph</a></div><div id="view"></div>';
    if (view === 'grid') return gridView(name);
    return graphView(name, run);
  }

  const ROW = 18;

  /* Runs × tasks: columns are runs (oldest left), rows tasks. Only the rows
   * in view are in the DOM, rebuilt as one string on scroll, so 10,000
   * tasks cost what 60 do. The newest unfinished run is followed live. */
  async function gridView(name) {
    const gen = page.gen;
    const t0 = performance.now();
    const g = await get('/api/v1/dags/' + enc(name) + '/grid?limit=25');
    if (!current(gen)) return;
    const tasks = g.tasks || [];
    const runs = (g.runs || []).slice().sort((a, b) => num(a.id) - num(b.id));
    const col = new Map(tasks.map((t, i) => [t, i]));
    const view = document.getElementById('view');
    view.innerHTML = '<p class="muted" id="grid-info">' + tasks.length + ' tasks × ' + runs.length +
      ' runs</p><div class="grid-wrap" id="grid"><div class="grid-head"><div class="tn">task</div>' +
      runs.map((ru, i) => '<div class="rh" data-col="' + i + '" title="run ' + ru.id + ' ' +
        esc(ru.logical_date) + ': ' + esc(ru.state) + '"><span class="sq ' + stateClass(ru.state) +
        '"></span>' + esc(ru.id) + ' ' + esc(ru.logical_date) + '</div>').join('') +
      '</div><div class="grid-body"><div class="grid-rows"></div></div></div>';
    const wrap = document.getElementById('grid');
    const body = wrap.querySelector('.grid-body');
    const rows = wrap.querySelector('.grid-rows');
    body.style.height = tasks.length * ROW + 'px';
    let shown = -1;
    let queued = false;
    const render = (force) => {
      queued = false;
      const first = Math.max(0, Math.floor((wrap.scrollTop - 92) / ROW) - 20);
      if (!force && first === shown) return;
      shown = first;
      const last = Math.min(tasks.length, first + Math.ceil(wrap.clientHeight / ROW) + 40);
      let html = '';
      for (let i = first; i < last; i++) {
        html += '<div class="gr" data-row="' + i + '"><span class="tn" title="' + esc(tasks[i]) + '">' +
          esc(tasks[i]) + '</span>';
        for (let j = 0; j < runs.length; j++) {
          const s = (runs[j].cells || [])[i];
          html += '<span class="c ' + stateClass(s) + '" data-col="' + j + '"></span>';
        }
        html += '</div>';
      }
      rows.style.top = first * ROW + 'px';
      rows.innerHTML = html;
    };
    const schedule = (force) => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => render(force));
    };
    render(true);
    wrap.addEventListener('scroll', () => schedule(false), { passive: true });
    wrap.onclick = (ev) => {
      const h = ev.target.closest('.rh');
      if (h) { location.hash = '#/dags/' + enc(name) + '?view=graph&run=' + runs[h.dataset.col].id; return; }
      const c = ev.target.closest('.c');
      if (!c || c.classList.contains('state-none')) return;
      const i = Number(c.parentNode.dataset.row);
      location.hash = '#/runs/' + runs[c.dataset.col].id + '/tasks/' + enc(tasks[i]) + '/log';
    };
    document.getElementById('grid-info').textContent += ' · drawn in ' +
      Math.round(performance.now() - t0) + ' ms';
    window.sluiceGridReady = performance.now();
    const live = runs.length && runs[runs.length - 1];
    if (live && !isFinal(live.state)) {
      stream('/api/v1/runs/' + live.id + '/stream', {
        task: (ev) => {
          const i = col.get(ev.task);
          if (i === undefined) return;
          live.cells = live.cells || [];
          live.cells[i] = ev.state;
          schedule(true);
        },
        run: (ev, es) => { es.close(); live.state = ev.state || live.state; },
      });
    }
  }

  function isFinal(s) { return ['success', 'failed', 'cancelled'].includes(s); }

  /* Graphviz's SVG of the DAG, inline; the run's stream swaps the state-
   * class of each <g id="task-ID"> as it changes (batched per frame). */
  async function graphView(name, run) {
    const gen = page.gen;
    const t0 = performance.now();
    const view = document.getElementById('view');
    let runs = [];
    try {
      runs = ((await get('/api/v1/runs?dag=' + enc(name) + '&limit=25')) || {}).runs || [];
    } catch (e) { /* the graph still shows */ }
    if (!run && runs.length) run = String(runs[0].run_id);
    const svgText = await getText('/api/v1/dags/' + enc(name) + '/graph.svg' + (run ? '?run=' + enc(run) : ''));
    if (!current(gen)) return;
    view.innerHTML = '<div class="row"><label>run <select id="run-pick">' +
      (run && !runs.some((x) => String(x.run_id) === run) ? '<option>' + esc(run) + '</option>' : '') +
      runs.map((x) => '<option value="' + x.run_id + '"' + (String(x.run_id) === run ? ' selected' : '') +
        '>' + x.run_id + ' · ' + esc(x.logical_date) + ' · ' + esc(x.state) + '</option>').join('') +
      '</select></label>' + (run ? '<a href="#/runs/' + enc(run) + '">run ' + esc(run) + '</a>' +
        ' <span id="run-state"></span>' : '') +
      '<button type="button" id="fit">fit</button><span class="muted" id="graph-info"></span></div>' +
      '<div class="graph-wrap" id="graph"></div>';
    const wrap = document.getElementById('graph');
    insertSvg(wrap, svgText);
    const nodes = wrap.querySelectorAll('g.node').length;
    document.getElementById('graph-info').textContent = nodes + ' tasks · drawn in ' +
      Math.round(performance.now() - t0) + ' ms';
    window.sluiceGraphReady = performance.now();
    document.getElementById('fit').onclick = () => wrap.classList.toggle('fit');
    document.getElementById('run-pick').onchange = (ev) => {
      location.hash = '#/dags/' + enc(name) + '?view=graph&run=' + enc(ev.target.value);
    };
    wrap.onclick = (ev) => {
      const g = ev.target.closest('g.node');
      if (!g || !run) return;
      location.hash = '#/runs/' + enc(run) + '/tasks/' + enc(g.id.replace(/^task-/, '')) + '/log';
    };
    if (run) followGraph(wrap, run);
  }

  /* SVG text from the server (Graphviz's, labels escaped by it) as nodes
   * of this page. innerHTML parses a 10,000-node graph in half the time of
   * DOMParser + importNode; scripts inserted so never run, and the CSP
   * forbids inline handlers, so the text cannot run code either way. */
  function insertSvg(wrap, text) {
    const at = text.indexOf('<svg');
    wrap.innerHTML = at < 0 ? '' : text.slice(at);
    const svg = wrap.querySelector('svg');
    if (!svg) {
      wrap.innerHTML = '<p class="error">the server sent no SVG</p>';
      return null;
    }
    for (const s of svg.querySelectorAll('script, foreignObject')) s.remove();
    return svg;
  }

  /* A stream starts with every task's state, which the SVG already shows:
   * a node whose class is right is left alone (no style recalculation). */
  function setNodeState(el, state) {
    const want = stateClass(state);
    if (el.classList.contains(want)) return;
    for (const c of Array.from(el.classList)) if (c.startsWith('state-')) el.classList.remove(c);
    el.classList.add(want);
  }

  function followGraph(wrap, run) {
    const pending = new Map();
    let queued = false;
    const flush = () => {
      queued = false;
      for (const [task, state] of pending) {
        const el = document.getElementById('task-' + task);
        if (el) setNodeState(el, state);
      }
      pending.clear();
    };
    const runState = document.getElementById('run-state');
    stream('/api/v1/runs/' + enc(run) + '/stream', {
      task: (ev) => {
        pending.set(ev.task, ev.state);
        if (!queued) { queued = true; requestAnimationFrame(flush); }
      },
      run: (ev, es) => {
        flush();
        es.close();
        if (runState) runState.innerHTML = badge(ev.state);
      },
    });
  }

  /* ---------------------------------------------------------------- run */

  async function pageRun(r) {
    const gen = page.gen;
    const id = r.parts[1];
    const limit = 500;
    const rep = await get('/api/v1/runs/' + enc(id) + '?limit=' + limit);
    if (!current(gen)) return;
    const ru = rep.run || {};
    const params = (rep.params || []).map((p) => '<code>' + esc(p.name) + '=' + esc(p.value) + '</code>').join(' ');
    main.innerHTML = '<h1>Run ' + esc(ru.run_id) + ' of <a href="#/dags/' + enc(ru.dag) + '">' +
      esc(ru.dag) + '</a> <span id="run-badge">' + badge(ru.state) + '</span></h1>' +
      '<div class="card"><dl class="kv"><dt>logical date</dt><dd>' + esc(ru.logical_date) + '</dd>' +
      '<dt>trigger</dt><dd>' + esc(ru.trigger) + ' ' + esc(ru.triggered_by) + '</dd>' +
      '<dt>created</dt><dd>' + fmtTime(ru.created_ms) + '</dd><dt>duration</dt><dd>' +
      fmtDur((num(ru.ended_ms) || Date.now()) - num(ru.started_ms || ru.created_ms)) + '</dd>' +
      '<dt>tasks</dt><dd id="run-counts">' + counts(ru) + '</dd><dt>params</dt><dd>' + params + '</dd></dl>' +
      '<p class="row"><a href="#/dags/' + enc(ru.dag) + '?view=graph&run=' + enc(ru.run_id) + '">graph</a>' +
      '<a href="#/reports?run=' + enc(ru.run_id) + '">validation reports</a>' +
      (isOperator() ? '<button type="button" data-act="cancel">cancel run</button>' +
        '<button type="button" data-act="retry">retry failed</button>' : '') + '</p></div>' +
      '<table class="t" id="tasks"><thead><tr><th>task</th><th>state</th><th class="num">attempts</th>' +
      '<th>worker</th><th class="num">duration</th><th>cause</th><th>why waiting</th><th>log</th></tr></thead>' +
      '<tbody></tbody></table><p id="more"></p>';
    const tbody = main.querySelector('#tasks tbody');
    appendTasks(tbody, ru.run_id, rep.tasks || []);
    moreButton(ru.run_id, rep.next, limit, tbody);
    main.onclick = async (ev) => {
      const b = ev.target.closest('button[data-act]');
      if (!b) return;
      try {
        if (b.dataset.act === 'cancel') {
          const c = await post('/api/v1/runs/' + enc(id) + '/cancel');
          toast('run ' + id + ': ' + (c.state || 'cancelled') + ', ' + (c.cancelled_tasks || 0) + ' tasks cancelled');
        } else if (b.dataset.act === 'retry') {
          const c = await post('/api/v1/runs/' + enc(id) + '/retry');
          toast('run ' + id + ': ' + (c.reopened || 0) + ' tasks set back to pending');
          route();
        } else if (b.dataset.act === 'more') {
          b.disabled = true;
          const next = await get('/api/v1/runs/' + enc(id) + '?limit=' + limit + '&cursor=' + b.dataset.cursor);
          appendTasks(tbody, id, next.tasks || []);
          moreButton(id, next.next, limit, tbody);
        }
      } catch (e) { toast(e.message, true); }
    };
    if (!isFinal(ru.state)) followRun(id, tbody, gen);
  }

  function counts(ru) {
    return esc(ru.total) + ' total, ' + esc(ru.succeeded) + ' succeeded, ' + esc(ru.running) +
      ' queued or running, ' + esc(ru.failed) + ' failed';
  }

  function moreButton(run, next, limit, tbody) {
    const p = document.getElementById('more');
    p.innerHTML = next && num(next) ? '<button type="button" data-act="more" data-cursor="' + esc(next) +
      '">next ' + limit + ' tasks</button> <span class="muted">' + tbody.rows.length + ' shown</span>' : '';
  }

  function taskRow(run, t) {
    const atts = t.attempts || [];
    const a = atts[atts.length - 1] || {};
    const dur = a.started_ms ? (num(a.ended_ms) || Date.now()) - num(a.started_ms) : 0;
    let why = t.waiting || '';
    if (t.state === 'up_for_retry' && num(t.next_try_ms)) why = 'retry at ' + fmtTime(t.next_try_ms);
    const cause = [a.cause, a.error, a.exit_code ? 'exit ' + a.exit_code : '',
      a.signal ? 'signal ' + a.signal : ''].filter(Boolean);
    return '<tr data-task="' + esc(t.task_id) + '"><td class="mono">' + esc(t.task_id) + '</td>' +
      '<td data-state>' + badge(t.state) + '</td><td class="num">' + atts.length + '</td>' +
      '<td>' + esc(a.worker) + '</td><td class="num">' + fmtDur(dur) + '</td>' +
      '<td>' + esc(Array.from(new Set(cause)).join(': ')) + '</td><td class="muted">' + esc(why) + '</td>' +
      '<td>' + (atts.length ? '<a href="#/runs/' + enc(run) + '/tasks/' + enc(t.task_id) + '/log">log</a>' : '') +
      '</td></tr>';
  }

  function appendTasks(tbody, run, tasks) {
    tbody.insertAdjacentHTML('beforeend', tasks.map((t) => taskRow(run, t)).join(''));
  }

  /* States change at once from the stream; attempts, workers and causes
   * come with a refetch of the page at most every 2 s (small runs only). */
  function followRun(id, tbody, gen) {
    let refetch = null;
    const rows = () => {
      const m = new Map();
      for (const tr of tbody.rows) m.set(tr.dataset.task, tr);
      return m;
    };
    let index = rows();
    const refresh = async () => {
      refetch = null;
      if (tbody.rows.length > 2000 || !current(gen)) return;
      try {
        const rep = await get('/api/v1/runs/' + enc(id) + '?limit=' + tbody.rows.length);
        if (!current(gen)) return;
        tbody.innerHTML = (rep.tasks || []).map((t) => taskRow(id, t)).join('');
        index = rows();
        document.getElementById('run-counts').innerHTML = counts(rep.run || {});
        document.getElementById('run-badge').innerHTML = badge((rep.run || {}).state);
      } catch (e) { /* the stream keeps the states */ }
    };
    stream('/api/v1/runs/' + enc(id) + '/stream', {
      task: (ev) => {
        const tr = index.get(ev.task);
        if (tr) tr.querySelector('[data-state]').innerHTML = badge(ev.state);
        if (!refetch) refetch = setTimeout(refresh, 2000);
      },
      run: (ev, es) => {
        es.close();
        document.getElementById('run-badge').innerHTML = badge(ev.state);
        clearTimeout(refetch);
        refresh();
      },
    });
    onLeave(() => clearTimeout(refetch));
  }

  /* ---------------------------------------------------------------- log */

  async function pageLog(r) {
    const gen = page.gen;
    const run = r.parts[1];
    const task = r.parts[3];
    const attempt = r.query.get('attempt') || '';
    let atts = [];
    try {
      const rep = await get('/api/v1/runs/' + enc(run));
      const t = (rep.tasks || []).find((x) => x.task_id === task);
      atts = (t && t.attempts) || [];
    } catch (e) { /* the log may still come */ }
    if (!current(gen)) return;
    main.innerHTML = '<h1>Log of <span class="mono">' + esc(task) + '</span> in <a href="#/runs/' +
      enc(run) + '">run ' + esc(run) + '</a></h1><p class="row">' +
      (atts.length > 1 ? 'attempt ' + atts.map((a) => '<a href="#/runs/' + enc(run) + '/tasks/' +
        enc(task) + '/log?attempt=' + a.number + '">' + a.number + '</a>').join(' ') : '') +
      '<label><input type="checkbox" id="follow" checked> follow</label>' +
      '<span id="log-state" class="muted">connecting…</span></p><pre class="log" id="log"></pre>';
    const pre = document.getElementById('log');
    const st = document.getElementById('log-state');
    const follow = document.getElementById('follow');
    let size = 0;
    const MAX = 4 << 20;
    const add = (text) => {
      if (typeof text !== 'string' || !text) return;
      size += text.length;
      pre.appendChild(document.createTextNode(text));
      while (size > MAX && pre.firstChild && pre.firstChild !== pre.lastChild) {
        size -= pre.firstChild.nodeValue.length;
        pre.removeChild(pre.firstChild);
      }
      if (follow.checked) pre.scrollTop = pre.scrollHeight;
    };
    /* A task that has not started has no attempt (the server answers 404):
     * ask again every 2 s while the page is open. */
    let got = false;
    let ended = false;
    const open = () => {
      if (!current(gen)) return;
      const es = stream('/api/v1/runs/' + enc(run) + '/tasks/' + enc(task) + '/logs/stream' +
        (attempt ? '?attempt=' + enc(attempt) : ''), {
        log: (chunk) => {
          got = true;
          st.textContent = 'following live';
          add(typeof chunk === 'string' ? chunk : (chunk && chunk.data) || '');
        },
        end: (ev, s) => {
          ended = true;
          s.close();
          st.textContent = 'finished' + (ev && ev.state ? ': ' + ev.state : '') +
            (ev && ev.attempt ? ' (attempt ' + ev.attempt + ')' : '');
        },
      });
      // Each connection sends the log from its start: after a reconnect
      // (the browser's own, on a dropped connection) begin again.
      let opened = false;
      es.onopen = () => {
        if (opened) { pre.textContent = ''; size = 0; }
        opened = true;
        st.textContent = 'following live';
      };
      es.onerror = () => {
        if (ended || es.readyState !== EventSource.CLOSED) return;
        if (got) { st.textContent = 'the stream ended'; return; }
        st.textContent = 'no log yet (the task has not started); asking again…';
        const t = setTimeout(open, 2000);
        onLeave(() => clearTimeout(t));
      };
    };
    open();
  }

  /* ------------------------------------------------------------ lineage */

  async function pageLineage(r) {
    const gen = page.gen;
    const uri = r.query.get('uri') || '';
    let html = '<h1>Lineage</h1><form id="lin" class="row"><input id="uri" name="uri" size="70" ' +
      'placeholder="/path/to/file or file:///path" value="' + esc(uri) + '"><button type="submit">show</button></form>';
    main.onsubmit = (ev) => {
      ev.preventDefault();
      location.hash = '#/lineage?uri=' + enc(document.getElementById('uri').value.trim());
    };
    if (!uri) {
      const ds = await get('/api/v1/datasets');
      if (!current(gen)) return;
      const prod = new Map(((ds && ds.producers) || []).map((a) => [String(a.attempt_id), a]));
      html += '<h2>Datasets</h2><table class="t"><thead><tr><th>dataset</th><th class="num">versions</th>' +
        '<th>latest</th><th>produced by</th><th>at</th></tr></thead><tbody>' +
        ((ds && ds.versions) || []).map((v, i) => {
          const a = prod.get(String(v.produced_by));
          return '<tr><td><a href="#/lineage?uri=' + enc(v.uri) + '" class="mono">' + esc(v.uri) + '</a></td>' +
            '<td class="num">' + esc((ds.version_counts || [])[i]) + '</td><td class="mono">' +
            esc(String(v.hash).slice(0, 12)) + '</td><td>' + (a ? attemptLink(a) : '') + '</td><td>' +
            fmtTime(v.at_ms) + '</td></tr>';
        }).join('') + '</tbody></table>';
      main.innerHTML = html;
      return;
    }
    const q = '?uri=' + enc(uri);
    const [svg, up, down] = await Promise.all([
      getText('/api/v1/lineage.svg' + q).catch((e) => e),
      get('/api/v1/lineage' + q),
      get('/api/v1/lineage' + q + '&downstream=true').catch(() => null),
    ]);
    if (!current(gen)) return;
    main.innerHTML = html + '<p class="row"><button type="button" id="fit">fit</button>' +
      '<span class="muted">a click on a file shows its lineage, on a task its log</span></p>' +
      '<div class="graph-wrap lineage-wrap" id="lineage-graph"></div><div id="lineage-tables"></div>';
    const wrap = document.getElementById('lineage-graph');
    if (svg instanceof Error) wrap.innerHTML = '<p class="error">' + esc(svg.message) + '</p>';
    else insertSvg(wrap, svg);
    const seen = mergeLineage(up, down);
    document.getElementById('lineage-tables').innerHTML = lineageTables(uri, up, seen);
    document.getElementById('fit').onclick = () => wrap.classList.toggle('fit');
    wrap.onclick = (ev) => {
      const g = ev.target.closest('g.node');
      const m = g && g.id.match(/^(ds|task)-(\d+)$/);
      if (!m) return;
      const v = m[1] === 'ds' && seen.versions.get(m[2]);
      const a = m[1] === 'task' && seen.attempts.get(m[2]);
      if (v) location.hash = '#/lineage?uri=' + enc(v.uri.replace(/^file:\/\//, ''));
      if (a) location.hash = '#/runs/' + a.run_id + '/tasks/' + enc(a.task_id) + '/log?attempt=' + a.number;
    };
  }

  /* The versions and attempts of both walks (upstream and downstream),
   * by id as strings (the graph's node ids are ds-ID and task-ID). */
  function mergeLineage(up, down) {
    const versions = new Map();
    const attempts = new Map();
    for (const rep of [up, down]) {
      if (!rep) continue;
      for (const v of rep.versions || []) versions.set(String(v.id), v);
      for (const a of rep.attempts || []) attempts.set(String(a.attempt_id), a);
    }
    return { versions, attempts };
  }

  function attemptLink(a) {
    return '<a href="#/runs/' + a.run_id + '">' + esc(a.dag) + ' run ' + esc(a.run_id) + '</a> · <a href="#/runs/' +
      a.run_id + '/tasks/' + enc(a.task_id) + '/log?attempt=' + esc(a.number) + '" class="mono">' +
      esc(a.task_id) + '</a>';
  }

  function lineageTables(uri, up, seen) {
    const { versions, attempts } = seen;
    const root = versions.get(String(up && up.root));
    const same = (v) => (root ? v.uri === root.uri : v.uri === uri || v.uri.endsWith(uri));
    const mine = Array.from(versions.values()).filter(same).sort((a, b) => num(b.at_ms) - num(a.at_ms));
    const ids = new Set(mine.map((v) => String(v.id)));
    const producers = [];
    const consumers = [];
    for (const a of attempts.values()) {
      if ((a.outputs || []).some((o) => ids.has(String(o)))) producers.push(a);
      if ((a.inputs || []).some((i) => ids.has(String(i)))) consumers.push(a);
    }
    const atable = (list) => list.length ? '<table class="t"><thead><tr><th>attempt</th><th>state</th>' +
      '<th>worker</th><th>ended</th></tr></thead><tbody>' + list.map((a) => '<tr><td>' + attemptLink(a) +
      '</td><td>' + badge(a.state) + '</td><td>' + esc(a.worker) + '</td><td>' + fmtTime(a.ended_ms) +
      '</td></tr>').join('') + '</tbody></table>' : '<p class="muted">none recorded</p>';
    return '<h2>Versions</h2><table class="t" id="versions"><thead><tr><th>hash</th><th class="num">size</th>' +
      '<th>recorded</th><th>produced by attempt</th></tr></thead><tbody>' + mine.map((v) => '<tr><td class="mono">' +
      esc(String(v.hash).slice(0, 16)) + '</td><td class="num">' + esc(v.size) + '</td><td>' + fmtTime(v.at_ms) +
      '</td><td>' + (num(v.produced_by) ? esc(v.produced_by) : 'outside sluice') + '</td></tr>').join('') +
      '</tbody></table><h2>Producers</h2>' + atable(producers) + '<h2>Consumers</h2>' + atable(consumers);
  }

  /* ------------------------------------------------------------ reports */

  async function pageReports(r) {
    const gen = page.gen;
    const run = r.query.get('run') || '';
    const task = r.query.get('task') || '';
    if (!run) {
      const rep = await get('/api/v1/runs?limit=30');
      if (!current(gen)) return;
      main.innerHTML = '<h1>Validation reports</h1><p class="muted">Pick a run; its validate tasks\' reports show.</p>' +
        '<table class="t"><thead><tr><th>run</th><th>DAG</th><th>logical date</th><th>state</th></tr></thead><tbody>' +
        ((rep && rep.runs) || []).map((x) => '<tr><td><a href="#/reports?run=' + x.run_id + '">' + x.run_id +
          '</a></td><td>' + esc(x.dag) + '</td><td>' + esc(x.logical_date) + '</td><td>' + badge(x.state) +
          '</td></tr>').join('') + '</tbody></table>';
      return;
    }
    const rep = await get('/api/v1/reports?run=' + enc(run) + (task ? '&task=' + enc(task) : ''));
    if (!current(gen)) return;
    const reports = (rep && rep.reports) || [];
    main.innerHTML = '<h1>Validation reports of <a href="#/runs/' + enc(run) + '">run ' + esc(run) + '</a></h1>' +
      (reports.length ? reports.map(reportCard).join('') : '<p class="muted">This run has no validation report.</p>');
  }

  function reportCard(rp) {
    let j = {};
    try { j = JSON.parse(rp.report || '{}'); } catch (e) { j = {}; }
    const checks = j.checks || [];
    const drift = j.drift || [];
    const bad = [];
    for (const c of checks) for (const b of c.bad_rows || []) bad.push(Object.assign({ check: c.check }, b));
    const f = (v) => (typeof v === 'number' ? (Math.abs(v) >= 1000 ? v.toFixed(1) : v.toPrecision(4)) : '');
    return '<div class="card report" data-task="' + esc(rp.task_id) + '"><h2>' + esc(rp.task_id) +
      ' <span class="muted">attempt ' + esc(rp.attempt) + '</span> ' +
      (j.passed ? '<span class="passed">passed</span>' : '<span class="notpassed">failed</span>') + '</h2>' +
      '<p>' + esc(rp.summary) + '</p><dl class="kv"><dt>dataset</dt><dd class="mono">' + esc(j.dataset) +
      '</dd><dt>rows</dt><dd>' + esc(j.rows) + ' (' + esc(j.bad) + ' bad, at most ' +
      esc(f(num(j.max_bad_ratio) * 100)) + '% allowed)</dd><dt>quarantined rows</dt><dd class="mono">' +
      (j.quarantine ? esc(j.quarantine) : 'none') + '</dd>' + (j.error ? '<dt>error</dt><dd class="error">' +
      esc(j.error) + '</dd>' : '') + '</dl>' +
      '<h2>Checks</h2><table class="t checks"><thead><tr><th>check</th><th class="num">passed</th>' +
      '<th class="num">failed</th></tr></thead><tbody>' + checks.map((c) => '<tr><td>' + esc(c.check) +
      '</td><td class="num">' + esc(c.passed) + '</td><td class="num">' + esc(c.failed) + '</td></tr>').join('') +
      '</tbody></table>' + (drift.length ? '<h2>Drift per column</h2><table class="t drift"><thead><tr>' +
      '<th>column</th><th class="num">mean</th><th class="num">previous mean</th><th class="num">PSI</th>' +
      '<th class="num">mean z</th><th>result</th></tr></thead><tbody>' + drift.map((d) => '<tr><td>' +
        esc(d.column) + '</td><td class="num">' + f(d.mean) + '</td><td class="num">' + f(d.previous_mean) +
        '</td><td class="num">' + f(d.psi) + '</td><td class="num">' + f(d.mean_z) + '</td><td>' +
        (!d.compared ? '<span class="muted">first version</span>' : d.passed ? '<span class="passed">ok</span>'
          : '<span class="notpassed">drifted</span>') + '</td></tr>').join('') + '</tbody></table>' : '') +
      (bad.length ? '<h2>Quarantined rows (samples)</h2><table class="t"><thead><tr>' +
      '<th>check</th><th class="num">line</th><th>column</th><th>value</th><th>why</th></tr></thead><tbody>' +
      bad.slice(0, 25).map((b) => '<tr><td>' + esc(b.check) + '</td><td class="num">' + esc(b.line) + '</td><td>' +
        esc(b.column) + '</td><td class="mono">' + esc(b.value) + '</td><td>' + esc(b.why) + '</td></tr>').join('') +
      '</tbody></table>' + (bad.length > 25 ? '<p class="muted">' + (bad.length - 25) + ' more samples in the report (<code>sluice report RUN TASK</code>)</p>' : '') : '') +
      '</div>';
  }

  /* ------------------------------------------------------------ metrics */

  async function pageMetrics(r) {
    const gen = page.gen;
    const dag = r.query.get('dag') || '';
    const task = r.query.get('task') || '';
    let dags = [];
    try { dags = ((await get('/api/v1/dags')) || {}).dags || []; } catch (e) { /* typed by hand */ }
    if (!current(gen)) return;
    let html = '<h1>Metrics across runs</h1><form id="mf" class="row"><label>DAG <select name="dag">' +
      dags.map((d) => '<option' + (d.name === dag ? ' selected' : '') + '>' + esc(d.name) + '</option>').join('') +
      '</select></label><label>task <input name="task" value="' + esc(task) + '" placeholder="train"></label>' +
      '<button type="submit">show</button></form>';
    main.onsubmit = (ev) => {
      ev.preventDefault();
      const f = ev.target;
      location.hash = '#/metrics?dag=' + enc(f.dag.value) + '&task=' + enc(f.task.value.trim());
    };
    if (!dag || !task) {
      main.innerHTML = html + '<p class="muted">Numbers a task writes to <code>$SLUICE_METRICS</code> ' +
        '(accuracy, loss…) show here as one chart per metric, a point per run.</p>';
      return;
    }
    const rep = await get('/api/v1/metrics?dag=' + enc(dag) + '&task=' + enc(task) + '&limit=100');
    if (!current(gen)) return;
    const rows = ((rep && rep.rows) || []).filter((x) => (x.metrics || []).length)
      .sort((a, b) => num(a.run_id) - num(b.run_id));
    const names = [];
    for (const row of rows) for (const m of row.metrics) if (!names.includes(m.name)) names.push(m.name);
    const varying = varyingParams(rows);
    html += rows.length ? '<div id="charts">' + names.map((n) => chart(n, rows, varying)).join('') + '</div>'
      : '<p class="muted">No metrics yet for ' + esc(task) + ' in ' + esc(dag) + '.</p>';
    html += '<h2>Runs</h2><table class="t"><thead><tr><th>run</th><th>logical date</th><th>state</th>' +
      names.map((n) => '<th class="num">' + esc(n) + '</th>').join('') + '<th>params</th><th>inputs</th></tr></thead><tbody>' +
      rows.slice().reverse().map((row) => {
        const m = new Map(row.metrics.map((x) => [x.name, x.value]));
        return '<tr><td><a href="#/runs/' + row.run_id + '">' + row.run_id + '</a></td><td>' +
          esc(row.logical_date) + '</td><td>' + badge(row.state) + '</td>' + names.map((n) =>
          '<td class="num">' + (m.has(n) ? esc(fmtNum(m.get(n))) : '') + '</td>').join('') + '<td class="mono">' +
          (row.params || []).map((p) => esc(p.name) + '=' + esc(p.value)).join(' ') + '</td><td class="mono">' +
          (row.inputs || []).map(esc).join('<br>') + '</td></tr>';
      }).join('') + '</tbody></table>';
    main.innerHTML = html;
  }

  function fmtNum(v) {
    v = Number(v);
    return Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);
  }

  /* The params whose values differ between runs (the ones worth printing
   * beside each point); all of them when there is only one run. */
  function varyingParams(rows) {
    const vals = new Map();
    for (const row of rows) {
      for (const p of row.params || []) {
        if (!vals.has(p.name)) vals.set(p.name, new Set());
        vals.get(p.name).add(p.value);
      }
    }
    const out = [];
    for (const [n, s] of vals) if (s.size > 1) out.push(n);
    return out;
  }

  /* One metric as a line chart, runs in order on x, drawn as SVG markup
   * with classes only (no inline styles). */
  function chart(name, rows, varying) {
    const pts = rows.map((row) => {
      const m = row.metrics.find((x) => x.name === name);
      return m ? { row, v: Number(m.value) } : null;
    }).filter(Boolean);
    const W = 720; const H = 260; const L = 56; const R = 160; const T = 28; const B = 36;
    let lo = Math.min(...pts.map((p) => p.v));
    let hi = Math.max(...pts.map((p) => p.v));
    if (hi === lo) { hi += Math.abs(hi) * 0.05 || 1; lo -= Math.abs(lo) * 0.05 || 1; }
    const pad = (hi - lo) * 0.1; lo -= pad; hi += pad;
    const x = (i) => L + (pts.length === 1 ? (W - L - R) / 2 : i * (W - L - R) / (pts.length - 1));
    const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
    let s = '<svg class="chart" data-metric="' + esc(name) + '" viewBox="0 0 ' + W + ' ' + H + '" width="' + W +
      '" height="' + H + '" role="img" aria-label="' + esc(name) + ' across runs">' +
      '<text class="title" x="' + L + '" y="18">' + esc(name) + '</text>';
    for (let k = 0; k <= 4; k++) {
      const v = lo + (hi - lo) * k / 4;
      s += '<line class="gridline" x1="' + L + '" x2="' + (W - R) + '" y1="' + y(v) + '" y2="' + y(v) + '"/>' +
        '<text x="' + (L - 6) + '" y="' + (y(v) + 4) + '" text-anchor="end">' + esc(fmtNum(v)) + '</text>';
    }
    s += '<line class="axis" x1="' + L + '" x2="' + L + '" y1="' + T + '" y2="' + (H - B) + '"/>' +
      '<line class="axis" x1="' + L + '" x2="' + (W - R) + '" y1="' + (H - B) + '" y2="' + (H - B) + '"/>';
    if (pts.length > 1) {
      s += '<polyline class="line" points="' + pts.map((p, i) => x(i) + ',' + y(p.v)).join(' ') + '"/>';
    }
    pts.forEach((p, i) => {
      const label = varying.map((n) => {
        const pr = (p.row.params || []).find((q) => q.name === n);
        return pr ? n + '=' + pr.value : '';
      }).filter(Boolean).join(' ');
      s += '<a href="#/runs/' + p.row.run_id + '"><circle class="pt' + (p.row.state === 'failed' ? ' failed' : '') +
        '" cx="' + x(i) + '" cy="' + y(p.v) + '" r="5"><title>run ' + p.row.run_id + ': ' + esc(name) + ' = ' +
        esc(p.v) + ((p.row.params || []).length ? '\n' + (p.row.params || []).map((q) => q.name + '=' + q.value)
          .map(esc).join('\n') : '') + '</title></circle></a>' +
        '<text class="lbl" x="' + (x(i) + 8) + '" y="' + (y(p.v) - 8) + '">' + esc(fmtNum(p.v)) +
        (label ? ' · ' + esc(label) : '') + '</text>' +
        '<text x="' + x(i) + '" y="' + (H - B + 16) + '" text-anchor="middle">run ' + esc(p.row.run_id) + '</text>';
    });
    return s + '</svg>';
  }

  /* ------------------------------------------------------------ workers */

  async function pageWorkers() {
    const gen = page.gen;
    const draw = async () => {
      const [w, a, p] = await Promise.all([
        get('/api/v1/workers'),
        get('/api/v1/autoscaler').catch(() => null),
        get('/api/v1/pools').catch(() => null),
      ]);
      if (!current(gen)) return;
      main.innerHTML = '<h1>Workers</h1>' + workersTable((w && w.workers) || []) +
        autoscalerCard(a) + poolsTable((p && p.pools) || []);
    };
    await draw();
    every(5000, () => draw().catch(() => {}));
  }

  function workersTable(ws) {
    return '<table class="t" id="workers"><thead><tr><th>worker</th><th>host</th><th>state</th>' +
      '<th class="num">slots</th><th>load</th><th class="num">CPUs</th><th class="num">memory</th>' +
      '<th class="num">GPUs</th><th>labels</th><th>running</th><th>last seen</th></tr></thead><tbody>' +
      (ws.length ? '' : '<tr><td colspan="11" class="muted">No worker has joined yet.</td></tr>') +
      ws.map((w) => {
        const slots = num(w.slots);
        const used = slots - num(w.free_slots);
        const res = w.resources || {};
        const lvl = slots ? Math.min(10, Math.round(used * 10 / slots)) : 0;
        return '<tr><td><b>' + esc(w.name) + '</b></td><td>' + esc(w.hostname) + '</td><td>' + badge(w.state) +
          '</td><td class="num">' + used + ' / ' + slots + '</td><td><span class="bar l' + lvl + '"><i></i></span></td>' +
          '<td class="num">' + esc(res.cpus) + '</td><td class="num">' + (res.memory_mb ? esc(res.memory_mb) + ' MB' : '') +
          '</td><td class="num">' + esc(res.gpus || 0) + '</td><td>' + (res.labels || []).map(esc).join(', ') +
          '</td><td class="mono">' + (w.running || []).length + '</td><td>' + fmtTime(w.last_seen_ms) + '</td></tr>';
      }).join('') + '</tbody></table>';
  }

  function autoscalerCard(a) {
    if (!a) return '';
    const shapes = a.shapes || [];
    const dec = (a.decisions || []).slice().reverse();
    return '<h2>Autoscaler</h2><div class="card"><dl class="kv"><dt>provider</dt><dd>' + esc(a.provider) +
      '</dd><dt>workers</dt><dd>' + esc(a.min_workers) + ' to ' + esc(a.max_workers) + '</dd><dt>tasks waiting</dt><dd>' +
      esc(a.waiting) + '</dd><dt>launches in flight</dt><dd>' + esc(a.in_flight) + '</dd></dl>' +
      (shapes.length ? '<table class="t"><thead><tr><th>shape</th><th class="num">demand</th><th class="num">connected</th>' +
        '<th class="num">launching</th><th class="num">draining</th><th class="num">failures</th><th>backoff</th></tr></thead><tbody>' +
        shapes.map((s) => '<tr><td>' + esc(s.name) + '</td><td class="num">' + esc(s.demand) + '</td><td class="num">' +
          esc(s.connected) + '</td><td class="num">' + esc(s.launching) + '</td><td class="num">' + esc(s.draining) +
          '</td><td class="num">' + esc(s.failures) + '</td><td>' + fmtDur(s.backoff_ms) + '</td></tr>').join('') +
        '</tbody></table>' : '') +
      ((a.unfit || []).length ? '<p class="error">' + a.unfit.map(esc).join('<br>') + '</p>' : '') +
      '<h2>Launches and their reasons</h2>' + (dec.length ? '<table class="t"><thead><tr><th>at</th><th>decision</th>' +
        '<th>subject</th><th>why</th></tr></thead><tbody>' + dec.map((d) => '<tr><td>' + fmtTime(d.at_ms) + '</td><td>' +
        esc(d.kind) + '</td><td>' + esc(d.subject) + '</td><td>' + esc(d.detail) + '</td></tr>').join('') +
        '</tbody></table>' : '<p class="muted">no decisions yet</p>') + '</div>';
  }

  function poolsTable(pools) {
    if (!pools.length) return '';
    return '<h2>Pools</h2><table class="t"><thead><tr><th>pool</th><th class="num">used</th><th class="num">slots</th>' +
      '<th class="num">queued</th><th>description</th></tr></thead><tbody>' + pools.map((p) => '<tr><td>' +
      esc(p.name) + '</td><td class="num">' + esc(p.used) + '</td><td class="num">' + esc(p.slots) + '</td><td class="num">' +
      esc(p.queued) + '</td><td>' + esc(p.description) + '</td></tr>').join('') + '</tbody></table>';
  }

  /* ------------------------------------------------------------- router */

  function pick(parts) {
    const [a, , c, , e] = parts;
    if (a === 'login') return pageLogin;
    if (a === 'dags' && parts.length === 1) return pageDags;
    if (a === 'dags' && parts.length === 2) return pageDag;
    if (a === 'runs' && parts.length === 2) return pageRun;
    if (a === 'runs' && c === 'tasks' && e === 'log' && parts.length === 5) return pageLog;
    if (a === 'lineage') return pageLineage;
    if (a === 'reports') return pageReports;
    if (a === 'metrics') return pageMetrics;
    if (a === 'workers') return pageWorkers;
    return null;
  }

  async function route() {
    leave();
    // A note outlives the page it was shown on by one page (a trigger's
    // note shows on the run's graph), never more.
    if (toast.gen !== undefined && page.gen - toast.gen > 1) document.getElementById('toast').hidden = true;
    const r = parseHash();
    for (const a of document.querySelectorAll('#nav a')) {
      a.classList.toggle('on', a.dataset.nav === r.parts[0]);
    }
    const fn = pick(r.parts);
    if (!fn) {
      main.innerHTML = '<div class="card">No page at <code>' + esc(location.hash) + '</code>; ' +
        '<a href="#/dags">the DAGs</a> list everything.</div>';
      return;
    }
    try {
      await fn(r);
    } catch (e) {
      fail(e);
    }
  }

  document.getElementById('logout').onclick = async () => {
    try { await api('DELETE', '/api/v1/session'); } catch (e) { /* logged out anyway */ }
    sessionStorage.removeItem(SESSION_KEY);
    sessionStorage.removeItem(ROLE_KEY);
    showWho('');
    location.hash = '#/login';
  };

  window.addEventListener('hashchange', route);
  window.sluiceLoadedAt = Date.now();
  whoAmI().then(route);
})();
