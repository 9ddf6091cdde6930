namespace Shortener.Simulation.Checkers;

/// <summary>
/// Decides whether a history of register operations is linearizable: whether there is one order
/// of the operations, consistent with real time (an operation that returned before another was
/// invoked comes first), in which every read sees the latest write. The Wing–Gong search with
/// Lowe's memoisation, as Porcupine does it: operations are tried in invocation order and undone on
/// a dead end, and (set of operations linearized, register value) pairs already explored are never
/// explored again. Keys are independent registers, so each is checked on its own (P-compositionality).
/// Operations that definitely failed are left out; ones with unknown outcome may take effect at
/// any point after their invocation, or never.
/// </summary>
public static class LinearizabilityChecker
{
    public static LinearizabilityResult Check(IEnumerable<RegisterOperation> history, long maxStepsPerKey = 2_000_000)
    {
        long steps = 0;
        var inconclusive = false;
        foreach (var group in history.GroupBy(o => o.Key).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var ops = Prune(group
                .Where(o => o.Status != OperationStatus.Fail && !(o.Status == OperationStatus.Unknown && o.Kind == RegisterOperationKind.Read))
                .ToList());
            var (ok, done, used) = CheckKey(ops, maxStepsPerKey);
            steps += used;
            if (!done)
            {
                inconclusive = true;
                continue;
            }

            if (!ok)
            {
                return new LinearizabilityResult(false, false, group.Key, ops, steps);
            }
        }

        return new LinearizabilityResult(true, inconclusive, null, [], steps);
    }

    /// <summary>
    /// Drops writes of unknown outcome that nothing could have observed: their value is never read,
    /// never expected by a compare-and-set, and no compare-and-set that failed was invoked after
    /// them (a failure an unseen write could explain). Such a write, if it happened, can be moved to
    /// the end of any linearization without changing what anyone saw, so leaving it out keeps the
    /// verdict and removes a choice the search would otherwise try everywhere.
    /// </summary>
    private static List<RegisterOperation> Prune(List<RegisterOperation> ops)
    {
        var observed = new HashSet<string?>(ops.Where(o => o.Kind == RegisterOperationKind.Read).Select(o => o.Output));
        observed.UnionWith(ops.Where(o => o.Kind == RegisterOperationKind.CompareAndSet).Select(o => o.Expected));
        var firstFailedCas = ops.Where(o => o.Kind == RegisterOperationKind.CompareAndSet && o.Output != "ok").Select(o => o.Invoke).DefaultIfEmpty(long.MaxValue).Min();
        var lastFailedCas = ops.Where(o => o.Kind == RegisterOperationKind.CompareAndSet && o.Output != "ok").Select(o => o.Return).DefaultIfEmpty(long.MinValue).Max();
        return ops.Where(o =>
            !(o.Status == OperationStatus.Unknown
              && o.Kind == RegisterOperationKind.Write
              && !observed.Contains(o.Value)
              && (firstFailedCas == long.MaxValue || o.Invoke > lastFailedCas)))
            .ToList();
    }

    private static (bool Ok, bool Done, long Steps) CheckKey(IReadOnlyList<RegisterOperation> ops, long maxSteps)
    {
        if (ops.Count == 0)
        {
            return (true, true, 0);
        }

        var head = BuildList(ops);
        var linearized = new Bits(ops.Count);
        var cache = new HashSet<CacheKey>();
        var calls = new Stack<(Entry Call, string? State)>();
        string? state = null;
        var entry = head.Next;
        long steps = 0;
        while (head.Next is not null)
        {
            if (++steps > maxSteps)
            {
                return (true, false, steps);
            }

            if (entry!.IsCall)
            {
                var op = ops[entry.Id];
                var (accepted, next) = Step(state, op);
                if (accepted)
                {
                    linearized.Set(entry.Id);
                    if (cache.Add(new CacheKey(linearized.Copy(), next)))
                    {
                        calls.Push((entry, state));
                        state = next;
                        Lift(entry);
                        entry = head.Next;
                        continue;
                    }

                    linearized.Clear(entry.Id);
                }

                entry = entry.Next;
            }
            else
            {
                // A return reached with its call not linearized: undo the latest choice.
                if (calls.Count == 0)
                {
                    return (false, true, steps);
                }

                var (call, previous) = calls.Pop();
                state = previous;
                linearized.Clear(call.Id);
                Unlift(call);
                entry = call.Next;
            }
        }

        return (true, true, steps);
    }

    /// <summary>The register's step function: whether <paramref name="op"/> can happen in <paramref name="state"/>, and the state after.</summary>
    private static (bool Ok, string? Next) Step(string? state, RegisterOperation op) => op.Kind switch
    {
        RegisterOperationKind.Read => (op.Output == state, state),
        RegisterOperationKind.Write => (true, op.Value),
        _ => op.Output switch
        {
            "ok" => (state == op.Expected, op.Value),
            "fail" => (state != op.Expected, state),
            _ => (true, state == op.Expected ? op.Value : state),
        },
    };

    private static Entry BuildList(IReadOnlyList<RegisterOperation> ops)
    {
        var events = new List<(long Time, bool IsCall, int Id)>(ops.Count * 2);
        for (var i = 0; i < ops.Count; i++)
        {
            events.Add((ops[i].Invoke, true, i));
            events.Add((ops[i].Return, false, i));
        }

        // At equal times, calls first: such operations count as concurrent (the weaker claim).
        events.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : b.IsCall.CompareTo(a.IsCall));
        var head = new Entry(false, -1);
        var calls = new Entry?[ops.Count];
        var last = head;
        foreach (var (_, isCall, id) in events)
        {
            var e = new Entry(isCall, id) { Prev = last };
            last.Next = e;
            last = e;
            if (isCall)
            {
                calls[id] = e;
            }
            else
            {
                calls[id]!.Match = e;
            }
        }

        return head;
    }

    private static void Lift(Entry call)
    {
        call.Prev!.Next = call.Next;
        call.Next!.Prev = call.Prev;
        var ret = call.Match!;
        ret.Prev!.Next = ret.Next;
        if (ret.Next is not null)
        {
            ret.Next.Prev = ret.Prev;
        }
    }

    private static void Unlift(Entry call)
    {
        var ret = call.Match!;
        ret.Prev!.Next = ret;
        if (ret.Next is not null)
        {
            ret.Next.Prev = ret;
        }

        call.Prev!.Next = call;
        call.Next!.Prev = call;
    }

    private sealed class Entry(bool isCall, int id)
    {
        public bool IsCall { get; } = isCall;

        public int Id { get; } = id;

        public Entry? Match { get; set; }

        public Entry? Prev { get; set; }

        public Entry? Next { get; set; }
    }

    private sealed class Bits(int size)
    {
        private readonly ulong[] _words = new ulong[(size + 63) / 64];

        public void Set(int i) => _words[i >> 6] |= 1UL << (i & 63);

        public void Clear(int i) => _words[i >> 6] &= ~(1UL << (i & 63));

        public ulong[] Copy() => (ulong[])_words.Clone();
    }

    private readonly struct CacheKey(ulong[] bits, string? state) : IEquatable<CacheKey>
    {
        private readonly int _hash = Hash(bits, state);

        public bool Equals(CacheKey other) => _hash == other._hash && state == other.State && bits.AsSpan().SequenceEqual(other.Bits);

        public override bool Equals(object? obj) => obj is CacheKey other && Equals(other);

        public override int GetHashCode() => _hash;

        private ulong[] Bits => bits;

        private string? State => state;

        private static int Hash(ulong[] bits, string? state)
        {
            var hash = new HashCode();
            foreach (var w in bits)
            {
                hash.Add(w);
            }

            hash.Add(state);
            return hash.ToHashCode();
        }
    }
}
