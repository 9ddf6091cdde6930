using Shortener.Node.Faults;

namespace Shortener.Node.Api;

/// <summary>One fault in force on a node: its kind (partition, delay, loss, pause), what it does, and the milliseconds it has left (null: until healed).</summary>
public sealed record FaultView(string Kind, string Detail, long? RemainingMs)
{
    public static IReadOnlyList<FaultView> Of(NetworkFaults faults)
    {
        var now = faults.NowMs;
        return faults.Current().All.Select(f => new FaultView(f.Kind, f.Detail, f.RemainingMs(now))).ToList();
    }
}
