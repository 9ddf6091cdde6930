namespace Shortener.Node.Shards;

/// <summary>
/// When a node's database commits what its replicas applied: after <see cref="Interval"/> since the
/// first apply it holds, or once it holds <see cref="MaxApplies"/> commands, whichever comes first
/// (etcd's backend batch interval and limit), or at once when a reader asks for it.
/// </summary>
public sealed record CommitBound(TimeSpan Interval, int MaxApplies)
{
    public static CommitBound Default { get; } = new(TimeSpan.FromMilliseconds(100), 10_000);

    public TimeSpan Interval { get; } = Interval > TimeSpan.Zero ? Interval : throw new ArgumentOutOfRangeException(nameof(Interval), Interval, "the commit interval must be positive");

    public int MaxApplies { get; } = MaxApplies > 0 ? MaxApplies : throw new ArgumentOutOfRangeException(nameof(MaxApplies), MaxApplies, "the commit size must be positive");
}
