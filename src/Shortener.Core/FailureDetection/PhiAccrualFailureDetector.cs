namespace Shortener.Core.FailureDetection;

/// <summary>
/// The phi accrual failure detector (Hayashibara et al., 2004), as Akka and Cassandra use it:
/// instead of a yes/no after a fixed timeout, a suspicion level phi = -log10(P(a heartbeat arrives
/// later than now)), from a normal distribution fitted to a sliding window of the peer's recent
/// heartbeat inter-arrival times. phi grows the longer a heartbeat is overdue, faster for a peer
/// whose heartbeats are regular. The caller passes the time (Core reads no clock).
/// </summary>
public sealed class PhiAccrualFailureDetector
{
    private readonly PhiAccrualSettings _settings;
    private readonly Queue<double> _intervals = new();
    private double _sum;
    private double _squaredSum;
    private long? _last;

    public PhiAccrualFailureDetector(PhiAccrualSettings settings)
    {
        settings.Validate();
        _settings = settings;

        // Until there are measurements, two samples around the first estimate stand in for them.
        var mean = settings.FirstHeartbeatEstimateMs;
        var deviation = mean / 4;
        Add(mean - deviation);
        Add(mean + deviation);
    }

    public double Threshold => _settings.Threshold;

    /// <summary>When the last heartbeat arrived, or null before the first.</summary>
    public long? LastHeartbeatMs => _last;

    public double MeanIntervalMs => _sum / _intervals.Count;

    public double StdDeviationMs => Math.Sqrt(Math.Max(0, (_squaredSum / _intervals.Count) - (MeanIntervalMs * MeanIntervalMs)));

    /// <summary>A heartbeat (any sign of life) from the peer at <paramref name="nowMs"/>.</summary>
    public void Heartbeat(long nowMs)
    {
        if (_last is { } last && nowMs >= last)
        {
            Add(nowMs - last);
        }

        _last = nowMs;
    }

    /// <summary>The suspicion level at <paramref name="nowMs"/>: 0 before the first heartbeat (nothing to judge by).</summary>
    public double Phi(long nowMs)
    {
        if (_last is not { } last)
        {
            return 0;
        }

        var elapsed = Math.Max(0, nowMs - last);
        var mean = MeanIntervalMs + _settings.AcceptableHeartbeatPauseMs;
        var deviation = Math.Max(StdDeviationMs, _settings.MinStdDeviationMs);
        return Phi(elapsed, mean, deviation);
    }

    public bool IsAvailable(long nowMs) => Phi(nowMs) < _settings.Threshold;

    /// <summary>
    /// -log10(1 - F(elapsed)) for the normal distribution (mean, deviation), with the logistic
    /// approximation of its CDF that Akka uses (error under 0.0002; no erf in the BCL). Finite for
    /// any input: far past the mean the tail is computed directly instead of as 1 - F.
    /// </summary>
    internal static double Phi(double elapsed, double mean, double deviation)
    {
        var y = (elapsed - mean) / deviation;
        var exponent = -y * (1.5976 + (0.070566 * y * y));
        var e = Math.Exp(exponent);
        // Past the mean, -log10(e / (1 + e)) in log space, which stays finite when e underflows.
        // Well before the mean 1 - F rounds to 1 and -log10(1) is negative zero, which prints as
        // "-0.0"; Math.Max orders -0 below +0, so the answer is never negative.
        return elapsed > mean ? (-exponent / Math.Log(10)) + Math.Log10(1.0 + e) : Math.Max(0.0, -Math.Log10(1.0 - (1.0 / (1.0 + e))));
    }

    private void Add(double interval)
    {
        if (_intervals.Count == _settings.MaxSampleSize)
        {
            var dropped = _intervals.Dequeue();
            _sum -= dropped;
            _squaredSum -= dropped * dropped;
        }

        _intervals.Enqueue(interval);
        _sum += interval;
        _squaredSum += interval * interval;
    }
}
