using Microsoft.Extensions.Logging;
using Shortener.Storage.Clicks;

namespace Shortener.Node.Clicks;

/// <summary>
/// Group commit for the durable outbox: redirects append their click (one write call: it outlives
/// the process from then on) and go on; a thread of its own fsyncs whatever was appended, at most
/// every <c>intervalMs</c>, so under load one fsync covers many clicks and a power loss can take at
/// most the last interval's. It is a thread, not a pool task: an fsync blocks.
/// </summary>
public sealed class OutboxFlusher : IAsyncDisposable
{
    private readonly ClickOutbox _outbox;
    private readonly int _intervalMs;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _loop;
    private int _signalled;

    public OutboxFlusher(ClickOutbox outbox, int intervalMs, ILogger logger)
    {
        _outbox = outbox;
        _intervalMs = intervalMs;
        _logger = logger;
        _loop = new Thread(Run) { IsBackground = true, Name = "click-outbox" };
        _loop.Start();
    }

    /// <summary>Appends one click (on the file when this returns), asks for the next fsync, and returns the click's outbox sequence.</summary>
    /// <exception cref="IOException">The outbox could not take it (a full disk).</exception>
    public long Append(byte[] payload)
    {
        var seq = _outbox.Append(payload);
        if (Interlocked.Exchange(ref _signalled, 1) == 0)
        {
            _signal.Release();
        }

        return seq;
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
                // The outbox's own close syncs what is left.
                return;
            }

            Interlocked.Exchange(ref _signalled, 0);
            try
            {
                _outbox.Flush();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogError(e, "The click outbox could not be synced to disk; its clicks outlive a crash of this process but not a power loss until a sync succeeds");
                if (Interlocked.Exchange(ref _signalled, 1) == 0)
                {
                    _signal.Release();
                }
            }

            // Appends that arrive meanwhile wait for the next round: one fsync each interval at most.
            if (_stop.Token.WaitHandle.WaitOne(_intervalMs))
            {
                return;
            }
        }
    }
}
