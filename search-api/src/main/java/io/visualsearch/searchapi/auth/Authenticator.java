package io.visualsearch.searchapi.auth;

import io.visualsearch.searchapi.ApiException;

/**
 * Turns the credentials of a request into the tenant it may act for: 401 when the key is missing
 * or unknown, 403 when the request names another tenant's resources than the key's.
 */
public final class Authenticator {

  private final ApiKeys keys;

  public Authenticator(ApiKeys keys) {
    this.keys = keys;
  }

  /**
   * @param authorization the Authorization header (or gRPC metadata) value
   * @param requestedTenant the tenant the request names explicitly (query parameter, header), or null
   */
  public String tenant(String authorization, String requestedTenant) {
    String token = ApiKeys.bearerToken(authorization);
    if (token == null) {
      throw ApiException.unauthorized("missing_api_key", "send 'Authorization: Bearer <api key>'");
    }
    String tenant = keys.tenantOf(token)
        .orElseThrow(() -> ApiException.unauthorized("invalid_api_key", "the API key is not valid"));
    if (requestedTenant != null && !requestedTenant.isEmpty() && !requestedTenant.equals(tenant)) {
      throw ApiException.forbidden("wrong_tenant", "this API key does not give access to the requested tenant");
    }
    return tenant;
  }
}
