/** Who a request was authenticated as, by whichever filter did it. Never holds a credential. */
export interface Principal {
  /** The filter type that authenticated it. */
  method: "api-key" | "jwt" | "forward-auth" | "client-cert";
  /** The key id, the JWT's `sub`, the auth service's user, the certificate's SPIFFE ID or CN. */
  subject: string;
  /** The API key's id (api-key only). */
  keyId?: string | undefined;
  scopes: readonly string[];
  groups: readonly string[];
  /** The JWT's claims (jwt only). */
  claims?: Readonly<Record<string, unknown>> | undefined;
}

/** Principals by request (a filter context lives as long as its request). */
const principals = new WeakMap<object, Principal>();

/** Records who the request is (the authentication filters call it). */
export function setPrincipal(request: object, principal: Principal): void {
  principals.set(request, principal);
}

/** Who the request is, if a filter before this one authenticated it. */
export function principalOf(request: object): Principal | undefined {
  return principals.get(request);
}
