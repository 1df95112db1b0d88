package io.visualsearch.imagefetch;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
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
  /** The host whose first answer is trusted, lower case; null when none is. */
  private final String trustedHost;
  /** That first answer, once given. */
  private List<InetAddress> trusted;

  public VettingDnsResolver(AddressPolicy policy) {
    this(policy, InetAddress::getAllByName, null);
  }

  public VettingDnsResolver(AddressPolicy policy, Lookup lookup) {
    this(policy, lookup, null);
  }

  private VettingDnsResolver(AddressPolicy policy, Lookup lookup, String trustedHost) {
    this.policy = policy;
    this.lookup = lookup;
    this.trustedHost = trustedHost == null ? null : bare(trustedHost).toLowerCase(Locale.ROOT);
  }

  /**
   * For one download from a host the operator configured, which may be internal: the addresses
   * {@code host} resolves to the first time are contacted as they are; any later answer for it
   * (a new connection, a redirect back to it) must be those addresses or pass {@code policy}.
   * Trusting the name instead let the host's DNS, after a same-host redirect, send the download
   * to a private or cloud-metadata address (DNS rebinding). Use one instance per download.
   */
  public static VettingDnsResolver trustingFirstAnswerOf(String host, AddressPolicy policy, Lookup lookup) {
    return new VettingDnsResolver(policy, lookup, host);
  }

  @Override
  public InetAddress[] resolve(String host) throws UnknownHostException {
    String bare = bare(host);
    InetAddress[] addresses = lookup.addresses(bare);
    if (policy.isAllowedHost(bare)) {
      return addresses;
    }
    List<InetAddress> firstAnswer = bare.toLowerCase(Locale.ROOT).equals(trustedHost) ? trust(addresses) : List.of();
    for (InetAddress address : addresses) {
      String refusal = firstAnswer.contains(address) ? null : policy.refusal(address);
      if (refusal != null) {
        throw new BlockedAddressException("host " + bare + " resolves to a non-public address: " + refusal);
      }
    }
    return addresses;
  }

  /** The trusted host's first answer: these addresses, when this is its first resolution. */
  private synchronized List<InetAddress> trust(InetAddress[] addresses) {
    if (trusted == null) {
      trusted = List.of(addresses);
    }
    return trusted;
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
