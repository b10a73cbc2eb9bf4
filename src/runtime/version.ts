import packageJson from "../../package.json" with { type: "json" };

/** The package version (inlined by the bundler in dist/sidecar.js). */
export const sidecarVersion: string = packageJson.version;
