import { fs } from "./builtins.ts";

/** The package version; src/ and dist/ both sit one level below package.json. */
export const sidecarVersion: string = (
  JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;
