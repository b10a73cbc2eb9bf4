import { basename, join } from "node:path";
import { fs } from "../../runtime/builtins.ts";
import { fsyncDir } from "../../runtime/files/atomic-file.ts";
import { type Publisher, type PublishFile, type StagedVersion, versionHash } from "./publisher.ts";
import { writeDurably } from "./write-durably.ts";

const dataLink = "..data";
const dataTmpLink = "..data_tmp";
const versionPattern = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d{3}_/;

export interface VersionedPublisherOptions {
  /** Version directories kept, the current one included (default 2). */
  keepVersions?: number;
  now?: () => number;
}

function stamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
}

/**
 * Publishes each version into its own hidden directory (`..2026_11_27_17_45_00.123_abc123`) and
 * makes it current by renaming a `..data_tmp` symlink over `..data`, the way kubelet updates a
 * ConfigMap volume: the app's paths (`app.json` → `..data/app.json`) switch from one complete
 * version to the next in one rename, so a reader never sees a partial file or two versions mixed.
 *
 * @example
 * const publisher = new VersionedPublisher("/etc/app");
 * const staged = await publisher.stage([{ path: "app.json", data, mode: 0o644 }]);
 * await staged.commit();
 */
export class VersionedPublisher implements Publisher {
  readonly #dir: string;
  readonly #keep: number;
  readonly #now: () => number;
  #current: string | undefined;

  constructor(dir: string, { keepVersions = 2, now = Date.now }: VersionedPublisherOptions = {}) {
    this.#dir = dir;
    this.#keep = keepVersions;
    this.#now = now;
  }

  get currentDir(): string | undefined {
    return this.#current;
  }

  async currentHash(): Promise<string | undefined> {
    let target: string;
    try {
      target = await fs.promises.realpath(join(this.#dir, dataLink));
    } catch {
      return undefined;
    }
    const files: PublishFile[] = [];
    const walk = async (dir: string, prefix: string) => {
      for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await walk(full, `${prefix}${entry.name}/`);
        else if (entry.isFile()) {
          const stat = await fs.promises.stat(full);
          files.push({
            path: `${prefix}${entry.name}`,
            data: await fs.promises.readFile(full),
            mode: stat.mode & 0o777,
          });
        }
      }
    };
    try {
      await walk(target, "");
    } catch {
      return undefined;
    }
    this.#current = target;
    return versionHash(files);
  }

  async stage(files: readonly PublishFile[]): Promise<StagedVersion> {
    await fs.promises.mkdir(this.#dir, { recursive: true, mode: 0o755 });
    const dir = await fs.promises.mkdtemp(join(this.#dir, `..${stamp(this.#now())}_`));
    try {
      await fs.promises.chmod(dir, 0o755);
      for (const file of files) await writeDurably(join(dir, file.path), file.data, file.mode);
      const subdirs = new Set(files.map((f) => f.path.split("/").slice(0, -1).join("/")));
      for (const sub of subdirs) await fsyncDir(join(dir, sub));
    } catch (error) {
      await fs.promises.rm(dir, { recursive: true, force: true });
      throw error;
    }
    const topNames = new Set(files.map((f) => f.path.split("/")[0]!));
    return {
      dir,
      fileFor: (path) => join(dir, path),
      commit: () => this.#commit(dir, topNames),
      discard: () => fs.promises.rm(dir, { recursive: true, force: true }),
    };
  }

  async #commit(versionDir: string, topNames: ReadonlySet<string>): Promise<void> {
    const tmp = join(this.#dir, dataTmpLink);
    await fs.promises.rm(tmp, { force: true });
    // Relative, so the volume can be mounted at another path in the app's container.
    await fs.promises.symlink(basename(versionDir), tmp);
    await fs.promises.rename(tmp, join(this.#dir, dataLink));
    await fsyncDir(this.#dir);
    this.#current = versionDir;
    for (const name of topNames) await this.#ensureLink(name);
    await this.#removeStale(topNames, basename(versionDir));
  }

  /** The app's path `name` → `..data/name`, replacing a plain file left by an earlier layout. */
  async #ensureLink(name: string): Promise<void> {
    const path = join(this.#dir, name);
    const want = `${dataLink}/${name}`;
    try {
      if ((await fs.promises.readlink(path)) === want) return;
    } catch {}
    const stat = await fs.promises.lstat(path).catch(() => undefined);
    if (stat?.isDirectory()) await fs.promises.rm(path, { recursive: true, force: true });
    const tmp = join(this.#dir, `..link_tmp_${name.replaceAll("/", "_")}`);
    await fs.promises.rm(tmp, { force: true });
    await fs.promises.symlink(want, tmp);
    await fs.promises.rename(tmp, path);
  }

  /** Links to names the new version no longer has, and version directories beyond keepVersions. */
  async #removeStale(topNames: ReadonlySet<string>, current: string): Promise<void> {
    const versions: string[] = [];
    for (const name of await fs.promises.readdir(this.#dir)) {
      const path = join(this.#dir, name);
      if (versionPattern.test(name)) {
        if (name !== current) versions.push(name);
        continue;
      }
      if (name.startsWith("..") || topNames.has(name)) continue;
      const link = await fs.promises.readlink(path).catch(() => undefined);
      if (link?.startsWith(`${dataLink}/`)) await fs.promises.rm(path, { force: true });
    }
    // Names sort by time; the newest keepVersions-1 before the current one stay for readers mid-read.
    versions.sort();
    for (const name of versions.slice(0, Math.max(0, versions.length - (this.#keep - 1))))
      await fs.promises.rm(join(this.#dir, name), { recursive: true, force: true });
  }
}
