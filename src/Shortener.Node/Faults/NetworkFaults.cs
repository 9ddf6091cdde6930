using Microsoft.Extensions.Logging;

namespace Shortener.Node.Faults;

/// <summary>
/// The faults injected on this node's peer links and Raft processing: traffic to or from some peers
/// dropped (a partition, one-way or both), delay and loss on peer links, and a pause of all Raft
/// processing. Each fault may carry an expiry; an expired fault is gone on the next check, so a
/// timed fault heals itself even if whoever set it can no longer reach this node.
/// </summary>
public sealed class NetworkFaults(TimeProvider time, ILogger<NetworkFaults> logger)
{
    private readonly Lock _lock = new();
    private volatile FaultState _state = FaultState.None;

    /// <summary>True when any fault is active (cheap: checked on every message).</summary>
    public bool Any => _state != FaultState.None && Current() != FaultState.None;

    public FaultState Current()
    {
        var state = _state;
        if (state.ExpiresAtMs is { } expiry && time.GetUtcNow().ToUnixTimeMilliseconds() >= expiry)
        {
            lock (_lock)
            {
                if (ReferenceEquals(_state, state))
                {
                    _state = FaultState.None;
                    logger.LogWarning("Injected faults expired and healed: {Faults}", state.Describe());
                }
            }

            return _state;
        }

        return state;
    }

    public void Set(FaultState state)
    {
        lock (_lock)
        {
            _state = state;
        }

        if (state == FaultState.None)
        {
            logger.LogWarning("Injected faults healed");
        }
        else
        {
            logger.LogWarning("Injected faults now: {Faults}", state.Describe());
        }
    }

    public bool DropOutbound(ulong peer)
    {
        if (_state == FaultState.None)
        {
            return false;
        }

        var state = Current();
        return state.DropTo.Contains(peer) || (state.LossRate > 0 && Random.Shared.NextDouble() < state.LossRate && state.Affects(peer));
    }

    public bool DropInbound(ulong peer) => _state != FaultState.None && Current().DropFrom.Contains(peer);

    /// <summary>Extra delay before a batch to <paramref name="peer"/> leaves, or zero.</summary>
    public TimeSpan DelayTo(ulong peer)
    {
        if (_state == FaultState.None)
        {
            return TimeSpan.Zero;
        }

        var state = Current();
        if (state.DelayMs <= 0 || !state.Affects(peer))
        {
            return TimeSpan.Zero;
        }

        return TimeSpan.FromMilliseconds(state.DelayMs + (state.JitterMs > 0 ? Random.Shared.Next(state.JitterMs + 1) : 0));
    }

    public bool Paused => _state != FaultState.None && Current().Paused;
}
