namespace Shortener.Core.Clicks;

/// <summary>
/// One message of the click store's protocol between nodes (<see cref="ClickNode"/>). One shape for
/// every type; each type uses the fields its documentation names. Encoded by
/// <see cref="ClickMessageCodec"/>.
/// </summary>
public sealed record ClickMessage(ClickMessageType Type, ulong From, ulong To, ulong Op)
{
    /// <summary>Replies: whether the request was served.</summary>
    public bool Ok { get; init; } = true;

    /// <summary>Write: the owner this copy is a hint for (0 when it is the receiver's own).</summary>
    public ulong HintFor { get; init; }

    /// <summary>Write, ReadEventsReply, FetchReply.</summary>
    public IReadOnlyList<ClickEvent> Events { get; init; } = [];

    /// <summary>Write (a repair), ReadEventsReply, FetchSealedReply: sealed days, each with its versions.</summary>
    public IReadOnlyList<SealedDayRecord> Sealed { get; init; } = [];

    /// <summary>Read, ReadEvents.</summary>
    public string Code { get; init; } = "";

    /// <summary>Read, ReadEvents, Summary: the days asked for, inclusive.</summary>
    public int FromDay { get; init; }

    public int ToDay { get; init; }

    /// <summary>ReadReply: the replica's clicks of the link in the days asked, their fingerprint, and its stats.</summary>
    public long Count { get; init; }

    public ulong Fingerprint { get; init; }

    public ClickStats? Stats { get; init; }

    /// <summary>MerkleLevel: the ring range [from, to) and the tree's depth.</summary>
    public ulong RangeFrom { get; init; }

    public ulong RangeTo { get; init; }

    public int Depth { get; init; }

    /// <summary>MerkleLevel: the level asked for; MerkleLevel, MerkleLeaves: node indexes.</summary>
    public int Level { get; init; }

    public IReadOnlyList<int> Indexes { get; init; } = [];

    /// <summary>MerkleLevelReply: node hashes, in the order asked; Fetch: id hashes.</summary>
    public IReadOnlyList<ulong> Hashes { get; init; } = [];

    /// <summary>MerkleLeavesReply: (key hash, value hash) of the records under the leaves asked.</summary>
    public IReadOnlyList<(ulong KeyHash, ulong ValueHash)> Digests { get; init; } = [];

    /// <summary>
    /// MerkleLevel, Fetch: the daily counters (<see cref="ClickHashes.DayKey"/>) whose clicks the
    /// tree is of (the second tree of an exchange); empty for the first tree, of the range's daily
    /// counters. FetchSealed: the sealed days asked for.
    /// </summary>
    public IReadOnlyList<ulong> Days { get; init; } = [];

    /// <summary>SummaryReply: totals per ring range (keyed by the range's start) and per link.</summary>
    public IReadOnlyList<(ulong RangeFrom, long Human, long Bots)> RangeTotals { get; init; } = [];

    public IReadOnlyList<ClickTotals> Links { get; init; } = [];
}
