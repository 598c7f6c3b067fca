using System.Net;
using Herald.Webhooks.Outbound;

namespace Herald.Tests.Webhooks;

/// <summary>The SSRF guard's address classifier, at the edges of every range it refuses.</summary>
public sealed class AddressRangesTests
{
    [Theory]
    // Each refused IPv4 range: its first and last address.
    [InlineData("0.0.0.0")]
    [InlineData("0.255.255.255")]
    [InlineData("10.0.0.0")]
    [InlineData("10.255.255.255")]
    [InlineData("100.64.0.0")]
    [InlineData("100.127.255.255")]
    [InlineData("127.0.0.0")]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.255.255")]
    [InlineData("169.254.0.0")]
    [InlineData("169.254.169.254")]
    [InlineData("169.254.255.255")]
    [InlineData("172.16.0.0")]
    [InlineData("172.31.255.255")]
    [InlineData("192.0.0.0")]
    [InlineData("192.0.0.255")]
    [InlineData("192.0.2.0")]
    [InlineData("192.0.2.255")]
    [InlineData("192.88.99.0")]
    [InlineData("192.88.99.255")]
    [InlineData("192.168.0.0")]
    [InlineData("192.168.255.255")]
    [InlineData("198.18.0.0")]
    [InlineData("198.19.255.255")]
    [InlineData("198.51.100.0")]
    [InlineData("198.51.100.255")]
    [InlineData("203.0.113.0")]
    [InlineData("203.0.113.255")]
    [InlineData("224.0.0.0")]
    [InlineData("239.255.255.255")]
    [InlineData("240.0.0.0")]
    [InlineData("255.255.255.254")]
    [InlineData("255.255.255.255")]
    // IPv6: loopback, unspecified, the IPv4 forms of refused addresses, and the refused ranges' edges.
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("::2")]
    [InlineData("::127.0.0.1")]
    [InlineData("::8.8.8.8")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:10.1.2.3")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("64:ff9b::7f00:1")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("64:ff9b:1::")]
    [InlineData("64:ff9b:1:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("2002:7f00:1::")]
    [InlineData("2002:c0a8:101::1")]
    [InlineData("100::")]
    [InlineData("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("2001::")]
    [InlineData("2001:0:4136:e378::1")]
    [InlineData("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("2001:db8::")]
    [InlineData("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("3fff::")]
    [InlineData("3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("4000::")]
    [InlineData("5f00::1")]
    [InlineData("fc00::")]
    [InlineData("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("fe80::")]
    [InlineData("fe80::1%2")]
    [InlineData("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("fec0::")]
    [InlineData("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("ff02::1")]
    [InlineData("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    public void Refuses_non_public_addresses(string address) =>
        Assert.NotNull(AddressRanges.Classify(IPAddress.Parse(address)));

    [Theory]
    // The public neighbours of the refused IPv4 ranges.
    [InlineData("1.0.0.0")]
    [InlineData("8.8.8.8")]
    [InlineData("9.255.255.255")]
    [InlineData("11.0.0.0")]
    [InlineData("100.63.255.255")]
    [InlineData("100.128.0.0")]
    [InlineData("126.255.255.255")]
    [InlineData("128.0.0.0")]
    [InlineData("169.253.255.255")]
    [InlineData("169.255.0.0")]
    [InlineData("172.15.255.255")]
    [InlineData("172.32.0.0")]
    [InlineData("191.255.255.255")]
    [InlineData("192.0.1.0")]
    [InlineData("192.0.3.0")]
    [InlineData("192.88.98.255")]
    [InlineData("192.88.100.0")]
    [InlineData("192.167.255.255")]
    [InlineData("192.169.0.0")]
    [InlineData("198.17.255.255")]
    [InlineData("198.20.0.0")]
    [InlineData("198.51.99.255")]
    [InlineData("198.51.101.0")]
    [InlineData("203.0.112.255")]
    [InlineData("203.0.114.0")]
    [InlineData("223.255.255.255")]
    // IPv6 global unicast, and IPv4 forms of public addresses.
    [InlineData("2000::")]
    [InlineData("2001:200::")]
    [InlineData("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("2001:db9::")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("2a00:1450:4001:80b::200e")]
    [InlineData("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("3fff:1000::")]
    [InlineData("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("64:ff9b::808:808")]
    [InlineData("2002:808:808::1")]
    public void Allows_public_unicast_addresses(string address) =>
        Assert.Null(AddressRanges.Classify(IPAddress.Parse(address)));

    [Fact]
    public void Names_the_kind_of_address_it_refuses()
    {
        Assert.Contains("loopback", AddressRanges.Classify(IPAddress.Loopback), StringComparison.Ordinal);
        Assert.Contains("link-local", AddressRanges.Classify(IPAddress.Parse("169.254.169.254")), StringComparison.Ordinal);
        Assert.Contains("IPv4-mapped loopback", AddressRanges.Classify(IPAddress.Parse("::ffff:127.0.0.1")), StringComparison.Ordinal);
        Assert.Contains("NAT64 private", AddressRanges.Classify(IPAddress.Parse("64:ff9b::a00:1")), StringComparison.Ordinal);
        Assert.Contains("broadcast", AddressRanges.Classify(IPAddress.Broadcast), StringComparison.Ordinal);
        Assert.Contains("unique local", AddressRanges.Classify(IPAddress.Parse("fd12::1")), StringComparison.Ordinal);
        Assert.Contains("CGNAT", AddressRanges.Classify(IPAddress.Parse("100.64.1.1")), StringComparison.Ordinal);
    }
}
