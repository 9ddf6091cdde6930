namespace Shortener.Simulation.Clicks;

/// <summary>Bugs the click simulation can plant in its own models of a node, to show that its checks catch what they claim to.</summary>
public enum ClickSimulationBug
{
    None,

    /// <summary>The outbox is kept in memory, so a crash loses the clicks not yet shipped (a lost-click bug).</summary>
    OutboxNotDurable,

    /// <summary>The replica stores a click it already holds again under a new id (a lost deduplication: over-counting).</summary>
    NoDeduplication,

    /// <summary>A sealed day counts the sum of its versions instead of their merge (each replica's seal of a click counted again).</summary>
    SiblingsSummed,
}
