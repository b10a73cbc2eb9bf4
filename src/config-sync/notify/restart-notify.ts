import { SidecarError } from "../../runtime/errors.ts";
import type { AppHandle } from "../../runtime/role-definition.ts";
import { ConfigErrorCodes } from "../error-codes.ts";
import type { NotifyTarget, NotifyVersion } from "./notify-target.ts";

/** Restarts the app `sidecar run` supervises (SIGTERM → stop timeout → SIGKILL, then start). */
export class RestartNotifyTarget implements NotifyTarget {
  readonly kind = "restart";
  readonly describe = "restart of the app";
  readonly #app: AppHandle | undefined;

  constructor(app: AppHandle | undefined) {
    this.#app = app;
  }

  async send(version: NotifyVersion): Promise<void> {
    if (!this.#app)
      throw new SidecarError(
        ConfigErrorCodes.NOTIFY,
        "Cannot restart the app: there is no app (restart works in sidecar run only)",
      );
    await this.#app.restart(`config version ${version.hash} published`);
  }
}
