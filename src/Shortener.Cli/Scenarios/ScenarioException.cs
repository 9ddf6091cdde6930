namespace Shortener.Cli.Scenarios;

/// <summary>A scenario could not run to its end (the cluster refused a fault, a setup link could not be made); the message says why.</summary>
public sealed class ScenarioException(string message) : Exception(message);
