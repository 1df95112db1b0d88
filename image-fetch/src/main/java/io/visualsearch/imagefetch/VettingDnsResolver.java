package io.visualsearch.imagefetch;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.apache.hc.client5.http.DnsResolver;

/**
 * The only DNS the HTTP client uses: resolves, vets every address, and hands the client exactly
 * the addresses it vetted, so the socket goes where the check looked (no DNS-rebinding window
 * between check and connect). Called for every connection, hence for every redirect hop. A host
 * with any refused address is refused as a whole: mixing a public and a private record is itself
 * an attack pattern.
 */
public final class VettingDnsResolver implements DnsResolver {

  /** Looks a host name up; the JDK's resolver unless a test answers instead. */
  @FunctionalInterface
  public interface Lookup {
    InetAddress[] addresses(String host) throws UnknownHostException;
  }

  private final AddressPolicy policy;
  private final Lookup lookup;

  public VettingDnsResolver(AddressPolicy policy) {
    this(policy, InetAddress::getAllByName);
  }

  public VettingDnsResolver(AddressPolicy policy, Lookup lookup) {
    this.policy = policy;
    this.lookup = lookup;
  }

  @Override
  public InetAddress[] resolve(String host) throws UnknownHostException {
    String bare = bare(host);
    InetAddress[] addresses = lookup.addresses(bare);
    if (policy.isAllowedHost(bare)) {
      return addresses;
    }
    for (InetAddress address : addresses) {
      String refusal = policy.refusal(address);
      if (refusal != null) {
        throw new BlockedAddressException("host " + bare + " resolves to a non-public address: " + refusal);
      }
    }
    return addresses;
  }

  private static String bare(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  @Override
  public String resolveCanonicalHostname(String host) throws UnknownHostException {
    // Only used for SPNEGO/Kerberos, which the fetcher never does; no reverse lookups.
    return host;
  }
}
