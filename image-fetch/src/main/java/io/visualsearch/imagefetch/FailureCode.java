package io.visualsearch.imagefetch;

/** Why a fetch failed; {@link FetchResult.Failed#message()} says what the retailer can do. */
public enum FailureCode {
  /** Not an absolute URL with a host. */
  BAD_URL,
  /** Scheme other than http/https (file:, ftp:, gopher:, data: ...). */
  UNSUPPORTED_SCHEME,
  /** The host resolves to a loopback, private, link-local or otherwise non-public address. */
  BLOCKED_ADDRESS,
  /** The host name does not resolve (retriable: a failing DNS server looks the same). */
  DNS_FAILURE,
  /** TCP connect failed or timed out, or the connection dropped before a response. Retriable. */
  CONNECT_FAILED,
  /** Reading the body stalled past the read timeout, or the whole fetch exceeded its time limit. */
  TIMEOUT,
  /**
   * No response head within the read timeout or the time limit: the host could not be reached
   * (a black-holed route, an unanswered resolver, every address timing out) or accepted the
   * connection and never answered. Not retried at once: it already took the whole limit.
   */
  NO_RESPONSE,
  /** The body is larger than the byte limit. */
  TOO_LARGE,
  /** More redirects than allowed, or a redirect loop. */
  TOO_MANY_REDIRECTS,
  /** A redirect without a usable Location. */
  BAD_REDIRECT,
  /** 404 / 410. */
  NOT_FOUND,
  /** Other 4xx, except 429; retriable for 408 Request Timeout. */
  HTTP_CLIENT_ERROR,
  /** 429 Too Many Requests. Retriable. */
  RATE_LIMITED,
  /** 5xx. Retriable. */
  HTTP_SERVER_ERROR,
  /** TLS handshake or certificate failure. */
  TLS_ERROR,
  /** A 2xx with no body, or another I/O failure; retriable when the connection dropped. */
  IO_ERROR
}
