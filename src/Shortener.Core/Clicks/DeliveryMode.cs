namespace Shortener.Core.Clicks;

/// <summary>How the redirect path's clicks reach the click store (see docs/clicks.md).</summary>
public enum DeliveryMode
{
    /// <summary>No outbox: each click is sent once from memory; a failed send or a crash loses it.</summary>
    AtMostOnce,

    /// <summary>A durable outbox and retries, but every delivery attempt counts anew: a retried batch whose first attempt landed counts twice.</summary>
    AtLeastOnce,

    /// <summary>A durable outbox, retries, and the store deduplicates by click id: each click counts once.</summary>
    ExactlyOnce,
}
