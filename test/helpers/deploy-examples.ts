/**
 * The examples under deploy/examples/ and the state of the roles they run.
 * - `runs`: the role's command exists today; the config validates, and the classic form of a
 *   Pod example runs as a real Pod in test/e2e/deploy-pods.test.ts.
 * - `waitsFor`: written against the role's issue and checked by schema (Kubernetes and
 *   kustomize) only, until the role lands; then move it to `runs` and give it a Pod test.
 */
export const examples: Record<string, { runs: true } | { waitsFor: string }> = {
  "reverse-proxy": { runs: true },
  "log-collection": { runs: true },
  "all-in-one": { runs: true },
  "security-proxy": { runs: true },
  "config-management": { runs: true },
  monitoring: { runs: true },
  "data-sync": { runs: true },
  "node-agent": { runs: true },
};
