package io.visualsearch.imagefetch;

import static org.junit.jupiter.api.Assertions.*;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class AddressPolicyTest {

  private static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByName(literal); // literals only: no DNS
  }

  @Test
  void nonPublicAddressesAreRefused() throws Exception {
    AddressPolicy policy = AddressPolicy.publicOnly();
    for (String address : List.of("127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255",
        "192.168.1.1", "100.64.0.1", "169.254.169.254", "0.0.0.0", "224.0.0.1", "239.255.255.250",
        "255.255.255.255", "198.18.0.1", "::", "::1", "fd00::1", "fc00::1", "fe80::1", "ff02::1",
        "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "2002:0a00:0001::1", "::7f00:1", "2001:db8::1")) {
      assertNotNull(policy.refusal(ip(address)), address + " must be refused");
    }
  }

  @Test
  void publicAddressesPass() throws Exception {
    AddressPolicy policy = AddressPolicy.publicOnly();
    for (String address : List.of("8.8.8.8", "93.184.216.34", "172.32.0.1", "100.128.0.1",
        "2606:4700:4700::1111", "64:ff9b::808:808")) {
      assertNull(policy.refusal(ip(address)), address + " is public");
    }
  }

  @Test
  void allowListAdmitsExactlyItsRanges() throws Exception {
    AddressPolicy policy = AddressPolicy.allowing(List.of("127.0.0.1/32", "10.20.0.0/16", "images.corp.example"));
    assertNull(policy.refusal(ip("127.0.0.1")));
    assertNotNull(policy.refusal(ip("127.0.0.2")));
    assertNull(policy.refusal(ip("10.20.30.40")));
    assertNotNull(policy.refusal(ip("10.21.0.1")));
    assertTrue(policy.isAllowedHost("Images.Corp.Example"));
    assertFalse(policy.isAllowedHost("images.corp.example.evil.test"));
  }

  @Test
  void metadataMessageNamesTheProblem() throws Exception {
    String refusal = AddressPolicy.publicOnly().refusal(ip("169.254.169.254"));
    assertTrue(refusal.contains("link-local"), refusal);
  }

  @Test
  void malformedAllowListEntriesAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> AddressPolicy.allowing(List.of("10.0.0.0/33")));
  }
}
