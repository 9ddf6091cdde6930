using Shortener.Core;
using Shortener.Core.Links;
using Shortener.Core.Replication;
using Shortener.Simulation.Checkers;

namespace Shortener.Simulation.Raft;

/// <summary>
/// A client issuing one operation at a time to a random node, with a timeout, and recording each
/// as invoked / ok / fail / unknown: a write changes a link's URL (with an idempotency key, as the
/// API's clients send), a read asks for it linearizably. The links' URLs are the registers the
/// linearizability checker judges. A write the node answered "not applied" definitely failed; one
/// it answered "may have applied", or not at all, is unknown; a read without an answer did nothing.
/// </summary>
public sealed class SimClient(int id, RaftSimulationSettings settings, SimScheduler scheduler, SeededRandom random, IReadOnlyList<SimReplica> nodes, List<RegisterOperation> history)
{
    private long _request;
    private int _issued;

    public int Quota { get; set; }

    public bool Done => _issued >= Quota && !Busy;

    public bool Busy { get; private set; }

    /// <summary>Mean think time between operations, so that the operations spread over the fault phase.</summary>
    public long ThinkMs { get; set; } = 50;

    /// <summary>The links every run starts with: k0…k{n-1}, each at URL <see cref="InitialUrl"/>.</summary>
    public static string Code(int key) => $"k{key}";

    public const string InitialUrl = "https://init.example/";

    /// <summary>The state machine every node starts from (in the bootstrap snapshot): the links created.</summary>
    public static byte[] InitialState(int keys)
    {
        var state = new InMemoryLinkStateMachine();
        var creates = Enumerable.Range(0, keys)
            .Select(k => new ProposedCommand(new ProposalId(0, (ulong)k + 1), 1, 1, LinkCommandCodec.Encode(new LinkCommandEnvelope(new CreateLink(0, Code(k), InitialUrl, null, null, 302, [], null)))))
            .ToList();
        state.Apply(creates, 1);
        return state.PrepareSnapshot()().Data;
    }

    public void Start() => scheduler.After(random.Next((int)Math.Max(1, ThinkMs)), Next);

    /// <summary>Issues one read of <paramref name="key"/> now, to <paramref name="node"/> or a random node.</summary>
    public void Read(string key, Action<RegisterOperation> done, SimReplica? node = null)
    {
        Busy = true;
        Issue(RegisterOperationKind.Read, key, done, node);
    }

    /// <summary>Issues one write of <paramref name="key"/> now, to <paramref name="node"/>.</summary>
    public void Write(string key, SimReplica node, Action<RegisterOperation> done)
    {
        Busy = true;
        Issue(RegisterOperationKind.Write, key, done, node);
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
        var key = Code(random.Next(settings.Keys));
        var kind = random.Next(100) < 55 ? RegisterOperationKind.Write : RegisterOperationKind.Read;
        Busy = true;
        Issue(kind, key, _ => scheduler.After(random.Next((int)Math.Max(1, 2 * ThinkMs)), Next), null);
    }

    private void Issue(RegisterOperationKind kind, string key, Action<RegisterOperation> then, SimReplica? target)
    {
        var request = ++_request;
        var value = kind == RegisterOperationKind.Write ? $"https://c{id}.example/{request}" : null;
        var node = target ?? nodes[random.Next(nodes.Count)];
        var invoked = scheduler.Now;
        var finished = false;

        // The operation joins the history when it is invoked, as of unknown outcome: if the run
        // ends before it returns (a probe the nemesis sent late), it may still have taken effect.
        var slot = history.Count;
        history.Add(new RegisterOperation(id, key, kind, value, null, null, invoked, long.MaxValue, OperationStatus.Unknown));

        void Finish(string? output, OperationStatus status, long returned)
        {
            if (finished)
            {
                return;
            }

            finished = true;
            Busy = false;
            var op = new RegisterOperation(id, key, kind, value, null, output, invoked, returned, status);
            history[slot] = op;
            then(op);
        }

        scheduler.After(settings.ClientTimeoutMs, () => Finish(null, kind == RegisterOperationKind.Read ? OperationStatus.Fail : OperationStatus.Unknown, long.MaxValue));
        var toNode = 1 + random.Next(3);
        scheduler.After(toNode, () =>
        {
            if (kind == RegisterOperationKind.Read)
            {
                node.SubmitRead(key, (ok, url) =>
                    scheduler.After(1 + random.Next(3), () => Finish(url, ok ? OperationStatus.Ok : OperationStatus.Fail, scheduler.Now)));
                return;
            }

            var at = scheduler.Now;
            var command = new UpdateLink(at, key, new LinkPatch(Url: value));
            var envelope = new LinkCommandEnvelope(command, new IdempotencyToken($"client-{id}", $"request-{request}", value!));
            node.SubmitWrite(envelope, outcome =>
                scheduler.After(1 + random.Next(3), () =>
                {
                    if (outcome.Applied)
                    {
                        // A planted bug may answer before applying (no result): the client takes it as done.
                        var applied = outcome.Result?.Result;
                        Finish(null, applied is null || applied.Succeeded ? OperationStatus.Ok : OperationStatus.Fail, scheduler.Now);
                    }
                    else if (outcome.MayHaveApplied)
                    {
                        Finish(null, OperationStatus.Unknown, long.MaxValue);
                    }
                    else
                    {
                        Finish(null, OperationStatus.Fail, scheduler.Now);
                    }
                }));
        });
    }
}
