import type { Endpoint } from "./endpoint.ts";

export type LbPolicy = "round_robin" | "least_request" | "random";

/** Picks one endpoint from a non-empty list. */
export type LoadBalancer = (endpoints: readonly Endpoint[]) => Endpoint;

/**
 * Round robin, least request (power of two random choices, as Envoy's default choice count 2),
 * or random.
 */
export function createLoadBalancer(policy: LbPolicy, random = Math.random): LoadBalancer {
  switch (policy) {
    case "round_robin": {
      let next = 0;
      return function roundRobin(endpoints) {
        const picked = endpoints[next % endpoints.length]!;
        next = (next + 1) % 1_000_000_000;
        return picked;
      };
    }
    case "random":
      return function pickRandom(endpoints) {
        return endpoints[Math.floor(random() * endpoints.length)]!;
      };
    case "least_request":
      return function leastRequest(endpoints) {
        if (endpoints.length === 1) return endpoints[0]!;
        const a = endpoints[Math.floor(random() * endpoints.length)]!;
        let b = endpoints[Math.floor(random() * (endpoints.length - 1))]!;
        if (b === a) b = endpoints[endpoints.length - 1]!;
        return b.active < a.active ? b : a;
      };
  }
}
