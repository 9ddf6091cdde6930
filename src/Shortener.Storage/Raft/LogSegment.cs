namespace Shortener.Storage.Raft;

/// <summary>A segment file and, per group, the highest entry index it holds (what keeps it).</summary>
internal sealed class LogSegment(ulong seq, string path)
{
    public ulong Seq { get; } = seq;

    public string Path { get; } = path;

    public Dictionary<uint, ulong> MaxIndex { get; } = [];
}
