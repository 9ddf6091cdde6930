namespace Shortener.Core.Clocks;

/// <summary>
/// A hybrid logical clock reading: milliseconds of physical time (the largest any causal
/// predecessor saw) and a logical counter that orders events within that millisecond. Ordered by
/// wall time, then counter. Packs into 64 bits (48 of milliseconds, 16 of counter) for storage.
/// </summary>
public readonly record struct HlcTimestamp(long WallMs, int Logical) : IComparable<HlcTimestamp>
{
    /// <summary>The largest counter a packed timestamp can hold.</summary>
    public const int MaxLogical = ushort.MaxValue;

    public static HlcTimestamp Zero => default;

    public int CompareTo(HlcTimestamp other) => WallMs != other.WallMs ? WallMs.CompareTo(other.WallMs) : Logical.CompareTo(other.Logical);

    public static bool operator <(HlcTimestamp a, HlcTimestamp b) => a.CompareTo(b) < 0;

    public static bool operator >(HlcTimestamp a, HlcTimestamp b) => a.CompareTo(b) > 0;

    public static bool operator <=(HlcTimestamp a, HlcTimestamp b) => a.CompareTo(b) <= 0;

    public static bool operator >=(HlcTimestamp a, HlcTimestamp b) => a.CompareTo(b) >= 0;

    public ulong Pack()
    {
        if (WallMs is < 0 or >= 1L << 48 || Logical is < 0 or > MaxLogical)
        {
            throw new InvalidOperationException($"{this} does not fit 48 bits of milliseconds and 16 of counter");
        }

        return ((ulong)WallMs << 16) | (uint)Logical;
    }

    public static HlcTimestamp Unpack(ulong packed) => new((long)(packed >> 16), (int)(packed & 0xFFFF));

    public override string ToString() => $"{WallMs}.{Logical}";
}
