using System.Collections.Concurrent;
using Shortener.Core.Links;

namespace Shortener.Node.Links;

/// <summary>
/// Links by code for the redirect path, so a redirect is a dictionary lookup; and, separately and
/// smaller, codes known not to exist, so a scan of random codes cannot push real links out.
/// Every change to link state passes <see cref="Committed"/> in commit order. A reader that
/// missed loads from the database and fills the entry only if no write touched that code's stripe
/// meanwhile; writers bump the stripe before and after they store (as a seqlock does), and a
/// reader re-checks after its insert and withdraws it if a write slipped in, so a slow reader can
/// never leave behind a value older than a committed write. Past capacity, an arbitrary tenth of
/// the entries is dropped and reloaded on demand.
/// </summary>
public sealed class RedirectCache(int capacity)
{
    private const int Stripes = 1024;
    private static readonly Link Missing = new(string.Empty, string.Empty, 0, 0, null, null, 0, 0, [], null, true);

    private readonly ConcurrentDictionary<string, Link> _links = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Link> _misses = new(StringComparer.Ordinal);
    private readonly long[] _stripeVersions = new long[Stripes];
    private readonly int _missCapacity = Math.Max(16, capacity / 10);
    private int _linkCount;
    private int _missCount;

    public int Count => Volatile.Read(ref _linkCount) + Volatile.Read(ref _missCount);

    /// <summary>True when the cache knows about <paramref name="code"/>; <paramref name="link"/> is null for a known miss.</summary>
    public bool TryGet(string code, out Link? link)
    {
        if (_links.TryGetValue(code, out link))
        {
            return true;
        }

        link = null;
        return _misses.ContainsKey(code);
    }

    /// <summary>Taken before a database read; pass it to <see cref="TryFill"/>.</summary>
    public long Version(string code) => Volatile.Read(ref _stripeVersions[Stripe(code)]);

    /// <summary>Caches what a reader loaded, unless a write to the same stripe committed since <paramref name="version"/>.</summary>
    public void TryFill(string code, Link? link, long version)
    {
        var (map, count, limit) = link is null ? (_misses, 1, _missCapacity) : (_links, 0, capacity);
        if (Version(code) != version)
        {
            return;
        }

        MakeRoom(map, count, limit);
        var value = link ?? Missing;
        if (!map.TryAdd(code, value))
        {
            return;
        }

        Increment(count);
        if (Version(code) != version && map.TryRemove(KeyValuePair.Create(code, value)))
        {
            Decrement(count);
        }
    }

    /// <summary>Called in commit order with each link a committed command produced.</summary>
    public void Committed(Link link)
    {
        ref var stripe = ref _stripeVersions[Stripe(link.Code)];
        Interlocked.Increment(ref stripe);
        if (_misses.TryRemove(link.Code, out _))
        {
            Decrement(1);
        }

        MakeRoom(_links, 0, capacity);
        if (_links.TryAdd(link.Code, link))
        {
            Increment(0);
        }
        else
        {
            _links[link.Code] = link;
        }

        Interlocked.Increment(ref stripe);
    }

    /// <summary>
    /// Forgets everything (after a snapshot replaced a shard's state wholesale). Every stripe moves
    /// first, so a reader that loaded before the clear cannot put back what it read.
    /// </summary>
    public void Clear()
    {
        for (var i = 0; i < Stripes; i++)
        {
            Interlocked.Increment(ref _stripeVersions[i]);
        }

        foreach (var code in _links.Keys)
        {
            if (_links.TryRemove(code, out _))
            {
                Decrement(0);
            }
        }

        foreach (var code in _misses.Keys)
        {
            if (_misses.TryRemove(code, out _))
            {
                Decrement(1);
            }
        }
    }

    private static int Stripe(string code) => (int)((uint)StringComparer.Ordinal.GetHashCode(code) % Stripes);

    private void Increment(int which) => Interlocked.Increment(ref which == 0 ? ref _linkCount : ref _missCount);

    private void Decrement(int which) => Interlocked.Decrement(ref which == 0 ? ref _linkCount : ref _missCount);

    private void MakeRoom(ConcurrentDictionary<string, Link> map, int which, int limit)
    {
        if (Volatile.Read(ref which == 0 ? ref _linkCount : ref _missCount) < limit)
        {
            return;
        }

        var target = Math.Max(1, limit / 10);
        foreach (var key in map.Keys)
        {
            if (target-- <= 0)
            {
                break;
            }

            if (map.TryRemove(key, out _))
            {
                Decrement(which);
            }
        }
    }
}
