// The dashboards' browser side: decode the page's cubes, read the filters, and for every view filter its
// cube, sum the measures per group, derive ratios, then hand the rows to the Vega chart, the table
// alternative and the headline numbers. One code path feeds all three, so they always agree.
// Written against plain browser APIs (no framework): DecompressionStream, Map, template literals.
"use strict";

const PAGE = JSON.parse(document.getElementById("page-spec").textContent);
const CUBES = {};
const VIEWS = {}; // view id -> Vega view
const TABLE_ROWS_SHOWN = 200;

async function decodeCube(el) {
  const bytes = Uint8Array.from(atob(el.textContent.trim()), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text());
}

function fmt(value, kind) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (kind === "pct") return (100 * value).toFixed(1) + "%";
  if (kind === "int") return Math.round(value).toLocaleString("en-GB");
  return String(value);
}

function filterState() {
  const state = {};
  for (const f of PAGE.filters) state[f.id] = document.getElementById("filter-" + f.id).value;
  return state;
}

// Which rows of `cube` pass the filters (and the view's fixed `where`): a mask per dimension over label codes.
function rowMask(cube, state, where, ignores, leaveOut) {
  const allowed = {}; // dim -> Uint8Array over codes
  const allow = (dim, ok) => {
    const labels = cube.labels[dim];
    const mask = allowed[dim] || new Uint8Array(labels.length).fill(1);
    labels.forEach((label, code) => { if (!ok(label)) mask[code] = 0; });
    allowed[dim] = mask;
  };
  for (const f of PAGE.filters) {
    if (!(f.dim in cube.labels) || ignores.includes(f.id)) continue;
    const value = state[f.id];
    if (f.kind === "from" && value) allow(f.dim, (label) => label >= value);
    else if (f.kind === "to" && value) allow(f.dim, (label) => label <= value);
    else if (f.kind === "select" && value !== "") allow(f.dim, (label) => label === value);
  }
  for (const [dim, value] of Object.entries(where)) allow(dim, (label) => label === value);
  for (const [dim, values] of Object.entries(leaveOut)) if (dim in cube.labels) allow(dim, (label) => !values.includes(label));
  return allowed;
}

function compute(view, state) {
  const cube = CUBES[view.cube];
  const cols = cube.columns;
  const allowed = rowMask(cube, state, view.where, view.ignores || [], view.leave_out || {});
  const masks = Object.entries(allowed).map(([d, m]) => [cols[d], m]);
  // One number per group: the group's label codes in mixed radix, with flat sum arrays. Measured in
  // headless Chromium: 15 ms to group a 57k-row map cube, where string keys and an object per group took
  // 208 ms for 101k rows.
  const groupCols = view.group.map((d) => cols[d]);
  const radix = view.group.map((d) => cube.labels[d].length);
  const measureCols = view.measures.map((m) => cols[m]);
  const slot = new Map(); // group key -> index into keys/sums
  const keys = [];
  const sums = view.measures.map(() => []);
  for (let i = 0; i < cube.rows; i++) {
    let keep = true;
    for (const [col, mask] of masks) if (!mask[col[i]]) { keep = false; break; }
    if (!keep) continue;
    let key = 0;
    for (let j = 0; j < groupCols.length; j++) key = key * radix[j] + groupCols[j][i];
    let k = slot.get(key);
    if (k === undefined) {
      k = keys.length;
      slot.set(key, k);
      keys.push(key);
      for (const s of sums) s.push(0);
    }
    for (let m = 0; m < measureCols.length; m++) sums[m][k] += measureCols[m][i];
  }
  let rows = keys.map((key, k) => {
    const row = {};
    for (let j = view.group.length - 1; j >= 0; j--) {
      const d = view.group[j];
      const code = key % radix[j];
      key = (key - code) / radix[j];
      row[d] = cube.labels[d][code];
      row["_" + d] = code;
    }
    view.measures.forEach((m, j) => { row[m] = sums[j][k]; });
    for (const [name, [num, den]] of Object.entries(view.ratios)) row[name] = row[den] ? row[num] / row[den] : null;
    return row;
  });
  if (view.gaps && view.group.length === 1) {
    // every label the filters allow, those without records as null: the chart breaks its line there
    const d = view.group[0];
    const have = new Set(rows.map((r) => r["_" + d]));
    cube.labels[d].forEach((label, code) => {
      if ((allowed[d] && !allowed[d][code]) || have.has(code)) return;
      const row = { [d]: label, ["_" + d]: code };
      for (const m of view.measures) row[m] = null;
      for (const name of Object.keys(view.ratios)) row[name] = null;
      rows.push(row);
    });
  }
  // label order first (months in time order, outcome groups in their order), then the view's own sort
  rows.sort((a, b) => { for (const d of view.group) { if (a["_" + d] !== b["_" + d]) return a["_" + d] - b["_" + d]; } return 0; });
  if (view.sort) {
    const [field, desc] = view.sort;
    rows.sort((a, b) => (desc ? (b[field] ?? -1) - (a[field] ?? -1) : (a[field] ?? -1) - (b[field] ?? -1)));
  }
  if (view.positive) rows = rows.filter((r) => r[view.positive] > 0);
  if (view.limit) rows = rows.slice(0, view.limit);
  if (!view.group.length && !rows.length) {
    const zero = {};
    for (const m of view.measures) zero[m] = 0;
    for (const name of Object.keys(view.ratios)) zero[name] = null;
    rows = [zero];
  }
  return rows;
}

function renderTable(view, rows) {
  const body = document.querySelector(`#table-${view.id} tbody`);
  const note = document.getElementById(`table-note-${view.id}`);
  const shown = rows.slice(0, TABLE_ROWS_SHOWN);
  body.replaceChildren(
    ...shown.map((row) => {
      const tr = document.createElement("tr");
      for (const [field, , kind] of view.columns) {
        const td = document.createElement(kind === "text" ? "th" : "td");
        if (kind === "text") td.scope = "row";
        td.textContent = fmt(row[field], kind);
        tr.appendChild(td);
      }
      return tr;
    }),
  );
  note.textContent = rows.length > shown.length ? `First ${shown.length} of ${rows.length} rows.` : `${rows.length} rows.`;
}

function fillKpis(state) {
  for (const kpi of PAGE.kpis) {
    const [row] = compute(kpi, state);
    const el = document.getElementById("kpi-" + kpi.id);
    const ratio = Object.keys(kpi.ratios)[0];
    el.textContent = ratio ? fmt(row[ratio], "pct") : fmt(row[kpi.measures[0]], "int");
    el.dataset.value = ratio ? row[ratio] ?? "" : row[kpi.measures[0]];
  }
}

function fillTable(view, rows) {
  renderTable(view, rows);
  document.getElementById("empty-" + view.id).hidden = rows.length > 0;
}

// After a filter change: recompute every KPI and view, refill the tables, hand the charts their new rows.
async function update() {
  const started = performance.now();
  const state = filterState();
  fillKpis(state);
  const pending = [];
  for (const view of PAGE.views) {
    const rows = compute(view, state);
    fillTable(view, rows);
    pending.push(VIEWS[view.id].data(view.id, rows).runAsync());
  }
  await Promise.all(pending);
  // Timings for bench/site.py: how long this update took, and (in main) when the page was first complete.
  document.body.dataset.updateMs = String(Math.round(performance.now() - started));
  document.body.dataset.updates = String(Number(document.body.dataset.updates) + 1);
}

// The town list follows the chosen force: only towns with records for it are offered.
function narrowOptions() {
  for (const f of PAGE.filters) {
    if (!f.narrow_by) continue;
    const cube = CUBES[f.narrow_cube];
    const by = document.getElementById("filter-" + f.narrow_by);
    const byFilter = PAGE.filters.find((x) => x.id === f.narrow_by);
    const code = cube.labels[byFilter.dim].indexOf(by.value);
    const keep = new Set();
    for (let i = 0; i < cube.rows; i++) if (by.value === "" || cube.columns[byFilter.dim][i] === code) keep.add(cube.columns[f.dim][i]);
    const select = document.getElementById("filter-" + f.id);
    const current = select.value;
    for (const option of select.options) option.hidden = option.value !== "" && !keep.has(cube.labels[f.dim].indexOf(option.value));
    if (current && select.selectedOptions[0].hidden) select.value = "";
  }
}

async function main() {
  for (const el of document.querySelectorAll("script[data-cube]")) CUBES[el.dataset.cube] = await decodeCube(el);
  narrowOptions();
  const state = filterState();
  fillKpis(state);
  // First draw with each view's rows already in the spec (top-level `datasets`): no chart is drawn empty
  // and nothing is computed twice.
  for (const view of PAGE.views) {
    const rows = compute(view, state);
    fillTable(view, rows);
    const spec = { ...view.vega, datasets: { [view.id]: rows } };
    VIEWS[view.id] = (await vegaEmbed("#chart-" + view.id, spec, { renderer: "svg", actions: false })).view;
  }
  const form = document.getElementById("filters");
  form.addEventListener("change", async () => { narrowOptions(); await update(); });
  form.addEventListener("reset", () => setTimeout(async () => { narrowOptions(); await update(); }, 0));
  document.body.dataset.updates = "0";
  document.body.dataset.readyMs = String(Math.round(performance.now()));  // ms since navigation start
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  console.error(error);
  const banner = document.getElementById("load-error");
  banner.hidden = false;
  banner.textContent = "The charts could not be drawn: " + error;
});
