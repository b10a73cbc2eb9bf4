/** The injector's and the webhook's codes; `sidecar inject` exits 2 for each of them. */
export const InjectErrorCodes = {
  /** An option (flag or annotation) is missing or malformed. */
  INVALID: "SIDECAR_ERR_INJECT_INVALID",
  /** The workload already has a container, volume or port the sidecar needs, or uses hostNetwork. */
  CONFLICT: "SIDECAR_ERR_INJECT_CONFLICT",
  /** A document asks for injection but its kind has no Pod template the injector knows. */
  UNSUPPORTED: "SIDECAR_ERR_INJECT_UNSUPPORTED",
  /** The input is not valid YAML (or is hostile: too many aliases, too large). */
  YAML: "SIDECAR_ERR_INJECT_YAML",
  /** A file or directory named with -f cannot be read. */
  READ: "SIDECAR_ERR_INJECT_READ",
} as const;
