using Shortener.Core.Changes;
using System.Text.Json;
using Shortener.Core.Raft;
using Shortener.Core.Replication;

namespace Shortener.Core.Links;

/// <summary>
/// A link shard's state machine in memory: the same commands, duplicate handling and refusals as
/// the SQLite one (a test keeps the two in parity), for the simulator, which runs the replica
/// driver over it. Its snapshot is the whole table as JSON.
/// </summary>
public sealed class InMemoryLinkStateMachine : IReplicatedStateMachine<BatchItemResult>
{
    private InMemoryLinkTable _table = new();

    public InMemoryLinkTable Table => _table;

    public ulong AppliedIndex { get; private set; }

    /// <summary>A copy of the whole state as of now, cheaper than a snapshot image (the simulator keeps one as what survived a power loss).</summary>
    public InMemoryLinkStateMachine Copy() => new() { _table = _table.Copy(), AppliedIndex = AppliedIndex };

    /// <summary>What the data refuses, alike on every replica: the state machine's own checks and malformed commands.</summary>
    public static bool IsRefusal(Exception e) => e is InvalidOperationException or JsonException;

    public IReadOnlyList<BatchItemResult> Apply(IReadOnlyList<ProposedCommand> commands, ulong appliedThrough)
    {
        var (envelopes, ids, entries) = LinkBatch.Decode(commands);

        var results = LinkBatch.Apply(_table, envelopes, ids, IsRefusal, shard: 0, entries);
        AppliedIndex = appliedThrough;
        return results;
    }

    public Func<CapturedSnapshot> PrepareSnapshot()
    {
        var snapshot = new CapturedSnapshot(AppliedIndex, Image());
        return () => snapshot;
    }

    public void Restore(RaftSnapshot snapshot)
    {
        _table = new InMemoryLinkTable();
        if (snapshot.Data.Length > 0)
        {
            var image = JsonSerializer.Deserialize<TableImage>(snapshot.Data, LinkJson.Options) ?? throw new InvalidDataException("empty link table snapshot");
            _table.Load(
                image.Links,
                image.Idempotency,
                image.Proposals.Select(p => (new ProposalId(p.Proposer, p.Sequence), p.At, p.Result)),
                image.NextSequence,
                image.Documents.Select(d => KeyValuePair.Create(d.Name, (d.Version, d.Document))),
                image.Changes,
                image.ChangesPurgedThrough);
        }

        AppliedIndex = snapshot.Metadata.Index;
    }

    private byte[] Image() => JsonSerializer.SerializeToUtf8Bytes(
        new TableImage(
            [.. _table.Links.Values.OrderBy(l => l.Code, StringComparer.Ordinal)],
            [.. _table.Idempotency.Values.OrderBy(r => r.Scope, StringComparer.Ordinal).ThenBy(r => r.Key, StringComparer.Ordinal)],
            [.. _table.Proposals.OrderBy(p => p.Key.Proposer).ThenBy(p => p.Key.Sequence).Select(p => new ProposalImage(p.Key.Proposer, p.Key.Sequence, p.Value.At, p.Value.Result))],
            _table.NextSequence,
            [.. _table.Documents.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => new DocumentImage(d.Key, d.Value.Version, d.Value.Document))],
            [.. _table.Changes],
            _table.ChangesPurgedThrough),
        LinkJson.Options);

    private sealed record TableImage(
        IReadOnlyList<Link> Links,
        IReadOnlyList<IdempotencyRecord> Idempotency,
        IReadOnlyList<ProposalImage> Proposals,
        ulong NextSequence,
        IReadOnlyList<DocumentImage> Documents,
        IReadOnlyList<LinkChange> Changes,
        ChangeOffset? ChangesPurgedThrough);

    private sealed record DocumentImage(string Name, long Version, string Document);

    private sealed record ProposalImage(ulong Proposer, ulong Sequence, long At, CommandResult? Result);
}
