using Shortener.Core;
using Shortener.Simulation.Checkers;

namespace Shortener.Simulation.Raft;

/// <summary>
/// A client issuing one operation at a time to a random node, with a timeout, and recording each
/// as invoked / ok / fail / unknown. A write that times out is unknown (it may still commit); a
/// refused one definitely failed; a read without an answer did nothing and counts as failed.
/// </summary>
public sealed class SimClient(int id, RaftSimulationSettings settings, SimScheduler scheduler, SeededRandom random, IReadOnlyList<SimNode> nodes, List<RegisterOperation> history)
{
    private long _request;
    private int _issued;

    public int Quota { get; set; }

    public bool Done => _issued >= Quota && !Busy;

    public bool Busy { get; private set; }

    /// <summary>Mean think time between operations, so that the operations spread over the fault phase.</summary>
    public long ThinkMs { get; set; } = 50;

    public void Start() => scheduler.After(random.Next((int)Math.Max(1, ThinkMs)), Next);

    /// <summary>Issues one read of <paramref name="key"/> now (used for the final reads).</summary>
    public void Read(string key, Action<RegisterOperation> done)
    {
        Busy = true;
        Issue(RegisterOperationKind.Read, key, null, null, done);
    }

    private void Next()
    {
        // Once the cluster has healed, clients only finish what they started: liveness is about
        // pending operations completing, not about an arbitrary backlog.
        if (_issued >= Quota || scheduler.Now > settings.FaultPhaseMs + (settings.LivenessBoundMs / 2))
        {
            Quota = _issued;
            return;
        }

        _issued++;
        var key = $"k{random.Next(settings.Keys)}";
        var roll = random.Next(100);
        var kind = roll < 45 ? RegisterOperationKind.Write : roll < 75 ? RegisterOperationKind.Read : RegisterOperationKind.CompareAndSet;
        var value = $"{id}.{_issued}";
        var expected = kind == RegisterOperationKind.CompareAndSet ? (random.Chance(0.3) ? null : $"{random.Next(settings.Clients)}.{random.Next(Math.Max(1, _issued))}") : null;
        Busy = true;
        Issue(kind, key, value, expected, _ => scheduler.After(random.Next((int)Math.Max(1, 2 * ThinkMs)), Next));
    }

    private void Issue(RegisterOperationKind kind, string key, string? value, string? expected, Action<RegisterOperation> then)
    {
        var request = ++_request;
        var node = nodes[random.Next(nodes.Count)];
        var invoked = scheduler.Now;
        var finished = false;

        void Finish(string? output, OperationStatus status, long returned)
        {
            if (finished)
            {
                return;
            }

            finished = true;
            Busy = false;
            var op = new RegisterOperation(id, key, kind, value, expected, output, invoked, returned, status);
            history.Add(op);
            then(op);
        }

        scheduler.After(settings.ClientTimeoutMs, () => Finish(null, kind == RegisterOperationKind.Read ? OperationStatus.Fail : OperationStatus.Unknown, long.MaxValue));
        var toNode = 1 + random.Next(3);
        scheduler.After(toNode, () =>
        {
            if (kind == RegisterOperationKind.Read)
            {
                node.SubmitRead(key, SimNode.ReadContext(id, request), (ok, found) =>
                    scheduler.After(1 + random.Next(3), () => Finish(found, ok ? OperationStatus.Ok : OperationStatus.Fail, scheduler.Now)));
                return;
            }

            var command = new KvCommand(id, request, kind == RegisterOperationKind.Write ? KvOperation.Put : KvOperation.Cas, key, value, expected);
            node.SubmitWrite(command, result =>
                scheduler.After(1 + random.Next(3), () =>
                {
                    switch (result)
                    {
                        case "refused":
                            Finish(null, OperationStatus.Fail, scheduler.Now);
                            break;
                        case "ok" or "fail":
                            // A compare-and-set that did not match completed too: its output says so.
                            Finish(kind == RegisterOperationKind.CompareAndSet ? result : null, OperationStatus.Ok, scheduler.Now);
                            break;
                        default:
                            Finish(null, OperationStatus.Unknown, long.MaxValue);
                            break;
                    }
                }));
        });
    }
}
