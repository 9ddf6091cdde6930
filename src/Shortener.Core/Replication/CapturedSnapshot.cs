namespace Shortener.Core.Replication;

/// <summary>The applied state as of <see cref="Index"/>, as the state machine encodes it.</summary>
public sealed record CapturedSnapshot(ulong Index, byte[] Data);
