using Microsoft.Extensions.Logging;
using Shortener.Storage.Clicks;

namespace Shortener.Node.Clicks;

/// <summary>
/// Group commit for the durable outbox: redirects append their click and wait on the next flush;
/// one loop flushes (one write and one fsync) whatever arrived meanwhile and wakes everyone who
/// was waiting on it. Under load one fsync covers many redirects; idle, a click is durable about
/// one fsync after it arrived. The loop is a thread of its own: an fsync blocks, and must not hold
/// a thread-pool thread that requests need.
/// </summary>
public sealed class OutboxFlusher : IAsyncDisposable
{
    private readonly ClickOutbox _outbox;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _loop;
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _signalled;

    public OutboxFlusher(ClickOutbox outbox, ILogger logger)
    {
        _outbox = outbox;
        _logger = logger;
        _loop = new Thread(Run) { IsBackground = true, Name = "click-outbox" };
        _loop.Start();
    }

    /// <summary>Appends one click; the task ends when it is on disk (or faults if the flush failed; the click stays buffered for the next).</summary>
    public Task AppendAsync(byte[] payload)
    {
        Task durable;
        lock (_lock)
        {
            _outbox.Append(payload);
            durable = _next.Task;
        }

        if (Interlocked.Exchange(ref _signalled, 1) == 0)
        {
            _signal.Release();
        }

        return durable;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.Run(_loop.Join).ConfigureAwait(false);
        _stop.Dispose();
        _signal.Dispose();
    }

    private void Run()
    {
        while (true)
        {
            try
            {
                _signal.Wait(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                // The outbox's own close flushes what is left.
                return;
            }

            Interlocked.Exchange(ref _signalled, 0);
            TaskCompletionSource done;
            lock (_lock)
            {
                done = _next;
                _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            try
            {
                _outbox.Flush();
                done.SetResult();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogError(e, "The click outbox could not be flushed; the clicks stay buffered and the next flush tries again");
                done.SetException(e);
                if (Interlocked.Exchange(ref _signalled, 1) == 0)
                {
                    _signal.Release();
                }

                if (_stop.Token.WaitHandle.WaitOne(100))
                {
                    return;
                }
            }
        }
    }
}
