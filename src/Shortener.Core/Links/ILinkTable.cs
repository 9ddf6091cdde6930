using Shortener.Core.Changes;
namespace Shortener.Core.Links;

/// <summary>
/// The state a link state machine reads and writes, seen inside one atomic apply. Implemented in
/// memory for tests and the simulator, and over a SQLite transaction in storage.
/// </summary>
public interface ILinkTable
{
    Link? Find(string code);

    void Insert(Link link);

    void Update(Link link);

    /// <summary>The first number of the link sequence not yet leased to any allocator.</summary>
    ulong NextSequence { get; set; }

    IdempotencyRecord? FindIdempotency(string scope, string key);

    void PutIdempotency(IdempotencyRecord record);

    /// <summary>Removes idempotency records created before <paramref name="beforeMs"/>; returns how many.</summary>
    int PurgeIdempotency(long beforeMs);

    /// <summary>The cluster document <paramref name="name"/> and its version (<see cref="ClusterDocumentNames"/>); null before its first change.</summary>
    (long Version, string Document)? FindDocument(string name);

    void PutDocument(string name, long version, string document);

    /// <summary>Forgets the document <paramref name="name"/> (nothing when there is none).</summary>
    void RemoveDocument(string name);

    /// <summary>
    /// Forgets the oldest kept changes: a prefix in offset order, through the newest change made
    /// before <paramref name="beforeMs"/> and through all but the newest <paramref name="keep"/>.
    /// Remembers (and returns) the offset it forgot through, which only grows; null when nothing was kept.
    /// </summary>
    ChangeOffset? PurgeChanges(long beforeMs, int keep);
}
