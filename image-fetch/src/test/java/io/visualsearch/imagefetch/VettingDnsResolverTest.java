package io.visualsearch.imagefetch;

import static org.junit.jupiter.api.Assertions.*;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

class VettingDnsResolverTest {

  /** Gives the queued answers in turn, as a host's DNS with a zero TTL may. */
  private static VettingDnsResolver.Lookup answering(String... literals) throws UnknownHostException {
    Deque<InetAddress> answers = new ArrayDeque<>();
    for (String literal : literals) {
      answers.add(InetAddress.getByName(literal)); // literals only: no DNS
    }
    return host -> new InetAddress[] {answers.remove()};
  }

  @Test
  void aTrustedHostCannotRebindToAnotherNonPublicAddressAfterItsFirstAnswer() throws Exception {
    VettingDnsResolver resolver = VettingDnsResolver.trustingFirstAnswerOf("feeds.retailer.example",
        AddressPolicy.publicOnly(), answering("93.184.216.34", "169.254.169.254"));
    assertEquals(InetAddress.getByName("93.184.216.34"), resolver.resolve("feeds.retailer.example")[0]);
    BlockedAddressException e = assertThrows(BlockedAddressException.class,
        () -> resolver.resolve("FEEDS.retailer.example"));
    assertTrue(e.getMessage().contains("169.254.169.254"), e.getMessage());
  }

  @Test
  void aTrustedHostsFirstAnswerMayBeInternalAndStaysReachable() throws Exception {
    VettingDnsResolver resolver = VettingDnsResolver.trustingFirstAnswerOf("feeds.corp.example",
        AddressPolicy.publicOnly(), answering("10.1.2.3", "10.1.2.3", "93.184.216.34", "10.9.9.9"));
    for (int i = 0; i < 3; i++) {
      resolver.resolve("feeds.corp.example");
    }
    assertThrows(BlockedAddressException.class, () -> resolver.resolve("feeds.corp.example"));
  }

  @Test
  void anotherHostGetsNoTrust() throws Exception {
    VettingDnsResolver resolver = VettingDnsResolver.trustingFirstAnswerOf("feeds.corp.example",
        AddressPolicy.publicOnly(), answering("10.1.2.3"));
    assertThrows(BlockedAddressException.class, () -> resolver.resolve("other.corp.example"));
  }

  @Test
  void anAllowListedNameIsStillTrustedOnEveryAnswer() throws Exception {
    // Image hosts the operator lists by name: a long-lived fetcher follows their DNS changes.
    VettingDnsResolver resolver = new VettingDnsResolver(AddressPolicy.allowing(List.of("images.corp.example")),
        answering("10.1.2.3", "10.4.5.6"));
    resolver.resolve("images.corp.example");
    assertEquals(InetAddress.getByName("10.4.5.6"), resolver.resolve("images.corp.example")[0]);
  }
}
