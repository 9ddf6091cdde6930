namespace Shortener.Core.Leases;

/// <summary>
/// How a shard's state machine decides lease commands: pure, so every replica decides alike.
/// A lease goes to a new holder only once it expired by the time the asking command carries; its
/// holder renews it under the same token; every change of holder takes the index of the entry that
/// granted it as its token.
/// </summary>
public static class LeaseRules
{
    /// <summary>The longest lease a command may ask for: a holder that vanished blocks its job at most this long.</summary>
    public const long MaxDurationMs = 60_000;

    /// <summary>
    /// The lease after <paramref name="holder"/> asked for it at <paramref name="atMs"/> for
    /// <paramref name="durationMs"/>, in the entry at <paramref name="logIndex"/>, and whether it
    /// was granted; refused, the current lease comes back unchanged. A renewal records
    /// <paramref name="progress"/> when given; a new grant keeps the progress the lease had (the
    /// asker's may be older than what the holder in between recorded).
    /// </summary>
    public static (bool Granted, Lease Lease) Acquire(Lease? current, string name, ulong holder, long atMs, long durationMs, ulong logIndex, string? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(logIndex);
        var expires = atMs + Math.Clamp(durationMs, 1, MaxDurationMs);
        if (current is null)
        {
            return (true, new Lease(name, holder, logIndex, expires));
        }

        if (current.Holder == holder && !current.ExpiredAt(atMs))
        {
            // A renewal: the same holder, the same token; only the expiry moves (never back).
            return (true, current with { ExpiresAtMs = Math.Max(current.ExpiresAtMs, expires), Progress = progress ?? current.Progress });
        }

        if (!current.ExpiredAt(atMs))
        {
            return (false, current);
        }

        // Expired: a new term of the lease, for whoever asks first (its old holder too), under a
        // new token. The job's progress carries over: the next holder resumes from it.
        return (true, new Lease(name, holder, logIndex, expires, current.Progress));
    }

    /// <summary>Records <paramref name="progress"/> if <paramref name="token"/> is still the lease's; refused otherwise (a deposed holder).</summary>
    public static (bool Recorded, Lease? Lease) Record(Lease? current, ulong token, string progress) =>
        current is not null && current.Token == token
            ? (true, current with { Progress = progress })
            : (false, current);

    /// <summary>Ends the lease at <paramref name="atMs"/> if <paramref name="token"/> is still its (a holder handing over early).</summary>
    public static (bool Released, Lease? Lease) Release(Lease? current, ulong token, long atMs) =>
        current is not null && current.Token == token && !current.ExpiredAt(atMs)
            ? (true, current with { ExpiresAtMs = atMs })
            : (false, current);
}
