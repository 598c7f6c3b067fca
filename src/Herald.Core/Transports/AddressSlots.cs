using System.Net;

namespace Herald.Transports;

/// <summary>
/// Slots counted on this node and per client address, each against its cap: what held long polls
/// and open connections are limited by. Per-address counts live in 16 lock stripes, so concurrent
/// clients rarely contend; an address's entry goes when its last slot does.
/// </summary>
internal sealed class AddressSlots
{
    private readonly Stripe[] _stripes = new Stripe[16];
    private int _total;

    public AddressSlots()
    {
        for (var i = 0; i < _stripes.Length; i++)
            _stripes[i] = new Stripe();
    }

    /// <summary>Slots held on this node now.</summary>
    public int Total => Volatile.Read(ref _total);

    /// <summary>Takes a slot for <paramref name="key"/> (an address as the caller counts it); false, with nothing taken, when a cap is reached.</summary>
    /// <param name="limit">Which cap refused, when false: <c>ip</c> or <c>node</c>.</param>
    public bool TryAcquire(IPAddress key, int nodeCap, int addressCap, out string limit)
    {
        if (Interlocked.Increment(ref _total) > nodeCap)
        {
            Interlocked.Decrement(ref _total);
            limit = "node";
            return false;
        }

        var stripe = StripeFor(key);
        lock (stripe.Lock)
        {
            var count = stripe.Counts.GetValueOrDefault(key);
            if (count < addressCap)
            {
                stripe.Counts[key] = count + 1;
                limit = string.Empty;
                return true;
            }
        }

        Interlocked.Decrement(ref _total);
        limit = "ip";
        return false;
    }

    /// <summary>Gives back a slot taken by <see cref="TryAcquire"/> for the same key.</summary>
    public void Release(IPAddress key)
    {
        var stripe = StripeFor(key);
        lock (stripe.Lock)
        {
            if (stripe.Counts.TryGetValue(key, out var count))
            {
                if (count <= 1)
                    stripe.Counts.Remove(key);
                else
                    stripe.Counts[key] = count - 1;
            }
        }

        Interlocked.Decrement(ref _total);
    }

    /// <summary>Slots one key holds (for tests and diagnostics).</summary>
    public int CountOf(IPAddress key)
    {
        var stripe = StripeFor(key);
        lock (stripe.Lock)
            return stripe.Counts.GetValueOrDefault(key);
    }

    private Stripe StripeFor(IPAddress key) => _stripes[(key.GetHashCode() & int.MaxValue) % _stripes.Length];

    private sealed class Stripe
    {
        public readonly Lock Lock = new();
        public readonly Dictionary<IPAddress, int> Counts = [];
    }
}
