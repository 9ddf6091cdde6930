using Shortener.Core.Links;
using Shortener.Node.Shards;

namespace Shortener.Node.Membership;

/// <summary>
/// Changes one of the documents shard 0 replicates by compare-and-set: read it linearizably, compute
/// the new one, propose it against the version read; a concurrent change makes it start over, a
/// few times. Answered once this node applied the change.
/// </summary>
public static class ClusterDocumentEditor
{
    public const int Attempts = 5;

    /// <summary>
    /// Applies <paramref name="change"/> (null: nothing to change; it throws to refuse) to the
    /// document <paramref name="name"/> as <paramref name="read"/> shows it after a linearizable
    /// read, and returns the document this node then holds. <paramref name="keptChanging"/> makes
    /// the error for a document that changed underneath every attempt.
    /// </summary>
    public static async Task<T> ChangeAsync<T>(
        ShardHost shards,
        TimeProvider time,
        string name,
        Func<(long Version, T Document)> read,
        Func<T, T?> change,
        Func<T, string> serialize,
        Func<long, Exception> keptChanging,
        CancellationToken cancellationToken)
        where T : class
    {
        for (var attempt = 1; ; attempt++)
        {
            await shards.Replicas[0].WaitLinearizableAsync(cancellationToken).ConfigureAwait(false);
            var (version, current) = read();
            if (change(current) is not { } changed)
            {
                return current;
            }

            var command = new SetClusterDocument(time.GetUtcNow().ToUnixTimeMilliseconds(), name, version, serialize(changed));
            var result = await shards.Replicas[0].ProposeAsync(new LinkCommandEnvelope(command), cancellationToken).ConfigureAwait(false);
            if (result.Outcome == CommandOutcome.Ok)
            {
                return changed;
            }

            if (attempt == Attempts)
            {
                throw keptChanging(result.DocumentVersion);
            }
        }
    }
}
