import { basename, dirname, join } from "node:path";
import { fs } from "../../runtime/builtins.ts";
import { fsyncDir } from "../../runtime/files/atomic-file.ts";
import { type Publisher, type PublishFile, type StagedVersion, versionHash } from "./publisher.ts";
import { writeDurably } from "./write-durably.ts";

/**
 * Publishes each file in place by temp file → fsync → rename → fsync of the directory: a reader
 * sees the old or the new file, never a partial one. Files are replaced one after the other, so
 * use the versioned layout when the app reads several files that must match.
 */
export class PlainPublisher implements Publisher {
  readonly #dir: string;
  #counter = 0;

  constructor(dir: string) {
    this.#dir = dir;
  }

  get currentDir(): string {
    return this.#dir;
  }

  async currentHash(paths: readonly string[]): Promise<string | undefined> {
    const files: PublishFile[] = [];
    try {
      for (const path of paths) {
        const full = join(this.#dir, path);
        const stat = await fs.promises.stat(full);
        files.push({ path, data: await fs.promises.readFile(full), mode: stat.mode & 0o777 });
      }
    } catch {
      return undefined;
    }
    return versionHash(files);
  }

  async stage(files: readonly PublishFile[]): Promise<StagedVersion> {
    const temps = new Map<string, string>();
    const id = `${process.pid}-${++this.#counter}`;
    try {
      for (const file of files) {
        const target = join(this.#dir, file.path);
        // The extension stays last, for check commands that go by it.
        const temp = join(dirname(target), `.sidecar-tmp-${id}.${basename(target)}`);
        temps.set(file.path, temp);
        await writeDurably(temp, file.data, file.mode);
      }
    } catch (error) {
      for (const temp of temps.values()) await fs.promises.rm(temp, { force: true });
      throw error;
    }
    return {
      dir: this.#dir,
      fileFor: (path) => temps.get(path) ?? join(this.#dir, path),
      commit: async () => {
        const dirs = new Set<string>();
        for (const [path, temp] of temps) {
          const target = join(this.#dir, path);
          await fs.promises.rename(temp, target);
          dirs.add(dirname(target));
        }
        for (const dir of dirs) await fsyncDir(dir);
      },
      discard: async () => {
        for (const temp of temps.values()) await fs.promises.rm(temp, { force: true });
      },
    };
  }
}
