import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { InjectErrorCodes } from "./error-codes.ts";
import { maxInputBytes } from "./inject-documents.ts";
import { injectError } from "./inject-error.ts";

export interface InputText {
  source: string;
  text: string;
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > maxInputBytes)
      throw injectError(
        InjectErrorCodes.YAML,
        `stdin: more than the ${maxInputBytes / 1024 / 1024} MiB sidecar inject reads`,
      );
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function readOne(path: string): Promise<InputText[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw injectError(
      InjectErrorCodes.READ,
      `Cannot read "${path}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      error,
    );
  }
  if (info.isDirectory()) {
    const names = (await readdir(path)).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
    return (await Promise.all(names.map((name) => readOne(join(path, name))))).flat();
  }
  if (info.size > maxInputBytes)
    throw injectError(
      InjectErrorCodes.YAML,
      `${path}: ${info.size} bytes is more than the ${maxInputBytes / 1024 / 1024} MiB sidecar inject reads`,
    );
  return [{ source: path, text: await readFile(path, "utf8") }];
}

/** The texts of `-f` arguments: files, directories (their *.yaml, *.yml, *.json, sorted) and `-` (stdin). */
export async function readInputs(
  paths: readonly string[],
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<InputText[]> {
  const inputs: InputText[] = [];
  for (const path of paths) {
    if (path === "-") inputs.push({ source: "stdin", text: await readStdin(stdin) });
    else inputs.push(...(await readOne(path)));
  }
  return inputs;
}
