namespace Shortener.Core.Raft;

/// <summary>A follower's buffer for a snapshot arriving in chunks; only the next expected offset is accepted.</summary>
internal sealed class SnapshotAssembly(SnapshotMetadata metadata)
{
    private readonly MemoryStream _data = new();

    public SnapshotMetadata Metadata { get; } = metadata;

    public long Received => _data.Length;

    public void Add(byte[] chunk) => _data.Write(chunk);

    public RaftSnapshot Complete() => new(Metadata, _data.ToArray());
}
