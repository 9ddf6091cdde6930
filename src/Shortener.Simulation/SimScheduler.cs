namespace Shortener.Simulation;

/// <summary>
/// Virtual time: a queue of actions ordered by (time, sequence). Running it executes them one at a
/// time; an action may schedule more. Nothing here reads a real clock.
/// </summary>
public sealed class SimScheduler
{
    private readonly PriorityQueue<Work, (long Time, long Seq)> _queue = new();
    private long _seq;

    /// <summary>Simulated milliseconds since the start.</summary>
    public long Now { get; private set; }

    public long EventsRun { get; private set; }

    public void At(long time, Action action) => _queue.Enqueue(new Work(action, null, null), (Math.Max(time, Now), _seq++));

    public void After(long delay, Action action) => At(Now + delay, action);

    /// <summary>
    /// Runs <paramref name="handler"/> with <paramref name="state"/> after <paramref name="delay"/>:
    /// for the many events of one kind (a message arriving), with no closure to allocate per event.
    /// </summary>
    public void After(long delay, Action<object> handler, object state) =>
        _queue.Enqueue(new Work(null, handler, state), (Now + Math.Max(0, delay), _seq++));

    /// <summary>Runs events until none is left, <paramref name="until"/> is reached, or <paramref name="stop"/> says so.</summary>
    public void Run(long until, Func<bool>? stop = null)
    {
        while (_queue.TryPeek(out _, out var when) && when.Time <= until)
        {
            if (stop?.Invoke() == true)
            {
                return;
            }

            var work = _queue.Dequeue();
            Now = when.Time;
            EventsRun++;
            if (work.Action is { } action)
            {
                action();
            }
            else
            {
                work.Handler!(work.State!);
            }
        }

        Now = Math.Max(Now, until);
    }

    private readonly record struct Work(Action? Action, Action<object>? Handler, object? State);
}
