// The Ask page's DuckDB worker: DuckDB-WASM's own worker, with every HTTP response it reads counted, so the page
// can say how many bytes a question fetched. DuckDB reads the Parquet files with XMLHttpRequest (range requests,
// synchronous inside this worker); the count goes out on a BroadcastChannel of its own, so DuckDB's message
// protocol between the page and this worker is left untouched.
const fetched = new BroadcastChannel("police-ask-fetched");
const BaseRequest = self.XMLHttpRequest;
self.XMLHttpRequest = class CountedRequest extends BaseRequest {
  open(method, url, async = true, ...rest) {
    this.countedMethod = String(method).toUpperCase();
    this.countedAsync = async !== false;
    return super.open(method, url, async, ...rest);
  }
  count() {
    // a HEAD answer has a Content-Length but no body: nothing was fetched
    if (this.countedMethod === "HEAD" || this.status < 200 || this.status >= 300) return;
    const got = this.responseType === "arraybuffer" || this.responseType === "blob" ? this.response : null;
    const bytes = got ? got.byteLength ?? got.size ?? 0 : Number(this.getResponseHeader("Content-Length") || 0);
    if (bytes) fetched.postMessage(bytes);
  }
  send(body) {
    // DuckDB's reads are synchronous (allowed in a worker): counted when send returns
    if (!this.countedAsync) {
      const done = super.send(body);
      this.count();
      return done;
    }
    this.addEventListener("loadend", () => this.count());
    return super.send(body);
  }
};
importScripts("duckdb-browser-eh.worker.js");
