namespace Shortener.Core.FailureDetection;

/// <summary>
/// Settings of a <see cref="PhiAccrualFailureDetector"/>; the defaults are Akka's and Cassandra's
/// usual ones for a LAN. Times are milliseconds of the driver's clock.
/// </summary>
public sealed record PhiAccrualSettings
{
    /// <summary>Phi at or above which the peer counts as down: 8 means about one mistake in 10^8 under the model.</summary>
    public double Threshold { get; init; } = 8;

    /// <summary>How many recent inter-arrival times the model is fitted to.</summary>
    public int MaxSampleSize { get; init; } = 200;

    /// <summary>A floor under the fitted deviation, so perfectly regular heartbeats do not make phi jump at the first late one.</summary>
    public double MinStdDeviationMs { get; init; } = 100;

    /// <summary>A pause the model tolerates on top of the mean (GC, a busy peer), added to the expected interval.</summary>
    public double AcceptableHeartbeatPauseMs { get; init; } = 1_000;

    /// <summary>The interval assumed before any has been measured.</summary>
    public double FirstHeartbeatEstimateMs { get; init; } = 1_000;

    public void Validate()
    {
        if (!(Threshold > 0) || MaxSampleSize < 2 || !(MinStdDeviationMs > 0) || AcceptableHeartbeatPauseMs < 0 || !(FirstHeartbeatEstimateMs > 0))
        {
            throw new ArgumentException($"phi accrual settings out of range: threshold > 0, sample size >= 2, min deviation > 0, pause >= 0, first estimate > 0 (got {this})");
        }
    }
}
