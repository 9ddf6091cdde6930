using System.Text;
using Shortener.Core.Raft;
using Shortener.Core.Replication;

namespace Shortener.Tests;

/// <summary>
/// A state machine that keeps the commands it applied, in order, as entries; an index it passed
/// without a command (the leader's empty entry, a membership change) shows as an entry of term 0
/// without data. A snapshot is their data joined.
/// </summary>
internal sealed class RecordingStateMachine : IReplicatedStateMachine<string>
{
    private readonly Dictionary<ProposalId, string> _results = [];

    public List<RaftEntry> Applied { get; } = [];

    /// <summary>Copies of a proposal the log held more than once, applied once (their first result returned).</summary>
    public int Duplicates { get; private set; }

    /// <summary>When set, the next apply throws it (a failed disk).</summary>
    public Exception? FailNextApply { get; set; }

    public ulong AppliedIndex { get; private set; }

    public IReadOnlyList<string> Apply(IReadOnlyList<ProposedCommand> commands, ulong appliedThrough)
    {
        if (FailNextApply is { } failure)
        {
            FailNextApply = null;
            throw failure;
        }

        var results = new List<string>(commands.Count);
        foreach (var c in commands)
        {
            Skipped(c.Index - 1);
            if (_results.TryGetValue(c.Id, out var first))
            {
                Duplicates++;
                results.Add(first);
                continue;
            }

            Applied.Add(new RaftEntry(c.Term, c.Index, EntryType.Normal, c.Payload.ToArray()));
            var result = Encoding.UTF8.GetString(c.Payload.Span);
            _results[c.Id] = result;
            results.Add(result);
        }

        Skipped(appliedThrough);
        AppliedIndex = appliedThrough;
        return results;
    }

    private void Skipped(ulong through)
    {
        for (var i = Math.Max(AppliedIndex, Applied.Count == 0 ? 0 : Applied[^1].Index) + 1; i <= through; i++)
        {
            Applied.Add(new RaftEntry(0, i, EntryType.Normal, RaftEntry.NoData));
        }
    }

    public Func<CapturedSnapshot> PrepareSnapshot()
    {
        var snapshot = new CapturedSnapshot(AppliedIndex, Encoding.UTF8.GetBytes(string.Join(",", Applied.Select(e => Encoding.UTF8.GetString(e.Data)))));
        return () => snapshot;
    }

    public void Restore(RaftSnapshot snapshot)
    {
        Applied.Clear();
        _results.Clear();
        Applied.Add(new RaftEntry(snapshot.Metadata.Term, snapshot.Metadata.Index, EntryType.Normal, snapshot.Data));
        AppliedIndex = snapshot.Metadata.Index;
    }
}
