using Shortener.Core.FailureDetection;

namespace Shortener.Core.Tests.FailureDetection;

public class PhiAccrualFailureDetectorTests
{
    private static readonly PhiAccrualSettings Settings = new() { AcceptableHeartbeatPauseMs = 0, MinStdDeviationMs = 10, FirstHeartbeatEstimateMs = 100 };

    private static PhiAccrualFailureDetector Regular(int intervalMs, int beats, Func<int, int>? jitter = null)
    {
        var detector = new PhiAccrualFailureDetector(Settings);
        long t = 0;
        for (var i = 0; i < beats; i++)
        {
            t += intervalMs + (jitter?.Invoke(i) ?? 0);
            detector.Heartbeat(t);
        }

        return detector;
    }

    [Fact]
    public void Phi_is_low_when_a_heartbeat_is_on_time_and_grows_the_longer_it_is_overdue()
    {
        var detector = Regular(100, 50);
        var last = detector.LastHeartbeatMs!.Value;
        Assert.True(detector.Phi(last + 50) < 1, $"phi {detector.Phi(last + 50)} half an interval in");
        Assert.True(detector.IsAvailable(last + 100));
        var previous = 0.0;
        foreach (var late in new[] { 100, 120, 150, 200, 400, 1_000, 100_000 })
        {
            var phi = detector.Phi(last + late);
            Assert.True(phi >= previous, $"phi fell from {previous} to {phi} at {late} ms");
            Assert.True(double.IsFinite(phi), $"phi is {phi} at {late} ms");
            previous = phi;
        }

        Assert.False(detector.IsAvailable(last + 400));
    }

    [Fact]
    public void Phi_just_after_a_heartbeat_is_positive_zero_not_negative_zero()
    {
        var detector = Regular(100, 50);
        var phi = detector.Phi(detector.LastHeartbeatMs!.Value);
        Assert.False(double.IsNegative(phi), $"phi {phi} right after a heartbeat");
        Assert.Equal("0.0", phi.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Irregular_heartbeats_make_phi_grow_more_slowly()
    {
        var steady = Regular(100, 100);
        var jittery = Regular(100, 100, i => i % 2 == 0 ? -60 : 60);
        Assert.True(jittery.StdDeviationMs > steady.StdDeviationMs);
        var at = 250;
        Assert.True(jittery.Phi(jittery.LastHeartbeatMs!.Value + at) < steady.Phi(steady.LastHeartbeatMs!.Value + at));
    }

    [Fact]
    public void The_acceptable_pause_delays_the_verdict()
    {
        var strict = Regular(100, 50);
        var tolerant = new PhiAccrualFailureDetector(Settings with { AcceptableHeartbeatPauseMs = 1_000 });
        for (var t = 100; t <= 5_000; t += 100)
        {
            tolerant.Heartbeat(t);
        }

        Assert.False(strict.IsAvailable(strict.LastHeartbeatMs!.Value + 600));
        Assert.True(tolerant.IsAvailable(5_000 + 600));
    }

    [Fact]
    public void The_window_forgets_old_intervals()
    {
        var detector = new PhiAccrualFailureDetector(Settings with { MaxSampleSize = 10 });
        long t = 0;
        for (var i = 0; i < 10; i++)
        {
            detector.Heartbeat(t += 1_000);
        }

        for (var i = 0; i < 10; i++)
        {
            detector.Heartbeat(t += 100);
        }

        Assert.Equal(100, detector.MeanIntervalMs, 3);
    }

    [Fact]
    public void Before_the_first_heartbeat_there_is_no_suspicion_and_bad_settings_are_refused()
    {
        Assert.Equal(0, new PhiAccrualFailureDetector(Settings).Phi(1_000_000));
        Assert.Throws<ArgumentException>(() => new PhiAccrualFailureDetector(Settings with { MaxSampleSize = 1 }));
        Assert.Throws<ArgumentException>(() => new PhiAccrualFailureDetector(Settings with { Threshold = 0 }));
    }

    [Fact]
    public void The_approximation_matches_the_normal_tail()
    {
        // One deviation past the mean the tail is 0.1587 (phi 0.80); three deviations, 0.00135 (phi 2.87).
        Assert.Equal(0.80, PhiAccrualFailureDetector.Phi(110, 100, 10), 2);
        Assert.Equal(2.87, PhiAccrualFailureDetector.Phi(130, 100, 10), 1);
        Assert.Equal(0.30, PhiAccrualFailureDetector.Phi(100, 100, 10), 2);
    }
}
