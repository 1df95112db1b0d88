package io.visualsearch.imagefetch;

import java.net.UnknownHostException;

/**
 * Thrown by {@link VettingDnsResolver} when a host resolves to a refused address. An
 * UnknownHostException so the HTTP client treats it as "cannot connect" and never opens a
 * socket; {@link ImageFetcher} recognises it and reports BLOCKED_ADDRESS, catalog-downloader's feed
 * fetch as the feed's own fault.
 */
public final class BlockedAddressException extends UnknownHostException {
  BlockedAddressException(String message) {
    super(message);
  }
}
