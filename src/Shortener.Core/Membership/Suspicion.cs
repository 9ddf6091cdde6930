namespace Shortener.Core.Membership;

/// <summary>
/// Lifeguard's suspicion timer: it starts at the maximum and shrinks toward the minimum as
/// independent members confirm the suspicion, logarithmically in their number, reaching the
/// minimum at the expected number of confirmations. Many independent suspicions make a quick,
/// safe verdict; one node's lone suspicion (perhaps its own network is the trouble) waits long.
/// </summary>
internal sealed class Suspicion
{
    private readonly HashSet<ulong> _confirmers = [];
    private readonly long _startTick;
    private readonly int _expected;
    private readonly long _minTicks;
    private readonly long _maxTicks;

    public Suspicion(ulong incarnation, ulong firstSource, long startTick, int expectedConfirmations, long minTicks, long maxTicks)
    {
        Incarnation = incarnation;
        _confirmers.Add(firstSource);
        _startTick = startTick;
        _expected = Math.Max(0, expectedConfirmations);
        _minTicks = minTicks;
        _maxTicks = Math.Max(minTicks, maxTicks);
        DeadlineTick = startTick + Timeout(0);
    }

    public ulong Incarnation { get; }

    public long DeadlineTick { get; private set; }

    public int Confirmations => _confirmers.Count - 1;

    /// <summary>More confirmations than expected: further ones change nothing.</summary>
    public bool FullyConfirmed => Confirmations > _expected;

    /// <summary>Counts <paramref name="source"/> once; true when it was new (and the deadline moved).</summary>
    public bool Confirm(ulong source)
    {
        if (!_confirmers.Add(source))
        {
            return false;
        }

        DeadlineTick = _startTick + Timeout(Confirmations);
        return true;
    }

    private long Timeout(int confirmations)
    {
        if (_expected < 1)
        {
            return _minTicks;
        }

        var fraction = Math.Log(confirmations + 1) / Math.Log(_expected + 1);
        var timeout = _maxTicks - ((_maxTicks - _minTicks) * fraction);
        return Math.Max(_minTicks, (long)Math.Floor(timeout));
    }
}
