namespace Shortener.Core.Clocks;

/// <summary>How two version vectors relate.</summary>
public enum Causality
{
    Equal,
    /// <summary>The first happened before the second (the second has seen all of it and more).</summary>
    Before,
    /// <summary>The first happened after the second.</summary>
    After,
    Concurrent,
}
