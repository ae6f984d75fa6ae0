/**
 * Stands in for @actions/http-client in the action bundles. @actions/core imports it only for getIDToken (OIDC),
 * which stackhub-ha does not call through @actions/core; the real module brings undici (~900 KB), which costs
 * about 100 ms of cold start on every step. Anything that reaches this stub is a bug.
 */
const unavailable = (): never => {
  throw new Error('bug: @actions/http-client is not bundled (use src/shared/http for HTTP calls)');
};

export class HttpClient {
  constructor() {
    unavailable();
  }
}

export class BearerCredentialHandler {
  constructor() {
    unavailable();
  }
}
