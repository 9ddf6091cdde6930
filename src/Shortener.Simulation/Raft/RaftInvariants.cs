using Shortener.Core.Raft;
using Shortener.Core.Replication;

namespace Shortener.Simulation.Raft;

/// <summary>
/// Raft's safety properties, checked while the simulation runs: election safety (one leader per
/// term), state machine safety (every replica applies the same entry at an index), leader
/// completeness (an entry committed in term T is in the log of every leader of a term after T),
/// and, at the end, log matching (logs that agree on an entry's term agree on everything before it).
/// Violations found elsewhere (a replica that stopped or cannot restart, a request left
/// unanswered) are recorded here too.
/// </summary>
public sealed class RaftInvariants(SimScheduler scheduler)
{
    private readonly Dictionary<ulong, ulong> _leaderOfTerm = [];
    private readonly Dictionary<ulong, (ulong Term, int Hash, ulong Node)> _applied = [];
    private readonly Dictionary<ulong, (ulong EntryTerm, ulong CommitTerm)> _committed = [];

    public List<string> Violations { get; } = [];

    public int Elections => _leaderOfTerm.Count;

    public void Leader(ulong term, ulong node, RaftNode raft)
    {
        if (_leaderOfTerm.TryGetValue(term, out var other))
        {
            if (other != node)
            {
                Fail($"election safety: nodes {other} and {node} both led term {term}");
            }

            return;
        }

        _leaderOfTerm[term] = node;

        // Leader completeness: every entry committed in an earlier term must be in the new leader's log.
        foreach (var (index, committed) in _committed)
        {
            if (committed.CommitTerm >= term || index < raft.FirstIndex)
            {
                continue;
            }

            var have = raft.TermAt(index);
            if (have != committed.EntryTerm)
            {
                Fail($"leader completeness: leader {node} of term {term} has {(have is null ? "no entry" : $"term {have}")} at {index}, but an entry of term {committed.EntryTerm} was committed there in term {committed.CommitTerm}");
                return;
            }
        }
    }

    /// <summary>The leader of <paramref name="term"/> moved its commit index from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public void Committed(ulong term, ulong from, ulong to, RaftNode raft)
    {
        for (var i = Math.Max(from + 1, raft.FirstIndex); i <= to; i++)
        {
            if (raft.TermAt(i) is not { } entryTerm)
            {
                continue;
            }

            if (_committed.TryGetValue(i, out var earlier))
            {
                if (earlier.EntryTerm != entryTerm)
                {
                    Fail($"commit safety: index {i} was committed with term {earlier.EntryTerm} in term {earlier.CommitTerm}, and again with term {entryTerm} in term {term}");
                }

                continue;
            }

            _committed[i] = (entryTerm, term);
        }
    }

    /// <summary>State machine safety: every replica that applies a command at an index applies the same one.</summary>
    public void Applied(ulong node, ProposedCommand command)
    {
        var hash = HashData(command.Payload.Span);
        if (_applied.TryGetValue(command.Index, out var seen))
        {
            if (seen.Term != command.Term || seen.Hash != hash)
            {
                Fail($"state machine safety: node {seen.Node} applied term {seen.Term} at {command.Index}, node {node} applied term {command.Term}");
            }

            return;
        }

        _applied[command.Index] = (command.Term, hash, node);
    }

    /// <summary>Log matching over the durable logs of all nodes.</summary>
    public void CheckLogs(IReadOnlyList<(ulong Node, MemoryRaftStorage Storage)> logs)
    {
        for (var a = 0; a < logs.Count; a++)
        {
            for (var b = a + 1; b < logs.Count; b++)
            {
                var (na, sa) = logs[a];
                var (nb, sb) = logs[b];
                var lo = Math.Max(sa.FirstIndex, sb.FirstIndex);
                var hi = Math.Min(sa.LastIndex, sb.LastIndex);
                var matching = false;
                for (var i = hi; i >= lo && i > 0; i--)
                {
                    var ea = sa.Entries(i, i + 1, long.MaxValue)[0];
                    var eb = sb.Entries(i, i + 1, long.MaxValue)[0];
                    if (!matching && ea.Term == eb.Term)
                    {
                        matching = true;
                    }

                    if (matching && (ea.Term != eb.Term || HashData(ea.Data) != HashData(eb.Data)))
                    {
                        Fail($"log matching: nodes {na} and {nb} agree on a later entry's term but differ at {i}");
                        return;
                    }
                }
            }
        }
    }

    public void Fail(string violation)
    {
        if (Violations.Count < 20)
        {
            Violations.Add($"t={scheduler.Now}ms {violation}");
        }
    }

    private static int HashData(ReadOnlySpan<byte> data)
    {
        var hash = new HashCode();
        hash.AddBytes(data);
        return hash.ToHashCode();
    }
}
