using Microsoft.Extensions.Logging;
using Shortener.Node.Observability;

namespace Shortener.Node.Faults;

/// <summary>
/// The faults injected on this node's peer links and Raft processing: traffic to or from some peers
/// dropped (a partition, one-way or both), delay and loss on peer links, and a pause of all Raft
/// processing. Each fault ends on its own (<see cref="TimedFault.EndsAtMs"/>, on this node's
/// monotonic clock, so a wall-clock step or another node's skew moves no end); an ended fault is
/// gone on the next check, so a timed fault heals itself even if whoever set it can no longer
/// reach this node.
/// </summary>
public sealed class NetworkFaults(TimeProvider time, ILogger<NetworkFaults> logger, NodeJournal? journal = null)
{
    private readonly Lock _lock = new();
    private volatile FaultState _state = FaultState.None;

    /// <summary>Now on the node's monotonic clock, in milliseconds: what fault ends are measured on.</summary>
    public long NowMs => time.GetTimestamp() * 1000 / time.TimestampFrequency;

    /// <summary>True when any fault is active (cheap: checked on every message).</summary>
    public bool Any => !_state.IsEmpty && !Current().IsEmpty;

    public FaultState Current()
    {
        var state = _state;
        var left = state.Without(NowMs);
        if (ReferenceEquals(left, state))
        {
            return state;
        }

        lock (_lock)
        {
            if (ReferenceEquals(_state, state))
            {
                _state = left;
                logger.LogWarning("Injected faults ended on their own; now: {Faults}", left.Describe(NowMs));
                foreach (var ended in state.All.Where(f => !left.All.Contains(f)))
                {
                    journal?.Record(JournalKind.FaultEnded, $"{ended.Kind} {ended.Detail}");
                }
            }

            return _state;
        }
    }

    /// <summary>Replaces the state whole with what <paramref name="change"/> makes of the current one.</summary>
    public FaultState Update(Func<FaultState, FaultState> change)
    {
        FaultState state;
        lock (_lock)
        {
            state = change(Current());
            _state = state.IsEmpty ? FaultState.None : state;
        }

        if (state.IsEmpty)
        {
            logger.LogWarning("Injected faults healed");
            journal?.Record(JournalKind.FaultHealed, "every fault");
        }
        else
        {
            logger.LogWarning("Injected faults now: {Faults}", state.Describe(NowMs));
            journal?.Record(JournalKind.FaultApplied, state.Describe(NowMs));
        }

        return state;
    }

    public void Set(FaultState state) => Update(_ => state);

    public bool DropOutbound(ulong peer)
    {
        if (_state.IsEmpty)
        {
            return false;
        }

        var state = Current();
        return state.Partition?.DropTo.Contains(peer) == true
            || (state.Loss is { } loss && loss.Affects(peer) && Random.Shared.NextDouble() < loss.Rate);
    }

    public bool DropInbound(ulong peer) => !_state.IsEmpty && Current().Partition?.DropFrom.Contains(peer) == true;

    /// <summary>Extra delay before a batch to <paramref name="peer"/> leaves, or zero.</summary>
    public TimeSpan DelayTo(ulong peer)
    {
        if (_state.IsEmpty || Current().Delay is not { } delay || !delay.Affects(peer))
        {
            return TimeSpan.Zero;
        }

        return TimeSpan.FromMilliseconds(delay.DelayMs + (delay.JitterMs > 0 ? Random.Shared.Next(delay.JitterMs + 1) : 0));
    }

    public bool Paused => !_state.IsEmpty && Current().Pause is not null;
}
