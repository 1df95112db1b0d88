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

  /** A host the operator did not list is held to the policy on every answer, its first one included. */
  @Test
  void aHostNotListedIsRefusedWhenItsDnsPointsInsideEvenAfterAPublicAnswer() throws Exception {
    VettingDnsResolver resolver = new VettingDnsResolver(AddressPolicy.publicOnly(),
        answering("93.184.216.34", "169.254.169.254", "10.1.2.3"));
    assertEquals(InetAddress.getByName("93.184.216.34"), resolver.resolve("feeds.retailer.example")[0]);
    BlockedAddressException e = assertThrows(BlockedAddressException.class,
        () -> resolver.resolve("FEEDS.retailer.example"));
    assertTrue(e.getMessage().contains("169.254.169.254"), e.getMessage());
    assertThrows(BlockedAddressException.class, () -> resolver.resolve("feeds.retailer.example"));
  }

  @Test
  void anAllowListedRangeIsReachableAndNoOtherNonPublicAddress() throws Exception {
    VettingDnsResolver resolver = new VettingDnsResolver(AddressPolicy.allowing(List.of("10.1.0.0/16")),
        answering("10.1.2.3", "10.9.9.9"));
    assertEquals(InetAddress.getByName("10.1.2.3"), resolver.resolve("feeds.corp.example")[0]);
    assertThrows(BlockedAddressException.class, () -> resolver.resolve("feeds.corp.example"));
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
