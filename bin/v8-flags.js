// V8 flags per command. The young generation's size is fixed when the process starts, and the
// roles want different ones (docs/proxy.md and docs/logs.md, Performance; measured with
// BENCH_NODE_FLAGS in `npm run bench:proxy`, `bench:proxy:memory` and `bench:logs`):
// - 8 MB semi-spaces for the proxy (and `run`, `validate`): Node 24 lets the young generation
//   grow to 128 MB under load, and the proxy's per-request garbage and 64 KiB read buffers filled
//   it (peak RSS 215 MB at 50 connections). With 8 MB: 133–141 MB at 50 connections; 16 MB costs
//   45 MB more and ~20 % more CPU for 64 KiB responses.
// - 16 MB for `sidecar logs`: events wait in the buffer and in flight longer than two cycles of
//   an 8 MB young generation, so they were promoted and collected by the old generation's GC:
//   HTTP 97 → 132 MiB/s and 12.2 → 8.2 s of CPU per GiB with 16 MB.
/** The V8 flags `sidecar <command>` runs with. */
export function v8FlagsFor(command) {
  return [`--max-semi-space-size=${command === "logs" ? 16 : 8}`];
}
