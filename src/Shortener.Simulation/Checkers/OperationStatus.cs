namespace Shortener.Simulation.Checkers;

public enum OperationStatus : byte
{
    /// <summary>Completed with a result.</summary>
    Ok,

    /// <summary>Definitely did not take effect.</summary>
    Fail,

    /// <summary>Timed out: may or may not have taken effect.</summary>
    Unknown,
}
