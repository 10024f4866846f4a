// The Ask page: SQL over the published tables, run in this browser by DuckDB-WASM (in a worker), reading the
// site's own Parquet downloads with HTTP range requests. The query lives in the address (?q=...), so a link
// reopens it and Back returns to the previous one. What must stay true: nothing is fetched from anywhere but this
// site, and unknown is never shown as zero (a NULL is shown as NULL).
const spec = JSON.parse(document.getElementById("ask-spec").textContent);
const $ = (id) => document.getElementById(id);
const editor = $("ask-sql");
const runButton = $("ask-run");
const cancelButton = $("ask-cancel");
const csvButton = $("ask-csv");
const state = { db: null, conn: null, running: false, cancelled: false, fetched: 0, last: null };
// Rows of a result are counted as they stream in up to this many (cheaper than running the query again to count
// it); past it the stream is stopped and DuckDB counts the query's rows.
const COUNT_WHILE_STREAMING = 200000;

function say(id, text) {
  const el = $(id);
  el.textContent = text || "";
  el.hidden = !text;
}

const fmtInt = new Intl.NumberFormat("en-GB");
function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// Arrow's values as plain ones: numbers (DuckDB's BIGINT and HUGEINT arrive as doubles: the engine is opened with
// castBigIntToDouble and castDecimalToDouble), strings, booleans, dates as YYYY-MM-DD, timestamps as ISO text.
function plain(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Date) {
    const iso = value.toISOString();
    return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso;
  }
  if (typeof value === "object" && value[Symbol.toPrimitive]) return Number(value); // Arrow's big integers
  if (typeof value === "object" && typeof value.toJSON === "function") return value.toJSON();
  if (typeof value === "object") return JSON.stringify(value);
  return value;
}

function dateColumns(schema) {
  // Arrow type ids 8 (Date) and 10 (Timestamp): arrow-js hands these over as epoch milliseconds
  return schema.fields.map((f) => f.type.typeId === 8 || f.type.typeId === 10);
}

function rowsOf(batch, isDate, limit) {
  const rows = [];
  const columns = batch.schema.fields.map((_, i) => batch.getChildAt(i));
  for (let r = 0; r < batch.numRows && rows.length < limit; r++) {
    rows.push(columns.map((col, c) => {
      const v = col.get(r);
      return plain(isDate[c] && typeof v === "number" ? new Date(v) : v);
    }));
  }
  return rows;
}

function showTable(result) {
  const table = $("ask-result");
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const name of result.columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = name;
    head.appendChild(th);
  }
  // a year or an id is a label, not a quantity: no thousands separator
  const plainNumber = result.columns.map((name) => /(^|_)(year|id|code)($|_)/i.test(name));
  const body = table.createTBody();
  for (const row of result.rows) {
    const tr = body.insertRow();
    for (const [c, v] of row.entries()) {
      const td = tr.insertCell();
      if (v === null) {
        td.textContent = "NULL";
        td.className = "null";
      } else if (typeof v === "number") {
        td.textContent = Number.isInteger(v) && !plainNumber[c] ? fmtInt.format(v) : String(v);
        td.className = "num";
      } else {
        td.textContent = String(v);
      }
    }
  }
  $("ask-result-box").hidden = false;
}

function csvText(result) {
  const cell = (v) => {
    if (v === null) return "";
    const s = String(v);
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = [result.columns.map(cell).join(","), ...result.rows.map((r) => r.map(cell).join(","))];
  return lines.join("\n") + "\n";
}

// A single SELECT (or WITH, FROM, VALUES, TABLE) can be counted in full by wrapping it; other statements are
// not wrapped.
function countable(sql) {
  const body = sql.trim().replace(/;\s*$/, "");
  return /^(select|with|from|values|table)\b/i.test(body) && !body.includes(";") ? body : null;
}

async function stream(sql) {
  // conn.send streams the result in batches and can be cancelled (conn.cancelSent) while DuckDB works
  const reader = await state.conn.send(sql);
  let rows = [];
  let seen = 0;
  let columns = null;
  let isDate = null;
  for await (const batch of reader) {
    if (columns === null) {
      columns = batch.schema.fields.map((f) => f.name);
      isDate = dateColumns(batch.schema);
    }
    if (rows.length < spec.maxRows) rows = rows.concat(rowsOf(batch, isDate, spec.maxRows - rows.length));
    seen += batch.numRows;
    // rows past those shown are only counted; a result too long to count that way is counted by DuckDB
    if (seen > COUNT_WHILE_STREAMING) break;
  }
  if (columns === null) {
    const schema = reader.schema;
    columns = schema ? schema.fields.map((f) => f.name) : [];
  }
  return { columns, rows, seen, counted: seen <= COUNT_WHILE_STREAMING, complete: seen <= spec.maxRows };
}

async function run(sql, { push = true } = {}) {
  if (!state.conn || state.running) return;
  sql = sql.trim();
  if (!sql) return;
  if (push) {
    const url = `ask.html?q=${encodeURIComponent(sql)}`;
    if (location.search !== url.slice("ask.html".length)) history.pushState({ q: sql }, "", url);
  }
  state.running = true;
  state.cancelled = false;
  runButton.disabled = true;
  cancelButton.disabled = false;
  csvButton.disabled = true;
  say("ask-error", "");
  say("ask-status", "Running…");
  document.body.dataset.askState = "running";
  const started = performance.now();
  const fetchedBefore = state.fetched;
  const abandoned = new Promise((_, reject) => { state.abandon = reject; });
  const unlessCancelled = (work) => Promise.race([work, abandoned]);
  try {
    const got = await unlessCancelled(stream(sql));
    let count = got.seen;
    let countText;
    if (got.counted && !got.complete) {
      countText = `${fmtInt.format(count)} rows; the first ${fmtInt.format(spec.maxRows)} shown`;
    } else if (!got.complete) {
      await state.conn.cancelSent().catch(() => {});
      const body = countable(sql);
      if (body) {
        const counted = await unlessCancelled(state.conn.query(`SELECT count(*) AS n FROM (${body})`));
        count = Number(counted.getChildAt(0).get(0));
        countText = `${fmtInt.format(count)} rows; the first ${fmtInt.format(spec.maxRows)} shown`;
      } else {
        countText = `more than ${fmtInt.format(COUNT_WHILE_STREAMING)} rows; the first ${fmtInt.format(spec.maxRows)} shown`;
      }
    } else {
      countText = `${fmtInt.format(count)} row${count === 1 ? "" : "s"}`;
    }
    const seconds = (performance.now() - started) / 1000;
    const fetched = state.fetched - fetchedBefore;
    state.last = { sql, columns: got.columns, rows: got.rows, count, complete: got.complete, fetched };
    window.askResult = state.last;
    showTable(state.last);
    say(
      "ask-status",
      `${countText} · answered in ${seconds.toFixed(2)} s · ${sizeText(fetched)} fetched`,
    );
    // the whole result as CSV: the rows in hand, or DuckDB writing it again (a single query only)
    csvButton.disabled = !(got.complete || countable(sql));
    document.body.dataset.askState = "done";
  } catch (error) {
    window.askResult = null;
    if (state.cancelled) {
      say("ask-error", "Cancelled: the query was stopped before it finished.");
      say("ask-status", "Restarting the SQL engine…");
      await state.db.terminate();
      try {
        Object.assign(state, await startEngine());
        say("ask-status", "Ready.");
      } catch (restart) {
        say("ask-error", `Cancelled, and the SQL engine did not restart: ${restart.message}. Reload the page.`);
      }
    } else {
      say("ask-error", error.message);
      say("ask-status", "");
    }
    document.body.dataset.askState = state.cancelled ? "cancelled" : "error";
  } finally {
    state.running = false;
    state.cancelled = false;
    runButton.disabled = false;
    cancelButton.disabled = true;
  }
}

// Cancel: the query's promise is abandoned at once and the worker, busy with it, is stopped and replaced by a
// fresh engine (DuckDB-WASM cannot interrupt a query it is running); the browser keeps the engine's files, so
// the fresh engine does not download them again.
function cancel() {
  if (!state.running || state.cancelled) return;
  state.cancelled = true;
  cancelButton.disabled = true;
  state.abandon(new Error("cancelled"));
}

async function downloadCsv() {
  const result = state.last;
  if (!result) return;
  let text;
  if (result.complete) {
    text = csvText(result);
  } else {
    // the whole result, written by DuckDB in the worker and handed over as one file
    say("ask-status", "Writing the whole result as CSV…");
    await state.conn.query(`COPY (${countable(result.sql)}) TO 'ask-result.csv' (HEADER)`);
    text = new TextDecoder().decode(await state.db.copyFileToBuffer("ask-result.csv"));
    await state.db.dropFile("ask-result.csv");
    say("ask-status", `${fmtInt.format(result.count)} rows written`);
  }
  if (spec.generated) text = `# ${spec.generated}\n${text}`;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  link.download = `${spec.prefix}ask-result.csv`;
  document.body.appendChild(link);
  link.click();
  link.remove();
}

// The engine in a worker, every published table a view of the same name over its Parquet files.
async function startEngine() {
  const duckdb = await import(new URL(spec.engine.module, location.href).href);
  const worker = new Worker(new URL(spec.engine.worker, location.href).href);
  const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
  await db.instantiate(new URL(spec.engine.wasm, location.href).href);
  await db.open({ query: { castBigIntToDouble: true, castDecimalToDouble: true } });
  const conn = await db.connect();
  for (const [name, files] of Object.entries(spec.tables)) {
    const urls = files.map((f) => `'${new URL(f, location.href).href.replaceAll("'", "''")}'`).join(", ");
    await conn.query(`CREATE VIEW "${name}" AS SELECT * FROM read_parquet([${urls}])`);
  }
  return { db, conn };
}

async function start() {
  const fromUrl = new URLSearchParams(location.search).get("q");
  if (fromUrl) editor.value = fromUrl;
  if (location.protocol === "file:") {
    $("ask-served").hidden = false;
    document.body.dataset.askState = "needs-server";
    return;
  }
  if (!spec.engine) {
    say("ask-error", "This copy of the site was built without the SQL engine: run make setup, then render the site again.");
    document.body.dataset.askState = "no-engine";
    return;
  }
  say("ask-status", `Loading the SQL engine (${sizeText(spec.engine.bytes)}, kept by your browser after the first visit)…`);
  const started = performance.now();
  const channel = new BroadcastChannel("police-ask-fetched");
  channel.onmessage = (event) => { state.fetched += event.data; };
  try {
    Object.assign(state, await startEngine());
  } catch (error) {
    say("ask-error", `The SQL engine did not start: ${error.message}`);
    document.body.dataset.askState = "no-engine";
    return;
  }
  const seconds = (performance.now() - started) / 1000;
  say("ask-status", `Ready in ${seconds.toFixed(1)} s. Write a query, or pick an example.`);
  window.askReadySeconds = seconds;
  runButton.disabled = false;
  document.body.dataset.askState = "ready";
  if (fromUrl) await run(fromUrl, { push: false });
}

runButton.addEventListener("click", () => run(editor.value));
cancelButton.addEventListener("click", cancel);
csvButton.addEventListener("click", downloadCsv);
editor.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    run(editor.value);
  }
});
for (const link of document.querySelectorAll("a[data-example]")) {
  link.addEventListener("click", (event) => {
    if (!state.conn) return; // not ready (or from file://): let the link load the page with its query
    event.preventDefault();
    editor.value = link.dataset.sql;
    run(editor.value);
  });
}
window.addEventListener("popstate", () => {
  const q = new URLSearchParams(location.search).get("q") || "";
  editor.value = q;
  if (q) run(q, { push: false });
});
window.askRun = (sql) => run(sql);
start();
