import { fileSource } from "./file/index.ts";
import { stdoutSource } from "./stdout/index.ts";

/** Every source component (composed into a discriminated union on `type` by the logs config). */
export const sourceComponents = [fileSource, stdoutSource] as const;

export type SourceType = (typeof sourceComponents)[number]["type"];
