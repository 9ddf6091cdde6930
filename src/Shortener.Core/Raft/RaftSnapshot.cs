namespace Shortener.Core.Raft;

/// <summary>The application state as of <see cref="SnapshotMetadata.Index"/>, opaque to the engine.</summary>
public sealed record RaftSnapshot(SnapshotMetadata Metadata, byte[] Data)
{
    public static readonly RaftSnapshot Empty = new(SnapshotMetadata.Empty, []);

    public bool IsEmpty => Metadata.Index == 0;
}
