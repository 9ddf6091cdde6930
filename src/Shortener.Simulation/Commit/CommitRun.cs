using System.Globalization;
using Shortener.Core;

namespace Shortener.Simulation.Commit;

/// <summary>A message between the nodes of a commit run.</summary>
internal sealed record CommitMessage(CommitMessageKind Kind, int Txn, ParticipantState State = ParticipantState.None, long DeadlineMs = 0);

internal enum CommitMessageKind
{
    Prepare,
    VoteYes,
    VoteNo,
    PreCommit,
    PreCommitAck,
    Decision,
    DecisionRequest,
    StateRequest,
    StateReply,
}

/// <summary>
/// What every protocol's run shares: one coordinator (node 0) and three participants (nodes 1–3)
/// on a virtual clock; messages take 1–5 ms and are lost when either end is down or a partition
/// separates them (at sending or at arrival); the seed's <see cref="CommitFaultPlan"/>; a
/// transaction begun every <see cref="TxnIntervalMs"/>; a timer per node every
/// <see cref="TimerMs"/>; and the checkers, run once the faults are over and the network settled.
/// Each participant's <see cref="State"/> is durable: a crash loses only what a protocol keeps in
/// its own fields (and clears in <see cref="Crashed"/>).
/// </summary>
internal abstract class CommitRun
{
    public const int Coordinator = 0;
    public const int TxnCount = 10;
    public const long TxnIntervalMs = 60;
    public const long TimerMs = 10;
    public const long EndMs = 3_000;
    protected const double NoVoteChance = 0.05;
    protected static readonly int[] Participants = [1, 2, 3];

    private readonly bool[] _up = [true, true, true, true];
    private readonly Dictionary<(int Txn, int Node), ParticipantState> _states = [];
    private NodeSplit? _split;

    protected CommitRun(ulong seed, CommitFaultPlan plan)
    {
        Seed = seed;
        Plan = plan;
        Random = new SeededRandom(seed);
    }

    protected ulong Seed { get; }

    protected CommitFaultPlan Plan { get; }

    protected SeededRandom Random { get; }

    protected SimScheduler Scheduler { get; } = new();

    protected long Now => Scheduler.Now;

    protected int Begun { get; set; }

    protected abstract CommitProtocol Protocol { get; }

    protected virtual CommitBug Bug => CommitBug.None;

    public CommitReport Run()
    {
        foreach (var crash in Plan.Crashes)
        {
            Scheduler.At(crash.AtMs, () => Crash(crash.Node));
            if (crash.UntilMs is { } until)
            {
                Scheduler.At(until, () => Restart(crash.Node));
            }
        }

        if (Plan.Split is { } split)
        {
            Scheduler.At(split.AtMs, () => _split = split);
            Scheduler.At(split.UntilMs, () => _split = null);
        }

        for (var txn = 0; txn < TxnCount; txn++)
        {
            var t = txn;
            Scheduler.At(10 + (t * TxnIntervalMs), () =>
            {
                if (IsUp(Coordinator))
                {
                    Begun++;
                    Begin(t);
                }
            });
        }

        for (var node = 0; node < 4; node++)
        {
            var n = node;
            Scheduler.At(1 + n, () => Tick(n));
        }

        Scheduler.Run(EndMs);
        return Check();
    }

    /// <summary>The coordinator begins transaction <paramref name="txn"/> (it is up).</summary>
    protected abstract void Begin(int txn);

    protected abstract void Receive(int node, int from, CommitMessage message);

    /// <summary>Every <see cref="TimerMs"/> on a node that is up: timeouts, retries, recovery.</summary>
    protected abstract void OnTimer(int node);

    /// <summary>The node crashed: its volatile state is gone.</summary>
    protected abstract void Crashed(int node);

    /// <summary>The node came back, with its durable state.</summary>
    protected virtual void Restarted(int node)
    {
    }

    protected bool IsUp(int node) => _up[node];

    /// <summary>Whether a message from <paramref name="a"/> can reach <paramref name="b"/> now.</summary>
    protected bool Reaches(int a, int b) =>
        _up[a] && _up[b] && (a == b || _split is not { } s || s.Side.Contains(a) == s.Side.Contains(b));

    protected ParticipantState State(int txn, int node) => _states.GetValueOrDefault((txn, node));

    protected void SetState(int txn, int node, ParticipantState state) => _states[(txn, node)] = state;

    protected void Send(int from, int to, CommitMessage message)
    {
        if (!Reaches(from, to))
        {
            return;
        }

        Scheduler.After(Random.Next(1, 6), () =>
        {
            if (Reaches(from, to))
            {
                Receive(to, from, message);
            }
        });
    }

    protected void SendToParticipants(int from, CommitMessage message)
    {
        foreach (var p in Participants.Where(p => p != from))
        {
            Send(from, p, message);
        }
    }

    /// <summary>A participant's vote on a prepare: yes, most of the time (a no stands for a conflict on one of its keys).</summary>
    protected bool VotesYes() => !Random.Chance(NoVoteChance);

    private void Tick(int node)
    {
        if (_up[node])
        {
            OnTimer(node);
        }

        Scheduler.After(TimerMs, () => Tick(node));
    }

    private void Crash(int node)
    {
        if (_up[node])
        {
            _up[node] = false;
            Crashed(node);
        }
    }

    private void Restart(int node)
    {
        if (!_up[node])
        {
            _up[node] = true;
            Restarted(node);
        }
    }

    private CommitReport Check()
    {
        var violations = new List<string>();
        var blocked = new List<string>();
        int committed = 0, aborted = 0;
        for (var txn = 0; txn < TxnCount; txn++)
        {
            var states = Participants.ToDictionary(p => p, p => State(txn, p));
            if (states.Values.All(s => s == ParticipantState.None))
            {
                continue;
            }

            var describe = string.Join(", ", states.Select(s => string.Create(CultureInfo.InvariantCulture, $"P{s.Key} {s.Value.ToString().ToLowerInvariant()}")));
            // No protocol commits without every participant's yes, so a participant that never
            // took part (none) beside one that committed is a violation too.
            if (states.ContainsValue(ParticipantState.Committed) && states.Values.Any(s => s is ParticipantState.Aborted or ParticipantState.None))
            {
                violations.Add(string.Create(CultureInfo.InvariantCulture, $"txn {txn} committed at one participant and not at another: {describe}"));
            }

            var stuck = states.Where(s => s.Value is ParticipantState.Prepared or ParticipantState.PreCommitted && IsUp(s.Key)).ToList();
            if (stuck.Count > 0)
            {
                blocked.Add(string.Create(CultureInfo.InvariantCulture, $"txn {txn} held prepared with no decision at {string.Join(", ", stuck.Select(s => "P" + s.Key))}: {describe}"));
            }

            if (states.Values.All(s => s == ParticipantState.Committed))
            {
                committed++;
            }
            else if (states.Values.All(s => s is ParticipantState.Aborted or ParticipantState.None))
            {
                aborted++;
            }
        }

        return new CommitReport(Protocol, Seed, Bug, Begun, committed, aborted, violations, blocked, Plan.ToString());
    }
}
