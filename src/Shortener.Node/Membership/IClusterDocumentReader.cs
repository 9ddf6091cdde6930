namespace Shortener.Node.Membership;

/// <summary>
/// What on this node follows one of the documents shard 0 replicates
/// (<see cref="Core.Links.ClusterDocumentNames"/>): told of every version shard 0 applies, and of the
/// stored one at start and after a snapshot replaced shard 0's state. Versions can repeat and
/// arrive late; a reader takes a document only when it is newer than the one it holds.
/// </summary>
public interface IClusterDocumentReader
{
    /// <summary>The document followed.</summary>
    string Name { get; }

    void Adopt(string document, long version);
}
