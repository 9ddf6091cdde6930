namespace Shortener.Core.Clicks;

/// <summary>What a <see cref="ClickMessage"/> asks or answers. Each request has its reply; replies carry the request's <see cref="ClickMessage.Op"/>.</summary>
public enum ClickMessageType : byte
{
    /// <summary>Store these clicks (as a replica, or as a hint for <see cref="ClickMessage.HintFor"/>) and merge these sealed days (a repair).</summary>
    Write = 1,
    WriteAck = 2,

    /// <summary>A link's stats and the fingerprint of the clicks behind them.</summary>
    Read = 3,
    ReadReply = 4,

    /// <summary>A link's open clicks and sealed days themselves (a read whose replicas disagreed).</summary>
    ReadEvents = 5,
    ReadEventsReply = 6,

    /// <summary>Anti-entropy: the hashes of some nodes of one level of a Merkle tree of a ring range (of its daily counters, or of the clicks of some of them).</summary>
    MerkleLevel = 7,
    MerkleLevelReply = 8,

    /// <summary>Anti-entropy: the (key hash, value hash) digests under differing leaves.</summary>
    MerkleLeaves = 9,
    MerkleLeavesReply = 10,

    /// <summary>Anti-entropy: the clicks of some daily counters of a ring range with these id hashes.</summary>
    Fetch = 11,
    FetchReply = 12,

    /// <summary>Per ring range and per link totals (the cluster summary).</summary>
    Summary = 13,
    SummaryReply = 14,

    /// <summary>Anti-entropy: the records of some sealed days of a ring range.</summary>
    FetchSealed = 15,
    FetchSealedReply = 16,
}
