package io.visualsearch.imagefetch;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 or IPv6 prefix such as 10.0.0.0/8 or fc00::/7. */
record Cidr(byte[] network, int prefixLength, String text) {

  /** Parses "a.b.c.d/n", "x::y/n" or a bare address (a single-host prefix); never touches DNS. */
  static Cidr parse(String text) {
    String s = text.strip();
    int slash = s.indexOf('/');
    String address = slash < 0 ? s : s.substring(0, slash);
    if (!isLiteral(address)) {
      throw new IllegalArgumentException("not an IP address or CIDR: " + text);
    }
    byte[] bytes;
    try {
      bytes = InetAddress.getByName(address).getAddress(); // a literal: parsed, not resolved
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address or CIDR: " + text, e);
    }
    int length = slash < 0 ? bytes.length * 8 : Integer.parseInt(s.substring(slash + 1));
    if (length < 0 || length > bytes.length * 8) {
      throw new IllegalArgumentException("bad prefix length in " + text);
    }
    return new Cidr(bytes, length, s);
  }

  /** True for IPv4 dotted quads and anything with a colon (IPv6); host names are never literals. */
  static boolean isLiteral(String host) {
    String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    return h.contains(":") || h.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
  }

  boolean contains(InetAddress address) {
    byte[] candidate = address.getAddress();
    if (candidate.length != network.length) {
      return false;
    }
    int full = prefixLength / 8;
    for (int i = 0; i < full; i++) {
      if (candidate[i] != network[i]) {
        return false;
      }
    }
    int rest = prefixLength % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xFF << (8 - rest)) & 0xFF;
    return (candidate[full] & mask) == (network[full] & mask);
  }

  @Override
  public String toString() {
    return text;
  }
}
