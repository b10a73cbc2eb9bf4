import assert from "node:assert/strict";
import { test } from "node:test";
import { Counter, Histogram, Registry, Summary } from "prom-client";
import { ExpositionParseError, parseExposition } from "./parse-exposition.ts";
import { registryFamilies } from "./registry-families.ts";
import { negotiateFormat, writeOpenMetrics, writeText } from "./write-exposition.ts";

const text = `# HELP http_requests_total Requests "served".\\nSecond line
# TYPE http_requests_total counter
http_requests_total{code="200",path="/a\\"b\\\\c\\n"} 1027 1395066363000
http_requests_total{code="500",path="/"} 3
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1"} 2
latency_seconds_bucket{le="+Inf"} 3
latency_seconds_sum 0.7
latency_seconds_count 3
# TYPE rpc_seconds summary
rpc_seconds{quantile="0.5"} 0.2
rpc_seconds_sum 1.5
rpc_seconds_count 7
no_type_at_all -Inf
`;

test("text format parses into families and writes back the same text", () => {
  const families = parseExposition(text);
  assert.deepEqual(
    families.map((f) => [f.name, f.type, f.samples.length]),
    [
      ["http_requests_total", "counter", 2],
      ["latency_seconds", "histogram", 4],
      ["rpc_seconds", "summary", 3],
      ["no_type_at_all", "untyped", 1],
    ],
  );
  assert.equal(families[0]!.help, 'Requests "served".\nSecond line');
  assert.deepEqual(families[0]!.samples[0]!.labels, { code: "200", path: '/a"b\\c\n' });
  assert.equal(families[0]!.samples[0]!.timestampMs, 1395066363000);
  assert.equal(
    writeText(families),
    text.replace("no_type_at_all", "# TYPE no_type_at_all untyped\nno_type_at_all"),
  );
});

test("OpenMetrics counters and infos are named as the text format names them, and back", () => {
  const om = `# TYPE jobs counter
# HELP jobs Jobs done.
jobs_total{kind="a"} 4 1.5
jobs_created{kind="a"} 1700000000
# TYPE build info
build_info{version="1.2"} 1
# TYPE size_bytes gauge
# UNIT size_bytes bytes
size_bytes 10 # {trace_id="x"} 1
# EOF
`;
  const families = parseExposition(om);
  assert.deepEqual(
    families.map((f) => [f.name, f.type]),
    [
      ["jobs_total", "counter"],
      ["build_info", "info"],
      ["size_bytes", "gauge"],
    ],
  );
  assert.equal(families[0]!.samples[0]!.timestampMs, 1500);
  assert.equal(families[2]!.unit, "bytes");
  assert.equal(
    writeText(families),
    `# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total{kind="a"} 4 1500\n# TYPE build_info gauge\nbuild_info{version="1.2"} 1\n# TYPE size_bytes gauge\nsize_bytes 10\n`,
  );
  assert.equal(
    writeOpenMetrics(families),
    `# TYPE jobs counter\n# HELP jobs Jobs done.\njobs_total{kind="a"} 4 1.5\njobs_created{kind="a"} 1700000000\n# TYPE build info\nbuild_info{version="1.2"} 1\n# TYPE size_bytes gauge\n# UNIT size_bytes bytes\nsize_bytes 10\n# EOF\n`,
  );
  // Text-format counters become OpenMetrics counters with a _total sample.
  assert.match(
    writeOpenMetrics(parseExposition("# TYPE hits counter\nhits 2\n")),
    /^hits_total 2$/m,
  );
});

test("malformed exposition is rejected with the line", () => {
  const cases: [string, RegExp][] = [
    ['metric{a="1" 2\n', /line 1: expected , or }/],
    ["metric 1 2 3\n", /unexpected text/],
    ["metric abc\n", /invalid value "abc"/],
    ["# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n", /line 5: .*"a"/],
    ["a 1\na 2\n", /repeated series/],
    ["# TYPE a gauge\n# TYPE a counter\n", /second TYPE/],
    ["# TYPE a gauge\na 1\n", /missing # EOF/],
    ["1a 1\n", /invalid metric name/],
  ];
  for (const [input, message] of cases.slice(0, 6).concat(cases.slice(7))) {
    assert.throws(
      () => parseExposition(input),
      (error: unknown) => {
        assert.ok(error instanceof ExpositionParseError, input);
        assert.match(error.message, message, input);
        return true;
      },
    );
  }
  assert.throws(() => parseExposition(cases[6]![0], { format: "openmetrics" }), cases[6]![1]);
});

test("a prom-client registry writes the same families in both formats", async () => {
  const registry = new Registry();
  new Counter({
    name: "x_events_total",
    help: "Events.",
    labelNames: ["k"],
    registers: [registry],
  }).inc({ k: "a" }, 2);
  new Histogram({
    name: "x_seconds",
    help: "Time.",
    buckets: [0.1, 1],
    registers: [registry],
  }).observe(0.5);
  new Summary({
    name: "x_size_bytes",
    help: "Size.",
    percentiles: [0.5],
    registers: [registry],
  }).observe(3);
  const families = await registryFamilies(registry);
  assert.equal(writeText(families), `${await registry.metrics()}`.replace(/\n\n/g, "\n"));
  const om = writeOpenMetrics(families);
  assert.match(
    om,
    /^# TYPE x_events counter\n# HELP x_events Events\.\nx_events_total\{k="a"\} 2$/m,
  );
  assert.match(om, /^x_seconds_bucket\{le="\+Inf"\} 1$/m);
  assert.deepEqual(
    parseExposition(om).map((f) => f.name),
    ["x_events_total", "x_seconds", "x_size_bytes"],
  );
});

test("Accept negotiation prefers OpenMetrics only when the scraper does", () => {
  assert.equal(negotiateFormat(undefined), "text");
  assert.equal(negotiateFormat("text/plain"), "text");
  assert.equal(
    negotiateFormat(
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    ),
    "openmetrics",
  );
  assert.equal(negotiateFormat("application/openmetrics-text;q=0.3,text/plain;q=0.5"), "text");
});
