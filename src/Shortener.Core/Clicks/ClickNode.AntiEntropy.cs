using Shortener.Core.Merkle;
using Shortener.Core.Quorum;

namespace Shortener.Core.Clicks;

/// <summary>
/// Merkle anti-entropy: every <see cref="ClickSettings.AntiEntropyIntervalMs"/> the node compares
/// one of its ring ranges with one other replica of it, taking the (range, peer) pairs in turn, in
/// two trees. The first is of the range's daily counters (one record per link and day, its value
/// the counts and the fingerprint of the clicks behind them), small and read without touching the
/// clicks; in sync, that is the whole exchange, one round trip. Where daily counters differ, the
/// second tree is of the clicks of those days (keyed by id hash, so a day with many clicks spreads
/// over many leaves). For each tree the initiator asks for one level's hashes at a time, only below
/// nodes that differed, then for the digests under the differing leaves; after the second it
/// pushes the clicks the peer lacks and fetches those it lacks itself. Sealed days (their value in
/// the first tree marked, <see cref="ClickHashes.IsSealed"/>) have no clicks to compare: where
/// either side has sealed a differing day, the initiator pushes its record and fetches the peer's,
/// and each side merges the versions (sealing its own open clicks of the day first).
/// </summary>
public sealed partial class ClickNode
{
    private const int MaxServedSessions = 16;

    /// <summary>Daily counters whose clicks one exchange compares at most; the next exchange of the range takes the rest.</summary>
    private const int MaxDaysPerExchange = 256;

    private readonly Dictionary<(ulong Peer, ulong Session), ServedTree> _served = [];
    private List<(int Range, ulong Peer)>? _antiEntropyPairs;
    private AntiEntropySession? _session;
    private int _aeCursor;
    private long _nextAntiEntropy;

    private void TickAntiEntropy()
    {
        foreach (var stale in _served.Where(s => _now >= s.Value.Expires).Select(s => s.Key).ToList())
        {
            _served.Remove(stale);
        }

        if (_session is { } running && _now >= running.Deadline)
        {
            Counters.AntiEntropyAbandoned++;
            _session = null;
        }

        if (_session is null && _now >= _nextAntiEntropy)
        {
            _nextAntiEntropy = _now + _settings.AntiEntropyIntervalMs;
            StartAntiEntropy();
        }
    }

    private void StartAntiEntropy()
    {
        _antiEntropyPairs ??= _ranges
            .SelectMany((r, i) => r.Replicas.Contains(Id) ? r.Replicas.Where(p => p != Id).Select(p => (i, p)) : Enumerable.Empty<(int, ulong)>())
            .ToList();
        var pairs = _antiEntropyPairs;
        for (var tried = 0; tried < pairs.Count; tried++)
        {
            var (index, peer) = pairs[(int)((uint)_aeCursor++ % (uint)pairs.Count)];
            if (!IsUp(peer))
            {
                continue;
            }

            Counters.AntiEntropyRounds++;
            Compare(peer, _ranges[index], days: []);
            return;
        }
    }

    /// <summary>Starts comparing one tree with the peer: of the range's daily counters (no days given), or of the clicks of these days.</summary>
    private void Compare(ulong peer, RingRange range, IReadOnlyList<ulong> days)
    {
        if (TryLocal(() => days.Count == 0 ? _store.Digests(range.From, range.To) : _store.EventDigests(range.From, range.To, days)) is not { } digests)
        {
            _session = null;
            return;
        }

        var depth = Math.Min(_settings.MaxMerkleDepth, MerkleTree.DepthFor(digests.Count, _settings.KeysPerLeaf));
        var tree = MerkleTree.Build(digests, depth);
        _session = new AntiEntropySession(NextOp(), peer, range, days, tree, digests, new MerkleComparison(tree), _now + _settings.AntiEntropyTimeoutMs);
        AskNextLevel(_session);
    }

    private void AskNextLevel(AntiEntropySession s)
    {
        var next = s.Comparison.Next!;
        Counters.RepairBytes += 4L * next.Indexes.Count;
        Send(new ClickMessage(ClickMessageType.MerkleLevel, Id, s.Peer, s.Id)
        {
            RangeFrom = s.Range.From,
            RangeTo = s.Range.To,
            Depth = s.Tree.Depth,
            Level = next.Level,
            Indexes = next.Indexes,
            Days = s.Days,
        });
    }

    private void StepAntiEntropy(ClickMessage m)
    {
        switch (m.Type)
        {
            case ClickMessageType.MerkleLevel:
                Send(AnswerLevel(m));
                break;
            case ClickMessageType.MerkleLeaves:
                Send(AnswerLeaves(m));
                break;
            case ClickMessageType.Fetch:
                var events = m.Days.Count > MaxDaysPerExchange ? null : TryLocal(() => _store.Get(m.RangeFrom, m.RangeTo, m.Days, m.Hashes.Take(_settings.RepairBatch)));
                Send(new ClickMessage(ClickMessageType.FetchReply, Id, m.From, m.Op) { Ok = events is not null, Events = events ?? [] });
                break;
            case ClickMessageType.MerkleLevelReply when Expecting(m, Stage.Levels) is { } s:
                OnLevel(s, m);
                break;
            case ClickMessageType.MerkleLeavesReply when Expecting(m, Stage.Leaves) is { } s:
                OnLeaves(s, m);
                break;
            case ClickMessageType.FetchSealed:
                var records = m.Days.Count > MaxDaysPerExchange ? null : TryLocal(() => _store.Sealed(m.RangeFrom, m.RangeTo, m.Days));
                Send(new ClickMessage(ClickMessageType.FetchSealedReply, Id, m.From, m.Op) { Ok = records is not null, Sealed = records ?? [] });
                break;
            case ClickMessageType.FetchSealedReply when Expecting(m, Stage.FetchSealed) is { } s:
                Counters.RepairBytes += m.Sealed.Sum(r => (long)r.Encode().Length);
                MergeLocally(m.Sealed);
                _session = null;
                if (s.OpenDays.Count > 0)
                {
                    Compare(s.Peer, s.Range, s.OpenDays);
                }

                break;
            case ClickMessageType.FetchReply when Expecting(m, Stage.Fetch) is { } s:
                Counters.RepairBytes += m.Events.Sum(e => (long)e.Encode().Length);
                if (m.Ok)
                {
                    StoreLocally(0, m.Events);
                    Counters.RepairClicksPulled += m.Events.Count;
                }

                _session = null;
                break;
        }
    }

    private AntiEntropySession? Expecting(ClickMessage m, Stage stage)
    {
        if (_session is not { } s || s.Id != m.Op || s.Peer != m.From || s.Stage != stage)
        {
            return null;
        }

        if (!m.Ok)
        {
            Counters.AntiEntropyAbandoned++;
            _session = null;
            return null;
        }

        return s;
    }

    private void OnLevel(AntiEntropySession s, ClickMessage m)
    {
        Counters.RepairBytes += 8L * m.Hashes.Count;
        try
        {
            s.Comparison.Answer(m.Hashes);
        }
        catch (ArgumentException)
        {
            Counters.AntiEntropyAbandoned++;
            _session = null;
            return;
        }

        if (!s.Comparison.Done)
        {
            AskNextLevel(s);
            return;
        }

        if (s.Comparison.DifferingLeaves.Count == 0)
        {
            if (s.Days.Count == 0)
            {
                Counters.AntiEntropyInSync++;
            }

            _session = null;
            return;
        }

        // About a repair batch's worth of keys per comparison; the next one of this range takes the rest.
        s.Leaves = s.Comparison.DifferingLeaves.Take(Math.Max(1, _settings.RepairBatch / _settings.KeysPerLeaf)).ToHashSet();
        s.Stage = Stage.Leaves;
        Counters.RepairBytes += 4L * s.Leaves.Count;
        Send(new ClickMessage(ClickMessageType.MerkleLeaves, Id, s.Peer, s.Id) { Indexes = s.Leaves.Order().ToList() });
    }

    private void OnLeaves(AntiEntropySession s, ClickMessage m)
    {
        Counters.RepairBytes += 16L * m.Digests.Count;
        var local = new Dictionary<ulong, ulong>();
        foreach (var (key, value) in s.Digests.Where(d => s.Leaves!.Contains(s.Tree.LeafOf(d.KeyHash))))
        {
            local.TryAdd(key, value);
        }

        var remote = new Dictionary<ulong, ulong>();
        foreach (var (key, value) in m.Digests.Where(d => s.Leaves!.Contains(s.Tree.LeafOf(d.KeyHash))))
        {
            remote.TryAdd(key, value);
        }

        var (push, pull) = MerkleComparison.Reconcile(local, remote);
        if (s.Days.Count == 0)
        {
            // Days that differ: sealed records are exchanged whole (pushed where this side sealed
            // the day, fetched where the peer did); open days on both sides have their clicks
            // compared in a second tree.
            var days = push.Union(pull).Order().Take(MaxDaysPerExchange).ToList();
            if (days.Count == 0)
            {
                _session = null; // the leaves' digests agree after all (a peer that changed meanwhile)
                return;
            }

            var sealedHere = days.Where(d => local.TryGetValue(d, out var v) && ClickHashes.IsSealed(v)).ToList();
            var sealedThere = days.Where(d => remote.TryGetValue(d, out var v) && ClickHashes.IsSealed(v)).ToList();
            var openDays = days.Except(sealedHere).Except(sealedThere).ToList();
            Counters.RepairBytes += 8L * days.Count;
            if (sealedHere.Count > 0 && TryLocal(() => _store.Sealed(s.Range.From, s.Range.To, sealedHere)) is { Count: > 0 } mine)
            {
                Counters.RepairBytes += mine.Sum(r => (long)r.Encode().Length);
                Send(new ClickMessage(ClickMessageType.Write, Id, s.Peer, NextOp()) { Sealed = mine });
            }

            if (sealedThere.Count > 0)
            {
                s.Stage = Stage.FetchSealed;
                s.OpenDays = openDays;
                Send(new ClickMessage(ClickMessageType.FetchSealed, Id, s.Peer, s.Id) { RangeFrom = s.Range.From, RangeTo = s.Range.To, Days = sealedThere });
                return;
            }

            _session = null;
            if (openDays.Count > 0)
            {
                Compare(s.Peer, s.Range, openDays);
            }

            return;
        }

        if (push.Count > 0 && TryLocal(() => _store.Get(s.Range.From, s.Range.To, s.Days, push.Take(_settings.RepairBatch))) is { Count: > 0 } events)
        {
            Counters.RepairClicksPushed += events.Count;
            Counters.RepairBytes += events.Sum(e => (long)e.Encode().Length);
            Send(new ClickMessage(ClickMessageType.Write, Id, s.Peer, NextOp()) { Events = events });
        }

        if (pull.Count == 0)
        {
            _session = null;
            return;
        }

        var wanted = pull.Take(_settings.RepairBatch).ToList();
        Counters.RepairBytes += 8L * (wanted.Count + s.Days.Count);
        s.Stage = Stage.Fetch;
        Send(new ClickMessage(ClickMessageType.Fetch, Id, s.Peer, s.Id) { RangeFrom = s.Range.From, RangeTo = s.Range.To, Days = s.Days, Hashes = wanted });
    }

    private ClickMessage AnswerLevel(ClickMessage m)
    {
        var reply = new ClickMessage(ClickMessageType.MerkleLevelReply, Id, m.From, m.Op) { Ok = false };
        if (!_served.TryGetValue((m.From, m.Op), out var served))
        {
            // Only a tree this node would build itself, of one of its own ranges: a peer's message
            // must not make it scan the whole ring or hold a tree of 2^24 leaves.
            if (m.Depth < 1 || m.Depth > _settings.MaxMerkleDepth || m.Days.Count > MaxDaysPerExchange
                || !_ranges.Any(r => r.From == m.RangeFrom && r.To == m.RangeTo && r.Replicas.Contains(Id))
                || TryLocal(() => m.Days.Count == 0 ? _store.Digests(m.RangeFrom, m.RangeTo) : _store.EventDigests(m.RangeFrom, m.RangeTo, m.Days)) is not { } digests)
            {
                return reply;
            }

            // One exchange per peer at a time (a peer starts its next one only when its last ended).
            foreach (var earlier in _served.Keys.Where(k => k.Peer == m.From).ToList())
            {
                _served.Remove(earlier);
            }

            if (_served.Count >= MaxServedSessions)
            {
                _served.Remove(_served.MinBy(s => s.Value.Expires).Key);
            }

            served = new ServedTree(MerkleTree.Build(digests, m.Depth), digests, _now + _settings.AntiEntropyTimeoutMs);
            _served[(m.From, m.Op)] = served;
        }

        var hashes = new ulong[m.Indexes.Count];
        try
        {
            for (var i = 0; i < hashes.Length; i++)
            {
                hashes[i] = served.Tree.Hash(m.Level, m.Indexes[i]);
            }
        }
        catch (ArgumentOutOfRangeException)
        {
            return reply;
        }

        return reply with { Ok = true, Hashes = hashes };
    }

    private ClickMessage AnswerLeaves(ClickMessage m)
    {
        var reply = new ClickMessage(ClickMessageType.MerkleLeavesReply, Id, m.From, m.Op) { Ok = false };
        if (!_served.TryGetValue((m.From, m.Op), out var served))
        {
            return reply;
        }

        _served.Remove((m.From, m.Op));
        var leaves = m.Indexes.ToHashSet();
        return reply with { Ok = true, Digests = served.Digests.Where(d => leaves.Contains(served.Tree.LeafOf(d.KeyHash))).ToList() };
    }

    private enum Stage
    {
        Levels,
        Leaves,
        FetchSealed,
        Fetch,
    }

    private sealed record ServedTree(MerkleTree Tree, IReadOnlyList<(ulong KeyHash, ulong ValueHash)> Digests, long Expires);

    private sealed class AntiEntropySession(ulong id, ulong peer, RingRange range, IReadOnlyList<ulong> days, MerkleTree tree, IReadOnlyList<(ulong KeyHash, ulong ValueHash)> digests, MerkleComparison comparison, long deadline)
    {
        public ulong Id { get; } = id;

        public ulong Peer { get; } = peer;

        public RingRange Range { get; } = range;

        /// <summary>Empty for the tree of the range's daily counters; else the days whose clicks the tree is of.</summary>
        public IReadOnlyList<ulong> Days { get; } = days;

        public MerkleTree Tree { get; } = tree;

        public IReadOnlyList<(ulong KeyHash, ulong ValueHash)> Digests { get; } = digests;

        public MerkleComparison Comparison { get; } = comparison;

        public long Deadline { get; } = deadline;

        public Stage Stage { get; set; } = Stage.Levels;

        public HashSet<int>? Leaves { get; set; }

        /// <summary>FetchSealed: the open days that differed too, whose clicks are compared once the sealed ones are merged.</summary>
        public IReadOnlyList<ulong> OpenDays { get; set; } = [];
    }
}
