using Shortener.Core.Clocks;

namespace Shortener.Simulation.Election;

/// <summary>Where a bully node is in the algorithm.</summary>
public enum BullyPhase
{
    /// <summary>Follows the coordinator it last heard from.</summary>
    Follower,

    /// <summary>Sent elections to the higher nodes; leads if none answers in time.</summary>
    Electing,

    /// <summary>A higher node answered; waits for its coordinator message, else elects again.</summary>
    AwaitingCoordinator,

    /// <summary>Coordinator: announces itself every heartbeat.</summary>
    Leader,
}

/// <summary>Ticks of the bully algorithm's timers.</summary>
public sealed record BullySettings
{
    public int HeartbeatTicks { get; init; } = 2;

    /// <summary>A follower that hears no coordinator for this long, or an elector that hears no coordinator after an answer, elects.</summary>
    public int TimeoutTicks { get; init; } = 10;

    /// <summary>An elector that hears no answer for this long leads.</summary>
    public int AnswerTicks { get; init; } = 4;
}

/// <summary>
/// The bully algorithm (Garcia-Molina, 1982) as a pure state machine, the way Core/Raft is one (it
/// lives in Simulation: only the simulator runs it, to show what Raft prevents):
/// ticks and messages in, messages out. The live node with the highest id wins: a node that misses
/// its coordinator sends an election to every higher node and leads if none answers; a node that
/// hears from a lower coordinator takes over. It needs no quorum, which is its appeal and its flaw:
/// on each side of a partition the highest node it can reach leads, so a split network has two
/// coordinators at once, each acting alone (shortener sim election shows it; docs/election.md
/// explains why Raft cannot).
///
/// Every message carries the sender's Lamport time and every receive observes it; a coordinator's
/// <see cref="Epoch"/> is the Lamport time of its win. So leaderships are ordered without any wall
/// clock: a win that heard of another (directly or through anyone) has a larger epoch. Two
/// coordinators elected apart, on the two sides of a partition, are concurrent: their epochs say
/// nothing about which is right, and may even be equal.
/// </summary>
public sealed class BullyNode
{
    private readonly IReadOnlyList<ulong> _higher;
    private readonly IReadOnlyList<ulong> _others;
    private readonly BullySettings _settings;
    private readonly List<BullyMessage> _outbox = [];
    private readonly LamportClock _clock = new();
    private int _elapsed;

    public BullyNode(ulong id, IReadOnlyCollection<ulong> members, BullySettings settings)
    {
        Id = id;
        _settings = settings;
        _others = members.Where(m => m != id).Order().ToList();
        _higher = _others.Where(m => m > id).ToList();
    }

    public ulong Id { get; }

    public BullyPhase Phase { get; private set; } = BullyPhase.Follower;

    /// <summary>The coordinator this node follows (itself when leading); 0 for none.</summary>
    public ulong Leader { get; private set; }

    /// <summary>The epoch of the coordinator this node follows or last followed (its own, when leading): the Lamport time of that coordinator's win.</summary>
    public ulong Epoch { get; private set; }

    /// <summary>This node's Lamport time.</summary>
    public ulong Time => _clock.Time;

    public bool IsLeader => Phase == BullyPhase.Leader;

    /// <summary>Messages to send, oldest first; taking them empties the outbox.</summary>
    public IReadOnlyList<BullyMessage> TakeMessages()
    {
        var messages = _outbox.ToList();
        _outbox.Clear();
        return messages;
    }

    public void Tick()
    {
        _elapsed++;
        switch (Phase)
        {
            case BullyPhase.Leader when _elapsed >= _settings.HeartbeatTicks:
                Announce();
                break;
            case BullyPhase.Follower or BullyPhase.AwaitingCoordinator when _elapsed >= _settings.TimeoutTicks:
                StartElection();
                break;
            case BullyPhase.Electing when _elapsed >= _settings.AnswerTicks:
                BecomeLeader();
                break;
        }
    }

    public void Receive(BullyMessage message)
    {
        if (message.To != Id)
        {
            return;
        }

        _clock.Observe(message.Stamp);
        switch (message.Type)
        {
            case BullyMessageType.Election when message.From < Id:
                Send(BullyMessageType.Answer, message.From);
                if (IsLeader)
                {
                    Send(BullyMessageType.Coordinator, message.From);
                }
                else if (Phase == BullyPhase.Follower)
                {
                    StartElection();
                }

                break;
            case BullyMessageType.Answer when Phase == BullyPhase.Electing:
                Phase = BullyPhase.AwaitingCoordinator;
                _elapsed = 0;
                break;
            case BullyMessageType.Coordinator when message.From > Id:
                Phase = BullyPhase.Follower;
                Leader = message.From;
                Epoch = message.Epoch;
                _elapsed = 0;
                break;
            case BullyMessageType.Coordinator when message.From < Id:
                // A lower node claims to lead: this one is higher, so it bullies its way in.
                if (Phase is BullyPhase.Follower or BullyPhase.Leader)
                {
                    StartElection();
                }

                break;
        }
    }

    private void StartElection()
    {
        Phase = BullyPhase.Electing;
        Leader = 0;
        _elapsed = 0;
        if (_higher.Count == 0)
        {
            BecomeLeader();
            return;
        }

        foreach (var peer in _higher)
        {
            Send(BullyMessageType.Election, peer);
        }
    }

    private void BecomeLeader()
    {
        Phase = BullyPhase.Leader;
        Leader = Id;
        Epoch = _clock.Tick();
        Announce();
    }

    private void Announce()
    {
        _elapsed = 0;
        foreach (var peer in _others)
        {
            Send(BullyMessageType.Coordinator, peer);
        }
    }

    private void Send(BullyMessageType type, ulong to) =>
        _outbox.Add(new BullyMessage(type, Id, to, type == BullyMessageType.Coordinator ? Epoch : 0, _clock.Tick()));
}
