using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Herald.Webhooks.Outbound;

/// <summary>
/// Which addresses a webhook may be delivered to: public unicast only. Everything in the IANA
/// special-purpose registries (RFC 6890 and successors) that is not globally reachable is refused —
/// loopback, private, CGNAT, link-local, multicast, broadcast, documentation, benchmarking and
/// reserved space — and IPv6 forms that embed an IPv4 address (mapped, NAT64, 6to4) are judged by
/// that address. IPv6 outside 2000::/3 (the only global unicast allocation) is refused whole.
/// </summary>
internal static class AddressRanges
{
    private static readonly (uint Network, int Bits, string Reason)[] s_ipv4 =
    [
        (0x00000000, 8, "\"this network\" (0.0.0.0/8)"),
        (0x0A000000, 8, "private (10.0.0.0/8)"),
        (0x64400000, 10, "shared address space, CGNAT (100.64.0.0/10)"),
        (0x7F000000, 8, "loopback (127.0.0.0/8)"),
        (0xA9FE0000, 16, "link-local (169.254.0.0/16)"),
        (0xAC100000, 12, "private (172.16.0.0/12)"),
        (0xC0000000, 24, "IETF protocol assignments (192.0.0.0/24)"),
        (0xC0000200, 24, "documentation (192.0.2.0/24)"),
        (0xC0586300, 24, "6to4 relay anycast (192.88.99.0/24)"),
        (0xC0A80000, 16, "private (192.168.0.0/16)"),
        (0xC6120000, 15, "benchmarking (198.18.0.0/15)"),
        (0xC6336400, 24, "documentation (198.51.100.0/24)"),
        (0xCB007100, 24, "documentation (203.0.113.0/24)"),
        (0xE0000000, 4, "multicast (224.0.0.0/4)"),
        (0xFFFFFFFF, 32, "broadcast (255.255.255.255)"),
        (0xF0000000, 4, "reserved (240.0.0.0/4)"),
    ];

    /// <summary>Null when <paramref name="address"/> is public unicast; otherwise which kind of address it is.</summary>
    public static string? Classify(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> v4 = stackalloc byte[4];
            address.TryWriteBytes(v4, out _);
            return ClassifyV4(BinaryPrimitives.ReadUInt32BigEndian(v4));
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return "not an IP address";

        Span<byte> v6 = stackalloc byte[16];
        address.TryWriteBytes(v6, out _);
        return ClassifyV6(v6);
    }

    private static string? ClassifyV4(uint address)
    {
        foreach (var (network, bits, reason) in s_ipv4)
        {
            var mask = bits == 0 ? 0u : uint.MaxValue << (32 - bits);
            if ((address & mask) == network)
                return reason;
        }

        return null;
    }

    private static string? ClassifyV6(ReadOnlySpan<byte> a)
    {
        var high = BinaryPrimitives.ReadUInt64BigEndian(a);
        var low = BinaryPrimitives.ReadUInt64BigEndian(a[8..]);

        if (high == 0 && low == 0)
            return "unspecified (::)";
        if (high == 0 && low == 1)
            return "loopback (::1)";
        // ::ffff:0:0/96, IPv4-mapped: the IPv4 address decides.
        if (high == 0 && (low >> 32) == 0xFFFF)
            return Embedded(ClassifyV4((uint)low), "IPv4-mapped");
        // 64:ff9b::/96, the NAT64 well-known prefix (RFC 6052): the translator would connect to the embedded IPv4 address.
        if (high == 0x0064_FF9B_0000_0000UL && (low >> 32) == 0)
            return Embedded(ClassifyV4((uint)low), "NAT64");
        // 64:ff9b:1::/48, local-use NAT64 (RFC 8215): the network's own translator.
        if ((high >> 16) == 0x0064_FF9B_0001UL)
            return "local-use NAT64 (64:ff9b:1::/48)";
        // 2002::/16, 6to4: the IPv4 address sits in bits 16 to 47.
        if ((high >> 48) == 0x2002)
            return Embedded(ClassifyV4((uint)(high >> 16)), "6to4");
        // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 site-local, ff00::/8 multicast.
        if ((a[0] & 0xFE) == 0xFC)
            return "unique local (fc00::/7)";
        if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80)
            return "link-local (fe80::/10)";
        if (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0)
            return "site-local (fec0::/10)";
        if (a[0] == 0xFF)
            return "multicast (ff00::/8)";
        // Everything else outside 2000::/3 is unallocated or special: ::/8 (including the deprecated
        // IPv4-compatible ::/96), 100::/64 discard-only, 5f00::/16 SRv6 ...
        if ((a[0] & 0xE0) != 0x20)
            return "not global unicast (outside 2000::/3)";
        // 2001:db8::/32 and 3fff::/20 documentation, then 2001::/23 IETF protocol assignments (Teredo, benchmarking, ORCHID ...).
        if ((high >> 32) == 0x2001_0DB8UL)
            return "documentation (2001:db8::/32)";
        if ((high >> 44) == 0x3FFF_0UL)
            return "documentation (3fff::/20)";
        if ((high >> 41) == (0x2001_0000UL >> 9))
            return "IETF protocol assignments (2001::/23)";
        return null;
    }

    private static string? Embedded(string? ipv4Reason, string form) => ipv4Reason is null ? null : $"{form} {ipv4Reason}";
}
