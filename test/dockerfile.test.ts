/**
 * deploy/Dockerfile cannot be built on machines that reach no image registry, so this checks
 * what can go wrong without a build: every file a COPY takes from the context exists and is not
 * left out by .dockerignore, and the runtime stage promises what the manifests and the image
 * test rely on (UID 10001, ENTRYPOINT ["sidecar"], the bundle and bin/).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { test } from "node:test";

/** The .dockerignore rules as (negated, regex) pairs; the last matching rule wins. */
async function dockerignore(): Promise<(path: string) => boolean> {
  const rules = (await readFile(".dockerignore", "utf8"))
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const negated = line.startsWith("!");
      const pattern = (negated ? line.slice(1) : line).replace(/\/$/, "");
      const source = pattern
        .split("/")
        .map((part) =>
          part === "**" ? ".*" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*"),
        )
        .join("/");
      // A directory rule covers what is under it.
      return { negated, regex: new RegExp(`^${source}(/.*)?$`) };
    });
  return (path) => {
    let ignored = false;
    for (const rule of rules) if (rule.regex.test(path)) ignored = !rule.negated;
    return ignored;
  };
}

test("every COPY from the build context names files that exist and .dockerignore lets through", async () => {
  const dockerfile = await readFile("deploy/Dockerfile", "utf8");
  const ignored = await dockerignore();
  const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
    m[1]!.split(/\s+/),
  );
  assert.ok(sources.includes("src") && sources.includes("examples/demo/app.js"), sources.join());
  for (const source of sources) {
    assert.ok(existsSync(source), `${source} exists`);
    assert.equal(ignored(source), false, `${source} is in the build context`);
  }
  for (const left of [
    "node_modules",
    "dist",
    ".git",
    "test/e2e/image.test.ts",
    "src/cli/main.test.ts",
  ])
    assert.equal(ignored(left), true, `${left} stays out of the build context`);
});

test("the runtime stage is the default target and matches the test image: UID 10001, ENTRYPOINT sidecar", async () => {
  const dockerfile = await readFile("deploy/Dockerfile", "utf8");
  const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
  assert.equal(stages.at(-1), "runtime");
  const runtime = dockerfile.slice(dockerfile.lastIndexOf("AS runtime"));
  assert.match(runtime, /^USER 10001:10001$/m);
  assert.match(runtime, /^ENTRYPOINT \["sidecar"\]$/m);
  // The bundle and the chunks it loads on demand (scripts/build.ts).
  assert.match(runtime, /^COPY --from=build \/src\/dist \.\/dist$/m);
  assert.match(runtime, /^COPY --from=build \/src\/bin \.\/bin$/m);
  const script = await readFile("deploy/image/build-test-image.sh", "utf8");
  assert.match(script, /^uid=10001$/m);
  assert.match(script, /ENTRYPOINT \["sidecar"\]/);
});
