namespace Herald.Hub;

/// <summary>
/// One channel's local subscribers. Publishing reads a snapshot without a lock or a copy;
/// subscribing and unsubscribing are O(1) amortized, so 15,000 clients joining one channel cost
/// 15,000 appends rather than 15,000 copies of an ever larger array (O(n²), and large-object-heap
/// garbage that stays in the process's memory).
/// </summary>
/// <remarks>
/// Writers hold the hub shard's lock. An append writes beyond every snapshot's count; a removal
/// only clears its slot (readers skip it — that subscription is stopped anyway); nothing is ever
/// moved within an array a reader may hold. Growth and compaction (once half the slots are
/// cleared) publish a new array, leaving the old one, unchanged but for cleared slots, to readers
/// that took it. So a publication reaches every subscription registered before it was taken
/// and never one twice — no live subscriber can be skipped by a concurrent removal.
/// </remarks>
internal sealed class SubscriberList
{
    private Subscription?[] _items = new Subscription?[4];
    private int _count;
    private int _cleared;

    /// <summary>Live subscriptions.</summary>
    public int Live => _count - _cleared;

    /// <summary>The array and the number of slots to read; slots may be null.</summary>
    public (Subscription?[] Items, int Count) Snapshot => (_items, Volatile.Read(ref _count));

    /// <summary>Under the shard's lock.</summary>
    public void Add(Subscription subscription)
    {
        if (_count == _items.Length)
            Rebuild(Math.Max(4, Live * 2));

        subscription.HubSlot = _count;
        _items[_count] = subscription;
        Volatile.Write(ref _count, _count + 1);
    }

    /// <summary>Under the shard's lock. False when the subscription is not in the list.</summary>
    public bool Remove(Subscription subscription)
    {
        var slot = subscription.HubSlot;
        if (slot < 0 || slot >= _count || !ReferenceEquals(_items[slot], subscription))
            return false;

        _items[slot] = null;
        subscription.HubSlot = -1;
        _cleared++;
        if (_cleared > 16 && _cleared * 2 > _count)
            Rebuild(Math.Max(4, Live * 2));
        return true;
    }

    /// <summary>A fresh array holding the live subscriptions in their order, with room to grow.</summary>
    private void Rebuild(int capacity)
    {
        var items = new Subscription?[capacity];
        var count = 0;
        for (var i = 0; i < _count; i++)
        {
            if (_items[i] is { } subscription)
            {
                subscription.HubSlot = count;
                items[count++] = subscription;
            }
        }

        // Readers holding the old array keep reading it; new snapshots see the new one.
        _items = items;
        _count = count;
        _cleared = 0;
    }
}
