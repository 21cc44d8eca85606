// The web UI in headless chromium against a real scheduler (started by
// run.sh, which passes its URL, an operator API token and the AI
// pipeline's folders in the environment). Each test is one step of what a
// user does; a failed step does not stop the ones after it that do not
// need it. Screenshots of each page go to $OUT_DIR. Ends with the line
// "N passed, N failed" and exits 1 when anything failed.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const env = (k, d) => process.env[k] || d;
const URL_ = env('SLUICE_URL', 'http://127.0.0.1:7702');
const TOKEN = env('SLUICE_TOKEN', '');
const VIEWER_TOKEN = env('SLUICE_VIEWER_TOKEN', '');
const DATA = env('DATA_DIR', '/tmp/sluice-demo/data');
const BIN = env('BIN_DIR', '/usr/local/lib/sluice/ai-pipeline');
const OUT = env('OUT_DIR', 'build/browser-shots');
const WIDE_RUN = env('WIDE_RUN', '');
const WIDE_TASKS = env('WIDE_TASKS', '10000');
const DAY = '2024-01-01';
const PIPELINE_TIMEOUT = 240000;

fs.mkdirSync(OUT, { recursive: true });
let passed = 0;
let failed = 0;
const state = {}; // what one step leaves for the next (run ids)

async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.message ? e.message.split('\n')[0] : e}`);
    await shot(page, 'failed-' + name.replace(/[^a-z0-9]+/gi, '-')).catch(() => {});
  }
}
function check(cond, what) {
  if (!cond) throw new Error(what);
}
async function shot(p, name) {
  await p.screenshot({ path: path.join(OUT, name + '.png') });
}
// Navigates inside the page (a hash change), never reloading it.
async function go(hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
}
function apiGet(p) {
  return page.evaluate(async (u) => {
    const r = await fetch(u, { credentials: 'same-origin' });
    return r.json();
  }, p);
}
async function waitRun(run, pred, ms) {
  const until = Date.now() + ms;
  for (;;) {
    const rep = await apiGet('/api/v1/runs/' + run);
    if (pred(rep)) return rep;
    if (Date.now() > until) throw new Error('run ' + run + ' did not get there: ' + (rep.run || {}).state);
    await page.waitForTimeout(250);
  }
}

const browser = await chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await ctx.newPage();
const cspErrors = [];
const pageErrors = [];
page.on('console', (m) => {
  if (/Content.Security.Policy/i.test(m.text())) cspErrors.push(m.text());
});
page.on('pageerror', (e) => pageErrors.push(e.message));

await test('a page without a session goes to the login page', async () => {
  await page.goto(URL_ + '/#/dags');
  await page.waitForSelector('#token', { timeout: 10000 });
  check(page.url().includes('#/login'), 'the URL is ' + page.url());
  await shot(page, 'login');
});

await test('a wrong token is refused with a message', async () => {
  await page.fill('#token', 'sat_not-a-token');
  await page.click('#login-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0,
    null, { timeout: 10000 });
});

await test('log in with an operator token; the DAGs page lists the AI pipeline', async () => {
  check(TOKEN.startsWith('sat_'), 'run.sh passed no API token');
  await page.fill('#token', TOKEN);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('tr[data-dag="ai-pipeline"]', { timeout: 10000 });
  await page.waitForSelector('td[data-runs="ai-daily"] .sq', { timeout: 10000 });
  const cookies = await ctx.cookies();
  const c = cookies.find((x) => x.name === 'sluice_session');
  check(c && c.httpOnly, 'the session cookie is missing or not HttpOnly');
  check(await page.evaluate(() => document.cookie.indexOf('sluice_session') < 0),
    'the page script can read the session cookie');
  // Survives only if the page is never reloaded from here on.
  await page.evaluate(() => { window.sluiceTestMarker = 'alive'; });
  await shot(page, 'dags');
});

await test('trigger the AI pipeline from its form; the graph turns green without a reload', async () => {
  await page.click('tr[data-dag="ai-pipeline"] button[data-act="trigger"]');
  const form = 'form.trigger[data-dag="ai-pipeline"]';
  await page.waitForSelector(form + ' input[name="data"]', { timeout: 10000 });
  check(await page.$(form + ' input[name="epochs"]'), 'the form has no epochs field');
  await page.fill(form + ' input[name="data"]', DATA);
  await page.fill(form + ' input[name="bin"]', BIN);
  await page.fill(form + ' input[name="__logical_date"]', DAY);
  await shot(page, 'trigger-pipeline');
  await page.click(form + ' button[type=submit]');
  await page.waitForFunction(() => /view=graph&run=\d+/.test(location.hash), null, { timeout: 10000 });
  state.run1 = (await page.evaluate(() => location.hash)).match(/run=(\d+)/)[1];
  await page.waitForSelector('#graph svg g.node', { timeout: 30000 });
  const nodes = await page.$$eval('#graph g.node', (gs) => gs.map((g) => g.id));
  for (const t of ['snapshot', 'validate', 'features', 'train', 'evaluate', 'infer']) {
    check(nodes.includes('task-' + t), 'the graph has no node task-' + t + ': ' + nodes.join(' '));
  }
  // Count class changes made by the stream, to show the colours moved live.
  await page.evaluate(() => {
    window.sluiceRecolours = 0;
    new MutationObserver((ms) => { window.sluiceRecolours += ms.length; })
      .observe(document.getElementById('graph'), { attributes: true, attributeFilter: ['class'], subtree: true });
  });
  await page.waitForFunction(() => {
    const gs = document.querySelectorAll('#graph g.node');
    return gs.length && Array.from(gs).every((g) => g.classList.contains('state-success'));
  }, null, { timeout: PIPELINE_TIMEOUT, polling: 200 });
  const [navs, marker, recolours] = await page.evaluate(() => [
    performance.getEntriesByType('navigation').length, window.sluiceTestMarker, window.sluiceRecolours]);
  check(navs === 1 && marker === 'alive', 'the page was reloaded (navigations ' + navs + ', marker ' + marker + ')');
  check(recolours > 0, 'no node changed colour while the page watched');
  await shot(page, 'graph');
});

await test('the run page lists every task with its attempt, worker and duration', async () => {
  check(state.run1, 'no run to show');
  await go('#/runs/' + state.run1);
  await page.waitForSelector('#tasks tr[data-task="infer"]', { timeout: 10000 });
  const rows = await page.$$eval('#tasks tbody tr', (trs) => trs.map((tr) => tr.innerText));
  check(rows.length === 6, rows.length + ' task rows');
  check(rows.every((r) => /success/.test(r) && /w[12]/.test(r)), 'a row lacks success or a worker: ' + rows.join(' | '));
  await shot(page, 'run');
});

await test('a second training run (epochs 20) and its train log followed live', async () => {
  await go('#/dags');
  await page.waitForSelector('tr[data-dag="ai-pipeline"] button[data-act="trigger"]', { timeout: 10000 });
  await page.click('tr[data-dag="ai-pipeline"] button[data-act="trigger"]');
  const form = 'form.trigger[data-dag="ai-pipeline"]';
  await page.waitForSelector(form + ' input[name="data"]', { timeout: 10000 });
  await page.fill(form + ' input[name="data"]', DATA);
  await page.fill(form + ' input[name="bin"]', BIN);
  await page.fill(form + ' input[name="epochs"]', '20');
  await page.fill(form + ' input[name="__logical_date"]', DAY);
  await page.click(form + ' button[type=submit]');
  await page.waitForFunction((r1) => {
    const m = location.hash.match(/run=(\d+)/);
    return m && m[1] !== r1;
  }, state.run1, { timeout: 10000 });
  state.run2 = (await page.evaluate(() => location.hash)).match(/run=(\d+)/)[1];
  // Open the log as soon as train has an attempt, while the run goes on.
  await waitRun(state.run2, (rep) => (rep.tasks || []).some((t) => t.task_id === 'train' &&
    (t.attempts || []).length), PIPELINE_TIMEOUT);
  await go('#/runs/' + state.run2 + '/tasks/train/log');
  await page.waitForFunction(() => /accuracy/.test(document.getElementById('log')?.textContent || ''),
    null, { timeout: 60000 });
  await page.waitForFunction(() => /finished/.test(document.getElementById('log-state')?.textContent || ''),
    null, { timeout: 60000 });
  await shot(page, 'log');
  await waitRun(state.run2, (rep) => (rep.run || {}).state === 'success', PIPELINE_TIMEOUT);
});

await test('a log followed while its task prints: lines arrive before the attempt ends', async () => {
  await go('#/dags');
  await page.waitForSelector('tr[data-dag="ticker"] button[data-act="trigger"]', { timeout: 10000 });
  await page.click('tr[data-dag="ticker"] button[data-act="trigger"]');
  const form = 'form.trigger[data-dag="ticker"]';
  await page.waitForSelector(form + ' button[type=submit]', { timeout: 10000 });
  // The form is typed from the DAG's params: bounds, choices, booleans.
  const fields = await page.$eval(form, (f) => ['lines', 'delay', 'word', 'loud'].map((n) => {
    const e = f.elements[n];
    return e ? [e.tagName, e.type, e.min, e.max].join(' ') : 'none';
  }));
  check(fields[0] === 'INPUT number 1 100' && fields[1] === 'INPUT number 0 5' &&
    fields[2].startsWith('SELECT') && fields[3].startsWith('SELECT'), 'the form is not typed: ' + fields.join(' | '));
  const next = await page.$eval('tr[data-dag="ticker"]', (tr) => tr.innerText);
  check(/0 3 \* \* \*/.test(next) && /Europe\/Paris/.test(next) && /T03:00:00/.test(next),
    'the schedule or the next run is missing: ' + next);
  await shot(page, 'trigger');
  await page.click(form + ' button[type=submit]');
  await page.waitForFunction(() => /dags\/ticker\?view=graph&run=\d+/.test(location.hash), null, { timeout: 10000 });
  const run = (await page.evaluate(() => location.hash)).match(/run=(\d+)/)[1];
  await go('#/runs/' + run + '/tasks/tick/log');
  await page.waitForFunction(() => /tick 1\b/.test(document.getElementById('log')?.textContent || ''),
    null, { timeout: 30000, polling: 50 });
  const early = await page.evaluate(() => [document.getElementById('log').textContent,
    document.getElementById('log-state').textContent]);
  check(!/tick 10/.test(early[0]) && !/finished/.test(early[1]),
    'the whole log came at once (' + early[1] + '), not while the task ran');
  await page.waitForFunction(() => /finished/.test(document.getElementById('log-state')?.textContent || ''),
    null, { timeout: 30000 });
  const text = await page.$eval('#log', (e) => e.textContent);
  check(/tick 10/.test(text) && (text.match(/tick \d+/g) || []).length === 10, 'the log is not every line once: ' + text);
});

await test('the lineage of the predictions file shows its producer and inputs', async () => {
  check(state.run1, 'no run');
  const file = `${DATA}/${DAY}/${state.run1}/predictions.csv`;
  await go('#/lineage?uri=' + encodeURIComponent(file));
  await page.waitForSelector('#lineage-graph svg', { timeout: 20000 });
  await page.waitForSelector('#versions tbody tr', { timeout: 10000 });
  const text = await page.$eval('#lineage-tables', (e) => e.innerText);
  check(/infer/.test(text), 'the producers do not name infer: ' + text.slice(0, 300));
  const svgText = await page.$eval('#lineage-graph svg', (e) => e.textContent);
  check(/predictions\.csv/.test(svgText) && /model\.txt/.test(svgText),
    'the lineage graph lacks predictions.csv or model.txt');
  await shot(page, 'lineage');
});

await test('the accuracy chart of train has two points, one per training run', async () => {
  await go('#/metrics?dag=ai-pipeline&task=train');
  await page.waitForSelector('svg.chart[data-metric="accuracy"]', { timeout: 10000 });
  const pts = await page.$$eval('svg.chart[data-metric="accuracy"] circle.pt', (cs) => cs.length);
  check(pts === 2, pts + ' points on the accuracy chart');
  const labels = await page.$eval('svg.chart[data-metric="accuracy"]', (s) => s.textContent);
  check(/epochs=20/.test(labels) && /epochs=40/.test(labels), 'the points do not show their epochs: ' + labels);
  await shot(page, 'metrics');
});

await test('the validation report shows per-check counts', async () => {
  await go('#/reports?run=' + state.run1);
  await page.waitForSelector('.report table.checks tbody tr', { timeout: 10000 });
  const text = await page.$eval('.report', (e) => e.innerText);
  check(/schema/.test(text) && /unique/.test(text), 'checks missing: ' + text.slice(0, 200));
});

await test('a shifted day triggered from the form fails its drift check; the report names the columns', async () => {
  await go('#/dags');
  await page.waitForSelector('tr[data-dag="ai-daily"] button[data-act="trigger"]', { timeout: 10000 });
  await page.click('tr[data-dag="ai-daily"] button[data-act="trigger"]');
  const form = 'form.trigger[data-dag="ai-daily"]';
  await page.waitForSelector(form + ' input[name="shift"]', { timeout: 10000 });
  await page.fill(form + ' input[name="data"]', DATA);
  await page.fill(form + ' input[name="bin"]', BIN);
  await page.fill(form + ' input[name="shift"]', '1');
  await page.fill(form + ' input[name="__logical_date"]', '2024-01-02');
  await page.click(form + ' button[type=submit]');
  await page.waitForFunction(() => /dags\/ai-daily\?view=graph&run=\d+/.test(location.hash), null, { timeout: 10000 });
  const run = (await page.evaluate(() => location.hash)).match(/run=(\d+)/)[1];
  const rep = await waitRun(run, (r) => ['success', 'failed'].includes((r.run || {}).state), PIPELINE_TIMEOUT);
  check(rep.run.state === 'failed', 'the shifted day ' + rep.run.state);
  await go('#/reports?run=' + run);
  await page.waitForSelector('.report table.drift tbody tr', { timeout: 10000 });
  const drift = await page.$eval('.report table.drift', (e) => e.innerText);
  check(/amount[^\n]*drifted/.test(drift), 'amount is not marked drifted: ' + drift);
  await shot(page, 'reports');
});

await test('the grid shows both training runs by task, coloured', async () => {
  await go('#/dags/ai-pipeline');
  await page.waitForSelector('#grid .gr', { timeout: 10000 });
  const ok = await page.$$eval('#grid .c.state-success', (cs) => cs.length);
  check(ok === 12, ok + ' green cells, not 12');
  await shot(page, 'grid');
});

await test('the workers page lists both workers with their slots', async () => {
  await go('#/workers');
  await page.waitForSelector('#workers tbody tr', { timeout: 10000 });
  const text = await page.$eval('#workers', (e) => e.innerText);
  check(/w1/.test(text) && /w2/.test(text), 'workers missing: ' + text);
  await shot(page, 'workers');
});

await test('pause and unpause a DAG from its toggle (a write with the CSRF header)', async () => {
  await go('#/dags');
  const b = 'tr[data-dag="ai-pipeline"] button[data-act="pause"]';
  await page.waitForSelector(b, { timeout: 10000 });
  await page.click(b);
  await page.waitForFunction((s) => document.querySelector(s).dataset.paused === '1', b, { timeout: 10000 });
  check((await apiGet('/api/v1/dags')).dags.find((d) => d.name === 'ai-pipeline').paused, 'the API says not paused');
  await page.click(b);
  await page.waitForFunction((s) => document.querySelector(s).dataset.paused === '0', b, { timeout: 10000 });
  check(!(await apiGet('/api/v1/dags')).dags.find((d) => d.name === 'ai-pipeline').paused, 'the API says still paused');
});

await test('no reload, no script error and no Content-Security-Policy violation in the whole session', async () => {
  const [navs, marker] = await page.evaluate(() => [
    performance.getEntriesByType('navigation').length, window.sluiceTestMarker]);
  check(navs === 1 && marker === 'alive', 'the page was reloaded');
  check(!pageErrors.length, 'script errors: ' + pageErrors.join('; '));
  check(!cspErrors.length, 'CSP violations: ' + cspErrors.join('; '));
});

await test('log out; a viewer sees the pages but its writes are refused with the reason', async () => {
  await page.click('#logout');
  await page.waitForSelector('#token', { timeout: 10000 });
  check(!(await ctx.cookies()).some((c) => c.name === 'sluice_session' && c.value), 'the cookie is still set');
  await go('#/workers');
  await page.waitForSelector('#token', { timeout: 10000 });
  check(VIEWER_TOKEN.startsWith('sat_'), 'run.sh passed no viewer token');
  await page.fill('#token', VIEWER_TOKEN);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#workers tbody tr', { timeout: 10000 });
  await go('#/runs/' + state.run1);
  await page.waitForSelector('#tasks tr[data-task="infer"]', { timeout: 10000 });
  check(!(await page.$('button[data-act="cancel"]')), 'a viewer is offered cancel');
  await go('#/dags');
  await page.waitForSelector('tr[data-dag="ai-pipeline"] button[data-act="pause"]', { timeout: 10000 });
  await page.click('tr[data-dag="ai-pipeline"] button[data-act="pause"]');
  await page.waitForFunction(() => /operator/.test(document.getElementById('toast').textContent), null, { timeout: 10000 });
});

// Load times of a big run, measured from the hash change to the rows (or
// the SVG) being in the page, the API's answer included.
if (WIDE_RUN) {
  await test(`the grid and graph of a ${WIDE_TASKS}-task run load and stay usable`, async () => {
    await go('#/workers');
    await page.waitForSelector('#workers', { timeout: 10000 });
    const grid = await page.evaluate(async () => {
      const t0 = performance.now();
      location.hash = '#/dags/wide';
      while (!document.getElementById('grid-info') || !document.querySelector('#grid .gr')) {
        if (performance.now() - t0 > 120000) throw new Error('no grid after 120 s: ' + document.getElementById('main').innerText.slice(0, 200));
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const loaded = performance.now() - t0;
      const wrap = document.getElementById('grid');
      const s0 = performance.now();
      wrap.scrollTop = wrap.scrollHeight;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const last = document.querySelector('#grid .gr:last-child .tn').textContent;
      return { loaded, scroll: performance.now() - s0, last, rows: document.querySelectorAll('#grid .gr').length };
    });
    check(grid.last === 't' + String(Number(WIDE_TASKS) - 1).padStart(5, '0'), 'the last row after scrolling is ' + grid.last);
    await shot(page, 'wide-grid');
    const graph = await page.evaluate(async (run) => {
      performance.clearResourceTimings(); // the buffer holds 250 entries
      const t0 = performance.now();
      location.hash = '#/dags/wide?view=graph&run=' + run;
      while (!document.querySelector('#graph svg g.node')) {
        if (performance.now() - t0 > 120000) throw new Error('no graph after 120 s: ' + document.getElementById('main').innerText.slice(0, 200));
        await new Promise((r) => setTimeout(r, 5));
      }
      // Drawn: two frames later the SVG has been laid out and painted.
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const loaded = performance.now() - t0;
      const svg = performance.getEntriesByType('resource').filter((e) => e.name.includes('/wide/graph.svg')).pop();
      return { loaded, nodes: document.querySelectorAll('#graph g.node').length, fetch: svg ? svg.duration : 0,
        bytes: svg ? svg.transferSize : 0 };
    }, WIDE_RUN);
    check(graph.nodes === Number(WIDE_TASKS), graph.nodes + ' nodes in the graph');
    await shot(page, 'wide-graph');
    console.log(`load time, ${WIDE_TASKS}-task run: grid ${Math.round(grid.loaded)} ms ` +
      `(${grid.rows} rows in the DOM; scroll to the end redrawn in ${Math.round(grid.scroll)} ms), ` +
      `graph ${Math.round(graph.loaded)} ms (SVG fetched in ${Math.round(graph.fetch)} ms, ` +
      `${Math.round(graph.bytes / 1024)} KiB)`);
  });
}

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
