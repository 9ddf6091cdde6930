using System.Collections.Concurrent;
using Shortener.Core.Links;

namespace Shortener.Node.Links;

/// <summary>
/// Links by code for the redirect path, so a redirect is a dictionary lookup. It remembers misses
/// too (a code known not to exist), because every change to link state passes
/// <see cref="Committed"/> in commit order. A reader that missed loads from the database and
/// fills the entry only if no write touched that code's stripe meanwhile, so a slow reader can
/// never put back a value older than a committed write. Bounded: past capacity, an arbitrary tenth
/// of the entries is dropped and reloaded on demand.
/// </summary>
public sealed class RedirectCache(int capacity)
{
    private const int Stripes = 1024;
    private static readonly Link Missing = new(string.Empty, string.Empty, 0, 0, null, null, 0, 0, [], null, true);

    private readonly ConcurrentDictionary<string, Link> _entries = new(StringComparer.Ordinal);
    private readonly long[] _stripeVersions = new long[Stripes];

    public int Count => _entries.Count;

    /// <summary>True when the cache knows about <paramref name="code"/>; <paramref name="link"/> is null for a known miss.</summary>
    public bool TryGet(string code, out Link? link)
    {
        if (_entries.TryGetValue(code, out var entry))
        {
            link = ReferenceEquals(entry, Missing) ? null : entry;
            return true;
        }

        link = null;
        return false;
    }

    /// <summary>Taken before a database read; pass it to <see cref="TryFill"/>.</summary>
    public long Version(string code) => Volatile.Read(ref _stripeVersions[Stripe(code)]);

    /// <summary>Caches what a reader loaded, unless a write to the same stripe committed since <paramref name="version"/>.</summary>
    public void TryFill(string code, Link? link, long version)
    {
        MakeRoom();
        if (Volatile.Read(ref _stripeVersions[Stripe(code)]) == version)
        {
            _entries.TryAdd(code, link ?? Missing);
        }
    }

    /// <summary>Called in commit order with each link a committed command produced.</summary>
    public void Committed(Link link)
    {
        MakeRoom();
        _entries[link.Code] = link;
        Interlocked.Increment(ref _stripeVersions[Stripe(link.Code)]);
    }

    private static int Stripe(string code) => (int)((uint)StringComparer.Ordinal.GetHashCode(code) % Stripes);

    private void MakeRoom()
    {
        if (_entries.Count < capacity)
        {
            return;
        }

        var target = Math.Max(1, capacity / 10);
        foreach (var key in _entries.Keys)
        {
            if (target-- <= 0)
            {
                break;
            }

            _entries.TryRemove(key, out _);
        }
    }
}
