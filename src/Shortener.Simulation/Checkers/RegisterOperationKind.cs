namespace Shortener.Simulation.Checkers;

public enum RegisterOperationKind : byte
{
    Read,
    Write,
    CompareAndSet,
}
