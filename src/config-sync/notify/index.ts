import type { Clock } from "../../runtime/clock.ts";
import type { AppHandle } from "../../runtime/role-definition.ts";
import { CommandNotifyTarget } from "./command-notify.ts";
import { HttpNotifyTarget } from "./http-notify.ts";
import type { NotifyConfig } from "./notify-config.ts";
import type { NotifyTarget } from "./notify-target.ts";
import { RestartNotifyTarget } from "./restart-notify.ts";
import { SignalNotifyTarget } from "./signal-notify.ts";

export { Notifier, type NotifyResult, type NotifyStatus } from "./notifier.ts";
export type { NotifyTarget, NotifyVersion } from "./notify-target.ts";

/** Builds the notify targets of a config section, in order. */
export function buildNotifyTargets(
  configs: readonly NotifyConfig[],
  deps: { clock: Clock; app: AppHandle | undefined },
): NotifyTarget[] {
  return configs.map((config) => {
    if (config.type === "http") return new HttpNotifyTarget(config, deps.clock);
    if (config.type === "signal") return new SignalNotifyTarget(config, deps);
    if (config.type === "command") return new CommandNotifyTarget(config);
    return new RestartNotifyTarget(deps.app);
  });
}
