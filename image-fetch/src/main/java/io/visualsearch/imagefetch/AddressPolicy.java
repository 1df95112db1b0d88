package io.visualsearch.imagefetch;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The SSRF guard: which resolved addresses an image URL may reach. Refuses loopback, private
 * (RFC 1918, fc00::/7), link-local (169.254/16 including the 169.254.169.254 cloud metadata
 * endpoint, fe80::/10), CGNAT (100.64/10), multicast, unspecified, reserved and documentation
 * ranges, and IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4), which are
 * judged by the IPv4 address inside. An allow-list of CIDRs or exact host names overrides it
 * (for on-premise image hosts, and for the demo and tests on 127.0.0.1).
 */
public final class AddressPolicy {

  private static final List<Cidr> BLOCKED_V4 = parseAll(
      "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
      "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
      "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4");
  private static final List<Cidr> BLOCKED_V6 = parseAll(
      "::/128", "::1/128", "100::/64", "2001::/32", "2001:db8::/32", "fc00::/7", "fe80::/10",
      "fec0::/10", "ff00::/8");

  private final List<Cidr> allowedRanges;
  private final Set<String> allowedHosts;

  private AddressPolicy(List<Cidr> allowedRanges, Set<String> allowedHosts) {
    this.allowedRanges = List.copyOf(allowedRanges);
    this.allowedHosts = Set.copyOf(allowedHosts);
  }

  /** Public internet only. */
  public static AddressPolicy publicOnly() {
    return new AddressPolicy(List.of(), Set.of());
  }

  /**
   * Public internet plus the given exceptions: CIDRs ("127.0.0.1/32", "10.1.0.0/16"), single
   * addresses, or exact host names ("images.corp.example").
   */
  public static AddressPolicy allowing(List<String> exceptions) {
    List<Cidr> ranges = new ArrayList<>();
    List<String> hosts = new ArrayList<>();
    for (String e : exceptions) {
      String s = e.strip();
      if (s.isEmpty()) {
        continue;
      }
      if (Cidr.isLiteral(s.contains("/") ? s.substring(0, s.indexOf('/')) : s)) {
        ranges.add(Cidr.parse(s));
      } else {
        hosts.add(s.toLowerCase(Locale.ROOT));
      }
    }
    return new AddressPolicy(ranges, Set.copyOf(hosts));
  }

  /** Public internet only when {@code exceptions} is empty, else {@link #allowing} them: a setting's value. */
  public static AddressPolicy of(List<String> exceptions) {
    return exceptions.isEmpty() ? publicOnly() : allowing(exceptions);
  }

  /** Whether {@code exceptions} is a list {@link #allowing} takes: a setting's validation. */
  public static boolean isValidExceptions(List<String> exceptions) {
    try {
      allowing(exceptions);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  boolean isAllowedHost(String host) {
    return allowedHosts.contains(host.toLowerCase(Locale.ROOT));
  }

  /** Null when the address may be contacted, else why not (for the retailer's error report). */
  String refusal(InetAddress address) {
    for (Cidr allowed : allowedRanges) {
      if (allowed.contains(address)) {
        return null;
      }
    }
    InetAddress judged = embeddedIpv4(address);
    if (judged != address) {
      String inner = refusal(judged);
      return inner == null ? null : "it embeds " + judged.getHostAddress() + ", and " + inner;
    }
    if (address.isLoopbackAddress()) {
      return address.getHostAddress() + " is a loopback address";
    }
    if (address.isLinkLocalAddress()) {
      return address.getHostAddress() + " is link-local (cloud metadata lives there)";
    }
    if (address.isSiteLocalAddress()) {
      return address.getHostAddress() + " is a private network address";
    }
    if (address.isMulticastAddress()) {
      return address.getHostAddress() + " is a multicast address";
    }
    if (address.isAnyLocalAddress()) {
      return address.getHostAddress() + " is the unspecified address";
    }
    for (Cidr blocked : address instanceof Inet4Address ? BLOCKED_V4 : BLOCKED_V6) {
      if (blocked.contains(address)) {
        return address.getHostAddress() + " is in the non-public range " + blocked;
      }
    }
    return null;
  }

  /** The IPv4 address inside an IPv4-mapped/-compatible, NAT64 or 6to4 IPv6 address, else itself. */
  static InetAddress embeddedIpv4(InetAddress address) {
    if (!(address instanceof Inet6Address)) {
      return address;
    }
    byte[] b = address.getAddress();
    int offset = -1;
    if (allZero(b, 0, 10) && (b[10] & 0xFF) == 0xFF && (b[11] & 0xFF) == 0xFF) {
      offset = 12; // ::ffff:a.b.c.d
    } else if (allZero(b, 0, 12) && !allZero(b, 12, 16) && !(allZero(b, 12, 15) && b[15] == 1)) {
      offset = 12; // ::a.b.c.d (deprecated IPv4-compatible), not :: or ::1
    } else if ((b[0] & 0xFF) == 0x00 && (b[1] & 0xFF) == 0x64 && (b[2] & 0xFF) == 0xFF && (b[3] & 0xFF) == 0x9B
        && allZero(b, 4, 12)) {
      offset = 12; // 64:ff9b::/96 NAT64
    } else if ((b[0] & 0xFF) == 0x20 && (b[1] & 0xFF) == 0x02) {
      offset = 2; // 2002:aabb:ccdd::/48 6to4
    }
    if (offset < 0) {
      return address;
    }
    try {
      return InetAddress.getByAddress(new byte[] {b[offset], b[offset + 1], b[offset + 2], b[offset + 3]});
    } catch (UnknownHostException e) {
      throw new IllegalStateException("four bytes are always an IPv4 address", e);
    }
  }

  private static boolean allZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static List<Cidr> parseAll(String... cidrs) {
    return java.util.Arrays.stream(cidrs).map(Cidr::parse).collect(Collectors.toUnmodifiableList());
  }
}
