// The dashboards' browser side: decode the page's cubes, read the filters, and for every view filter its
// cube, sum the measures per group, derive ratios, then hand the rows to the Vega chart, the table
// alternative and the headline numbers. One code path feeds all three, so they always agree.
// Unknown is never zero: a ratio whose denominator is 0 reads "not published"; a selection none of whose
// force-months was published reads "no data"; the page's coverage cube (what the marts' coverage_status means) says
// which force-months of the selection are missing or partial, and trend rows carry it so charts mark them.
// Written against plain browser APIs (no framework): DecompressionStream, Map, template literals.
"use strict";

const PAGE = JSON.parse(document.getElementById("page-spec").textContent);
const CUBES = {};
const VIEWS = {}; // view id -> Vega view
const TABLE_ROWS_SHOWN = 200;

async function decodeCube(el) {
  const bytes = Uint8Array.from(atob(el.textContent.trim()), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const cube = JSON.parse(await new Response(stream).text());
  // derived measures (a - b): a denominator travels as its small complement (see Cube.derived in cubes.py)
  for (const [name, [a, b]] of Object.entries(cube.derived || {})) {
    const x = cube.columns[a], y = cube.columns[b];
    cube.columns[name] = x.map((v, i) => v - y[i]);
    cube.measures.push(name);
  }
  return cube;
}

function fmt(value, kind) {
  if (kind === "note") return value || "";
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
function rowMask(cube, state, where, ignores) {
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
  return allowed;
}

// Force-months of the selection by coverage status: every expected one (a force that publishes the dataset),
// those with no file or an empty one, those partial; per month too. Filters on dimensions the coverage cube
// lacks (town, crime type) do not apply: coverage is a force's, not a town's.
function coverageOf(state) {
  if (!PAGE.coverage) return null;
  const cube = CUBES[PAGE.coverage];
  const allowed = Object.entries(rowMask(cube, state, {}, [])).map(([d, m]) => [cube.columns[d], m]);
  const label = (dim, i) => cube.labels[dim][cube.columns[dim][i]];
  const out = { expected: 0, published: 0, missing: [], partial: [], byMonth: new Map() };
  for (let i = 0; i < cube.rows; i++) {
    if (!allowed.every(([col, mask]) => mask[col[i]])) continue;
    const kind = label("kind", i);  // what the force-month's coverage status means (pages/base.py coverage_cube)
    if (kind === "unexpected") continue;
    const month = label("month", i), force = label("force", i);
    let m = out.byMonth.get(month);
    if (!m) out.byMonth.set(month, (m = { expected: 0, missing: [], partial: [] }));
    m.expected += 1;
    out.expected += 1;
    if (kind === "gap") { m.missing.push(force); out.missing.push(`${force} ${month}`); }
    else {
      out.published += 1;
      if (kind === "partial") { m.partial.push(force); out.partial.push(`${force} ${month}`); }
    }
  }
  return out;
}

function names(list, most = 5) {
  return list.slice(0, most).join(", ") + (list.length > most ? ` and ${list.length - most} more` : "");
}

function monthNote(m) {
  if (!m) return "";
  const parts = [];
  if (m.missing.length) parts.push(`${m.missing.length} of ${m.expected} forces missing: ${names(m.missing)}`);
  if (m.partial.length) parts.push(`${m.partial.length} of ${m.expected} partial: ${names(m.partial)}`);
  return parts.join("; ");
}

function compute(view, state, coverage = null) {
  const cube = CUBES[view.cube];
  const cols = cube.columns;
  // A view that leaves some of its own groups out (the unknown town of a ranking) groups them too, counts
  // them for its note (rows.leftOut), then drops them: one pass over the cube, not three.
  const leaving = view.left_out && view.left_out.where;
  const allowed = rowMask(cube, state, view.where, view.ignores || []);
  const masks = Object.entries(allowed).map(([d, m]) => [cols[d], m]);
  // One number per group: the group's label codes in mixed radix, with flat sum arrays: an order of magnitude
  // faster than string keys and an object per group (docs/benchmarks.md).
  const groupCols = view.group.map((d) => cols[d]);
  const radix = view.group.map((d) => cube.labels[d].length);
  const measureCols = view.measures.map((m) => cols[m]);
  const slot = new Map(); // group key -> index into keys/sums
  const keys = [];
  const sums = view.measures.map(() => []);
  const matched = []; // cube rows per group: a group with rows but a zero denominator is "not published"
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
      matched.push(0);
      for (const s of sums) s.push(0);
    }
    matched[k] += 1;
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
    row._rows = matched[k];
    for (const [name, [num, den]] of Object.entries(view.ratios)) {
      row[name] = row[den] ? row[num] / row[den] : null;
      if (!row[den]) { row[name + "_unknown"] = true; row[name + "_why"] = "not published: no record of the selection says"; }
    }
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
  let leftOut = null;
  if (leaving) {
    const m = view.measures[0];
    const out = (r) => Object.entries(leaving).every(([d, label]) => r[d] === label);
    leftOut = { whole: 0, part: 0 };
    for (const r of rows) { leftOut.whole += r[m] || 0; if (out(r)) leftOut.part += r[m] || 0; }
    rows = rows.filter((r) => !out(r));
  }
  // label order first (months in time order, outcome groups in their order), then the view's own sort
  rows.sort((a, b) => { for (const d of view.group) { if (a["_" + d] !== b["_" + d]) return a["_" + d] - b["_" + d]; } return 0; });
  if (view.sort) {
    const [field, desc] = view.sort;
    rows.sort((a, b) => (desc ? (b[field] ?? -1) - (a[field] ?? -1) : (a[field] ?? -1) - (b[field] ?? -1)));
  }
  if (view.coverage && coverage && view.group.length === 1 && view.group[0] === "month") {
    for (const row of rows) {
      const m = coverage.byMonth.get(row.month);
      row.coverage_note = monthNote(m);
      row.incomplete = row.coverage_note !== "";
      row.expected = m ? m.expected : 0;
      row.missing = m ? m.missing.length : 0;
      row.partial = m ? m.partial.length : 0;
    }
  }
  if (view.positive) rows = rows.filter((r) => r[view.positive] > 0);
  if (view.limit) rows = rows.slice(0, view.limit);
  if (!view.group.length && !rows.length) {
    const zero = {};
    for (const m of view.measures) zero[m] = 0;
    for (const name of Object.keys(view.ratios)) zero[name] = null;
    rows = [zero];
  }
  rows.leftOut = leftOut;
  return rows;
}

// A view's companion data sets, drawn in layers of its chart: each `extra` is a small view of its own (the map's
// place names: the largest towns of the selection), and `frame` spans the view's cells, edges included (`frame`
// is a cell's size: the map fits its points, which are the cells' corners), by at least FRAME_MIN_DEGREES, so a
// selection of one or two cells shows them in their surroundings, not filling the map.
const FRAME_MIN_DEGREES = 0.6;

function companions(view, state, rows) {
  const data = {};
  for (const [name, sub] of Object.entries(view.extra || {})) {
    data[name] = compute({ where: {}, ratios: {}, ignores: view.ignores || [], ...sub }, state);
  }
  if (view.frame) {
    const points = rows.map((r) => r.cell.split(" ").map(Number));
    data.frame = [];
    if (points.length) {
      const span = (i) => [Math.min(...points.map((p) => p[i])), Math.max(...points.map((p) => p[i]))];
      const [[w, e], [s, n]] = [span(0), span(1)];
      const half = (lo, hi) => Math.max(hi - lo + view.frame, FRAME_MIN_DEGREES) / 2;
      const [cx, cy, hx, hy] = [(w + e) / 2, (s + n) / 2, half(w, e), half(s, n)];
      data.frame = [{ lon: cx - hx, lat: cy - hy }, { lon: cx + hx, lat: cy + hy }];
    }
  }
  return data;
}

function renderTable(view, rows) {
  const body = document.querySelector(`#table-${view.id} tbody`);
  const note = document.getElementById(`table-note-${view.id}`);
  const shown = rows.slice(0, TABLE_ROWS_SHOWN);
  body.replaceChildren(
    ...shown.map((row) => {
      const tr = document.createElement("tr");
      view.columns.forEach(([field, , kind], j) => {
        const head = kind === "text" && j === 0; // the row's label; any other text column is a plain cell
        const td = document.createElement(head ? "th" : "td");
        if (head) td.scope = "row";
        if (kind === "text" || kind === "note") td.className = "text";
        td.textContent = row[field + "_unknown"] ? "not published" : fmt(row[field], kind);
        tr.appendChild(td);
      });
      return tr;
    }),
  );
  note.textContent = rows.length > shown.length ? `First ${shown.length} of ${rows.length} rows.` : `${rows.length} rows.`;
}

const NO_FILE = "no file was published for this selection's force-months: see Coverage";

// The selection expects force-months, and not one of them was published: its counts are "no data", not 0.
const nothingPublished = (coverage) => Boolean(coverage && coverage.expected > 0 && coverage.published === 0);

// A headline: a count, or a ratio "of the N ..." (its basis). Nothing published for the selection reads
// "no data", a ratio whose denominator is 0 reads "not published"; data-value is then empty, never 0.
function fillKpis(state, coverage) {
  const nothing = nothingPublished(coverage);
  for (const kpi of PAGE.kpis) {
    const [row] = compute(kpi, state);
    const el = document.getElementById("kpi-" + kpi.id);
    const basis = document.getElementById("kpi-basis-" + kpi.id);
    const ratio = Object.keys(kpi.ratios)[0];
    let text, value, note = "";
    if (ratio) {
      const den = row[kpi.ratios[ratio][1]];
      value = row[ratio] ?? "";
      if (row[ratio] !== null) { text = fmt(row[ratio], "pct"); note = (kpi.basis || "").replace("{den}", fmt(den, "int")); }
      else if (row._rows) { text = "not published"; note = kpi.unknown_basis || "the forces of this selection did not record it"; }
      else { text = "no data"; note = nothing ? NO_FILE : "no records in this selection"; }
    } else {
      value = row[kpi.measures[0]];
      text = fmt(value, "int");
      if (!value && nothing) { text = "no data"; value = ""; note = NO_FILE; }
    }
    el.textContent = text;
    el.dataset.value = value;
    basis.textContent = note ? ` (${note})` : "";
    document.getElementById("kpi-sql-" + kpi.id).href = "ask.html?q=" + encodeURIComponent(kpiSql(kpi, state));
  }
}

// A headline as SQL for the Ask page: its cube's own query over the published tables, filtered as rowMask
// filters the cube (a label back to the raw value it stands for; the unknown label is NULL or the marts' own
// unknown value), then summed as compute() sums it. A ratio is the fraction the page shows as a percentage.
function kpiSql(kpi, state) {
  const src = PAGE.sources[kpi.cube];
  const quote = (v) => `'${String(v).replaceAll("'", "''")}'`;
  const col = (name) => `"${name}"`;  // the cube's own names ("group" is an SQL keyword)
  const equals = (dim, label) => {
    const raw = (src.raw[dim] || {})[label];
    if (label === PAGE.unknown) return `(${col(dim)} IS NULL OR ${col(dim)} = ${quote(label)})`;
    return `${col(dim)} = ${quote(raw === undefined ? label : raw)}`;
  };
  const where = [];
  const shown = [];
  for (const f of PAGE.filters) {
    if (!src.dims.includes(f.dim) || (kpi.ignores || []).includes(f.id)) continue;
    const value = state[f.id];
    if (f.kind === "from" && value) where.push(`${col(f.dim)} >= ${quote(value)}`);
    else if (f.kind === "to" && value) where.push(`${col(f.dim)} <= ${quote(value)}`);
    else if (f.kind === "select" && value !== "") where.push(equals(f.dim, value));
    else continue;
    shown.push(`${f.label} ${value}`);
  }
  for (const [dim, label] of Object.entries(kpi.where || {})) where.push(equals(dim, label));
  // a measure the query leaves NULL counts 0, as in the cube (cube_from_query fills nulls with 0)
  const total = (name) => `coalesce(sum(${col(name)}), 0)`;
  const sum = (m) => (src.derived[m] ? `${total(src.derived[m][0])} - ${total(src.derived[m][1])}` : total(m));
  const ratio = Object.keys(kpi.ratios)[0];
  const value = ratio
    ? `(${sum(kpi.ratios[ratio][0])}) / nullif(${sum(kpi.ratios[ratio][1])}, 0)`
    : sum(kpi.measures[0]);
  const title = document.getElementById("kpi-" + kpi.id).parentElement.querySelector(".kpi-label").textContent;
  const selection = shown.length ? shown.join(", ") : "everything published";
  return `-- "${title}" on the ${PAGE.slug} page, for ${selection}\n`
    + `WITH selection (${[...src.dims, ...src.measures].map(col).join(", ")}) AS (\n${src.sql}\n)\n`
    + `SELECT ${value} AS ${ratio ? "share" : col(kpi.measures[0])}\nFROM selection`
    + (where.length ? "\nWHERE " + where.join("\n  AND ") : "");
}

// What the page's selection lacks, above the charts: force-months with no file, or only part of one, and the
// forces that publish none of what the page counts on (PAGE.lacking: outcome files on the outcomes page).
function fillCoverage(coverage, state) {
  const el = document.getElementById("coverage-note");
  if (!el || !coverage) return;
  writeCoverage(el, coverage);
  if (!PAGE.lacking) return;
  const { cube, measure, text } = PAGE.lacking;
  const lacking = counted(cube, measure, state, ["force"]).filter((r) => r.whole > 0 && r.part === 0).map((r) => r.force);
  el.dataset.lacking = lacking.join("|");
  if (lacking.length) {
    el.textContent += ` ${names(lacking)} ${text}.`;
    el.classList.add("incomplete");
  }
}

function writeCoverage(el, coverage) {
  const { expected, missing, partial } = coverage;
  el.dataset.missing = String(missing.length);
  el.dataset.partial = String(partial.length);
  el.dataset.expected = String(expected);
  el.classList.toggle("incomplete", missing.length + partial.length > 0);
  if (!expected) { el.textContent = "No force publishes this dataset for the selection."; return; }
  if (!missing.length && !partial.length) { el.textContent = `All ${expected.toLocaleString("en-GB")} force-months of this selection were published.`; return; }
  const parts = [];
  const verb = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  if (missing.length) parts.push(`${verb(missing.length, "has", "have")} no file (${names(missing)})`);
  if (partial.length) parts.push(`${verb(partial.length, "holds", "hold")} only part of the force's usual records (${names(partial)})`);
  el.textContent = `Of the ${expected.toLocaleString("en-GB")} force-months of this selection, ${parts.join(" and ")}. ` +
    "The numbers below count only what was published: a gap is not a fall. See Coverage.";
}

// Under a view: how much of the selection it leaves out (no LSOA, no coordinates, no outcome data): counted by
// the view's own pass (rows.leftOut), or read from another cube's measure of the records left out (the map:
// records without a point, in the crimes cube) under the page's filters, months included, as the headline is.
function fillLeftOut(view, state, rows) {
  const spec = view.left_out;
  if (!spec) return;
  let n, k;
  if (rows.leftOut) ({ whole: n, part: k } = rows.leftOut);
  else ({ whole: n, part: k } = counted(spec.cube, spec.measure, state)[0]);
  const el = document.getElementById("left-out-" + view.id);
  el.dataset.value = String(k);
  el.dataset.whole = String(n);
  el.textContent = n ? `${fmt(k, "int")} of the selection's ${fmt(n, "int")} records (${fmt(k / n, "pct")}) ${spec.text}.` : "";
}

// The selection's records in `cube` (its first measure) and those counted by `measure`, per `by` group or as
// one row, under every filter of the page but those the view ignores.
function counted(cube, measure, state, by = [], ignores = []) {
  const whole = CUBES[cube].measures[0];
  return compute({ cube, group: by, measures: [whole, measure], ratios: {}, where: {}, ignores }, state)
    .map((row) => ({ ...row, whole: row[whole], part: row[measure] }));
}

function fillTable(view, rows, coverage, state) {
  renderTable(view, rows);
  // rows that are all gaps (null) draw an empty frame with a 0 tick: say there is nothing instead
  const empty = !rows.some((r) => view.measures.some((m) => r[m] !== null && r[m] !== undefined));
  const note = document.getElementById("empty-" + view.id);
  // a chart of something the selection's forces never published: say so in its place, not an empty chart
  const needs = view.needs && counted(view.needs.cube, view.needs.measure, state, [], view.ignores || [])[0];
  const unpublished = Boolean(needs && needs.whole > 0 && needs.part === 0);
  note.hidden = !empty && !unpublished;
  if (unpublished) note.textContent = view.needs.text;
  else note.textContent = empty && nothingPublished(coverage) ? `No records for this selection: ${NO_FILE}.` : "No records for this selection.";
  document.getElementById("chart-" + view.id).hidden = empty || unpublished;
}

// After a filter change: recompute every KPI and view, refill the tables, hand the charts their new rows.
async function update() {
  const started = performance.now();
  const state = filterState();
  const coverage = coverageOf(state);
  fillCoverage(coverage, state);
  fillKpis(state, coverage);
  const pending = [];
  for (const view of PAGE.views) {
    const rows = compute(view, state, coverage);
    fillTable(view, rows, coverage, state);
    fillLeftOut(view, state, rows);
    const datasets = { [view.id]: rows, ...companions(view, state, rows) };
    DRAWN[view.id].datasets = datasets;
    const vega = VIEWS[view.id];
    for (const [name, data] of Object.entries(datasets)) vega.data(name, data);
    pending.push(vega.runAsync());
  }
  await Promise.all(pending);
  for (const view of PAGE.views) await declutter(view);
  // New rows can widen a chart (longer axis labels, a chart drawn while hidden now shown): fit it again.
  for (const view of PAGE.views) {
    const box = document.getElementById("chart-" + view.id);
    if (!box.hidden && drawnWidth(box) > DRAWN[view.id].room) {
      await draw(view, DRAWN[view.id].datasets);
    }
  }
  // Timings for bench/site.py: how long this update took, and (in main) when the page was first complete.
  document.body.dataset.updateMs = String(Math.round(performance.now() - started));
  document.body.dataset.updates = String(Number(document.body.dataset.updates) + 1);
}

// The town list follows the chosen force: only towns with records for it are offered.
const ALL_OPTIONS = {};  // filter id -> every option it was rendered with

function narrowOptions() {
  for (const f of PAGE.filters) {
    if (!f.narrow_by) continue;
    const cube = CUBES[f.narrow_cube];
    const by = document.getElementById("filter-" + f.narrow_by);
    const byFilter = PAGE.filters.find((x) => x.id === f.narrow_by);
    // one flag per label; "All" keeps every label without a pass over the cube
    const keep = new Uint8Array(cube.labels[f.dim].length);
    if (by.value === "") keep.fill(1);
    else {
      const code = cube.labels[byFilter.dim].indexOf(by.value), byCodes = cube.columns[byFilter.dim];
      const codes = cube.columns[f.dim];
      for (let i = 0; i < cube.rows; i++) if (byCodes[i] === code) keep[codes[i]] = 1;
    }
    const index = new Map(cube.labels[f.dim].map((label, i) => [label, i]));
    const select = document.getElementById("filter-" + f.id);
    const current = select.value;
    // Options are removed and put back, not hidden: Safari shows an option whatever its `hidden` says.
    ALL_OPTIONS[f.id] ??= Array.from(select.options);
    const shown = ALL_OPTIONS[f.id].filter((o) => o.value === "" || keep[index.get(o.value)]);
    select.replaceChildren(...shown);
    select.value = shown.some((o) => o.value === current) ? current : "";
  }
}

// The filters live in the URL (#force=Kent%20Police&month_from=2024-01): a copied link reopens the same view,
// a reload keeps it, Back returns to the previous one. Only filters that differ from the page's own defaults are
// written, so the page's plain address is its default view.
const DEFAULTS = {};  // filter id -> the value the page was rendered with

// The address of what is shown: "#" and the filters that differ from the defaults, or the bare page.
function shownAddress() {
  const params = new URLSearchParams();
  const state = filterState();
  for (const f of PAGE.filters) if (state[f.id] !== DEFAULTS[f.id]) params.set(f.id, state[f.id]);
  return params.toString() ? "#" + params : location.pathname + location.search;
}

function writeHash() {
  const address = shownAddress();
  if (address !== (location.hash || location.pathname + location.search)) history.pushState(null, "", address);
}

// The From and To month controls, or null on a page without them.
function monthBounds() {
  const from = PAGE.filters.find((f) => f.kind === "from"), to = PAGE.filters.find((f) => f.kind === "to");
  if (!from || !to) return null;
  return [from, to].map((f) => ({ filter: f, select: document.getElementById("filter-" + f.id) }));
}

// Set the filters from the URL. A value the page does not have (a force renamed, a month no longer published, a
// typo) falls back to the default and the page says so: a link never silently shows something else.
function applyHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const refused = [];
  const known = new Set(PAGE.filters.map((f) => f.id));
  for (const name of params.keys()) if (!known.has(name)) refused.push(`"${name}" (not a filter of this page)`);
  // a narrowed filter after the one it follows: its options depend on that choice
  const order = [...PAGE.filters.filter((f) => !f.narrow_by), ...PAGE.filters.filter((f) => f.narrow_by)];
  for (const f of order) {
    if (f.narrow_by) narrowOptions();
    const select = document.getElementById("filter-" + f.id);
    const wanted = params.has(f.id) ? params.get(f.id) : DEFAULTS[f.id];
    if (Array.from(select.options).some((o) => o.value === wanted)) select.value = wanted;
    else {
      select.value = DEFAULTS[f.id];
      refused.push(`${f.label} "${wanted}"`);
    }
  }
  narrowOptions();
  const bounds = monthBounds();
  if (bounds) {
    const [from, to] = bounds;
    if (from.select.value && to.select.value && from.select.value > to.select.value) {
      refused.push(`${from.filter.label} ${from.select.value} after ${to.filter.label} ${to.select.value}`);
      from.select.value = DEFAULTS[from.filter.id];
      to.select.value = DEFAULTS[to.filter.id];
    }
  }
  limitMonths();
  const note = document.getElementById("link-note");
  note.hidden = refused.length === 0;
  note.textContent = refused.length
    ? `This link asked for ${refused.join(", ")}, which this page does not have: showing the page's default instead.`
    : "";
}

// From can never be after To: the months that would cross are not offered.
function limitMonths() {
  const bounds = monthBounds();
  if (!bounds) return;
  const [from, to] = bounds.map((b) => b.select);
  for (const o of from.options) o.disabled = Boolean(to.value && o.value && o.value > to.value);
  for (const o of to.options) o.disabled = Boolean(from.value && o.value && o.value < from.value);
}

// A selection whose values are all unknown (a force that never records a field: "not published") leaves a
// scale with nothing to span, and Vega warns "Infinite extent". That is the honest state, not a fault: drop
// that one warning, pass every other on. Vega's logger looks console.warn up on every message, so this covers a
// chart's first drawing too (vega-embed takes no logger of ours).
const consoleWarn = console.warn.bind(console);
console.warn = (...args) => {
  if (!args.join(" ").includes("Infinite extent")) consoleWarn(...args);
};

// Charts fit their column, whatever the screen: the specs' widths are a laptop's. A pair of charts side by side
// stacks on a narrow screen, axis labels are cut shorter, and every plot narrows until the drawing fits. The
// fit is measured (draw, compare, narrow, redraw) because Vega-Lite's own "container" width does not reach
// the charts of a pair, and what the axes and legends take depends on the data. A map keeps its proportions.
const FIT_TRIES = 3;
const MIN_PLOT = 60;  // px: a plot never narrower, even if it then scrolls inside its box
const MIN_MAP_HEIGHT = 280;
const DRAWN = {};  // view id -> { room, datasets } of its last drawing

// The leaves of a spec whose width can change: the spec itself, or the charts of its pair.
const leaves = (spec) => spec.hconcat || spec.vconcat || [spec];

function fitted(spec, room) {
  // resize: the drawing's size follows its content on every update (place names dropped, a longer label)
  const out = { ...structuredClone(spec), autosize: { type: "pad", resize: true } };
  const pair = out.hconcat;
  if (pair && pair.reduce((sum, c) => sum + c.width, 0) + 120 * pair.length > room) {
    out.vconcat = pair;
    delete out.hconcat;
  }
  // axis labels (force names, crime types) take at most a third of a narrow screen; a chart's title is cut
  // into lines that fit (about 7 px a character)
  const limit = Math.max(90, Math.round(room / 3));
  const cap = (node) => {
    if (!node || typeof node !== "object") return;
    if (typeof node.labelLimit === "number") node.labelLimit = Math.min(node.labelLimit, limit);
    if (typeof node.title === "string" && (node.hconcat || node.vconcat || node.layer || node.mark)) node.title = lines(node.title, Math.floor(room / 7));
    Object.values(node).forEach(cap);
  };
  cap(out);
  // On a phone a legend goes under its chart, one entry a line (beside it, it takes the width a phone does not
  // have), and a title starts at the chart's left edge, so its lines fit the screen, not the narrower plot.
  if (room < 600) {
    const config = out.config || {};
    out.config = {
      ...config,
      legend: { ...config.legend, orient: "bottom", columns: 1 },
      title: { ...config.title, anchor: "start", frame: "bounds" },
    };
  }
  return out;
}

function lines(text, most) {
  const out = [];
  for (const word of text.split(" ")) {
    if (out.length && (out[out.length - 1] + " " + word).length <= most) out[out.length - 1] += " " + word;
    else out.push(word);
  }
  return out.length === 1 ? out[0] : out;
}

function narrowed(spec, excess) {
  const out = structuredClone(spec);
  const across = out.hconcat ? out.hconcat.length : 1;
  for (const leaf of leaves(out)) {
    const width = Math.max(MIN_PLOT, leaf.width - Math.ceil(excess / across) - 2);
    if (leaf.projection) leaf.height = Math.max(MIN_MAP_HEIGHT, Math.round(leaf.height * width / leaf.width));
    leaf.width = width;
  }
  return out;
}

// How wide a chart's drawing is, in whole pixels: what must fit its column.
const drawnWidth = (box) => Math.ceil(box.querySelector("svg").getBoundingClientRect().width);

async function draw(view, datasets) {
  const box = document.getElementById("chart-" + view.id);
  const room = box.parentElement.clientWidth;  // the section's: a chart hidden for now has no width of its own
  let spec = fitted(view.vega, room);
  for (let tries = 0; ; tries++) {
    if (VIEWS[view.id]) VIEWS[view.id].finalize();
    const embedded = await vegaEmbed(box, { ...spec, datasets }, { renderer: "svg", actions: false });
    VIEWS[view.id] = embedded.view;
    DRAWN[view.id] = { room, datasets };
    await declutter(view);
    const excess = drawnWidth(box) - room;
    if (excess <= 0 || tries === FIT_TRIES) break;
    spec = narrowed(spec, excess + 2);
  }
  box.dataset.fitted = String(room);
}

// The text marks of a drawn chart that label its data (not axis or legend text), with their bounds.
function labelItems(mark, out = []) {
  if (mark.marktype === "group") for (const group of mark.items) for (const child of group.items || []) labelItems(child, out);
  else if (mark.marktype === "text" && mark.role === "mark") out.push(...mark.items);
  return out;
}

// Place names never overlap one another or run off the map: placed largest first, a name that would is left
// out with its dot. Vega-Lite has no label placement of its own; the drawn bounds say where each name fell.
async function declutter(view) {
  const name = view.declutter;
  if (!name) return;
  const vega = VIEWS[view.id], rows = DRAWN[view.id].datasets[name];
  vega.data(name, rows);
  await vega.runAsync();
  const placed = [], kept = new Set();
  for (const item of labelItems(vega.scenegraph().root)) {
    const label = item.datum && item.datum[view.declutter_by];
    if (label === undefined) continue;
    const b = item.bounds, group = item.mark.group;
    const inside = b.x1 >= 0 && b.y1 >= 0 && b.x2 <= group.width && b.y2 <= group.height;
    if (inside && !placed.some((p) => b.x1 < p.x2 + 2 && p.x1 < b.x2 + 2 && b.y1 < p.y2 + 1 && p.y1 < b.y2 + 1)) {
      placed.push({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2 });
      kept.add(label);
    }
  }
  if (kept.size === rows.length) return;
  vega.data(name, rows.filter((row) => kept.has(row[view.declutter_by])));
  await vega.runAsync();
}

// A turned phone or a resized window: redraw the charts whose column changed width, with the rows they show.
async function refit() {
  for (const view of PAGE.views) {
    const last = DRAWN[view.id];
    if (last && document.getElementById("chart-" + view.id).parentElement.clientWidth !== last.room) await draw(view, last.datasets);
  }
  document.body.dataset.refits = String(Number(document.body.dataset.refits || 0) + 1);
}

async function main() {
  for (const el of document.querySelectorAll("script[data-cube]")) CUBES[el.dataset.cube] = await decodeCube(el);
  for (const f of PAGE.filters) DEFAULTS[f.id] = document.getElementById("filter-" + f.id).value;
  applyHash();
  history.replaceState(null, "", shownAddress());  // the address says what is shown (a refused value dropped)
  const state = filterState();
  const coverage = coverageOf(state);
  fillCoverage(coverage, state);
  fillKpis(state, coverage);
  // First draw with each view's rows already in the spec (top-level `datasets`): no chart is drawn empty
  // and nothing is computed twice.
  for (const view of PAGE.views) {
    const rows = compute(view, state, coverage);
    fillTable(view, rows, coverage, state);
    fillLeftOut(view, state, rows);
    await draw(view, { [view.id]: rows, ...companions(view, state, rows) });
  }
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(refit, 150);
  });
  const form = document.getElementById("filters");
  const changed = async () => {
    narrowOptions();
    limitMonths();
    document.getElementById("link-note").hidden = true;
    writeHash();
    await update();
  };
  form.addEventListener("change", changed);
  form.addEventListener("reset", () => setTimeout(changed, 0));
  window.addEventListener("popstate", async () => { applyHash(); await update(); });
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
