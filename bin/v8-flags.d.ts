/** The V8 flags `sidecar <command>` runs with (see v8-flags.js). */
export function v8FlagsFor(command: string | undefined): string[];
