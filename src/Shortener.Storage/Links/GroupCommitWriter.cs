using System.Threading.Channels;
using Shortener.Core.Links;

namespace Shortener.Storage.Links;

/// <summary>
/// Group commit in front of a <see cref="SqliteLinkStore"/>: concurrent callers queue their commands,
/// one writer loop takes whatever is queued (up to <see cref="MaxBatch"/>) and commits it as one
/// transaction with one fsync. Under load, many proposals share one disk flush; alone, a command
/// waits for nothing but its own flush.
/// </summary>
public sealed class GroupCommitWriter : IAsyncDisposable
{
    public const int MaxBatch = 256;

    private readonly SqliteLinkStore _store;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Action<IReadOnlyList<LinkCommandEnvelope>, IReadOnlyList<BatchItemResult>>? _committed;
    private readonly Task _loop;

    /// <param name="store">Where commands are applied.</param>
    /// <param name="committed">
    /// Called on the writer loop after each commit and before any caller is answered, in commit
    /// order: the place to update caches so that they never go backwards.
    /// </param>
    public GroupCommitWriter(SqliteLinkStore store, Action<IReadOnlyList<LinkCommandEnvelope>, IReadOnlyList<BatchItemResult>>? committed = null)
    {
        _store = store;
        _committed = committed;
        _loop = Task.Run(RunAsync);
    }

    public Task<CommandResult> SubmitAsync(LinkCommandEnvelope envelope, CancellationToken cancellationToken = default)
    {
        var pending = new Pending(envelope, new TaskCompletionSource<CommandResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(GroupCommitWriter));
        }

        // The command may still commit after the caller stops waiting; the caller learns nothing
        // of it, exactly as with a lost response, which idempotency keys exist to cover.
        return pending.Completion.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            try
            {
                var envelopes = batch.Select(p => p.Envelope).ToList();
                var results = _store.ApplyBatch(envelopes);
                _committed?.Invoke(envelopes, results);
                for (var i = 0; i < batch.Count; i++)
                {
                    if (results[i].Error is { } error)
                    {
                        batch[i].Completion.TrySetException(new StorageException($"applying the command failed: {error.Message}", error));
                    }
                    else
                    {
                        batch[i].Completion.TrySetResult(results[i].Result!);
                    }
                }
            }
            catch (Exception e)
            {
                foreach (var pending in batch)
                {
                    pending.Completion.TrySetException(e);
                }
            }
        }
    }

    private sealed record Pending(LinkCommandEnvelope Envelope, TaskCompletionSource<CommandResult> Completion);
}
