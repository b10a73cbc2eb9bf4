import assert from "node:assert/strict";
import { test } from "node:test";
import { captureLogger } from "../runtime/testing.ts";
import { formatProgress, restoreProgressReporter } from "./restore-progress.ts";

const half = { files: 5, filesTotal: 10, bytes: 512 * 1024, bytesTotal: 1024 * 1024 };

test("a progress line has the bar, percent, files, bytes and ETA", () => {
  assert.equal(
    formatProgress(half, 4000),
    "[############............] 50% 5/10 files 512.0 KiB/1.0 MiB ETA 4 s",
  );
  assert.match(
    formatProgress({ ...half, files: 10, bytes: 1024 * 1024 }, 1),
    /100% 10\/10 files .*MiB$/,
  );
});

test("draws a bar in place on a terminal, logs every few seconds otherwise", () => {
  let now = 0;
  const written: string[] = [];
  const tty = { isTTY: true, write: (s: string) => written.push(s) > 0 };
  const { logger, lines } = captureLogger();
  const bar = restoreProgressReporter({ stream: tty, logger, now: () => now });
  now = 1000;
  bar.update(half);
  bar.done();
  assert.ok(written[0]!.startsWith("\r\u001b[2Krestoring ["), "redrawn in place");
  assert.match(written[0]!, /restoring \[#+\.+\] 50%/);
  assert.equal(written.at(-1), "\n");
  assert.equal(lines().length, 0);

  const plain = restoreProgressReporter({
    stream: { isTTY: false, write: () => true },
    logger,
    now: () => now,
    logEveryMs: 5000,
  });
  now = 6000;
  plain.update(half);
  now = 7000;
  plain.update(half);
  now = 12_000;
  plain.update(half);
  assert.equal(lines().length, 2);
  assert.match(String(lines()[0]!.msg), /^restoring: \[/);
});
