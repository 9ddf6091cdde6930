using Shortener.Core.Clicks;

namespace Shortener.Core.Tests.Clicks;

public class ClickPacerTests
{
    /// <summary>Ticks every 20 ms for <paramref name="ms"/>: clicks recorded per tick and CPU stall per tick (µs); returns how many ticks let the relay run.</summary>
    private static int Run(ClickPacer pacer, ref long now, ref long recorded, ref long stall, long ms, long clicksPerTick, long stallPerTickUs, bool pressureKnown = true)
    {
        var allowed = 0;
        for (var end = now + ms; now < end; now += 20)
        {
            recorded += clicksPerTick;
            stall += stallPerTickUs;
            allowed += pacer.Allow(now, recorded, pressureKnown ? stall : null) ? 1 : 0;
        }

        return allowed;
    }

    [Fact]
    public void Serving_redirects_on_a_contended_host_lets_the_relay_run_once_per_interval_and_at_full_speed_again_after()
    {
        var pacer = new ClickPacer(threshold: 0.2, busyIntervalMs: 250);
        long now = 0, recorded = 0, stall = 0;

        // Redirects arriving, tasks waiting for a CPU half the time: paced after the first tick.
        var busy = Run(pacer, ref now, ref recorded, ref stall, 10_000, clicksPerTick: 400, stallPerTickUs: 10_000);
        Assert.True(pacer.Busy);
        Assert.InRange(busy, 38, 42); // 10 s at one run per 250 ms (rounded up to the 20 ms ticks), plus the first tick
        Assert.Equal(500 - busy, pacer.HeldBack);

        // The redirects stop (an idle cluster draining its backlog, its own work still contending): full speed within the window.
        Run(pacer, ref now, ref recorded, ref stall, 1_100, clicksPerTick: 0, stallPerTickUs: 10_000);
        Assert.Equal(50, Run(pacer, ref now, ref recorded, ref stall, 1_000, clicksPerTick: 0, stallPerTickUs: 10_000));
        Assert.False(pacer.Busy);

        // Redirects again but the CPU has room (2% stall): not paced either.
        Run(pacer, ref now, ref recorded, ref stall, 1_100, clicksPerTick: 400, stallPerTickUs: 400);
        Assert.Equal(50, Run(pacer, ref now, ref recorded, ref stall, 1_000, clicksPerTick: 400, stallPerTickUs: 400));
    }

    [Fact]
    public void Without_pressure_information_or_with_pacing_off_the_relay_always_runs()
    {
        long now = 0, recorded = 0, stall = 0;
        var unknown = new ClickPacer(0.2, 250);
        Assert.Equal(100, Run(unknown, ref now, ref recorded, ref stall, 2_000, 400, 20_000, pressureKnown: false));
        var off = new ClickPacer(0.2, busyIntervalMs: 0);
        Assert.Equal(100, Run(off, ref now, ref recorded, ref stall, 2_000, 400, 20_000));
        Assert.Equal(0, unknown.HeldBack + off.HeldBack);
    }

    [Theory]
    [InlineData("some avg10=18.64 avg60=65.46 avg300=71.22 total=1970461615\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", 1970461615L)]
    [InlineData("full avg10=0.00 avg60=0.00 avg300=0.00 total=5\n", null)]
    [InlineData("some avg10=1.00 total=x\n", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Cpu_pressure_is_read_from_the_some_line_of_proc_pressure_cpu(string? text, long? expected) =>
        Assert.Equal(expected, ClickPacer.ParseCpuPressure(text));
}
